package sqlitedb

import (
	"errors"
	"syscall"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Unavailable reports whether err means the storage cannot serve the
// request now, through no fault of the caller, and says why in words a
// client may see: the database is locked past the busy timeout, the disk
// is full, the file is read-only, it cannot be read or is corrupt, or a
// read ran past the statement timeout.
func Unavailable(err error) (reason string, ok bool) {
	if errors.Is(err, ErrStatementTimeout) {
		return "The storage took too long to answer", true
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
			return "The storage is damaged", true
		}
	}
	if errors.Is(err, syscall.ENOSPC) {
		return "The storage is full", true
	}
	return "", false
}
