package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults applied by [Open] to zero fields of [Options].
const (
	DefaultMaxConns       = 16
	DefaultConnectTimeout = 5 * time.Second
)

// Options configures [Open].
type Options struct {
	// URL is the connection string: a postgres:// URL or key=value
	// pairs, as libpq takes them (pgx reads the PG* environment variables
	// for what it leaves out). Required.
	URL string
	// MaxConns bounds the connection pool. Default DefaultMaxConns (16).
	MaxConns int
	// ConnectTimeout bounds each new connection's dial and handshake,
	// unless URL sets connect_timeout. Default DefaultConnectTimeout (5 s).
	ConnectTimeout time.Duration
}

// Store is the PostgreSQL store. It is safe for concurrent use; Close
// releases its connections.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
	// writes counts this Store's committed writes, so that its Feed
	// sees them at once (see Feed.Version).
	writes atomic.Int64
	// readOnly is what the last CheckRead learnt: the server refuses
	// writes (WriteProblems).
	readOnly atomic.Bool
}

// Open connects to the database and brings its schema up to date: several
// processes opening one database at once migrate it once (an advisory
// lock orders them). Errors: a bad URL or option is reported as such; a
// server that cannot be reached is an error matching ErrUnreachable (see
// [Unavailable]); a database whose schema is newer than this binary knows
// is refused.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return nil, errors.New("postgres: Options.URL is required")
	}
	if opts.MaxConns < 0 || opts.ConnectTimeout < 0 {
		return nil, errors.New("postgres: negative Options.MaxConns or Options.ConnectTimeout")
	}
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: Options.URL: %w", err)
	}
	cfg.MaxConns = int32(cmp.Or(opts.MaxConns, DefaultMaxConns))
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = cmp.Or(opts.ConnectTimeout, DefaultConnectTimeout)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", classify(ctx, err))
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// Close closes the pool's connections, waiting for those in use to be
// released. Calls made after Close fail with an error matching ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.queryRow(ctx, "SELECT 1").Scan(&one)
}

// err classifies an error of a call on s.
func (s *Store) err(ctx context.Context, err error) error {
	if err != nil && s.closed.Load() {
		return &Error{Class: ErrClosed, Err: err}
	}
	return classify(ctx, err)
}

// exec runs a statement on the pool, classifying its error.
func (s *Store) exec(ctx context.Context, sql string, args ...any) error {
	if s.closed.Load() {
		return ErrClosed
	}
	_, err := s.pool.Exec(ctx, sql, args...)
	if err == nil {
		s.writes.Add(1)
	}
	return s.err(ctx, err)
}

// queryRow runs a query on the pool whose Scan classifies its error.
func (s *Store) queryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if s.closed.Load() {
		return errRow{ErrClosed}
	}
	return classifiedRow{s: s, ctx: ctx, row: s.pool.QueryRow(ctx, sql, args...)}
}

type classifiedRow struct {
	s   *Store
	ctx context.Context
	row pgx.Row
}

func (r classifiedRow) Scan(dest ...any) error { return r.s.err(r.ctx, r.row.Scan(dest...)) }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
