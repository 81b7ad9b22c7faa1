package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
)

// OwnReader is a read-only connection outside the reader pool, for a
// component that keeps one for its lifetime (PRAGMA data_version, say, is
// per connection). Taken from R instead, it would leave the pool one
// connection short, and none at all with Options.Readers = 1.
type OwnReader struct {
	*sql.Conn
	db *sql.DB
}

// OpenOwnReader opens a read-only connection of the caller's own, with
// the settings of the reader pool's. Close releases it.
func (db *DB) OpenOwnReader(ctx context.Context) (*OwnReader, error) {
	if db.closed.Load() {
		return nil, &closedError{err: errPoolClosed}
	}
	one := sql.OpenDB(db.reader)
	one.SetMaxOpenConns(1)
	one.SetMaxIdleConns(1)
	one.SetConnMaxLifetime(0)
	one.SetConnMaxIdleTime(0)
	conn, err := one.Conn(ctx)
	if err != nil {
		one.Close()
		return nil, err
	}
	return &OwnReader{Conn: conn, db: one}, nil
}

// Close closes the connection. It waits for queries in progress on it.
func (o *OwnReader) Close() error {
	return errors.Join(o.Conn.Close(), o.db.Close())
}
