package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
)

// Options configures [Open].
type Options = sqlitedb.Options

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	db   *sqlitedb.DB
	path string // Options.Path
	enc  string // Options.VectorEncoding: VectorInt8 or VectorFloat32
}

// Open opens the database and brings its schema up to date.
func Open(ctx context.Context, opts Options) (*Store, error) {
	enc, err := vectorEncoding(opts.VectorEncoding)
	if err != nil {
		return nil, err
	}
	db, err := sqlitedb.Open(ctx, opts, migrations)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, path: opts.Path, enc: enc}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	_, err := queryValue[int](ctx, s.q(ctx), "SELECT 1")
	return err
}

// Meta returns the value stored under key, or "" and false.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	v, err := queryValue[string](ctx, s.q(ctx), "SELECT value FROM meta WHERE key = ?", key)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	return v, err == nil, err
}

// SetMetaIfAbsent stores value under key unless a value is there already,
// and returns the value now stored.
func (s *Store) SetMetaIfAbsent(ctx context.Context, key, value string) (string, error) {
	var got string
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", key, value); err != nil {
			return err
		}
		var err error
		got, err = queryValue[string](ctx, tx, "SELECT value FROM meta WHERE key = ?", key)
		return err
	})
	return got, err
}

// ms converts a time to epoch milliseconds, the unit of every stored instant.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts epoch milliseconds back to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullString(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func fromNullString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}

// jsonOrEmpty stores nil JSON as an empty object.
func jsonOrEmpty(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// Backup writes a consistent copy of the database to path with VACUUM
// INTO. It reads one snapshot (a read transaction), so writers go on
// meanwhile and the copy holds exactly what was committed when it began.
// path must not exist.
func (s *Store) Backup(ctx context.Context, path string) error {
	return s.db.VacuumInto(ctx, path)
}
