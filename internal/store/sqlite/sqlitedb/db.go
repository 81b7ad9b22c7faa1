package sqlitedb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vec "github.com/asg017/sqlite-vec-go-bindings/cgo"
	sqlite3 "github.com/mattn/go-sqlite3"
)

// Synchronous values accepted by [Options.Synchronous].
const (
	SyncFull   = "FULL"
	SyncNormal = "NORMAL"
	SyncOff    = "OFF"
	SyncExtra  = "EXTRA"
)

// Defaults used when the corresponding [Options] field is zero.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultReaders     = 4
	DefaultCacheKiB    = 16 << 10 // 16 MiB page cache per connection
	// DefaultStatementCache is how many prepared statements each
	// connection keeps for reuse (Options.StatementCache). Preparing a statement against this schema costs about
	// 50 µs of CPU: reading a search's ten hits (the rows, then their
	// entities) from a 1M-memory database took 0.22 ms (p50) with both
	// statements prepared afresh, 0.095 ms with them kept (see
	// BenchmarkRows in package sqlite).
	DefaultStatementCache = 64
	// DefaultQuickCheckBytes is the largest database that Open checks
	// whole with PRAGMA quick_check (see Options.QuickCheckBytes): about
	// 20,000 memories, checked in about 0.1 s of CPU (measured: 62 MiB,
	// 0.12 s CPU; 154 MiB, 0.4 s CPU, when the file is in the page cache).
	DefaultQuickCheckBytes = 64 << 20
)

// Options configures [Open]. The zero value is valid apart from Path.
type Options struct {
	Path        string        // database file; created if missing
	Synchronous string        // FULL (default), NORMAL, OFF or EXTRA
	BusyTimeout time.Duration // how long a statement waits for a lock; default 5s
	Readers     int           // size of the read-only pool, 1 or more; default 4 (OwnReader connections come on top)
	CacheKiB    int           // page cache per connection in KiB; default 16 MiB
	// StatementCache is how many prepared statements each connection
	// keeps for reuse (go-sqlite3's _stmt_cache_size), least recently
	// used dropped first: 0 means DefaultStatementCache; negative, none.
	StatementCache int
	// MmapBytes is mmap_size per connection; 0 (the default) leaves
	// memory-mapped I/O off, so reading a large database through it does
	// not inflate the process's resident memory.
	MmapBytes int64
	// AutoCheckpoint is the WAL size in pages at which a commit checkpoints
	// (SQLite's wal_autocheckpoint): 0 keeps SQLite's default (1000); -1
	// disables automatic checkpoints, for a replicator such as Litestream
	// that checkpoints itself.
	AutoCheckpoint int
	// QuickCheckBytes bounds the check of the file at Open: when the
	// database (its file and WAL) is at most this many bytes, Open runs
	// PRAGMA quick_check over all of it and fails with ErrDamaged if it
	// finds a problem. 0 means DefaultQuickCheckBytes; negative, never.
	// Larger files, or damage that appears later, are caught by the
	// errors statements meet (see [DB.Damaged]).
	QuickCheckBytes int64
	// OnDamaged, if set, is called once, with the error, the first time a
	// statement finds the database damaged at run time.
	OnDamaged func(error)
	// StatementTimeout is the longest one statement of the read pool may
	// run (counted from its start to the close of its rows); past it
	// SQLite interrupts it and it fails with an error wrapping
	// ErrStatementTimeout, so that no read can hold a pool connection for
	// long. Contexts from WithoutStatementTimeout are exempt. Default
	// DefaultStatementTimeout (5s); negative: no limit.
	StatementTimeout time.Duration
	// VectorEncoding is how package sqlite's Store writes the vectors of
	// memories (DB itself does not read it): "int8" (the default, an int8
	// code with a float32 scale: Dim+8 bytes) or "float32" (sqlite-vec's
	// float32 format: 4·Dim bytes). See sqlite.VectorInt8.
	VectorEncoding string
}

