package memoryrelay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Defaults of the v2 job workers.
const (
	// DefaultWorkers is the number of v2 workers when Options.Workers is 0.
	DefaultWorkers = 2
	// DefaultJobLease is the default of Options.JobLease: a v2 job left
	// processing by a process that died resumes within 10 seconds, and a
	// worker, renewing every 2.5 seconds, keeps its lease through a renewal
	// stalled for a whole BusyTimeout (5s by default).
	DefaultJobLease = 10 * time.Second
	// MaxJobAttempts is how many times a job may be claimed: a job whose
	// processing was interrupted more often (a crash, or a lease that
	// lapsed; not Close, which hands the attempt back) is failed.
	MaxJobAttempts = 3
	// jobSafetyTick is how often idle workers look for jobs nobody woke
	// them for (for example jobs queued by another process). They also
	// wake when the earliest lease of a processing job ends.
	jobSafetyTick = 30 * time.Second
	// minJobWait is the shortest an idle worker sleeps.
	minJobWait = 10 * time.Millisecond
)

// errLeaseLost is the cause of a job's context when its lease was lost.
var errLeaseLost = errors.New("memoryrelay: job lease lost")

// jobPayload is a job's stored request. Memory is NewMemory as
// encoding/json writes it, so fields added to NewMemory travel too.
type jobPayload struct {
	V      int              `json:"v"`
	Memory memory.NewMemory `json:"memory"`
}

// createMemoryAsync validates a memory and queues its creation (API
// contract §5.3 #11): the job is stored durably, a worker embeds and
// stores the memory under the returned ID, and memoryStatus follows it
// from pending through processing to ready or failed. Invalid input, an
// unknown session included, is a *memory.ValidationError at once.
// o.WebhookURL, when not nil or empty, must be an absolute http(s) URL; it
// is called with the final status if Options.Webhooks allows its host.
func (r *Relay) createMemoryAsync(ctx context.Context, accountID string, in memory.NewMemory, o memory.AsyncOptions) (memory.Job, error) {
	webhookURL := o.WebhookURL
	m, err := r.newMemory(accountID, in)
	if err != nil {
		return memory.Job{}, err
	}
	if webhookURL != nil && *webhookURL == "" {
		webhookURL = nil
	}
	if webhookURL != nil {
		if err := checkWebhookURL(*webhookURL); err != nil {
			return memory.Job{}, err
		}
	}
	if m.SessionID != nil {
		ok, err := r.store.SessionExists(ctx, accountID, *m.SessionID)
		if err != nil {
			return memory.Job{}, err
		}
		if !ok {
			return memory.Job{}, errNoSession
		}
	}
	// A known agent travels by its id, which never changes: by its name,
	// a rename before the job runs would create another agent.
	if in.AgentID != "" {
		id, err := r.store.ResolveAgent(ctx, accountID, in.AgentID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return memory.Job{}, fmt.Errorf("memoryrelay: resolve agent: %w", err)
		}
		if err == nil {
			in.AgentID = id
		}
	}
	payload, err := json.Marshal(jobPayload{V: 1, Memory: in})
	if err != nil {
		return memory.Job{}, fmt.Errorf("memoryrelay: encode job: %w", err)
	}
	now := r.now()
	j := store.Job{ID: "job_" + uuid.New(), MemoryID: m.ID, AccountID: accountID, Status: store.JobPending,
		Payload: payload, WebhookURL: webhookURL, CreatedAt: now, UpdatedAt: now}
	if err := r.store.InsertJob(ctx, j); err != nil {
		return memory.Job{}, fmt.Errorf("memoryrelay: queue job: %w", err)
	}
	if r.jobs != nil {
		r.jobs.signal()
	}
	return jobOf(j), nil
}

// jobOf is a stored job as the API reports it.
func jobOf(j store.Job) memory.Job {
	st := memory.Job{ID: j.MemoryID, JobID: j.ID, Status: j.Status, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt}
	if j.Status == store.JobFailed {
		msg := "Processing failed"
		if j.Error != nil {
			msg = *j.Error
		}
		st.Error = &msg
	}
	return st
}

