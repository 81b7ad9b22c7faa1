package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// The row plumbing every file shares.

// read runs fn in one read-only REPEATABLE READ transaction, so that its
// queries (a count and a page) see one snapshot.
func (s *Store) read(ctx context.Context, fn func(pgx.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
	return s.err(ctx, err)
}

// write runs fn in a READ COMMITTED transaction, committing if it returns
// nil.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err == nil {
		s.writes.Add(1)
	}
	return s.err(ctx, err)
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// ms converts a time to epoch milliseconds, the unit of every stored instant.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts epoch milliseconds back to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func fromNullMS(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

// jsonOrEmpty stores nil JSON as an empty object.
func jsonOrEmpty(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// fromJSONObject reads a stored JSON object; the empty object reads as nil.
func fromJSONObject(s string) []byte {
	if s == "{}" {
		return nil
	}
	return []byte(s)
}
