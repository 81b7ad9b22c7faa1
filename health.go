package memoryrelay

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// healthStore is the storage's side of Health: a read, the damage state,
// write problems and the job queue.
type healthStore interface {
	CheckRead(ctx context.Context) error
	Damaged() error
	JobQueueState(ctx context.Context) (store.JobQueue, error)
	WriteProblems(minFree uint64) []string
}

// Health checks.
const (
	// MinFreeBytes is the free space below which Health reports the
	// database degraded: writes may soon fail with "The storage is full".
	MinFreeBytes = 16 << 20
	// EmbedCheckInterval is how long Health reuses the result of its
	// embeddings check: the embedder embeds one short probe text at most
	// once per interval, however often health is asked, so a remote
	// embedder (an OpenAI-compatible server) sees at most two calls a
	// minute from it.
	EmbedCheckInterval = 30 * time.Second
	// EmbedCheckTimeout bounds one embeddings check; an embedder that has
	// not answered by then is reported down.
	EmbedCheckTimeout = 5 * time.Second
	// StalledJobAge is how long the oldest pending v2 job may wait for a
	// worker before Health reports the task queue degraded.
	StalledJobAge = 5 * time.Minute
)

// States of a service in [Health].Services.
const (
	ServiceUp       = "up"
	ServiceDegraded = "degraded"
	ServiceDown     = "down"
)

// Health describes the state of the store. Services has one key per
// component this Relay really has, each the result of a check made by
// Relay.Health (API.md §4.6):
//
//   - "database": down when the file is damaged (see ErrDamaged) or a read
//     of a table fails; degraded when reads work but writes would fail or
//     soon fail (read-only file, folder or file system; less than
//     MinFreeBytes free).
//   - "vector_store": the search index. With Options.ExactSearch it is the
//     vectors in the database and follows it (up, or down with it).
//     Otherwise up once the in-process index is built and following
//     writes; degraded while it is being built in the background after
//     Open, and for the life of the Relay if its build failed: searches
//     then use the exact scan in SQLite, correct but slower.
//   - "embeddings": the embedder embedded a probe text within
//     EmbedCheckTimeout (result reused for EmbedCheckInterval); down
//     otherwise.
//   - "task_queue": the v2 job workers: down when none is running (or the
//     queue cannot be read), degraded when fewer than Options.Workers are,
//     or the oldest pending job has waited more than StalledJobAge. Absent
//     with Options.Workers -1 (no workers), and then Jobs is zero.
//   - "rate_limiter" and "key_sync", with Options.RedisURL: the Redis the
//     nodes share. The rate limiter (when it is Redis's) is degraded while
//     Redis cannot be reached and each node limits on its own, down with
//     Options.RedisFailClosed (requests are refused); key_sync is degraded
//     while its subscription is down (a key revoked on another node is
//     refused here within KeyCacheTTL rather than at once).
//
// Status is "unhealthy" when the database is down (nothing can be served
// reliably: HTTP answers 503), "degraded" when any other service is not
// up (still 200), and "healthy" otherwise.
type Health struct {
	Status    string            // "healthy", "degraded" or "unhealthy"
	Services  map[string]string // component → ServiceUp, ServiceDegraded or ServiceDown
	Problems  []string          // why, for operators (they name files); empty when healthy
	Uptime    time.Duration
	Provider  string // the embedder in use: embed.ProviderOf(Options.Embedder)
	Model     string
	Dimension int
	Jobs      JobsHealth
}

// JobsHealth is the state of the v2 job queue in [Health].
type JobsHealth struct {
	Workers       int       // started (Options.Workers)
	Running       int       // running now
	Pending       int       // jobs waiting for a worker, of every account and process
	Processing    int       // jobs claimed by a worker of any process
	OldestPending time.Time // when the oldest pending job was accepted; zero if none
}