// memoryStatus returns the status of the account's v2 create (API contract
// §5.3 #12), by the memory's id or the job's id (job_<uuid>). A memory
// created synchronously is reported ready. Anything else is a
// *memory.NotFoundError.
func (r *Relay) memoryStatus(ctx context.Context, accountID, id string) (memory.Job, error) {
	if rest, ok := strings.CutPrefix(id, "job_"); ok {
		u, ok := uuid.Canonical(rest)
		if !ok {
			return memory.Job{}, notFound(kindMemory)
		}
		j, err := r.store.JobByID(ctx, accountID, "job_"+u)
		if err != nil {
			return memory.Job{}, storeErr(err, kindMemory)
		}
		return jobOf(j), nil
	}
	u, ok := uuid.Canonical(id)
	if !ok {
		return memory.Job{}, notFound(kindMemory)
	}
	j, err := r.store.JobByMemory(ctx, accountID, u)
	if err == nil {
		return jobOf(j), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return memory.Job{}, err
	}
	m, err := r.store.GetMemory(ctx, accountID, u)
	if err != nil {
		return memory.Job{}, storeErr(err, kindMemory)
	}
	return memory.Job{ID: m.ID, Status: memory.JobReady, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}, nil
}

// jobRunner is the pool of v2 job workers.
type jobRunner struct {
	owner    string        // this Relay's claimant id, random
	lease    time.Duration // Options.JobLease
	wake     chan struct{} // one buffered token: "look for jobs"
	stopping context.Context
	stop     context.CancelFunc // no more claims
	work     context.Context
	abort    context.CancelFunc // in-flight jobs give up
	wg       sync.WaitGroup
	hooks    *webhooks
	workers  int          // how many were started
	running  atomic.Int32 // how many are running (Health)
}

// signal wakes one idle worker, if any is waiting.
func (jr *jobRunner) signal() {
	select {
	case jr.wake <- struct{}{}:
	default:
	}
}

// startJobs starts the workers and webhook senders. Called by Open. It
// requeues nothing: jobs another Relay (of this or another process) is
// processing stay its own while its lease lasts, and the jobs of one that
// died are claimed when their leases expire (see Options.JobLease).
func (r *Relay) startJobs() error {
	n := max(r.opts.Workers, 0) // -1: none
	lease := r.opts.JobLease
	hooks, err := newWebhooks(r.opts.Webhooks, r.opts.Logger)
	if err != nil {
		return err
	}
	jr := &jobRunner{owner: uuid.New(), lease: lease, wake: make(chan struct{}, 1), hooks: hooks, workers: n}
	jr.stopping, jr.stop = context.WithCancel(context.Background())
	jr.work, jr.abort = context.WithCancel(context.Background())
	r.jobs = jr
	for range n {
		jr.wg.Add(1)
		jr.running.Add(1)
		go r.jobWorker(jr)
	}
	return nil
}

// stopJobs stops the workers, cancelling in-flight jobs (each goes back
// to pending, or stays processing if even that fails, and is claimed again
// when its lease expires), waits for them, then stops the webhook senders.
// Called by Close, before the database closes.
func (r *Relay) stopJobs() error {
	jr := r.jobs
	if jr == nil {
		return nil
	}
	jr.stop()
	jr.abort()
	jr.wg.Wait()
	jr.hooks.close()
	return nil
}

func (r *Relay) jobWorker(jr *jobRunner) {
	defer jr.wg.Done()
	defer jr.running.Add(-1) // counted up by startJobs
	timer := time.NewTimer(jobSafetyTick)
	defer timer.Stop()
	for {
		for jr.stopping.Err() == nil {
			j, ok, err := r.store.ClaimJob(jr.stopping, jr.owner, r.now(), jr.lease)
			if err != nil {
				if jr.stopping.Err() == nil {
					r.opts.Logger.Error("memoryrelay: claim job", "err", err)
				}
				break
			}
			if !ok {
				break
			}
			jr.signal() // another worker may take the next job
			r.runJob(jr, j)
		}
		timer.Reset(r.idleWait(jr))
		select {
		case <-jr.stopping.Done():
			return
		case <-jr.wake:
		case <-timer.C:
		}
	}
}

// idleWait is how long an idle worker sleeps unless woken: until the
// earliest lease of a processing job ends (a job whose worker died becomes
// claimable then), at most jobSafetyTick.
func (r *Relay) idleWait(jr *jobRunner) time.Duration {
	t, ok, err := r.store.NextLeaseExpiry(jr.stopping)
	if err != nil || !ok {
		return jobSafetyTick
	}
	return min(max(t.Sub(r.now()), minJobWait), jobSafetyTick)
}

