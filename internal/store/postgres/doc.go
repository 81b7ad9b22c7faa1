// Package postgres is memoryrelay's PostgreSQL storage, for several
// stateless nodes sharing one database: the schema and its migrations, a
// pgx/v5 connection pool, and the classification of PostgreSQL's errors
// into the store's failure classes (a server that cannot be reached is
// ErrUnreachable, which [Unavailable] reports, never a bare driver error).
//
// # Schema
//
// The tables are those of the SQLite store, column for column, in
// PostgreSQL's types (see schema.go): ids and JSON documents as text,
// stored verbatim; instants as bigint epoch milliseconds; vectors as
// bytea holding float32 little-endian, the bytes SQLite stores; the
// normalised terms of the lexical search as text. There is no full-text
// table and no pgvector: searches are served by each node's in-process
// indexes, which follow the change feed. (A pgvector path would add a
// vector(N) column beside the bytea one and an HNSW index, for a search
// that needs no in-process index; nothing else would change.)
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
// nodes LISTEN to, to wake.
package postgres
