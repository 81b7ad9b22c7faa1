// Package entities holds the rules of an account's entities, the named
// things its memories are linked to, and implements memory.Entities over
// the storage interface [Store] it defines: entities, their links to
// memories, and the bounded walk of an entity's neighbourhood (API
// contract §5.4).
//
// The HTTP handler of entities is httpapi/entities.go; their rows are
// internal/store's entities.go, their SQL internal/store/sqlite's.
package entities
