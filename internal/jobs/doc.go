// Package jobs runs a durable queue of jobs on a pool of workers, each job
// under a lease that its worker renews, so that every job is done once
// however many runners, in this process or in others, share the queue.
//
// The queue's storage is a [Queue], defined here and implemented by the
// SQLite store; the work a job stands for is a function the owner of the
// [Runner] passes in ([Options.Work]), whose result the queue stores with
// the job's completion in one transaction.
//
// # Leases
//
// A worker claims a job for [Options.Lease] under the runner's owner id
// and renews the claim every Lease/4 while it works, so a job may take as
// long as it needs. Only the claim that holds the lease (owner and attempt)
// may finish the job: a claim that lost it (its lease expired, another
// runner claimed the job) gets [ErrLost] and drops its work. A job whose
// lease expired (its process died, or stalled three renewals in a row) is
// claimed again by any runner, which counts an attempt; past
// [Options.MaxAttempts] the job is failed. A runner requeues nothing when
// it starts, and [Runner.Close] hands its unfinished jobs back at once
// (pending, the attempt not counted).
//
// Idle workers sleep until they are signalled ([Runner.Signal]), until the
// earliest lease of a processing job ends, or for 30 seconds at most (jobs
// queued by another process).
package jobs