// runJob creates a claimed job's memory and finishes the job, renewing
// its lease meanwhile. Work cancelled by Close is handed back to the
// queue; work whose lease was lost is dropped (the job is another claim's).
func (r *Relay) runJob(jr *jobRunner, j store.Job) {
	lease := j.Lease()
	ctx, lose := context.WithCancelCause(jr.work)
	defer lose(nil)
	renewing, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.renewLease(renewing, jr, lease, lose)
	}()
	defer func() {
		stopRenewing()
		<-renewed
		if ctx.Err() != nil && !errors.Is(context.Cause(ctx), errLeaseLost) {
			// Close cancelled the work, or the finishing write: hand the
			// job back without counting the attempt. If this fails too,
			// the job stays processing and is claimed again when its
			// lease expires.
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			r.store.ReleaseJob(rctx, lease, r.now())
		}
	}()
	quiet := func(err error) bool {
		return ctx.Err() != nil || errors.Is(err, store.ErrJobDone) || errors.Is(err, store.ErrJobLost)
	}
	fail := func(msg string) {
		done, err := r.store.FailJob(ctx, lease, msg, r.now())
		if err != nil {
			if !quiet(err) {
				r.opts.Logger.Error("memoryrelay: fail job", "job_id", j.ID, "err", err)
			}
			return
		}
		jr.hooks.send(jobOf(done), done.WebhookURL)
	}
	if j.Attempts > MaxJobAttempts {
		fail("Processing was interrupted too many times")
		return
	}
	var p jobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		r.opts.Logger.Error("memoryrelay: job payload", "job_id", j.ID, "err", err)
		fail("Internal error: the job's request could not be read")
		return
	}
	m, err := r.newMemory(j.AccountID, p.Memory)
	if err != nil {
		fail(err.Error())
		return
	}
	m.ID, m.CreatedAt, m.UpdatedAt = j.MemoryID, j.CreatedAt, j.CreatedAt
	threshold, _ := dedupThreshold(p.Memory)
	idx, err := r.index(ctx, m.Content)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r.opts.Logger.Error("memoryrelay: job embedding", "job_id", j.ID, "err", err)
		fail("Embedding failed")
		return
	}
	item := store.BatchItem{Memory: &m, Index: idx, Dedup: p.Memory.Deduplicate, DedupThreshold: threshold}
	done, _, err := r.store.CompleteJob(ctx, lease, item, r.now(), explainOutcome)
	switch {
	case err == nil:
		jr.hooks.send(jobOf(done), done.WebhookURL)
	case errors.Is(err, store.ErrJobLost) && ctx.Err() == nil:
		r.opts.Logger.Warn("memoryrelay: job lease lost; the job is left to the claim that took it over", "job_id", j.ID)
	case quiet(err):
	default:
		r.opts.Logger.Error("memoryrelay: complete job", "job_id", j.ID, "err", err)
		fail("Internal error while storing the memory")
	}
}

// renewLease extends the job's lease every JobLease/4 until ctx ends. When
// the lease turns out lost (it expired and another claim took the job),
// it cancels the job's work through lose. A renewal that fails otherwise
// (the database busy) is retried at the next tick; the lease has three
// quarters of its length left at each.
func (r *Relay) renewLease(ctx context.Context, jr *jobRunner, l store.JobLease, lose context.CancelCauseFunc) {
	tick := time.NewTicker(max(jr.lease/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := r.store.RenewJob(ctx, l, r.now().Add(jr.lease))
		switch {
		case err == nil:
		case errors.Is(err, store.ErrJobLost), errors.Is(err, store.ErrJobDone), errors.Is(err, store.ErrNotFound):
			// Finished (by this worker a moment ago, or by the claim that
			// took it over), deleted, or taken over: stop either way.
			if errors.Is(err, store.ErrJobLost) && ctx.Err() == nil {
				r.opts.Logger.Warn("memoryrelay: job lease lost; the job is left to the claim that took it over", "job_id", l.JobID)
			}
			lose(errLeaseLost)
			return
		case ctx.Err() == nil:
			r.opts.Logger.Warn("memoryrelay: renew job lease", "job_id", l.JobID, "err", err)
		}
	}
}

// explainOutcome is the error text of a job whose memory was not stored.
func explainOutcome(o store.BatchOutcome) string {
	if o.DuplicateID != "" {
		return "Duplicate of memory " + o.DuplicateID + "; nothing was stored"
	}
	if errors.Is(o.Err, store.ErrSessionNotFound) {
		return errNoSession.Error()
	}
	return "Processing failed"
}
