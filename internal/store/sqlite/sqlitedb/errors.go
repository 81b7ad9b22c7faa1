package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"syscall"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// The classes of problem that keep a database from opening, or from being
// written, are package store's (store.ErrDamaged and the rest), so that
// callers match them without naming the engine; these are the same values.
// [Open] returns them inside an *OpenError. Their texts carry no prefix, so
// that a caller can say which file: "memoryrelay: open /data/x.db: the
// file is not a SQLite database ...".
var (
	// ErrDamaged: the file is a SQLite database whose content is damaged
	// (PRAGMA quick_check found problems, or SQLite answered
	// SQLITE_CORRUPT). At run time, an error that matches it means the
	// database was found damaged: writes are refused from then on.
	ErrDamaged = store.ErrDamaged
	// ErrNotDatabase: the file is not a SQLite database (SQLITE_NOTADB),
	// or is a directory.
	ErrNotDatabase = store.ErrNotDatabase
	// ErrReadOnly: the file, its directory (where SQLite creates the WAL
	// and shared-memory files) or its file system is read-only, or not
	// writable by this process.
	ErrReadOnly = store.ErrReadOnly
	// ErrPermission: the process may not read the file or its directory.
	ErrPermission = store.ErrPermission
	// ErrNoDirectory: the directory the file should be in does not exist.
	ErrNoDirectory = store.ErrNoDirectory
	// ErrFull: the file system has no space left.
	ErrFull = store.ErrFull
)

// OpenError is why [Open] failed, when the problem is one of the classes
// above: store's type.
type OpenError = store.OpenError

// classify turns an error met while opening path into an *OpenError when
// its class is known, by SQLite's result code and then by what the file
// system says of path and its directory; other errors are returned as
// they are.
func classify(path string, err error) error {
	var oe *OpenError
	if err == nil || errors.As(err, &oe) {
		return err
	}
	open := func(class error, detail string) error { return &OpenError{Class: class, Detail: detail, Err: err} }
	dir := filepath.Dir(path)
	var se sqlite3.Error
	code := sqlite3.ErrNo(0)
	if errors.As(err, &se) {
		code = se.Code
		switch code {
		case sqlite3.ErrNotADB:
			// Not damage found at run time: the cause is SQLite's error
			// alone, so that this matches ErrNotDatabase and not ErrDamaged.
			return &OpenError{Class: ErrNotDatabase, Err: se}
		case sqlite3.ErrCorrupt:
			return open(ErrDamaged, se.Error())
		case sqlite3.ErrFull:
			return open(ErrFull, "")
		}
	}
	if errors.Is(err, syscall.ENOSPC) || se.SystemErrno == syscall.ENOSPC {
		return open(ErrFull, "")
	}
	if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
		if errors.Is(serr, os.ErrPermission) {
			return open(ErrPermission, "cannot look into "+dir)
		}
		return open(ErrNoDirectory, dir)
	}
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		return open(ErrNotDatabase, "it is a directory")
	}
	if code == 0 {
		return err
	}
	const rOK, wOK, xOK = 4, 2, 1 // access(2)
	denied := func(err error) bool { return err == syscall.EACCES || err == syscall.EPERM }
	if denied(syscall.Access(dir, rOK|xOK)) {
		return open(ErrPermission, "cannot read the directory "+dir)
	}
	if denied(syscall.Access(path, rOK)) {
		return open(ErrPermission, "cannot read the file")
	}
	for _, p := range []string{path, dir} {
		switch aerr := syscall.Access(p, wOK); {
		case aerr == syscall.EROFS:
			return open(ErrReadOnly, "")
		case denied(aerr) && p == path:
			return open(ErrReadOnly, "the file is not writable")
		case denied(aerr):
			return open(ErrReadOnly, "cannot create files (the WAL) in "+dir)
		}
	}
	switch {
	case se.SystemErrno == syscall.EROFS || code == sqlite3.ErrReadonly:
		return open(ErrReadOnly, "")
	case se.SystemErrno == syscall.EACCES || se.SystemErrno == syscall.EPERM || code == sqlite3.ErrPerm || code == sqlite3.ErrAuth:
		return open(ErrPermission, "")
	}
	return err
}

// classified is an error of SQLite's that store's callers match by its
// class (store.ErrBusy, store.ErrFull, ...). It reads as SQLite's error
// and unwraps to it.
type classified struct {
	class error
	err   error
}

func (e *classified) Error() string   { return e.err.Error() }
func (e *classified) Unwrap() []error { return []error{e.class, e.err} }

// classOf returns the class of store's vocabulary that err, an error of
// SQLite's met by a statement, belongs to, or nil: locked past the busy
// timeout, full, read-only, an I/O failure, damaged, or the refusal of a
// write that names a row that does not exist (FOREIGN KEY).
func classOf(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		if errors.Is(err, syscall.ENOSPC) {
			return store.ErrFull
		}
		return nil
	}
	switch se.Code {
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return store.ErrBusy
	case sqlite3.ErrFull:
		return store.ErrFull
	case sqlite3.ErrReadonly:
		return store.ErrReadOnly
	case sqlite3.ErrIoErr, sqlite3.ErrCantOpen:
		if se.SystemErrno == syscall.ENOSPC {
			return store.ErrFull
		}
		return store.ErrIO
	case sqlite3.ErrCorrupt:
		return store.ErrDamaged
	case sqlite3.ErrNotADB:
		return store.ErrNotDatabase
	case sqlite3.ErrConstraint:
		if se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
			return store.ErrForeignKey
		}
	}
	return nil
}

// classify wraps err, an error of a statement, so that it matches its class
// (see classOf); an error of no class, or one classified already, is
// returned as it is.
func classifyRun(err error) error {
	if err == nil {
		return nil
	}
	var c *classified
	if errors.As(err, &c) {
		return err
	}
	if class := classOf(err); class != nil {
		return &classified{class: class, err: err}
	}
	return err
}

// errPoolClosed is database/sql's error for a call on a closed *sql.DB,
// whose own variable is unexported: taken once from a pool closed for the
// purpose, so that it is matched by identity, not by its text.
var errPoolClosed = func() error {
	db := sql.OpenDB(connector{})
	db.Close()
	return db.PingContext(context.Background())
}()

// closedError is the error of a call on a closed database: it matches
// store.ErrClosed and unwraps to database/sql's error.
type closedError struct{ err error }

func (e *closedError) Error() string   { return store.ErrClosed.Error() }
func (e *closedError) Unwrap() []error { return []error{store.ErrClosed, e.err} }

// Closed returns err so that it matches store.ErrClosed when it is
// database/sql's refusal of a call on a closed pool; any other error is
// returned as it is. Callers pass it the errors of calls on the pools
// (DB.W, DB.R) that do not go through Write.
func Closed(err error) error {
	if err != nil && errors.Is(err, errPoolClosed) {
		var ce *closedError
		if !errors.As(err, &ce) {
			return &closedError{err: err}
		}
	}
	return err
}
