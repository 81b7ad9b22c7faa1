package sqlitedb

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Classes of problem that keep a database from opening, or from being
// written. Match them with errors.Is; [Open] returns them inside an
// *OpenError. Their texts carry no prefix, so that a caller can say which
// file: "memoryrelay: open /data/x.db: the file is not a SQLite database ...".
var (
	// ErrDamaged: the file is a SQLite database whose content is damaged
	// (PRAGMA quick_check found problems, or SQLite answered
	// SQLITE_CORRUPT). At run time, an error that matches it means the
	// database was found damaged: writes are refused from then on.
	ErrDamaged = errors.New("the database file is damaged")
	// ErrNotDatabase: the file is not a SQLite database (SQLITE_NOTADB),
	// or is a directory.
	ErrNotDatabase = errors.New("the file is not a SQLite database (another kind of file, or its header is damaged)")
	// ErrReadOnly: the file, its directory (where SQLite creates the WAL
	// and shared-memory files) or its file system is read-only, or not
	// writable by this process.
	ErrReadOnly = errors.New("the file or its file system is read-only")
	// ErrPermission: the process may not read the file or its directory.
	ErrPermission = errors.New("permission denied")
	// ErrNoDirectory: the directory the file should be in does not exist.
	ErrNoDirectory = errors.New("its directory does not exist")
	// ErrFull: the file system has no space left.
	ErrFull = errors.New("the file system is full")
)

// OpenError is why [Open] failed, when the problem is one of the classes
// above. It matches its Class and unwraps to the cause as well.
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

// Unavailable reports whether err means the storage cannot serve the
// request now, through no fault of the caller, and says why in words a
// client may see: the database is locked past the busy timeout, the disk
// is full, the file is read-only, it cannot be read or is damaged, or a
// read ran past the statement timeout.
func Unavailable(err error) (reason string, ok bool) {
	if errors.Is(err, ErrStatementTimeout) {
		return "The storage took too long to answer", true
	}
	if errors.Is(err, ErrDamaged) || errors.Is(err, ErrNotDatabase) {
		return "The database is damaged", true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return "The database is busy", true
		case sqlite3.ErrFull:
			return "The storage is full", true
		case sqlite3.ErrReadonly:
			return "The storage is read-only", true
		case sqlite3.ErrIoErr, sqlite3.ErrCantOpen:
			if se.SystemErrno == syscall.ENOSPC {
				return "The storage is full", true
			}
			return "The storage cannot be read or written", true
		case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
			return "The database is damaged", true
		}
	}
	if errors.Is(err, syscall.ENOSPC) {
		return "The storage is full", true
	}
	return "", false
}

// ForeignKey reports whether err is a FOREIGN KEY constraint failure: a
// row refers to one that does not exist (for example a write for an
// account that does not exist).
func ForeignKey(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey
}
