// Package patterns holds the rules of an account's patterns, the reusable
// practices its projects adopt, and implements memory.Patterns over the
// storage interface [Store] it defines: record, search ranked by package
// rank, adopt, and suggest (API contract §5.8).
//
// The HTTP handler of patterns is httpapi/patterns.go; their rows are
// internal/store's patterns.go, their SQL internal/store/sqlite's.
package patterns
