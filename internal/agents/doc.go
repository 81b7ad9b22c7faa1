// Package agents holds the rules of an account's agents, the owners of its
// memories, and implements memory.Agents over the storage interface
// [Store] it defines: ids chosen by the client or made, names unique in
// the account, references by id or else by name, idempotent creation (API
// contract §5.5).
//
// The HTTP handler of agents is httpapi/agents.go; their rows are
// internal/store's agents.go, their SQL internal/store/sqlite's.
package agents
