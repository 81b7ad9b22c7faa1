package sqlitedb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// damage records the first sign that the database file is damaged: a
// failed check at Open, or a storage error that means corruption
// (SQLITE_CORRUPT, SQLITE_NOTADB) met by any statement of any connection.
// Once set it stays set until the database is closed and opened again:
// the writer connection then refuses every write (see [DB.Damaged]). A nil
// *damage watches nothing (a connector built without one).
type damage struct {
	mu     sync.Mutex
	err    error // nil while undamaged
	notify func(error)
}

func (d *damage) get() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// saw marks the database damaged when err means corruption, and returns
// err, wrapped so that it matches ErrDamaged when it does.
//
// Every other error of SQLite's is returned wrapped so that it matches its
// class of store's vocabulary (see classOf): store.ErrBusy,
// store.ErrForeignKey and the rest.
func (d *damage) saw(err error) error {
	if err == nil || err == io.EOF { // without allocating
		return err
	}
	if d == nil || !isCorrupt(err) {
		return classifyRun(err)
	}
	d.mu.Lock()
	first := d.err == nil
	if first {
		d.err = err
	}
	notify := d.notify
	d.mu.Unlock()
	if first && notify != nil {
		notify(err)
	}
	return &damagedError{err: err}
}

// refusal is the error of a write refused because the database is
// damaged, or nil.
func (d *damage) refusal() error {
	if err := d.get(); err != nil {
		return &refusedError{cause: err}
	}
	return nil
}

// isCorrupt reports whether err is SQLite saying the file is damaged.
func isCorrupt(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// damagedError is a storage error that means corruption. It matches
// ErrDamaged and unwraps to the driver's error.
type damagedError struct{ err error }

func (e *damagedError) Error() string   { return e.err.Error() }
func (e *damagedError) Unwrap() []error { return []error{ErrDamaged, e.err} }

// refusedError is a write refused because the database was found damaged.
// It matches ErrDamaged.
type refusedError struct{ cause error }

func (e *refusedError) Error() string {
	return fmt.Sprintf("sqlitedb: write refused: %v (first seen: %v)", ErrDamaged, e.cause)
}
func (e *refusedError) Unwrap() error { return ErrDamaged }

// conn wraps a driver connection so that every error it returns, of the
// connection, its statements, rows and transactions, goes through
// damage.saw; on the writer connection it also refuses to begin a
// transaction, execute a statement or commit once the database is known
// to be damaged, so nothing more is written into a damaged file (a
// transaction in progress is rolled back instead of committed).
// Rollback is always allowed.
type conn struct {
	c       *sqlite3.SQLiteConn
	d       *damage
	writer  bool
	timeout time.Duration // statement timeout (see bound); 0 or negative: none
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
)

func (c *conn) refuse() error {
	if c.writer {
		return c.d.refusal()
	}
	return nil
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.refuse(); err != nil {
		return nil, err
	}
	s, err := c.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, c.d.saw(err)
	}
	return &stmt{s: s, c: c}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// IsValid (driver.Validator) is asked by database/sql as a connection goes
// back to the pool. The writer's connection reports itself invalid while
// it is still inside a transaction (a ROLLBACK that failed): it is then
// closed, which rolls the transaction back and releases the write lock,
// and the next write opens a fresh one.
func (c *conn) IsValid() bool { return !c.writer || c.c.AutoCommit() }

func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.refuse(); err != nil {
		return nil, err
	}
	t, err := c.c.BeginTx(ctx, opts)
	if err != nil {
		return nil, c.d.saw(err)
	}
	return &tx{t: t, c: c}, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.refuse(); err != nil {
		return nil, err
	}
	ctx, t := c.bound(ctx)
	defer t.stop()
	r, err := c.c.ExecContext(ctx, query, args)
	if err != nil {
		return nil, t.err(c.d.saw(err))
	}
	return r, nil
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.refuse(); err != nil {
		return nil, err
	}
	ctx, t := c.bound(ctx)
	r, err := c.c.QueryContext(ctx, query, args)
	if err != nil {
		t.stop()
		return nil, t.err(c.d.saw(err))
	}
	return &rows{r: r, d: c.d, t: t}, nil
}

func (c *conn) Ping(ctx context.Context) error { return c.d.saw(c.c.Ping(ctx)) }

type tx struct {
	t driver.Tx
	c *conn
}

func (t *tx) Commit() error {
	if err := t.c.refuse(); err != nil {
		t.t.Rollback()
		return err
	}
	return t.c.d.saw(t.t.Commit())
}

func (t *tx) Rollback() error { return t.c.d.saw(t.t.Rollback()) }

// stmt wraps a driver statement, which implements the context variants
// (go-sqlite3's does).
type stmt struct {
	s driver.Stmt
	c *conn
}

var (
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

func (s *stmt) Close() error  { return s.s.Close() }
func (s *stmt) NumInput() int { return s.s.NumInput() }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.c.refuse(); err != nil {
		return nil, err
	}
	ctx, t := s.c.bound(ctx)
	defer t.stop()
	r, err := s.s.(driver.StmtExecContext).ExecContext(ctx, args)
	if err != nil {
		return nil, t.err(s.c.d.saw(err))
	}
	return r, nil
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.c.refuse(); err != nil {
		return nil, err
	}
	ctx, t := s.c.bound(ctx)
	r, err := s.s.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		t.stop()
		return nil, t.err(s.c.d.saw(err))
	}
	return &rows{r: r, d: s.c.d, t: t}, nil
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

// rows passes every error of a result set (corruption mostly shows while
// stepping through one) through damage.saw, and keeps the driver's column
// type information.
type rows struct {
	r driver.Rows
	d *damage
	t *stmtTimer // the statement's timeout, ended by Close; nil: none
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeLength           = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
)

func (r *rows) Columns() []string { return r.r.Columns() }
func (r *rows) Close() error {
	err := r.d.saw(r.r.Close())
	r.t.stop()
	return err
}

// Next passes io.EOF unchanged.
func (r *rows) Next(dest []driver.Value) error { return r.t.err(r.d.saw(r.r.Next(dest))) }

func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.r.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *rows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.r.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *rows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.r.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *rows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.r.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.r.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
