package memoryrelay

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
)

// jobStore is the storage of the v2 job queue, as the job runner uses it.
type jobStore interface {
	Jobs(explain func(store.BatchOutcome) string) jobs.Queue[store.BatchItem]
}

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
)

// startJobs starts the webhook senders and the v2 job workers (package
// jobs) on the store's queue. Called by Open.
func (r *Relay) startJobs() error {
	hooks, err := newWebhookSender(r.opts.Webhooks, r.opts.Logger)
	if err != nil {
		return err
	}
	runner, err := jobs.Start(r.store.Jobs(explainOutcome), jobs.Options[store.BatchItem]{
		Workers:        max(r.opts.Workers, 0), // -1: none
		Lease:          r.opts.JobLease,
		MaxAttempts:    MaxJobAttempts,
		Work:           r.doJob,
		Finished:       r.jobFinished,
		CompleteFailed: "Internal error while storing the memory",
		Logger:         r.opts.Logger,
		Now:            r.now,
	})
	if err != nil {
		if hooks != nil {
			hooks.Close()
		}
		return err
	}
	r.hooks, r.jobs = hooks, runner
	return nil
}

// stopJobs stops the workers, handing their jobs back, then the webhook
// senders. Called by Close, before the database closes.
func (r *Relay) stopJobs() error {
	if r.jobs != nil {
		r.jobs.Close()
	}
	if r.hooks != nil {
		r.hooks.Close()
	}
	return nil
}

// doJob is the work of a claimed v2 job: the memory it creates, validated
// and embedded, for the queue to store with the job's completion.
func (r *Relay) doJob(ctx context.Context, j jobs.Job) (store.BatchItem, error) {
	var p jobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		r.opts.Logger.Error("memoryrelay: job payload", "job_id", j.ID, "err", err)
		return store.BatchItem{}, &jobs.Failure{Message: "Internal error: the job's request could not be read"}
	}
	m, err := r.newMemory(j.AccountID, p.Memory)
	if err != nil {
		return store.BatchItem{}, &jobs.Failure{Message: err.Error()}
	}
	m.ID, m.CreatedAt, m.UpdatedAt = j.MemoryID, j.CreatedAt, j.CreatedAt
	threshold, _ := dedupThreshold(p.Memory)
	idx, err := r.index(ctx, m.Content)
	if err != nil {
		if ctx.Err() != nil {
			return store.BatchItem{}, err // cancelled: the job goes back
		}
		r.opts.Logger.Error("memoryrelay: job embedding", "job_id", j.ID, "err", err)
		return store.BatchItem{}, &jobs.Failure{Message: "Embedding failed"}
	}
	return store.BatchItem{Memory: &m, Index: idx, Dedup: p.Memory.Deduplicate, DedupThreshold: threshold}, nil
}

// jobFinished sends a finished job's status to its webhook_url, if
// webhooks are on and the job has one.
func (r *Relay) jobFinished(j jobs.Job) {
	if r.hooks == nil || j.WebhookURL == nil || *j.WebhookURL == "" {
		return
	}
	r.hooks.Send(*j.WebhookURL, jobOf(j))
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
