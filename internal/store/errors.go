package store

import (
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/sqlitedb"
)

// The classes of storage failure, as the store's callers match them: they
// need not know which engine is behind it. Each is matched with
// errors.Is; [Open] returns them inside an *[OpenError].
var (
	ErrDamaged     = sqlitedb.ErrDamaged     // the database is damaged; writes are refused from then on
	ErrNotDatabase = sqlitedb.ErrNotDatabase // the file is not a database, or is a directory
	ErrReadOnly    = sqlitedb.ErrReadOnly    // the file, its folder or its file system is read-only
	ErrPermission  = sqlitedb.ErrPermission  // the process may not read the file or its folder
	ErrNoDirectory = sqlitedb.ErrNoDirectory // the folder of the file does not exist
	ErrFull        = sqlitedb.ErrFull        // the file system is full
	// ErrStatementTimeout is wrapped by the error of a read that ran past
	// Options.StatementTimeout.
	ErrStatementTimeout = sqlitedb.ErrStatementTimeout
)

// OpenError is why [Open] failed, when the problem is one of the classes
// above.
type OpenError = sqlitedb.OpenError

// Unavailable reports whether err means the storage cannot serve a
// request now, through no fault of the caller (busy past the busy
// timeout, full, read-only, unreadable, damaged, a read past the statement
// timeout), and says why in words a client may see.
func Unavailable(err error) (reason string, ok bool) { return sqlitedb.Unavailable(err) }

// WriteProblems lists what would make writes to the database at path fail
// soon: a read-only file, folder or file system, or less than minFree
// bytes free. It returns nil when there is none.
func WriteProblems(path string, minFree uint64) []string {
	return sqlitedb.WriteProblems(path, minFree)
}

// ForeignKey reports whether err is the refusal of a write that names a
// row that does not exist (an unknown account, above all).
func ForeignKey(err error) bool { return sqlitedb.ForeignKey(err) }

// Closed reports whether err is that of a call made after [Store.Close].
func Closed(err error) bool { return strings.Contains(err.Error(), "sql: database is closed") }
