package jobs

import (
	"context"
	"errors"
	"time"
)

// Statuses of a job. A job is Pending until a worker claims it, then
// Processing until it is Ready (its result stored) or Failed.
const (
	Pending    = "pending"
	Processing = "processing"
	Ready      = "ready"
	Failed     = "failed"
)

// ErrDone is returned by a [Queue] when a lease's job has already reached
// Ready or Failed.
var ErrDone = errors.New("jobs: job already finished")

// ErrLost is returned by a [Queue] when a lease no longer holds its job:
// the lease expired and another claim took the job, the job was handed
// back, or it is gone. Nothing was changed; the job is not this claim's to
// finish.
var ErrLost = errors.New("jobs: job lease lost")

// Job is a v2 asynchronous ingest job as the queue stores it: one accepted
// memory to create (MemoryID is the id it gets) and where to report its end
// (WebhookURL). A [Runner] reads only ID, Attempts and the lease; the rest
// is for [Options.Work] and [Options.Finished].
type Job struct {
	ID         string // job_<uuid>
	MemoryID   string // the id of the memory the job creates
	AccountID  string
	Status     string // Pending, Processing, Ready or Failed
	Payload    []byte // the accepted request, JSON
	Error      *string
	WebhookURL *string
	Attempts   int // times a worker has claimed the job
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// LeaseOwner is the claimant of the last claim ("" if none) and
	// LeaseExpires the end of its lease (the zero Unix time if none). A
	// processing job whose lease has expired may be claimed again.
	LeaseOwner   string
	LeaseExpires time.Time
}

// Lease identifies one claim of a job: the claimant and the attempt it
// claimed (attempts count claims, so a later claim by the same owner is a
// different lease). Only the current claim may renew, hand back or finish
// the job.
type Lease struct {
	JobID   string
	Owner   string
	Attempt int
}

// Lease is the claim that j, as returned by [Queue.Claim], holds.
func (j Job) Lease() Lease { return Lease{JobID: j.ID, Owner: j.LeaseOwner, Attempt: j.Attempts} }

// Queue is the storage of the jobs a [Runner] works. R is the result of a
// job's work, which Complete stores. Every method that takes a lease
// changes nothing, and returns an error matching ErrDone (the job is
// finished) or ErrLost (it is another claim's, handed back or gone), when
// the lease no longer holds its job. Implementations must be safe for
// concurrent use, by this process and others.
type Queue[R any] interface {
	// Claim claims a job for owner until now+lease and returns it with
	// the attempt counted; ok is false when there is nothing to claim.
	// The job is the oldest processing one whose lease has expired, else
	// the oldest pending one. Two claims never get the same lease.
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration) (j Job, ok bool, err error)
	// NextExpiry returns the earliest end of a processing job's lease;
	// ok is false when no job is processing.
	NextExpiry(ctx context.Context) (t time.Time, ok bool, err error)
	// Renew extends the lease to until.
	Renew(ctx context.Context, l Lease, until time.Time) error
	// Complete stores result and finishes the job in one transaction,
	// Ready, or Failed if the result could not be stored as such (the
	// queue's rule); it returns the finished job.
	Complete(ctx context.Context, l Lease, result R, now time.Time) (Job, error)
	// Fail finishes the job as Failed with message.
	Fail(ctx context.Context, l Lease, message string, now time.Time) (Job, error)
	// Release hands the job back, Pending and claimable at once, without
	// counting the attempt.
	Release(ctx context.Context, l Lease, now time.Time) error
}

// Failure is the error [Options.Work] returns to fail a job: the job is
// finished as Failed and Message is the error its status reports.
type Failure struct {
	Message string
}

func (f *Failure) Error() string { return f.Message }