// DB is an open database: W is the single writer connection, R the reader pool.
// It is safe for concurrent use.
type DB struct {
	W *sql.DB
	R *sql.DB

	reader connector // R's, for read connections of their own (OwnReader)
	side   connector // for one-off connections that are neither of the above
	dmg    *damage
	closed atomic.Bool // set by Close: connections of their own are refused then
}

// Damaged returns nil while the database is not known to be damaged, and
// otherwise the first error that showed it was (it matches ErrDamaged).
// Once damaged, the writer connection refuses to begin, execute or commit
// anything (with an error matching ErrDamaged), so nothing more is
// written into the file; reads are still attempted. Only closing the
// database and opening it again (after restoring it) clears the state.
func (db *DB) Damaged() error {
	if err := db.dmg.get(); err != nil {
		return &damagedError{err: err}
	}
	return nil
}

var vecOnce sync.Once

// registerVec makes sqlite-vec available on every connection opened after it
// by this process. sqlite3_auto_extension is process-wide, so it runs once.
func registerVec() { vecOnce.Do(vec.Auto) }

// Open opens (creating if needed) the database at opts.Path and runs the given
// migrations, in order, inside IMMEDIATE transactions. migrations[i] brings
// the schema from user_version i to i+1; already applied ones are skipped, so
// Open is idempotent. A database newer than the migrations known to this
// binary is an error.
//
// Before migrating, Open checks the file (see Options.QuickCheckBytes).
// Failures of a known class (damaged, not a database, read-only,
// permission denied, missing directory, full) are an *OpenError that
// matches the class with errors.Is.
func Open(ctx context.Context, opts Options, migrations []string) (*DB, error) {
	db, err := open(ctx, opts, migrations)
	if err != nil {
		return nil, classify(opts.Path, err)
	}
	return db, nil
}

func open(ctx context.Context, opts Options, migrations []string) (*DB, error) {
	if opts.Path == "" {
		return nil, errors.New("sqlitedb: empty path")
	}
	sync := opts.Synchronous
	if sync == "" {
		sync = SyncFull
	}
	switch sync {
	case SyncFull, SyncNormal, SyncOff, SyncExtra:
	default:
		return nil, fmt.Errorf("sqlitedb: synchronous must be FULL, NORMAL, OFF or EXTRA, not %q", opts.Synchronous)
	}
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.Readers == 0 {
		opts.Readers = DefaultReaders
	}
	if opts.CacheKiB == 0 {
		opts.CacheKiB = DefaultCacheKiB
	}
	if opts.StatementCache == 0 {
		opts.StatementCache = DefaultStatementCache
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	if opts.BusyTimeout < 0 || opts.Readers < 0 || opts.CacheKiB < 0 {
		return nil, errors.New("sqlitedb: negative option")
	}
	registerVec()

	common := url.Values{}
	common.Set("_busy_timeout", strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10))
	common.Set("_foreign_keys", "1")
	common.Set("_journal_mode", "WAL")
	common.Set("_synchronous", sync)
	common.Set("_stmt_cache_size", strconv.Itoa(max(opts.StatementCache, 0)))

	hook := func(c *sqlite3.SQLiteConn) error {
		stmts := []string{
			fmt.Sprintf("PRAGMA cache_size = -%d", opts.CacheKiB),
			"PRAGMA temp_store = MEMORY",
		}
		if opts.MmapBytes > 0 {
			stmts = append(stmts, fmt.Sprintf("PRAGMA mmap_size = %d", opts.MmapBytes))
		}
		if opts.AutoCheckpoint != 0 {
			stmts = append(stmts, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", max(opts.AutoCheckpoint, 0)))
		}
		for _, s := range stmts {
			if _, err := c.Exec(s, nil); err != nil {
				return err
			}
		}
		return nil
	}
	drv := &sqlite3.SQLiteDriver{ConnectHook: hook}
	dmg := &damage{notify: opts.OnDamaged}

	wv := cloneValues(common)
	wv.Set("_txlock", "immediate")
	w := sql.OpenDB(connector{drv: drv, dsn: "file:" + escapePath(opts.Path) + "?" + wv.Encode(), dmg: dmg, writer: true})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := quickCheck(ctx, w, opts.Path, opts.QuickCheckBytes); err != nil {
		w.Close()
		return nil, err
	}
	if err := migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, err
	}

	rv := cloneValues(common)
	rv.Set("_query_only", "1")
	rv.Del("_journal_mode") // set by the writer; a reader must not try to change it
	reader := connector{drv: drv, dsn: "file:" + escapePath(opts.Path) + "?" + rv.Encode(), dmg: dmg, timeout: opts.StatementTimeout}
	r := sql.OpenDB(reader)
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlitedb: open readers: %w", err)
	}
	sv := cloneValues(common)
	sv.Del("_journal_mode")
	side := connector{drv: drv, dsn: "file:" + escapePath(opts.Path) + "?" + sv.Encode(), dmg: dmg}
	return &DB{W: w, R: r, reader: reader, side: side, dmg: dmg}, nil
}

