// Package memoryrelay is an embeddable long-term memory store for AI
// agents: API keys with scopes, per-key rate limits, and memories with
// semantic and full-text search, all in one SQLite file.
//
// Open a database, create an account and a key, then store and search:
//
//	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: "memory.db"})
//	...
//	defer r.Close()
//	acct, _ := r.CreateAccount(ctx, "acme")
//	m, _ := r.CreateMemory(ctx, acct.ID, memoryrelay.NewMemory{AgentID: "assistant", Content: "The user prefers TypeScript."})
//	hits, _ := r.SearchMemories(ctx, acct.ID, memoryrelay.SearchParams{Query: "which language does the user prefer?"})
//
// The REST API of the hosted MemoryRelay service is served by package
// httpapi on top of a *Relay.
//
// # Storage
//
// One SQLite file in WAL mode, synchronous=FULL unless configured, with one
// writer connection (transactions BEGIN IMMEDIATE) and a pool of readers.
// The schema is migrated at Open. Vectors are stored in sqlite-vec's
// float32 format; semantic searches go through an in-process index of
// compact codes (vector.Index) that Open builds in the background and keeps
// in step with every committed write, of this process or another, and whose
// best candidates are rescored exactly (Options.ExactSearch uses sqlite-vec's
// vec_distance_cosine scan instead). Full text is indexed with FTS4
// (compiled into mattn/go-sqlite3 by default, so no build tags are needed)
// and ranked with BM25 computed from matchinfo.
//
// # Concurrency
//
// A *Relay is safe for concurrent use. Close stops every goroutine Open
// started.
package memoryrelay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/sqlitedb"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// Version is the library version reported by health checks.
const Version = "0.1.0"

// Defaults for [Options].
const (
	DefaultPath        = "memoryrelay.db"
	DefaultSynchronous = "FULL"
	DefaultRateLimit   = limiter.DefaultLimit

	DefaultMaxTextCandidates = 50_000
)

