package memoryrelay

import (
	"errors"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Errors of the API, shared with package memory: every error a Relay
// returns for one of these reasons matches the sentinel with errors.Is
// and is the typed error of package memory that says more
// (*memory.ValidationError, *memory.NotFoundError, *memory.ConflictError,
// *memory.UnavailableError). An option of [Open] that breaks its rule is
// an *[OptionError], which matches ErrInvalid too.
var (
	ErrInvalid     = memory.ErrInvalid
	ErrNotFound    = memory.ErrNotFound
	ErrConflict    = memory.ErrConflict
	ErrUnavailable = memory.ErrUnavailable
	// ErrClosed: the Relay was closed. Every method of a closed Relay, and
	// of the account handles it made, returns it.
	ErrClosed = memory.ErrClosed
	// ErrEmbedderMismatch is returned by Open when the database was built
	// with another embedder.
	ErrEmbedderMismatch = errors.New("memoryrelay: database was built with another embedder")
)

// Classes of storage problem, matched with errors.Is. An error of [Open]
// of one of these classes names the file and the class, for example
// "memoryrelay: open /data/x.db: the file is not a SQLite database (another
// kind of file, or its header is damaged)". Their texts carry no
// "memoryrelay:" prefix for that reason.
var (
	// ErrDamaged: the database file is damaged. At Open: PRAGMA
	// quick_check found problems (see Options.QuickCheckBytes) or SQLite
	// reported corruption. At run time, an error matching it means a
	// statement met corruption (SQLITE_CORRUPT or SQLITE_NOTADB): from
	// then on every write is refused with an error matching it, reads are
	// still attempted, and Health reports the database down.
	ErrDamaged = store.ErrDamaged
	// ErrNotDatabase: the file is not a SQLite database, its header is
	// damaged, or the path is a directory.
	ErrNotDatabase = store.ErrNotDatabase
	// ErrReadOnly: the file, its directory (where SQLite creates the WAL
	// and shared-memory files) or its file system is read-only, or not
	// writable by this process.
	ErrReadOnly = store.ErrReadOnly
	// ErrPermission: the process may not read the file or its directory.
	ErrPermission = store.ErrPermission
	// ErrNoDirectory: the directory of Options.Path does not exist.
	ErrNoDirectory = store.ErrNoDirectory
	// ErrStorageFull: the file system has no space left.
	ErrStorageFull = store.ErrFull
)

// classify is the last step of every call of the API (see
// apierr.Classify); after Close every error is ErrClosed.
func (r *Relay) classify(err error) error { return apierr.Classify(err, r.closed.Load()) }

// Unavailable returns err as a *memory.UnavailableError when it is a
// storage failure of that kind (locked past the busy timeout, disk full,
// read-only, damaged, past the statement timeout), and nil otherwise. The
// Relay's methods classify their errors already; Unavailable serves code
// that meets a storage error some other way (a wrapper of the Relay, the
// error of Open).
func Unavailable(err error) *memory.UnavailableError { return apierr.Unavailable(err) }