// VacuumInto writes a compacted copy of the database to path from one read
// snapshot, on a connection of its own: writers are not blocked, and the
// read-only pool (which may not write any file) is not used.
func (db *DB) VacuumInto(ctx context.Context, path string) error {
	if db.closed.Load() {
		return &closedError{err: errPoolClosed}
	}
	one := sql.OpenDB(db.side)
	defer one.Close()
	one.SetMaxOpenConns(1)
	_, err := one.ExecContext(ctx, "VACUUM INTO ?", path)
	return err
}

// Close closes both pools. It is safe to call more than once. Afterwards
// every call on the database fails with an error that matches
// store.ErrClosed (through Write, VacuumInto and OpenOwnReader; a caller
// of the pools passes their errors through [Closed]).
func (db *DB) Close() error {
	db.closed.Store(true)
	return errors.Join(db.R.Close(), db.W.Close())
}

// Write runs fn in a write transaction (BEGIN IMMEDIATE on the single writer
// connection) and commits it when fn returns nil. Every other way out rolls
// it back before Write returns or unwinds: fn returning an error, fn
// panicking (the panic then continues to the caller unchanged), fn calling
// runtime.Goexit, and ctx ending (database/sql rolls back, and Commit
// reports ctx's error even if fn ignored it). A transaction is never left
// open on the one writer connection, where it would block every later write
// of the process; and should the connection still be inside a transaction
// when it goes back to the pool (a ROLLBACK that failed), it is closed and
// replaced rather than reused (see writerConn).
func (db *DB) Write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return Closed(err)
	}
	// After a Commit this is a no-op (sql.ErrTxDone); on a panic or Goexit
	// it runs while the stack unwinds.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		// A context that ended rolls the transaction back from database/sql's
		// own goroutine, which may beat Commit to it: then Commit says only
		// ErrTxDone, and the cause is the context's.
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, sql.ErrTxDone) {
			return cerr
		}
		return err
	}
	return nil
}

func migrate(ctx context.Context, db *sql.DB, migrations []string) error {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("sqlitedb: read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("sqlitedb: database schema version %d is newer than this program knows (%d)", have, len(migrations))
	}
	for v := have; v < len(migrations); v++ {
		err := (&DB{W: db}).Write(ctx, func(tx *sql.Tx) error {
			// Re-check inside the IMMEDIATE transaction: another process
			// may have migrated between our read and our lock.
			var cur int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
				return err
			}
			if cur != v {
				return nil
			}
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlitedb: migration %d: %w", v+1, err)
		}
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// escapePath keeps '?' and '#' in file names from being read as URI syntax.
func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// connector opens connections through our own driver value, so no driver
// name is registered globally, each wrapped (conn) to watch for damage
// and, on read connections with a positive timeout, to bound each
// statement's time.
type connector struct {
	drv     *sqlite3.SQLiteDriver
	dsn     string
	dmg     *damage
	writer  bool          // the writer connection: refuses writes once damaged
	timeout time.Duration // statement timeout; 0 or negative: none
}

func (c connector) Connect(context.Context) (driver.Conn, error) {
	dc, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, c.dmg.saw(err)
	}
	return &conn{c: dc.(*sqlite3.SQLiteConn), d: c.dmg, writer: c.writer, timeout: c.timeout}, nil
}

func (c connector) Driver() driver.Driver { return c.drv }
