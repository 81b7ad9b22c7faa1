package sqlitedb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// DefaultStatementTimeout is how long one statement of the read pool may
// run when [Options.StatementTimeout] is zero.
const DefaultStatementTimeout = 5 * time.Second

// ErrStatementTimeout is wrapped by the error of a read statement that ran
// past [Options.StatementTimeout] and was interrupted (store's sentinel). store.Unavailable
// reports it: nothing the caller did is wrong, the storage could not
// answer in time.
var ErrStatementTimeout = store.ErrStatementTimeout

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

// stmtTimer is the statement timeout of one statement of a read
// connection (see conn.bound): every query and exec there runs under a
// deadline of the timeout from its start (the caller's context may set an
// earlier one). mattn/go-sqlite3 interrupts a statement whose context ends
// (sqlite3_interrupt), while it steps and between rows, so a runaway read
// gives its connection back to the pool within the timeout. A nil
// *stmtTimer bounds nothing.
type stmtTimer struct {
	parent, ctx context.Context
	cancel      context.CancelFunc
	timeout     time.Duration
}

// bound returns the context to run one statement under and its timer: nil
// on connections without a timeout and for contexts from
// WithoutStatementTimeout.
func (c *conn) bound(ctx context.Context) (context.Context, *stmtTimer) {
	if c.timeout <= 0 || unbounded(ctx) {
		return ctx, nil
	}
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	return tctx, &stmtTimer{parent: ctx, ctx: tctx, cancel: cancel, timeout: c.timeout}
}

// err returns err, or an error wrapping ErrStatementTimeout when the
// statement ended because its own deadline passed (and not because the
// caller's context ended). nil and io.EOF pass unchanged.
func (t *stmtTimer) err(err error) error {
	if t == nil || err == nil || err == io.EOF {
		return err
	}
	if t.parent.Err() == nil && errors.Is(t.ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v)", ErrStatementTimeout, t.timeout)
	}
	return err
}

// stop ends the statement's deadline.
func (t *stmtTimer) stop() {
	if t != nil {
		t.cancel()
	}
}