// Options configures [Open]. The zero value opens memoryrelay.db in the
// working directory with the built-in embedder.
type Options struct {
	// Path is the SQLite database file, created if missing.
	// Default "memoryrelay.db".
	Path string
	// Synchronous is SQLite's synchronous pragma: "FULL" (default: a
	// committed write survives power loss) or "NORMAL" (faster; the last
	// commits may be lost on power loss, never on a process crash).
	Synchronous string
	// BusyTimeout is how long a statement waits for a lock held by another
	// process. Default 5s.
	BusyTimeout time.Duration
	// Readers is the size of the read connection pool: any value from 1
	// up; default 4. The in-process vector index keeps one read
	// connection of its own besides the pool.
	Readers int
	// AutoCheckpoint is SQLite's wal_autocheckpoint in pages: 0 keeps
	// SQLite's default (1000); -1 turns automatic checkpoints off, as
	// Litestream recommends under heavy writes (it then checkpoints).
	AutoCheckpoint int
	// QuickCheckBytes bounds the damage check at Open: a database whose
	// file and WAL together are at most this many bytes is checked whole
	// with SQLite's PRAGMA quick_check, which reads every page (measured:
	// 0.12 s of CPU for 62 MiB, about 20,000 memories; 0.4 s for 154 MiB),
	// and Open fails with ErrDamaged when it finds a problem. Larger files
	// are not checked at Open; for them, as for damage that appears
	// later, the first storage error that means corruption marks the
	// database damaged (see ErrDamaged and Relay.Health). Default 64 MiB;
	// -1: never check at Open.
	QuickCheckBytes int64
	// StatementTimeout is the longest one read statement may run (from
	// its start until its rows are closed): past it SQLite interrupts the
	// statement and the call fails with an *UnavailableError (HTTP 503),
	// so that no request can hold a connection of the read pool for long.
	// Loading the vector index at Open and after a pruned change log is
	// exempt. Raise it for ExactSearch over millions of vectors. Default
	// 5s; negative: no limit.
	StatementTimeout time.Duration

	// Embedder turns text into vectors. Default: the built-in offline
	// hashing embedder (embed.NewHashing(0)). A database remembers the
	// embedder (model and dimension) it was built with; opening it with
	// another is ErrEmbedderMismatch.
	Embedder embed.Embedder
	// Fusion is how hybrid search combines a memory's semantic and
	// lexical scores (see search.Fusion). Default search.FusionAuto: the
	// policy the embedder asks for through the optional interface
	// embed.Lexical, search.FusionLexicalFirst for the built-in hashing
	// embedder and search.FusionBlend for any other (a wrapper of the
	// hashing embedder keeps lexical-first only if it forwards Lexical).
	Fusion search.Fusion

	// RateLimit is the default per-key limit in requests per minute; a
	// key's own limit overrides it. Default 100.
	RateLimit int
	// RateBurst is how many requests an idle key may make at once.
	// Default: RateLimit. See package limiter for the exact policy.
	RateBurst int
	// Limiter replaces the in-process rate limiter (for example with one
	// shared by several servers). RateLimit and RateBurst then only set the
	// figure reported for keys without their own limit.
	Limiter limiter.Limiter

	// KeyEnv is the env part of generated keys (mem_<env>_…). Default "live".
	KeyEnv string
	// KeyCacheTTL is how long a verified key is trusted without a database
	// read; revocation by another process takes effect within it.
	// Default 30s.
	KeyCacheTTL time.Duration

	// Workers is the number of goroutines that process v2 asynchronous
	// creates (POST /v2/memories). Default 2.
	Workers int
	// JobLease is how long a worker's claim on a v2 job lasts. Each open
	// Relay claims jobs under an owner id of its own, renews the lease of
	// the job it works on every JobLease/4 (so a job may take as long as it
	// needs), and only the claim that holds the lease may finish the job.
	// Open requeues nothing: a job another Relay, of this process or
	// another, is processing stays its own. A job whose lease expired —
	// its process died or was killed, or stalled three renewals in a row —
	// is claimed again by any Relay on the database, which counts an
	// attempt (see MaxJobAttempts); so a dead process's jobs resume within
	// JobLease. Close hands its unfinished jobs back at once. Measured on
	// Now. Default 10s ([DefaultJobLease]).
	JobLease time.Duration
	// Webhooks configures the calls to v2 jobs' webhook_url. Default: off.
	Webhooks WebhookOptions

	// MaxTextCandidates bounds the work of the full-text side of a search:
	// when the query's terms occur in more memories than this in total,
	// only its rarest terms are matched (see SearchMemories). Default
	// 50,000.
	MaxTextCandidates int

	// ExactSearch turns the in-process vector index off: every semantic
	// search then scans the account's vectors in SQLite with sqlite-vec's
	// vec_distance_cosine. Exact, simple, and slow past ~10k memories.
	// Default false: an index of compact codes (vector.Index) is built at
	// Open, kept in step with committed writes (any connection or
	// process), and its final candidates are rescored exactly.
	ExactSearch bool

	// Logger receives operational messages; never keys. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Errors returned by the facade. Validation problems are *ValidationError,
// which matches ErrInvalid; keys, scopes and limiter errors come from those
// packages.
var (
	ErrInvalid          = errors.New("memoryrelay: invalid input")
	ErrNotFound         = errors.New("memoryrelay: not found")
	ErrConflict         = errors.New("memoryrelay: conflict")
	ErrUnavailable      = errors.New("memoryrelay: storage unavailable")
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
	ErrDamaged = sqlitedb.ErrDamaged
	// ErrNotDatabase: the file is not a SQLite database, its header is
	// damaged, or the path is a directory.
	ErrNotDatabase = sqlitedb.ErrNotDatabase
	// ErrReadOnly: the file, its directory (where SQLite creates the WAL
	// and shared-memory files) or its file system is read-only, or not
	// writable by this process.
	ErrReadOnly = sqlitedb.ErrReadOnly
	// ErrPermission: the process may not read the file or its directory.
	ErrPermission = sqlitedb.ErrPermission
	// ErrNoDirectory: the directory of Options.Path does not exist.
	ErrNoDirectory = sqlitedb.ErrNoDirectory
	// ErrStorageFull: the file system has no space left.
	ErrStorageFull = sqlitedb.ErrFull
)

// ValidationError reports a bad input field. It matches ErrInvalid.
type ValidationError struct {
	Field   string // the request field, e.g. "content" or "limit"
	Message string // the full human-readable message
}

func (e *ValidationError) Error() string        { return e.Message }
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// UnavailableError reports that the storage cannot serve a request now
// (locked past the busy timeout, disk full, read-only, damaged): nothing
// the caller did wrong, and nothing was written. It matches ErrUnavailable.
type UnavailableError struct {
	Reason string // for the client, e.g. "The storage is full"
	Err    error  // the storage error
}

func (e *UnavailableError) Error() string        { return "memoryrelay: " + e.Reason + ": " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error        { return e.Err }
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unavailable returns err as an *UnavailableError when it is a storage
// failure of that kind, and nil otherwise.
func Unavailable(err error) *UnavailableError {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue
	}
	if reason, ok := sqlitedb.Unavailable(err); ok {
		return &UnavailableError{Reason: reason, Err: err}
	}
	return nil
}

// ConflictError reports a write that collides with existing state, such
// as a duplicate project slug. It matches ErrConflict.
type ConflictError struct{ Message string }

func (e *ConflictError) Error() string        { return e.Message }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// NotFoundError says which kind of object was not found. It matches
// ErrNotFound.
type NotFoundError struct{ Kind string }

func (e *NotFoundError) Error() string        { return e.Kind + " not found" }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Type aliases for the stored objects.
type (
	Account   = store.Account
	Agent     = store.Agent
	Memory    = store.Memory
	EntityRef = store.EntityRef
)

// Relay is an open memory store. It is safe for concurrent use.
type Relay struct {
	opts   Options
	store  *store.Store
	vindex atomic.Pointer[store.VectorIndex] // nil until built, and with Options.ExactSearch
	// indexDone is closed when the background build of vindex has ended
	// (built, failed or cancelled); indexCancel cancels it.
	indexDone   chan struct{}
	indexCancel context.CancelFunc
	indexErr    error // why the build failed; read after indexDone
	keys        *keys.Store
	limit       limiter.Limiter
	embed       embed.Embedder
	fusion      search.Fusion // Options.Fusion resolved for embed: never FusionAuto
	started     time.Time
	usage       *usageCounter // requests per key and UTC day (usage.go)

	closeOnce sync.Once
	closeErr  error

	jobs *jobRunner // v2 job workers (jobs.go)

	probe embedProbe // the cached embeddings check of Health (health.go)
}

// Open opens (creating if needed) the database in opts and returns a ready
// Relay.
func Open(ctx context.Context, opts Options) (*Relay, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Options{
		Path:        opts.Path,
		Synchronous: opts.Synchronous,
		BusyTimeout: opts.BusyTimeout,
		Readers:     opts.Readers,

		AutoCheckpoint:   opts.AutoCheckpoint,
		QuickCheckBytes:  opts.QuickCheckBytes,
		StatementTimeout: opts.StatementTimeout,
		OnDamaged: func(err error) {
			opts.Logger.Error("memoryrelay: the database is damaged; writes are refused until it is restored and opened again",
				"path", opts.Path, "err", err)
		},
	})
	if err != nil {
		var oe *sqlitedb.OpenError
		if ue := Unavailable(err); ue != nil && !errors.As(err, &oe) {
			return nil, fmt.Errorf("memoryrelay: open %s: %w", opts.Path, ue)
		}
		return nil, fmt.Errorf("memoryrelay: open %s: %w", opts.Path, err)
	}
	r := &Relay{opts: opts, store: st, embed: opts.Embedder, fusion: opts.Fusion.Resolve(opts.Embedder), started: opts.Now()}
	// undo releases what Open built so far when a later step fails.
	var undo []func()
	fail := func(err error) (*Relay, error) {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		st.Close()
		return nil, err
	}
	if err := r.checkEmbedder(ctx); err != nil {
		return fail(err)
	}
	r.indexDone = make(chan struct{})
	if opts.ExactSearch {
		close(r.indexDone)
	} else {
		// The index is built in the background so that Open does not wait
		// for a large database to be read; until it is ready, searches use
		// the exact scan in SQLite.
		bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r.indexCancel = cancel
		go func() {
			defer close(r.indexDone)
			vi, err := st.OpenVectorIndex(bctx, vector.IndexOptions{Dim: r.embed.Dimension()})
			if err != nil {
				if bctx.Err() == nil {
					r.indexErr = err
					opts.Logger.Error("memoryrelay: building the vector index failed; searches use the exact scan", "err", err)
				}
				return
			}
			r.vindex.Store(vi)
		}()
		undo = append(undo, func() { r.stopIndex() })
	}
	r.limit = opts.Limiter
	if r.limit == nil {
		if r.limit, err = limiter.NewLocal(limiter.Options{Limit: opts.RateLimit, Burst: opts.RateBurst, Now: opts.Now}); err != nil {
			return fail(fmt.Errorf("memoryrelay: %w", err))
		}
	}
	r.keys, err = keys.NewStore(st.Keys(), keys.Options{
		Env:      opts.KeyEnv,
		CacheTTL: opts.KeyCacheTTL,
		Now:      opts.Now,
		OnFlushError: func(err error) {
			opts.Logger.Warn("memoryrelay: writing key last-use times failed", "err", err)
		},
	})
	if err != nil {
		return fail(fmt.Errorf("memoryrelay: %w", err))
	}
	undo = append(undo, func() { r.keys.Close(ctx) })
	r.usage = newUsageCounter(st, opts.Logger, usageFlushInterval)
	undo = append(undo, func() { r.usage.close(ctx) })
	if err := r.startJobs(); err != nil {
		return fail(err)
	}
	return r, nil
}

