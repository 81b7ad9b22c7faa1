package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

const (
	// safetyTick is how often idle workers look for jobs nobody woke them
	// for (for example jobs queued by another process). They also wake
	// when the earliest lease of a processing job ends.
	safetyTick = 30 * time.Second
	// minWait is the shortest an idle worker sleeps.
	minWait = 10 * time.Millisecond
	// releaseTimeout bounds the hand-back of a job whose work was
	// cancelled.
	releaseTimeout = time.Second
)

// Default messages of jobs a [Runner] fails itself.
const (
	DefaultInterrupted    = "Processing was interrupted too many times"
	DefaultCompleteFailed = "Internal error while storing the result"
	DefaultWorkFailed     = "Processing failed"
)

// Options configures a [Runner]. Lease, MaxAttempts and Work are
// required.
type Options[R any] struct {
	// Workers is the number of worker goroutines. 0 starts none: jobs are
	// left to another runner on the same queue.
	Workers int
	// Lease is how long a claim lasts; a worker renews the lease of the
	// job it works on every Lease/4. Measured on Now.
	Lease time.Duration
	// MaxAttempts is how many times a job may be claimed: a job whose
	// work was interrupted more often (a crash, or a lease that lapsed;
	// not Close, which hands the attempt back) is failed with Interrupted.
	MaxAttempts int
	// Work does a claimed job's work and returns the result the queue
	// stores with the job's completion. ctx ends when the runner closes or
	// the lease is lost. A *[Failure] fails the job with its message; an
	// error after ctx ended hands the job back (on Close) or drops it (lease
	// lost); any other error is logged and fails the job with WorkFailed.
	Work func(ctx context.Context, j Job) (R, error)
	// Finished, if set, is called with every job this runner finished,
	// Ready or Failed, for example to notify someone. It must not block.
	Finished func(Job)
	// Owner is the runner's claimant id. Default: a random UUID.
	Owner string

	// Interrupted is the error of a job failed after MaxAttempts claims.
	// Default DefaultInterrupted.
	Interrupted string
	// CompleteFailed is the error of a job whose Complete failed other
	// than by losing its lease. Default DefaultCompleteFailed.
	CompleteFailed string
	// WorkFailed is the error of a job whose Work returned an error that
	// is not a *Failure. Default DefaultWorkFailed.
	WorkFailed string

	// Logger receives failures of the queue. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Runner is a pool of workers on a [Queue]. It is safe for concurrent
// use. Close stops every goroutine it started.
type Runner[R any] struct {
	q    Queue[R]
	opts Options[R]

	wake     chan struct{} // one buffered token: "look for jobs"
	stopping context.Context
	stop     context.CancelFunc // no more claims
	work     context.Context
	abort    context.CancelFunc // in-flight jobs give up
	wg       sync.WaitGroup
	running  atomic.Int32 // workers running
	once     sync.Once
}

// Start checks the options and starts the workers. It requeues nothing:
// jobs another runner is processing stay its own while its lease lasts,
// and those of one that died are claimed when their leases expire.
func Start[R any](q Queue[R], o Options[R]) (*Runner[R], error) {
	switch {
	case o.Workers < 0:
		return nil, fmt.Errorf("jobs: Workers must not be negative")
	case o.Lease <= 0:
		return nil, fmt.Errorf("jobs: Lease must be positive")
	case o.MaxAttempts <= 0:
		return nil, fmt.Errorf("jobs: MaxAttempts must be positive")
	case o.Work == nil:
		return nil, fmt.Errorf("jobs: Work is required")
	}
	if o.Owner == "" {
		o.Owner = uuid.New()
	}
	if o.Interrupted == "" {
		o.Interrupted = DefaultInterrupted
	}
	if o.CompleteFailed == "" {
		o.CompleteFailed = DefaultCompleteFailed
	}
	if o.WorkFailed == "" {
		o.WorkFailed = DefaultWorkFailed
	}
	if o.Finished == nil {
		o.Finished = func(Job) {}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Runner[R]{q: q, opts: o, wake: make(chan struct{}, 1)}
	r.stopping, r.stop = context.WithCancel(context.Background())
	r.work, r.abort = context.WithCancel(context.Background())
	for range o.Workers {
		r.wg.Add(1)
		r.running.Add(1)
		go r.worker()
	}
	return r, nil
}

// Signal wakes one idle worker, if any is waiting: call it after queueing
// a job. It never blocks.
func (r *Runner[R]) Signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Workers is the number of workers Start started.
func (r *Runner[R]) Workers() int { return r.opts.Workers }

// Running is the number of workers running: Workers until Close.
func (r *Runner[R]) Running() int { return int(r.running.Load()) }

// Close stops the workers, cancelling in-flight work (each job goes back
// to pending, or stays processing if even that fails and is claimed again
// when its lease expires), and waits for them. The queue must stay usable
// until Close returns. Close is idempotent.
func (r *Runner[R]) Close() {
	r.once.Do(func() {
		r.stop()
		r.abort()
	})
	r.wg.Wait()
}

func (r *Runner[R]) now() time.Time { return r.opts.Now() }

func (r *Runner[R]) worker() {
	defer r.wg.Done()
	defer r.running.Add(-1) // counted up by Start
	timer := time.NewTimer(safetyTick)
	defer timer.Stop()
	for {
		for r.stopping.Err() == nil {
			j, ok, err := r.q.Claim(r.stopping, r.opts.Owner, r.now(), r.opts.Lease)
			if err != nil {
				if r.stopping.Err() == nil {
					r.opts.Logger.Error("memoryrelay: claim job", "err", err)
				}
				break
			}
			if !ok {
				break
			}
			r.Signal() // another worker may take the next job
			r.run(j)
		}
		timer.Reset(r.idleWait())
		select {
		case <-r.stopping.Done():
			return
		case <-r.wake:
		case <-timer.C:
		}
	}
}

// idleWait is how long an idle worker sleeps unless woken: until the
// earliest lease of a processing job ends (a job whose worker died becomes
// claimable then), at most safetyTick.
func (r *Runner[R]) idleWait() time.Duration {
	t, ok, err := r.q.NextExpiry(r.stopping)
	if err != nil || !ok {
		return safetyTick
	}
	return min(max(t.Sub(r.now()), minWait), safetyTick)
}

// run does a claimed job and finishes it, renewing its lease meanwhile.
// Work cancelled by Close is handed back to the queue; work whose lease
// was lost is dropped (the job is another claim's).
func (r *Runner[R]) run(j Job) {
	lease := j.Lease()
	ctx, lose := context.WithCancelCause(r.work)
	defer lose(nil)
	renewing, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.renew(renewing, lease, lose)
	}()
	defer func() {
		stopRenewing()
		<-renewed
		if ctx.Err() != nil && !errors.Is(context.Cause(ctx), ErrLost) {
			// Close cancelled the work, or the finishing write: hand the
			// job back without counting the attempt. If this fails too,
			// the job stays processing and is claimed again when its
			// lease expires.
			rctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
			defer cancel()
			r.q.Release(rctx, lease, r.now())
		}
	}()
	quiet := func(err error) bool {
		return ctx.Err() != nil || errors.Is(err, ErrDone) || errors.Is(err, ErrLost)
	}
	fail := func(msg string) {
		done, err := r.q.Fail(ctx, lease, msg, r.now())
		if err != nil {
			if !quiet(err) {
				r.opts.Logger.Error("memoryrelay: fail job", "job_id", j.ID, "err", err)
			}
			return
		}
		r.opts.Finished(done)
	}
	if j.Attempts > r.opts.MaxAttempts {
		fail(r.opts.Interrupted)
		return
	}
	result, err := r.opts.Work(ctx, j)
	if err != nil {
		var f *Failure
		switch {
		case errors.As(err, &f):
			fail(f.Message)
		case ctx.Err() != nil:
		default:
			r.opts.Logger.Error("memoryrelay: job", "job_id", j.ID, "err", err)
			fail(r.opts.WorkFailed)
		}
		return
	}
	done, err := r.q.Complete(ctx, lease, result, r.now())
	switch {
	case err == nil:
		r.opts.Finished(done)
	case errors.Is(err, ErrLost) && ctx.Err() == nil:
		r.opts.Logger.Warn("memoryrelay: job lease lost; the job is left to the claim that took it over", "job_id", j.ID)
	case quiet(err):
	default:
		r.opts.Logger.Error("memoryrelay: complete job", "job_id", j.ID, "err", err)
		fail(r.opts.CompleteFailed)
	}
}

// renew extends the job's lease every Lease/4 until ctx ends. When the
// lease turns out lost (it expired and another claim took the job), it
// cancels the job's work through lose. A renewal that fails otherwise (the
// database busy) is retried at the next tick; the lease has three quarters
// of its length left at each.
func (r *Runner[R]) renew(ctx context.Context, l Lease, lose context.CancelCauseFunc) {
	tick := time.NewTicker(max(r.opts.Lease/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := r.q.Renew(ctx, l, r.now().Add(r.opts.Lease))
		switch {
		case err == nil:
		case errors.Is(err, ErrLost), errors.Is(err, ErrDone):
			// Finished (by this worker a moment ago, or by the claim that
			// took it over), deleted, or taken over: stop either way.
			if errors.Is(err, ErrLost) && ctx.Err() == nil {
				r.opts.Logger.Warn("memoryrelay: job lease lost; the job is left to the claim that took it over", "job_id", l.JobID)
			}
			lose(ErrLost) // the cause: not handed back
			return
		case ctx.Err() == nil:
			r.opts.Logger.Warn("memoryrelay: renew job lease", "job_id", l.JobID, "err", err)
		}
	}
}
