package memoryrelay

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/secret"
)

// Defaults for [Options].
const (
	DefaultPath        = "memoryrelay.db"
	DefaultSynchronous = "FULL"
	DefaultRateLimit   = limiter.DefaultLimit

	DefaultMaxTextCandidates = search.DefaultMaxTextCandidates
)

// Options configures [Open]. The zero value opens memoryrelay.db in the
// working directory with the built-in embedder. [Open] checks every field
// first and reports every one that breaks its rule at once (see
// [OptionError]).
type Options struct {
	// Path is the SQLite database file, created if missing.
	// Default "memoryrelay.db". It must name a file: SQLite's in-memory
	// database (":memory:") is refused, because the Relay's connections
	// (one writer, a pool of readers) would each see a database of their
	// own; for a throwaway database use a file in a temporary directory.
	Path string
	// Synchronous is SQLite's synchronous pragma: "FULL" (default: a
	// committed write survives power loss) or "NORMAL" (faster; the last
	// commits may be lost on power loss, never on a process crash); "OFF"
	// and "EXTRA" are accepted too.
	Synchronous string
	// BusyTimeout is how long a statement waits for a lock held by another
	// process. Default 5s; not negative.
	BusyTimeout time.Duration
	// Readers is the size of the read connection pool: any value from 1
	// up; default (0) 4. The in-process vector index keeps one read
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
	// statement and the call fails with a *memory.UnavailableError (HTTP
	// 503), so that no request can hold a connection of the read pool for
	// long. Loading the vector index at Open and after a pruned change log
	// is exempt. Raise it for ExactSearch over millions of vectors.
	// Default 5s; negative: no limit.
	StatementTimeout time.Duration

	// Embedder turns text into vectors. Default: the built-in offline
	// hashing embedder (embed.NewHashing(0)). A database remembers the
	// embedder (model and dimension) it was built with; opening it with
	// another is ErrEmbedderMismatch.
	Embedder embed.Embedder
	// EmbeddingPrice is what the embedder costs, in USD per million
	// tokens (API.md §10.2): the tokens of each call made for a key (see
	// WithSpendKey) are charged to it and checked against its spend
	// limits; tokens are counted by the embedder's TokenCounter, else
	// estimated. Default 0: free, nothing is metered (the built-in
	// embedder costs nothing).
	EmbeddingPrice float64
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
	// RateBurst is how many requests an idle key may make at one instant
	// (the capacity of its token bucket). Default 0: each key's burst is
	// its own per-minute limit (a key with a limit of 500 may make 500
	// requests at once; a key without one, RateLimit). A positive value
	// is the burst of every key, whatever its limit. See package limiter
	// for the exact policy.
	RateBurst int
	// Limiter replaces the in-process rate limiter (for example with one
	// shared by several servers). RateBurst is then unused, and RateLimit
	// only sets the limit passed for keys without their own and the
	// figure Quota reports for them.
	Limiter limiter.Limiter

	// KeyEnv is the env part of generated keys (mem_<env>_…): 1–8
	// lowercase letters. Default "live".
	KeyEnv string
	// KeyCacheTTL is how long a verified key is trusted without a database
	// read; revocation by another process takes effect within it.
	// Default 30s; negative: no cache.
	KeyCacheTTL time.Duration

	// Workers is the number of goroutines that process v2 asynchronous
	// creates (Memories.CreateAsync, POST /v2/memories). 0 means the
	// default, DefaultWorkers (2); -1 runs none: jobs are queued and left
	// to another Relay on the same database (another process, say), and
	// Health reports no task queue. Below -1 is an error.
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
	// Webhooks configures the delivery of events to registered webhooks
	// and to v2 jobs' webhook_url (the latter off by default).
	Webhooks WebhookOptions
	// Outbound is the outbound-call policy of every URL the server calls
	// for a user: webhooks and LLM endpoints. Default: https and public
	// addresses only.
	Outbound OutboundPolicy
	// Extraction configures entity extraction (API.md §10.6).
	Extraction ExtractionOptions
	// ServerSecret, at least 32 bytes (e.g. the output of
	// "openssl rand -base64 32"), seals the accounts' bring-your-own LLM
	// keys at rest (package secret: AES-256-GCM under an HKDF-SHA256 key).
	// Default none: the extraction-keys API answers 503. Changing it makes
	// the keys sealed under the old one unusable (extraction then fails
	// for their accounts until a key is created again).
	ServerSecret []byte

	// MaxTextCandidates bounds the work of the full-text side of a search
	// that reads SQLite's full-text table (with ExactSearch, or before the
	// in-process index is ready): when the query's terms occur in more
	// memories than this in total, only its rarest terms are matched (see
	// Memories.Search). The in-process index needs no bound: it scores
	// only the memories that could be among the best. Default 50,000.
	MaxTextCandidates int

	// ExactSearch turns the in-process search index off: every semantic
	// search then scans the account's vectors in SQLite with sqlite-vec's
	// vec_distance_cosine, and the lexical side scores every memory
	// sharing a term with the query from SQLite's full-text table. Exact,
	// simple, and slow past ~10k memories. Default false: an index is
	// built at Open, kept in step with committed writes (any connection or
	// process): compact codes of the vectors (vector.Index), whose final
	// candidates are rescored exactly, and an inverted index of the texts
	// (lexical.Index), which answers the top few by lexical score.
	ExactSearch bool

	// VectorEncoding is how the SQLite store keeps the vectors of
	// memories: "int8" (the default) or "float32". int8 keeps each
	// vector's int8 code and one float32 step, Dim+8 bytes instead of
	// 4·Dim (392 against 1,536 at 384 dimensions: the database is about
	// 1.2 KB a memory instead of 2.8), each element within half a step
	// of the embedder's float32 (cosine similarities move by 0.0004 on average, 0.003 at most;
	// deduplication's threshold and LoCoMo recall are unchanged, see
	// BENCHMARKS.md). The in-process index then rescores its final
	// candidates from the codes it already holds, reading nothing from
	// SQLite. "float32" keeps the embedder's vectors bit for bit. Each
	// stored vector says which it is, so a database written with one and
	// opened with the other works: rows keep their encoding until they
	// are written again (an update of their text, Reembed, an import).
	// Exports hold float32 either way. PostgreSQL keeps float32 and
	// ignores this.
	VectorEncoding string

	// PostgresURL, when set, keeps everything in that PostgreSQL database
	// instead of the SQLite file at Path (Path and the SQLite settings
	// above are then unused): a postgres:// URL or key=value pairs, as
	// libpq takes them. Several Relays — the nodes of a cluster, in any
	// number of processes — may share one database: each keeps its own
	// search index, following the database's change feed. See the
	// README's "Several nodes". Default "": SQLite.
	PostgresURL string
	// PostgresMaxConns bounds the PostgreSQL connection pool of this
	// Relay. Default (0) 16.
	PostgresMaxConns int
	// RedisURL, when set, shares with every node using that Redis what
	// must be one across nodes: the rate limits (the buckets live in
	// Redis: three nodes admit what one admits), unless Limiter is set,
	// and key revocations and rotations (each node drops the key from
	// its cache at once, over pub/sub, rather than after KeyCacheTTL).
	// redis://[user:password@]host:port/db. Default "": none.
	RedisURL string
	// RedisFailClosed makes requests fail with 503 while Redis cannot be
	// reached; by default (false) each node then limits on its own (n
	// nodes admit up to n times a key's allowance) and Health reports the
	// rate limiter degraded.
	RedisFailClosed bool

	// Logger receives operational messages; never keys. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// OptionError reports an option of [Open] (or [Reembed]) that breaks its
// rule. It matches ErrInvalid. Open reports every such option at once, as
// errors.Join of one *OptionError per problem.
type OptionError struct {
	Field   string // the Go field, e.g. "Options.Readers" or "Options.Webhooks.Timeout"
	Message string // what is wrong, naming the field
}

func (e *OptionError) Error() string        { return "memoryrelay: " + e.Message }
func (e *OptionError) Is(target error) bool { return target == ErrInvalid }

// validate checks every option and returns one *OptionError per problem,
// joined, or nil.
func (o *Options) validate() error {
	var errs []error
	bad := func(field, msg string) {
		errs = append(errs, &OptionError{Field: "Options." + field, Message: "Options." + field + " " + msg})
	}
	negative := func(field string, v int64) {
		if v < 0 {
			bad(field, "must not be negative")
		}
	}
	if o.Path == ":memory:" {
		bad("Path", `":memory:" is not supported: each connection of the Relay would have a database of its own; use a file (in a temporary directory for a throwaway database)`)
	}
	switch o.Synchronous {
	case "", "FULL", "NORMAL", "OFF", "EXTRA":
	default:
		bad("Synchronous", "must be FULL, NORMAL, OFF or EXTRA")
	}
	switch o.VectorEncoding {
	case "", "int8", "float32":
	default:
		bad("VectorEncoding", `must be "int8" (the default) or "float32"`)
	}
	negative("BusyTimeout", int64(o.BusyTimeout))
	negative("Readers", int64(o.Readers))
	if o.AutoCheckpoint < -1 {
		bad("AutoCheckpoint", "must be -1 (off), 0 (SQLite's default) or a number of pages")
	}
	if o.QuickCheckBytes < -1 {
		bad("QuickCheckBytes", "must be -1 (never), 0 (the default) or a number of bytes")
	}
	negative("RateLimit", int64(o.RateLimit))
	negative("RateBurst", int64(o.RateBurst))
	if n := len(o.ServerSecret); n > 0 && n < secret.MinServerSecret {
		bad("ServerSecret", fmt.Sprintf("must be at least %d bytes", secret.MinServerSecret))
	}
	negative("Extraction.Timeout", int64(o.Extraction.Timeout))
	negative("Extraction.MaxKeysPerAccount", int64(o.Extraction.MaxKeysPerAccount))
	if p := o.EmbeddingPrice; math.IsNaN(p) || p < 0 || p > 1e6 {
		bad("EmbeddingPrice", "must be a price from 0 to 1000000 USD per million tokens")
	}
	if o.KeyEnv != "" {
		if _, err := keys.Generate(o.KeyEnv); err != nil {
			bad("KeyEnv", "must be 1-8 lowercase letters")
		}
	}
	if o.Workers < -1 {
		bad("Workers", "must be -1 (none), 0 (the default, 2) or a number of workers")
	}
	negative("JobLease", int64(o.JobLease))
	negative("Webhooks.Timeout", int64(o.Webhooks.Timeout))
	negative("Webhooks.MaxAttempts", int64(o.Webhooks.MaxAttempts))
	negative("Webhooks.Concurrency", int64(o.Webhooks.Concurrency))
	negative("Webhooks.PerReceiver", int64(o.Webhooks.PerReceiver))
	negative("Webhooks.RetryFor", int64(o.Webhooks.RetryFor))
	negative("Webhooks.MinBackoff", int64(o.Webhooks.MinBackoff))
	negative("Webhooks.MaxBackoff", int64(o.Webhooks.MaxBackoff))
	negative("Webhooks.PollInterval", int64(o.Webhooks.PollInterval))
	negative("Webhooks.MaxPerAccount", int64(o.Webhooks.MaxPerAccount))
	if w := o.Webhooks; w.MaxBackoff > 0 && w.MinBackoff > w.MaxBackoff {
		bad("Webhooks.MaxBackoff", "must not be below Webhooks.MinBackoff")
	}
	negative("MaxTextCandidates", int64(o.MaxTextCandidates))
	negative("PostgresMaxConns", int64(o.PostgresMaxConns))
	switch o.Fusion {
	case search.FusionAuto, search.FusionLexicalFirst, search.FusionBlend:
	default:
		bad("Fusion", fmt.Sprintf("unknown policy %v", o.Fusion))
	}
	return errors.Join(errs...)
}

// fill checks the options and sets the defaults of the zero values.
func (o *Options) fill() error {
	if err := o.validate(); err != nil {
		return err
	}
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
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.JobLease == 0 {
		o.JobLease = DefaultJobLease
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}