func (o *Options) fill() error {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.Synchronous == "" {
		o.Synchronous = DefaultSynchronous
	}
	if o.Embedder == nil {
		o.Embedder = embed.NewHashing(0)
	}
	if o.RateLimit == 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.MaxTextCandidates == 0 {
		o.MaxTextCandidates = DefaultMaxTextCandidates
	}
	if o.RateLimit < 0 || o.RateBurst < 0 || o.BusyTimeout < 0 || o.Readers < 0 || o.MaxTextCandidates < 0 {
		return errors.New("memoryrelay: negative RateLimit, RateBurst, BusyTimeout, Readers or MaxTextCandidates")
	}
	switch o.Fusion {
	case search.FusionAuto, search.FusionLexicalFirst, search.FusionBlend:
	default:
		return fmt.Errorf("memoryrelay: unknown Options.Fusion %v", o.Fusion)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// checkEmbedder records the embedder of a new database and refuses a
// different one on an existing database.
func (r *Relay) checkEmbedder(ctx context.Context) error {
	if target, ok, err := r.store.Meta(ctx, metaReembedTarget); err != nil {
		return fmt.Errorf("memoryrelay: %w", err)
	} else if ok {
		return fmt.Errorf("%w: it moves to %s; run Reembed with that embedder to finish", ErrReembedding, target)
	}
	want := embedderID(r.embed)
	got, err := r.store.SetMetaIfAbsent(ctx, metaEmbedder, want)
	if err != nil {
		return fmt.Errorf("memoryrelay: %w", err)
	}
	if got != want {
		return fmt.Errorf("%w: database has %s, Options.Embedder is %s (memoryrelay.Reembed moves a database to another embedder)", ErrEmbedderMismatch, got, want)
	}
	return nil
}

// Close flushes pending key usage, stops background work and closes the
// database. It is safe to call more than once.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.closeErr = errors.Join(r.stopJobs(), r.usage.close(ctx), r.keys.Close(ctx), r.stopIndex(), r.store.Close())
	})
	return r.closeErr
}

