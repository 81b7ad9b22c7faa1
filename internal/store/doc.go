// Package store is memoryrelay's SQLite storage layer: the schema and its
// migrations, every SQL statement of the domain, the types it stores, and
// the reads of retrieval with the change feed of the vectors. Nothing
// above it writes SQL or names an SQLite error, so another engine
// (PostgreSQL) can stand in its place later.
//
// Connections, pragmas, the migrations runner and the classification of
// SQLite's errors are package sqlitedb's; this package re-exports what its
// callers match (the failure classes of errors.go), so that they import
// only the store.
//
// The files follow the domains: accounts, keys (a keys.Repository),
// agents, memories (with batch, erase and refs), sessions, entities,
// decisions, patterns, projects, jobs (a jobs.Queue), usage, reembed, health. schema.go
// holds the migrations, query.go the plumbing every query shares (the rows
// loop, single-row reads, pages, IN lists). search.go implements the
// storage interfaces of retrieval (search.Store, what the engine of
// package search reads, and index.Store), fts.go the FTS4 side of it
// (MATCH expressions, matchinfo), and vectorfeed.go index.Feed: the
// trigger-filled change log, vector_changes, and PRAGMA data_version,
// which package search/index follows to keep its vector index in step.
//
// Every method that reads or writes an account's data takes the account
// and puts it in the SQL: an id of another account finds nothing
// (ErrNotFound), whatever it names.
package store
