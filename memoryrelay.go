package memoryrelay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/memoryrelay/memoryrelay/internal/agents"
	"github.com/memoryrelay/memoryrelay/internal/apikeys"
	"github.com/memoryrelay/memoryrelay/internal/contexts"
	"github.com/memoryrelay/memoryrelay/internal/decisions"
	"github.com/memoryrelay/memoryrelay/internal/entities"
	"github.com/memoryrelay/memoryrelay/internal/extraction"
	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/memories"
	"github.com/memoryrelay/memoryrelay/internal/outbound"
	"github.com/memoryrelay/memoryrelay/internal/patterns"
	"github.com/memoryrelay/memoryrelay/internal/projects"
	"github.com/memoryrelay/memoryrelay/internal/redisnode"
	"github.com/memoryrelay/memoryrelay/internal/sessions"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/postgres"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/internal/usage"
	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/internal/webhooks"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/secret"
)

// storage is everything the Relay asks of its storage, composed of the
// small interfaces its consumers define: each resource package (X.Store)
// and each file of this package (the wiring: the transaction boundary,
// meta, accounts, backup, compact, health, jobs, the vector index), and
// the search engine's reads. Package internal/store/sqlite's *Store and
// internal/store/postgres's implement it; Open is the only place that
// names the implementations (openStorage).
type storage interface {
	txStore
	metaStore
	accountStore
	agents.Store
	memories.Store
	entities.Store
	sessions.Store
	decisions.Store
	patterns.Store
	projects.Store
	usage.Store
	contexts.Store
	webhooks.Store
	extraction.Store
	eventStore
	backupStore
	compactStore
	healthStore
	jobStore
	indexStore
	search.Store[store.Memory] // the engine's reads (search.go)
}

var (
	_ storage = (*sqlite.Store)(nil)
	_ storage = (*postgres.Store)(nil)
)

// txStore is the storage's transaction boundary (package store's
// contract): every storage method is atomic by itself, and InTx makes
// several commit together. The storage calls made with the ctx fn receives
// join its transaction, each in a savepoint (a call that fails undoes its
// own writes alone); fn's error rolls back all of them. fn should do no
// slow work (embedding, network) inside: other writers wait meanwhile.
type txStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// metaStore is the storage of the database's own settings (meta), its keys,
// and its Close.
type metaStore interface {
	Meta(ctx context.Context, key string) (string, bool, error)
	SetMetaIfAbsent(ctx context.Context, key, value string) (string, error)
	Keys() keys.Repository
	Close() error
}

// Version is the library version reported by health checks.
const Version = "0.1.0"

// Relay is an open memory store. It is safe for concurrent use.
type Relay struct {
	opts   Options
	store  storage
	engine *search.Engine[store.Memory] // every search of memories (search.go)
	vindex atomic.Pointer[index.Index]  // the engine's index; nil until built, and with Options.ExactSearch
	// indexDone is closed when the background build of vindex has ended
	// (built, failed or cancelled); indexCancel cancels it.
	indexDone   chan struct{}
	indexCancel context.CancelFunc
	indexErr    error // why the build failed; read after indexDone
	keys        *keys.Store
	limit       limiter.Limiter
	embed       embed.Embedder
	started     time.Time
	counter     *usage.Counter // requests per key and UTC day

	closed    atomic.Bool // set when Close begins: every call then answers ErrClosed
	closeOnce sync.Once
	closeErr  error

	// accounts holds the ids of accounts known to exist (accounts are
	// never deleted), so that an account handle checks its id once.
	accounts sync.Map

	redis *redisnode.Node // the Redis the cluster shares; nil without Options.RedisURL

	jobs       *jobs.Runner[store.BatchItem] // v2 job workers (jobs.go)
	dispatcher *webhook.Dispatcher           // delivers the outbox's events (webhook.go)
	policy     outbound.Policy               // the outbound-call policy (Options.Outbound)

	probe embedProbe // the cached embeddings check of Health (health.go)

	// The resource groups of the account handles (account.go), each the
	// package that holds its rules.
	memories  *memories.Service
	agents    *agents.Service
	entities  *entities.Service
	sessions  *sessions.Service
	decisions *decisions.Service
	patterns  *patterns.Service
	projects  *projects.Service
	contexts  *contexts.Service
	apikeys   *apikeys.Service
	quotas    *usage.Service
	webhooks  *webhooks.Service
	extractor *extraction.Service
	llmClient *http.Client // the LLM extractions' (closed by Close)
}

