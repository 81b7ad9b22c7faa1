// Package postgres is memoryrelay's PostgreSQL storage, for several
// stateless nodes sharing one database: it implements the contract of
// package store with the same method set as the SQLite store (package
// store/sqlite), over a pgx/v5 connection pool, with PostgreSQL's errors
// classified into the store's failure classes (a server that cannot be
// reached is store.ErrUnreachable, which store.Unavailable reports, never
// a bare driver error).
//
// # Schema
//
// The tables are those of the SQLite store, column for column, in
// PostgreSQL's types (see schema.go): ids and JSON documents as text,
// stored verbatim (filters cast them to jsonb); instants as bigint epoch
// milliseconds; vectors as bytea holding float32 little-endian, the bytes
// SQLite stores; the normalised terms of the lexical search as text, with
// their array (lexemes) under a GIN index. Text that orders lists is
// compared byte by byte (COLLATE "C"), as in SQLite, whatever the
// database's collation. There is no pgvector: the nearest-neighbour
// searches are served by each node's in-process index, which follows the
// change feed; the exact scans (ExactSearch, decision and pattern
// ranking, deduplication) read the stored vectors and compute the cosine
// distances in Go. (A pgvector path would add a vector(N) column beside
// the bytea one and an HNSW index, for a search that needs no in-process
// index; nothing else would change.)
//
// # Lexical search
//
// TextCandidates finds the rows whose lexemes overlap the query's terms
// (the GIN index) and reports the statistics that FTS4's matchinfo gives
// the SQLite store, so that both stores score alike (storetest checks the
// figures): the table's rows and average length, from corpus_stats; each
// term's rows and occurrences, from term_stats; the row's length and
// hits, counted from its terms. A deferred trigger keeps the two
// statistics tables at each commit, under the change feed's lock (below),
// so that the counts of common terms, which every write touches, are
// updated one transaction at a time and without deadlocks.
//
// # Transactions and nodes
//
// Each method runs in one transaction: writes READ COMMITTED, multi-query
// reads in a REPEATABLE READ snapshot; InTx joins several, each in a
// savepoint. What SQLite's single writer gave for free is explicit here,
// so that nodes writing at once stay correct: creations that must be
// unique (an agent made by its first memory, a project by its first
// reference, a session by external id, an edge) insert with ON CONFLICT
// DO NOTHING and read back the winner; read-modify-writes lock their row
// (FOR UPDATE); deduplication locks the agent's row; v2 jobs are claimed
// with FOR UPDATE SKIP LOCKED under leases (see Store.Jobs); usage counts
// add up in one statement per row, in key order; last-used instants only
// rise (greatest); revoking an account's keys locks the account's row.
// The webhook outbox is claimed as jobs are (FOR UPDATE SKIP LOCKED, then
// a lease), so nodes take different deliveries; creating a webhook under
// the per-account limit and changing which extraction key is active lock
// the account's row, so nodes take turns.
//
// # Migrations
//
// schema_version holds the number of migrations applied. Open applies
// the missing ones, each in a transaction, under a session advisory lock,
// so that nodes starting at once on an empty database migrate it exactly
// once; a database newer than the binary is refused.
//
// # Change feed
//
// memory_changes logs every committed change to a memory's vector or row.
// Its positions follow commit order: the logging trigger is deferred to
// commit time and takes a transaction-level advisory lock first, which is
// released only once the commit is visible, so a reader that has seen
// position p can never later see a position below p appear. Each commit
// that logs a change notifies the channel memoryrelay_changes, which
// nodes LISTEN to, to wake (see Feed). Pruning records the newest
// position it deleted (feed_state), so an empty feed still knows it.
//
// # What it does not do
//
// Backup returns ErrBackupUnsupported (pg_dump, or base backups with WAL
// archiving, are the operator's tools); Damaged is always nil and
// WriteProblems reports only a server that refuses writes: disk space is
// the server's to watch.
package postgres
