// Package memories holds the rules of an account's memories and implements
// memory.Memories over the storage interface [Store] it defines: validation
// and defaults of every field, embedding and indexing each write in its
// transaction, deduplication, batches, the v2 asynchronous creates whose
// jobs the Relay's workers run ([Service.Work]), and the checks of a
// search before its one call of the search engine (API contract §5.2,
// §5.3).
//
// The HTTP handlers of memories are httpapi/memories.go and httpapi/jobs.go
// (v2); their rows are internal/store's memories.go and jobs.go, their SQL
// internal/store/sqlite's memories.go, batch.go, erase.go and jobs.go;
// retrieval itself is package search.
package memories
