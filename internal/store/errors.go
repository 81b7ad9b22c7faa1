package store

import (
	"errors"
	"fmt"
	"syscall"
)

// Errors of the domain's rows, which every implementation returns for the
// same reasons. Match them with errors.Is.
var (
	// ErrNotFound is returned when a row does not exist in the caller's
	// account.
	ErrNotFound = errors.New("store: not found")
	// ErrSessionNotFound is returned by writes whose session id names no
	// session of the account.
	ErrSessionNotFound = errors.New("store: session not found")
	// ErrNameTaken is returned when an agent would take a name another
	// agent of the account already has.
	ErrNameTaken = errors.New("store: name taken")
	// ErrSlugTaken is returned by InsertProject when the account already
	// has a project with the slug.
	ErrSlugTaken = errors.New("store: project slug already exists")
	// ErrEntityNotFound and ErrMemoryNotFound are the errors of
	// LinkEntity, both matching ErrNotFound, that say which side of the
	// link is missing.
	ErrEntityNotFound = fmt.Errorf("store: entity: %w", ErrNotFound)
	ErrMemoryNotFound = fmt.Errorf("store: memory: %w", ErrNotFound)
	// ErrTooMany is returned by a create that would pass the most rows of
	// its kind an account may have (CreateWebhook).
	ErrTooMany = errors.New("store: too many")
)

// ErrClosed is matched by the error of every call made on a storage after
// its Close (and of one that Close cut short).
var ErrClosed = errors.New("store: closed")

// ErrForeignKey is matched by the error of a write that names a row that
// does not exist: above all, a write for an account that does not exist.
var ErrForeignKey = errors.New("store: a row the write refers to does not exist")

// The classes of storage failure, as the storage's callers match them
// with errors.Is: they need not know which engine is behind it. An
// implementation wraps its engine's errors so that they match these; its
// Open returns the classes that keep a database from opening inside an
// *[OpenError]. The texts carry no prefix, so that a caller can say which
// database: "memoryrelay: open /data/x.db: the file system is full".
var (
	// ErrDamaged: the database is damaged (a check found problems, or
	// the engine met corruption). At run time an error that matches it
	// means the database was found damaged: writes are refused from then
	// on.
	ErrDamaged = errors.New("the database file is damaged")
	// ErrNotDatabase: the file is not a database of the engine, or is a
	// directory. (SQLite's words: an engine without files never returns it.)
	ErrNotDatabase = errors.New("the file is not a SQLite database (another kind of file, or its header is damaged)")
	// ErrReadOnly: the database, its folder or its file system is
	// read-only, or not writable by this process.
	ErrReadOnly = errors.New("the file or its file system is read-only")
	// ErrPermission: the process may not read the database or its folder.
	ErrPermission = errors.New("permission denied")
	// ErrNoDirectory: the folder the database should be in does not exist.
	ErrNoDirectory = errors.New("its directory does not exist")
	// ErrFull: the storage has no space left.
	ErrFull = errors.New("the file system is full")
	// ErrBusy: the database stayed locked by another writer past the
	// busy timeout.
	ErrBusy = errors.New("the database is busy")
	// ErrIO: the storage failed to read or write (an I/O error).
	ErrIO = errors.New("the storage cannot be read or written")
	// ErrStatementTimeout is wrapped by the error of a read that ran past
	// the implementation's statement timeout.
	ErrStatementTimeout = errors.New("store: statement ran past the statement timeout")
	// ErrUnreachable: the database server cannot be reached (refused,
	// reset, starting up or shutting down, out of connection slots, or
	// the connection broke during the call). An engine in a file never
	// returns it; a later call may succeed.
	ErrUnreachable = errors.New("the database server cannot be reached")
)

// OpenError is why an implementation's Open failed, when the problem is
// one of the classes above. It matches its Class and unwraps to the cause
// as well.
type OpenError struct {
	Class  error  // ErrDamaged, ErrNotDatabase, ErrReadOnly, ErrPermission, ErrNoDirectory or ErrFull
	Detail string // what exactly, when it says more than Class; may be empty
	Err    error  // the underlying error
}

func (e *OpenError) Error() string {
	if e.Detail != "" {
		return e.Class.Error() + ": " + e.Detail
	}
	return e.Class.Error()
}

func (e *OpenError) Unwrap() []error { return []error{e.Class, e.Err} }

// Unavailable reports whether err means the storage cannot serve a
// request now, through no fault of the caller (busy past the busy
// timeout, full, read-only, unreadable, damaged, a read past the statement
// timeout, a server that cannot be reached), and says why in words a
// client may see.
func Unavailable(err error) (reason string, ok bool) {
	switch {
	case err == nil:
		return "", false
	case errors.Is(err, ErrUnreachable):
		return "The database cannot be reached", true
	case errors.Is(err, ErrStatementTimeout):
		return "The storage took too long to answer", true
	case errors.Is(err, ErrDamaged), errors.Is(err, ErrNotDatabase):
		return "The database is damaged", true
	case errors.Is(err, ErrBusy):
		return "The database is busy", true
	case errors.Is(err, ErrFull), errors.Is(err, syscall.ENOSPC):
		return "The storage is full", true
	case errors.Is(err, ErrReadOnly):
		return "The storage is read-only", true
	case errors.Is(err, ErrIO):
		return "The storage cannot be read or written", true
	}
	return "", false
}

// ForeignKey reports whether err is the refusal of a write that names a
// row that does not exist (an unknown account, above all): it matches
// [ErrForeignKey].
func ForeignKey(err error) bool { return errors.Is(err, ErrForeignKey) }

// Closed reports whether err is that of a call made after the storage's
// Close: it matches [ErrClosed].
func Closed(err error) bool { return errors.Is(err, ErrClosed) }
