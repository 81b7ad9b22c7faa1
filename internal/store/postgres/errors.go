package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// The classes of failure, as package store names them (these are the
// same values): PostgreSQL's errors are classified into them.
var (
	// ErrUnreachable: the server cannot be reached, refused the
	// connection, is starting up or shutting down, has no connection
	// slot left, or the connection broke during the call. Nothing the
	// caller did wrong; a later call may succeed, on a new connection.
	ErrUnreachable = store.ErrUnreachable
	// ErrBusy: a lock, a serialization conflict or a deadlock kept the
	// statement from completing.
	ErrBusy = store.ErrBusy
	// ErrIO: the server failed to read or write its files.
	ErrIO = store.ErrIO
	// ErrForeignKey: the write names a row that does not exist (an unknown
	// account, above all).
	ErrForeignKey = store.ErrForeignKey
	// ErrClosed: the call was made after Close, or cut short by it.
	ErrClosed = store.ErrClosed
)

// Error is a classified failure of PostgreSQL: it matches Class with
// errors.Is and unwraps to the driver's error as well. Its text is the
// class's and the driver's, for logs; the driver's text carries no
// password.
type Error struct {
	Class error
	Err   error
}

func (e *Error) Error() string   { return e.Class.Error() + ": " + e.Err.Error() }
func (e *Error) Unwrap() []error { return []error{e.Class, e.Err} }

// classify wraps err in an *Error when its class is known, and returns it
// as it is otherwise (nil, a context's error, a row error such as
// pgx.ErrNoRows, a constraint the caller interprets such as a unique
// violation). ctx is the call's: a statement canceled because ctx ended
// is ctx's error, not the server's.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if ctx != nil && ctx.Err() != nil && (errors.Is(err, ctx.Err()) || pgconn.Timeout(err) || isCanceled(err)) {
		return err
	}
	if class := classOf(err); class != nil {
		return &Error{Class: class, Err: err}
	}
	return err
}

func isCanceled(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014" && strings.Contains(pe.Message, "user request")
}

// classOf returns the class of err, or nil.
func classOf(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch code := pe.Code; {
		case code == "23503":
			return ErrForeignKey
		case code == "57014" && strings.Contains(pe.Message, "statement timeout"):
			return store.ErrStatementTimeout
		case code == "53100":
			return store.ErrFull
		case code == "25006":
			return store.ErrReadOnly
		case code == "XX001", code == "XX002":
			return store.ErrDamaged
		case code == "58030":
			return ErrIO
		case code == "40001", code == "40P01", code == "55P03", code == "53000", code == "53200":
			return ErrBusy
		case strings.HasPrefix(code, "08"), // connection exception
			code == "57P01", code == "57P02", code == "57P03", // admin or crash shutdown, cannot connect now
			code == "53300": // too many connections
			return ErrUnreachable
		}
		return nil
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne):
		return ErrUnreachable
	}
	return nil
}

// Unavailable reports whether err means the database cannot serve a
// request now, through no fault of the caller, and says why in words a
// client may see: it is store.Unavailable, which knows every class above.
func Unavailable(err error) (reason string, ok bool) { return store.Unavailable(err) }
