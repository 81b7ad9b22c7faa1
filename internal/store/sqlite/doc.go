// Package sqlite is memoryrelay's storage in one SQLite file: it
// implements the contract of package store with every SQLite specific
// behind it — the schema and its migrations, every SQL statement of the
// domain, FTS4 (MATCH expressions, matchinfo), sqlite-vec's functions and
// the formats of stored vectors, its float32 BLOB and an int8 code
// (vectorblob.go), and the change feed of the
// vectors. Connections, pragmas, the migrations runner and the
// classification of SQLite's errors into store's vocabulary are its
// subpackage sqlitedb's.
//
// The files follow the domains: accounts, keys (a keys.Repository),
// agents, memories (with batch, erase and refs), sessions, entities,
// decisions, patterns, projects, jobs (a jobs.Queue), usage, reembed,
// health. schema.go holds the migrations, query.go the plumbing every
// query shares (the rows loop, single-row reads, pages, IN lists), tx.go
// the transaction boundary (InTx, and the savepoints its methods join it
// by). search.go implements the storage interfaces of retrieval
// (search.Store, what the engine of package search reads, and
// index.Store), fts.go the FTS4 side of it, and vectorfeed.go index.Feed:
// the trigger-filled change log, vector_changes, and PRAGMA data_version,
// which package search/index follows to keep its vector index in step.
//
// Every method that reads or writes an account's data takes the account
// and puts it in the SQL: an id of another account finds nothing
// (store.ErrNotFound), whatever it names.
package sqlite