// Open opens (creating if needed) the database in opts and returns a ready
// Relay.
func Open(ctx context.Context, opts Options) (*Relay, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	st, err := openStorage(ctx, opts)
	if err != nil {
		var oe *store.OpenError
		if ue := Unavailable(err); ue != nil && !errors.As(err, &oe) {
			return nil, fmt.Errorf("memoryrelay: open %s: %w", opts.database(), ue)
		}
		return nil, fmt.Errorf("memoryrelay: open %s: %w", opts.database(), err)
	}
	return open(ctx, opts, st)
}

// openedStorage is what openStorage returns: the Relay's storage, and
// what Reembed rewrites.
type openedStorage interface {
	storage
	reembedStore
}

var _ openedStorage = (*postgres.Store)(nil)

// openStorage opens the storage of opts, filled: the one place that names
// the implementations (SQLite, or PostgreSQL with Options.PostgresURL).
// Open and Reembed both go through it.
func openStorage(ctx context.Context, opts Options) (openedStorage, error) {
	if opts.PostgresURL != "" {
		return postgres.Open(ctx, postgres.Options{URL: opts.PostgresURL, MaxConns: opts.PostgresMaxConns})
	}
	return sqlite.Open(ctx, sqlite.Options{
		Path:        opts.Path,
		Synchronous: opts.Synchronous,
		BusyTimeout: opts.BusyTimeout,
		Readers:     opts.Readers,

		AutoCheckpoint:   opts.AutoCheckpoint,
		QuickCheckBytes:  opts.QuickCheckBytes,
		StatementTimeout: opts.StatementTimeout,
		VectorEncoding:   opts.VectorEncoding,
		OnDamaged: func(err error) {
			opts.Logger.Error("memoryrelay: the database is damaged; writes are refused until it is restored and opened again",
				"path", opts.Path, "err", err)
		},
	})
}

// database names the database of opts, filled, in errors and health
// reports: the SQLite file, or the PostgreSQL server and database (never
// the URL, which may hold a password).
func (o *Options) database() string {
	if o.PostgresURL == "" {
		return o.Path
	}
	if cfg, err := pgconn.ParseConfig(o.PostgresURL); err == nil {
		return fmt.Sprintf("PostgreSQL database %s on %s:%d", cfg.Database, cfg.Host, cfg.Port)
	}
	return "the PostgreSQL database"
}

// open builds a Relay over st, the storage Open opened, with opts filled;
// it closes st when it fails.
func open(ctx context.Context, opts Options, st storage) (*Relay, error) {
	var err error
	r := &Relay{opts: opts, store: st, started: opts.Now(), policy: opts.Outbound.policy(opts.Webhooks.AllowedHosts)}
	r.embed = metered(opts.Embedder, opts.EmbeddingPrice, func(ctx context.Context, keyID string, cost int64) error {
		return r.keys.Charge(ctx, keyID, cost)
	})
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
	r.engine, err = search.NewEngine[store.Memory](r.store, search.Options{
		Embedder: r.embed, Fusion: opts.Fusion, MaxTextCandidates: opts.MaxTextCandidates,
	})
	if err != nil {
		return fail(fmt.Errorf("memoryrelay: %w", err))
	}
	r.indexDone = make(chan struct{})
	if opts.ExactSearch {
		close(r.indexDone)
	} else {
		// The index (vectors and texts) is built in the background so that
		// Open does not wait for a large database to be read; until it is
		// ready, searches use the exact scan and the full-text table in
		// SQLite.
		bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r.indexCancel = cancel
		go func() {
			defer close(r.indexDone)
			vi, err := openIndex(bctx, r.store, r.embed.Dimension())
			if err != nil {
				if bctx.Err() == nil {
					r.indexErr = err
					opts.Logger.Error("memoryrelay: building the vector index failed; searches use the exact scan", "err", err)
				}
				return
			}
			r.vindex.Store(vi)
			r.engine.SetIndex(vi)
			r.engine.SetLexical(vi)
			if !vi.Snapshot().Loaded {
				// A build from every row leaves its garbage (the rows read,
				// the batches, the maps' growth: 300 MiB at a million
				// memories, a third of the process) to the background
				// scavenger, which returns it over minutes; returning it now
				// keeps RSS at ready within the live heap. Once per build,
				// off the search path; a load from the snapshot makes
				// little garbage and skips it.
				debug.FreeOSMemory()
			}
		}()
		undo = append(undo, func() { r.stopIndex() })
	}
	if opts.RedisURL != "" {
		r.redis, err = redisnode.Open(redisnode.Options{URL: opts.RedisURL, Limiter: opts.Limiter == nil,
			Limit: opts.RateLimit, Burst: opts.RateBurst, FailClosed: opts.RedisFailClosed, Logger: opts.Logger})
		if err != nil {
			return fail(fmt.Errorf("memoryrelay: %w", err))
		}
		undo = append(undo, func() { r.redis.Close() })
	}
	r.limit = opts.Limiter
	if r.limit == nil && r.redis != nil {
		r.limit = r.redis.Limiter()
	}
	if r.limit == nil {
		if r.limit, err = limiter.NewLocal(limiter.Options{Limit: opts.RateLimit, Burst: opts.RateBurst, Now: opts.Now}); err != nil {
			return fail(fmt.Errorf("memoryrelay: %w", err))
		}
	}
	r.keys, err = keys.NewStore(r.store.Keys(), keys.Options{
		Env:      opts.KeyEnv,
		CacheTTL: opts.KeyCacheTTL,
		Now:      opts.Now,
		OnFlushError: func(err error) {
			opts.Logger.Warn("memoryrelay: writing key last-use times failed", "err", err)
		},
		OnInvalidate: r.publishKey,
	})
	if err != nil {
		return fail(fmt.Errorf("memoryrelay: %w", err))
	}
	undo = append(undo, func() { r.keys.Close(ctx) })
	if r.redis != nil {
		r.redis.Follow(r.keys)
	}
	r.counter = usage.NewCounter(st, opts.Logger, usage.FlushInterval)
	undo = append(undo, func() { r.counter.Close(ctx) })
	if err := r.startExtraction(st); err != nil {
		return fail(err)
	}
	r.resources(st)
	if err := r.startJobs(); err != nil {
		return fail(err)
	}
	return r, nil
}