// stopIndex cancels a build in progress, waits for it, and releases the
// index.
func (r *Relay) stopIndex() error {
	if r.indexCancel != nil {
		r.indexCancel()
	}
	<-r.indexDone
	if vi := r.vindex.Swap(nil); vi != nil {
		return vi.Close()
	}
	return nil
}

// WaitSearchIndex blocks until the in-process vector index, built in the
// background after Open, is ready (searches use the exact scan until then)
// or ctx is done. It returns nil at once with Options.ExactSearch, and the
// build's error if it failed.
func (r *Relay) WaitSearchIndex(ctx context.Context) error {
	select {
	case <-r.indexDone:
		return r.indexErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Keys returns the key store: create, verify, list, revoke and rotate keys.
// It checks every field of a new key as CreateKey does (it is the same
// check), refusing a bad one with a *keys.InvalidError.
func (r *Relay) Keys() *keys.Store { return r.keys }

// Embedder returns the embedder memories are indexed with.
func (r *Relay) Embedder() embed.Embedder { return r.embed }

// CreateAccount creates an account. Every key and every stored object
// belongs to exactly one account.
func (r *Relay) CreateAccount(ctx context.Context, name string) (Account, error) {
	if err := textField("name", name, MaxAccountName); err != nil {
		return Account{}, err
	}
	return r.store.CreateAccount(ctx, name, r.opts.Now())
}

// Account returns the account with the id.
func (r *Relay) Account(ctx context.Context, id string) (Account, error) {
	a, err := r.store.Account(ctx, id)
	return a, storeErr(err, "Account")
}

// AccountByName returns the oldest account with the name.
func (r *Relay) AccountByName(ctx context.Context, name string) (Account, error) {
	a, err := r.store.AccountByName(ctx, name)
	return a, storeErr(err, "Account")
}

// storeErr maps storage errors to the facade's: a missing row is a
// *NotFoundError of the given kind, a missing session a validation error.
func storeErr(err error, kind string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrSessionNotFound):
		return errNoSession
	case errors.Is(err, store.ErrNotFound):
		return &NotFoundError{Kind: kind}
	}
	return err
}

