package sqlitedb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// DefaultStatementTimeout is how long one statement of the read pool may
// run when [Options.StatementTimeout] is zero.
const DefaultStatementTimeout = 5 * time.Second

// ErrStatementTimeout is wrapped by the error of a read statement that ran
// past [Options.StatementTimeout] and was interrupted. [Unavailable]
// reports it: nothing the caller did is wrong, the storage could not
// answer in time.
var ErrStatementTimeout = errors.New("sqlitedb: statement ran past the statement timeout")

type unboundedKey struct{}

// WithoutStatementTimeout returns a context under which statements of the
// read pool run without the statement timeout, for reads that are long by
// nature and serve no request, such as loading every vector into an
// in-process index.
func WithoutStatementTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, unboundedKey{}, true)
}

func unbounded(ctx context.Context) bool {
	v, _ := ctx.Value(unboundedKey{}).(bool)
	return v
}

// timedConn is a connection of the read pool: every query and exec runs
// under a deadline of timeout from its start (the caller's context may
// set an earlier one). mattn/go-sqlite3 interrupts a statement whose
// context ends (sqlite3_interrupt), while it steps and between rows, so a
// runaway read gives its connection back to the pool within the timeout.
type timedConn struct {
	*sqlite3.SQLiteConn
	timeout time.Duration
}

var (
	_ driver.QueryerContext = (*timedConn)(nil)
	_ driver.ExecerContext  = (*timedConn)(nil)
)

func (c *timedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if unbounded(ctx) {
		return c.SQLiteConn.QueryContext(ctx, query, args)
	}
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	rows, err := c.SQLiteConn.QueryContext(tctx, query, args)
	if err != nil {
		err = c.timedOut(ctx, tctx, err)
		cancel()
		return nil, err
	}
	sr, ok := rows.(*sqlite3.SQLiteRows)
	if !ok { // not what this driver returns; keep the deadline to Close
		return &timedRows{Rows: rows, c: c, ctx: ctx, tctx: tctx, cancel: cancel}, nil
	}
	return &timedSQLiteRows{SQLiteRows: sr, t: timedRows{Rows: sr, c: c, ctx: ctx, tctx: tctx, cancel: cancel}}, nil
}

func (c *timedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if unbounded(ctx) {
		return c.SQLiteConn.ExecContext(ctx, query, args)
	}
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.SQLiteConn.ExecContext(tctx, query, args)
	if err != nil {
		return nil, c.timedOut(ctx, tctx, err)
	}
	return res, nil
}

// timedOut returns err, or an error wrapping ErrStatementTimeout when the
// statement ended because its own deadline passed (and not because the
// caller's context ended).
func (c *timedConn) timedOut(ctx, tctx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v)", ErrStatementTimeout, c.timeout)
	}
	return err
}

// timedRows ends its statement's deadline when closed and reports an
// interruption by it as ErrStatementTimeout.
type timedRows struct {
	driver.Rows
	c         *timedConn
	ctx, tctx context.Context
	cancel    context.CancelFunc
}

func (r *timedRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err != nil && err != io.EOF {
		return r.c.timedOut(r.ctx, r.tctx, err)
	}
	return err
}

func (r *timedRows) Close() error {
	err := r.Rows.Close()
	r.cancel()
	return err
}

// timedSQLiteRows is timedRows over the driver's own rows, keeping their
// optional methods (column types and the like).
type timedSQLiteRows struct {
	*sqlite3.SQLiteRows
	t timedRows
}

func (r *timedSQLiteRows) Next(dest []driver.Value) error { return r.t.Next(dest) }
func (r *timedSQLiteRows) Close() error                   { return r.t.Close() }