// resources makes the resource groups of the account handles over st:
// each is the package that holds the group's rules, admitting its calls
// through the Relay's gate.
func (r *Relay) resources(st storage) {
	g := gate{r}
	ix := indexing.Indexer{Embedder: r.embed}
	r.memories = memories.New(memories.Config{Store: st, Engine: r.engine, Gate: g, Now: r.now, Index: ix,
		Queued: func() {
			if r.jobs != nil { // nil until Open has started the workers
				r.jobs.Signal()
			}
		},
		Logger: r.opts.Logger, Events: events{r}, Extract: r.extractor.Extract, ExtractByDefault: r.opts.Extraction.Default})
	r.agents = agents.New(st, g, r.now, events{r})
	r.entities = entities.New(st, g, r.now)
	r.sessions = sessions.New(st, g, r.now)
	r.decisions = decisions.New(st, g, r.now, ix)
	r.patterns = patterns.New(st, g, r.now, ix)
	r.projects = projects.New(projects.Config{Store: st, Gate: g, Now: r.now, Index: ix, Decisions: r.decisions, Memories: r.memories})
	r.contexts = contexts.New(st, g, r.opts.Now, r.memories)
	r.apikeys = apikeys.New(r.keys, g)
	r.quotas = usage.New(r.counter, g, r.opts.Now, r.rateLimitOf)
	r.webhooks = webhooks.New(webhooks.Config{Store: st, Gate: g, Now: r.now, Policy: r.policy, Max: r.opts.Webhooks.MaxPerAccount})
}

// startExtraction makes the extraction service: the server secret's
// sealer, the LLM client through the outbound policy.
func (r *Relay) startExtraction(st storage) error {
	var sealer *secret.Sealer
	if len(r.opts.ServerSecret) > 0 {
		var err error
		if sealer, err = secret.NewSealer(r.opts.ServerSecret, extraction.Purpose); err != nil {
			return fmt.Errorf("memoryrelay: %w", err)
		}
	}
	r.llmClient = r.policy.Client(0)
	x, err := extraction.New(extraction.Config{Store: st, Gate: gate{r}, Now: r.now, Sealer: sealer, Policy: r.policy,
		Default: r.opts.Extraction.Extractor, Custom: r.opts.Extraction.Extractor != nil,
		Timeout: cmp.Or(r.opts.Extraction.Timeout, DefaultExtractionTimeout), HTTPClient: r.llmClient, Logger: r.opts.Logger,
		MaxKeys: r.opts.Extraction.MaxKeysPerAccount})
	if err != nil {
		return fmt.Errorf("memoryrelay: %w", err)
	}
	r.extractor = x
	return nil
}