// Health checks each component and reports the embedder in use (after
// Close: the database down, so "unhealthy"). It is
// cheap enough to be polled: a read of one row, two file-system calls, an
// index count of the job queue, and at most one embedding of a short text
// per EmbedCheckInterval. Problems caught per request instead: a lock
// held by another process past the busy timeout (503 with Retry-After).
func (r *Relay) Health(ctx context.Context) Health {
	h := Health{
		Status:    "healthy",
		Services:  map[string]string{},
		Uptime:    r.opts.Now().Sub(r.started),
		Provider:  embed.ProviderOf(r.embed),
		Model:     r.embed.Model(),
		Dimension: r.embed.Dimension(),
	}
	set := func(service, state, format string, args ...any) {
		h.Services[service] = state
		if format != "" {
			h.Problems = append(h.Problems, service+": "+fmt.Sprintf(format, args...))
		}
	}

	var readErr error
	if r.closed.Load() {
		readErr = ErrClosed // the Relay is closed
	} else {
		readErr = r.store.CheckRead(ctx) // may be the statement that finds the damage
	}
	dbDown := true
	if err := r.store.Damaged(); err != nil {
		set("database", ServiceDown, "%s is damaged (%v); writes are refused: restore it from a backup, then open it again", r.opts.database(), err)
	} else if readErr != nil {
		set("database", ServiceDown, "%s cannot be read: %v", r.opts.database(), readErr)
	} else {
		dbDown = false
		set("database", ServiceUp, "")
		for _, p := range r.store.WriteProblems(MinFreeBytes) {
			set("database", ServiceDegraded, "%s", p)
		}
	}

	switch {
	case dbDown:
		set("vector_store", ServiceDown, "")
	case r.opts.ExactSearch:
		set("vector_store", ServiceUp, "")
	default:
		select {
		case <-r.indexDone:
			switch {
			case r.indexErr != nil:
				set("vector_store", ServiceDegraded, "the search index could not be built (%v); searches use the exact scan in SQLite", r.indexErr)
			case r.vindex.Load() == nil:
				set("vector_store", ServiceDown, "the search index is closed")
			default:
				set("vector_store", ServiceUp, "")
			}
		default:
			set("vector_store", ServiceDegraded, "the search index is being built; searches use the exact scan in SQLite meanwhile")
		}
	}

	if err := r.checkEmbeddings(ctx); err != nil {
		set("embeddings", ServiceDown, "the embedder (%s) failed its check: %v", h.Model, err)
	} else {
		set("embeddings", ServiceUp, "")
	}

	r.queueHealth(ctx, &h, set)

	if r.redis != nil && !r.closed.Load() {
		for _, c := range r.redis.Health(ctx) {
			if c.Problem != "" {
				set(c.Service, c.State, "%s", c.Problem)
			} else {
				set(c.Service, c.State, "")
			}
		}
	}

	for _, state := range h.Services {
		if state != ServiceUp {
			h.Status = "degraded"
		}
	}
	if dbDown {
		h.Status = "unhealthy"
	}
	return h
}

func (r *Relay) queueHealth(ctx context.Context, h *Health, set func(service, state, format string, args ...any)) {
	jr := r.jobs
	if jr == nil {
		set("task_queue", ServiceDown, "no v2 worker was started")
		return
	}
	if jr.Workers() == 0 {
		return // Options.Workers -1: this Relay has no task queue to report
	}
	h.Jobs.Workers, h.Jobs.Running = jr.Workers(), jr.Running()
	q, err := r.store.JobQueueState(ctx)
	h.Jobs.Pending, h.Jobs.Processing, h.Jobs.OldestPending = q.Pending, q.Processing, q.OldestPending
	switch {
	case h.Jobs.Running == 0:
		set("task_queue", ServiceDown, "no v2 worker is running")
	case err != nil:
		set("task_queue", ServiceDown, "the job queue cannot be read: %v", err)
	case h.Jobs.Running < h.Jobs.Workers:
		set("task_queue", ServiceDegraded, "%d of %d v2 workers are running", h.Jobs.Running, h.Jobs.Workers)
	case q.Pending > 0 && r.opts.Now().Sub(q.OldestPending) > StalledJobAge:
		set("task_queue", ServiceDegraded, "%d v2 jobs are pending; the oldest has waited %s", q.Pending, r.opts.Now().Sub(q.OldestPending).Round(time.Second))
	default:
		set("task_queue", ServiceUp, "")
	}
}

// embedProbe caches the embeddings check of Health.
type embedProbe struct {
	mu   sync.Mutex                  // held while a probe runs
	last atomic.Pointer[probeResult] // nil before the first probe
}

type probeResult struct {
	at  time.Time
	err error
}

// embedProbeText is what the embeddings check embeds.
const embedProbeText = "memoryrelay health check"

// checkEmbeddings returns the result of the last embeddings check when it
// is younger than EmbedCheckInterval, or when another check is running;
// otherwise it embeds the probe text (within EmbedCheckTimeout) and keeps
// the result. A check cut short by ctx is not kept.
func (r *Relay) checkEmbeddings(ctx context.Context) error {
	p := &r.probe
	fresh := func(res *probeResult) bool {
		if res == nil {
			return false
		}
		age := r.opts.Now().Sub(res.at)
		return age >= 0 && age < EmbedCheckInterval
	}
	if res := p.last.Load(); fresh(res) {
		return res.err
	}
	if !p.mu.TryLock() {
		if res := p.last.Load(); res != nil {
			return res.err // a check is running: the last result stands meanwhile
		}
		p.mu.Lock()
	}
	defer p.mu.Unlock()
	if res := p.last.Load(); fresh(res) { // another check finished meanwhile
		return res.err
	}
	pctx, cancel := context.WithTimeout(ctx, EmbedCheckTimeout)
	defer cancel()
	err := r.probeEmbedder(pctx)
	if ctx.Err() != nil {
		return err
	}
	p.last.Store(&probeResult{at: r.opts.Now(), err: err})
	return err
}

func (r *Relay) probeEmbedder(ctx context.Context) error {
	vecs, err := r.embed.Embed(ctx, []string{embedProbeText})
	if err != nil {
		return err
	}
	if len(vecs) != 1 {
		return fmt.Errorf("%d vectors for 1 text", len(vecs))
	}
	return vector.Check(vecs[0], r.embed.Dimension())
}
