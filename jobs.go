package memoryrelay

import (
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/memories"
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

// startJobs starts the webhook dispatcher and the v2 job workers (package
// jobs) on the store's queue, whose finishing writes publish the jobs'
// events. Called by Open.
func (r *Relay) startJobs() error {
	if err := r.startDispatcher(); err != nil {
		return err
	}
	runner, err := jobs.Start[store.BatchItem](eventQueue{r.store.Jobs(memories.Explain), r}, jobs.Options[store.BatchItem]{
		Workers:        max(r.opts.Workers, 0), // -1: none
		Lease:          r.opts.JobLease,
		MaxAttempts:    MaxJobAttempts,
		Work:           r.memories.Work,
		CompleteFailed: "Internal error while storing the memory",
		Logger:         r.opts.Logger,
		Now:            r.now,
	})
	if err != nil {
		r.dispatcher.Close()
		return err
	}
	r.jobs = runner
	return nil
}

// stopJobs stops the workers, handing their jobs back, then the webhook
// dispatcher (its unfinished attempts are made again by the next one).
// Called by Close, before the database closes.
func (r *Relay) stopJobs() error {
	if r.jobs != nil {
		r.jobs.Close()
	}
	if r.dispatcher != nil {
		r.dispatcher.Close()
	}
	return nil
}
