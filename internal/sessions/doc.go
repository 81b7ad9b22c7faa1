// Package sessions holds the rules of an account's sessions, the
// conversations or work sessions of its agents, and implements
// memory.Sessions over the storage interface [Store] it defines: start,
// get-or-create by external id, end with a summary, and the read of a
// session with its newest memories (API contract §5.6).
//
// The HTTP handler of sessions is httpapi/sessions.go; their rows are
// internal/store's sessions.go, their SQL internal/store/sqlite's.
package sessions