// publishKey tells the other nodes that key id was revoked or rotated
// (keys.Options.OnInvalidate), when there is a Redis to tell them by.
func (r *Relay) publishKey(ctx context.Context, id string) {
	if r.redis != nil {
		r.redis.Publish(ctx, id)
	}
}

// now is the clock in the stored precision: UTC milliseconds.
func (r *Relay) now() time.Time { return r.opts.Now().UTC().Truncate(time.Millisecond) }

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
// database. With the in-process index built (not Options.ExactSearch) on
// a database file, it first writes the index's snapshot beside it (the
// file's path with "-index"; about 540 bytes a memory at 384 dimensions,
// written in about a second a million memories) unless the snapshot
// loaded at Open is still current: the next Open loads it and catches up
// with the changes since instead of reading every row (package
// search/index, snapshot.go, says when a snapshot is not used). It is
// safe to call more than once. Afterwards every method of the Relay, and
// of the account handles it made, returns ErrClosed.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var redisErr error
		if r.redis != nil {
			redisErr = r.redis.Close()
		}
		r.closeErr = errors.Join(r.stopJobs(), r.counter.Close(ctx), r.keys.Close(ctx), redisErr, r.stopIndex(), r.store.Close())
		if r.llmClient != nil {
			r.llmClient.CloseIdleConnections()
		}
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
	r.engine.SetIndex(nil)
	r.engine.SetLexical(nil)
	if vi := r.vindex.Swap(nil); vi != nil {
		return vi.Close()
	}
	return nil
}

// WaitSearchIndex blocks until the in-process search index (of vectors
// and texts), built in the background after Open, is ready (searches use
// the exact scan and SQLite's full-text table until then) or ctx is done. It returns nil at once with Options.ExactSearch, and the
// build's error if it failed; after Close, ErrClosed.
func (r *Relay) WaitSearchIndex(ctx context.Context) error {
	if r.closed.Load() {
		return ErrClosed
	}
	select {
	case <-r.indexDone:
		return r.indexErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ImportKey stores tok, a well-formed key made elsewhere (keys.Parse of
// a bootstrap key from the environment, say), as a new key of the account
// with the fields of in, checked as Account(accountID).Keys().Create
// checks them. Every other use of keys goes through an account handle's
// Keys (and Authorize).
func (r *Relay) ImportKey(ctx context.Context, accountID string, tok keys.Token, in memory.NewKey) (keys.Key, error) {
	return r.apikeys.Import(ctx, accountID, tok, in)
}

// Embedder returns the embedder memories are indexed with.
func (r *Relay) Embedder() embed.Embedder { return r.embed }

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
	if r.closed.Load() {
		return Auth{}, ErrClosed
	}
	k, err := r.keys.Verify(ctx, raw)
	if err != nil {
		if errors.Is(err, keys.ErrMalformed) || errors.Is(err, keys.ErrNotFound) || errors.Is(err, keys.ErrRevoked) || errors.Is(err, keys.ErrExpired) {
			return Auth{}, err
		}
		return Auth{}, r.classify(err)
	}
	r.counter.Count(k.ID, r.opts.Now())
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

// RateLimitState reports the rate-limit bucket of the key now, taking no
// token: its limit, how many requests in a row it may make now, and when
// its allowance is full again (see limiter.Peeker). A dashboard shows it;
// requests go through Authorize. With an Options.Limiter that does not
// implement limiter.Peeker the error matches errors.ErrUnsupported.
func (r *Relay) RateLimitState(ctx context.Context, k keys.Key) (limiter.Decision, error) {
	if r.closed.Load() {
		return limiter.Decision{}, ErrClosed
	}
	p, ok := r.limit.(limiter.Peeker)
	if !ok {
		return limiter.Decision{}, fmt.Errorf("memoryrelay: the rate limiter cannot report a key's state: %w", errors.ErrUnsupported)
	}
	d, err := p.Peek(ctx, k.ID, r.rateLimitOf(k))
	if err != nil {
		return limiter.Decision{}, fmt.Errorf("memoryrelay: rate limiter: %w", err)
	}
	return d, nil
}

// rateLimitOf is the per-minute limit of the key: its own, or
// Options.RateLimit.
func (r *Relay) rateLimitOf(k keys.Key) int {
	if k.RateLimit > 0 {
		return k.RateLimit
	}
	return r.opts.RateLimit
}