// Auth is the outcome of [Relay.Authorize]: the verified key and the rate
// limit decision taken for this request.
type Auth struct {
	Key      keys.Key
	Decision limiter.Decision
}

// Authorize verifies a raw key, takes one rate-limit token from it and
// checks that it holds the required scopes, in that order, so that every
// authenticated request counts against the limit. Errors:
// keys.ErrMalformed/ErrNotFound/ErrRevoked/ErrExpired (no Auth), then a
// *limiter.LimitedError or a *scopes.MissingError (with the Auth, whose
// Decision the caller reports).
func (r *Relay) Authorize(ctx context.Context, raw string, required ...scopes.Scope) (Auth, error) {
	k, err := r.keys.Verify(ctx, raw)
	if err != nil {
		return Auth{}, err
	}
	r.usage.count(k.ID, r.opts.Now())
	d, err := r.limit.Allow(ctx, k.ID, r.rateLimitOf(k))
	if err != nil {
		return Auth{}, fmt.Errorf("memoryrelay: rate limiter: %w", err)
	}
	a := Auth{Key: k, Decision: d}
	if !d.Allowed {
		return a, d.Err()
	}
	if err := k.Scopes.Check(required...); err != nil {
		return a, err
	}
	return a, nil
}

func (r *Relay) rateLimitOf(k keys.Key) int {
	if k.RateLimit > 0 {
		return k.RateLimit
	}
	return r.opts.RateLimit
}
