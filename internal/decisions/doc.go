// Package decisions holds the rules of an account's decisions, its
// recorded architectural and product choices, and implements
// memory.Decisions over the storage interface [Store] it defines: record,
// supersede in one transaction, list with filters, and check a question
// against them, ranked by package rank (API contract §5.7).
//
// The HTTP handler of decisions is httpapi/decisions.go; their rows are
// internal/store's decisions.go, their SQL internal/store/sqlite's.
package decisions
