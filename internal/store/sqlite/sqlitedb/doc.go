// Package sqlitedb opens the SQLite database behind memoryrelay: one writer
// connection whose transactions begin IMMEDIATE, a pool of read-only
// connections, the pragmas the library relies on, sqlite-vec registered once
// per process, and versioned migrations.
//
// Everything SQLite-specific about connections lives here: the connection
// wrapper that watches for damage and bounds each read statement's time,
// the check of the file at Open, and the classification of SQLite's errors
// into package store's vocabulary (store.OpenError at Open; at run time
// errors that match store.ErrBusy, store.ErrForeignKey, store.ErrClosed
// and the rest). It knows no schema: the migrations and queries live with
// the store that owns them (package store/sqlite).
package sqlitedb
