package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Job statuses (API contract §4.5, v2 status).
const (
	JobPending    = "pending"
	JobProcessing = "processing"
	JobReady      = "ready"
	JobFailed     = "failed"
)

// ErrJobDone is returned by [Store.CompleteJob] and [Store.FailJob] when
// the job has already reached ready or failed.
var ErrJobDone = errors.New("store: job already finished")

// ErrJobLost is returned by [Store.CompleteJob], [Store.FailJob] and
// [Store.RenewJob] when the claim no longer holds the job: its lease
// expired and another claim took it, or it was handed back. Nothing was
// changed; the job is someone else's to finish.
var ErrJobLost = errors.New("store: job lease lost")

// Job is a v2 asynchronous ingest job: one accepted memory to create.
type Job struct {
	ID         string // job_<uuid>
	MemoryID   string // the id the memory gets
	AccountID  string
	Status     string // JobPending, JobProcessing, JobReady or JobFailed
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

// JobLease identifies one claim of a job: the claimant and the attempt it
// claimed (attempts counts claims, so a later claim by the same owner is
// a different lease). Only the current claim may renew, hand back or
// finish the job.
type JobLease struct {
	JobID   string
	Owner   string
	Attempt int
}

// Lease is the claim that j, as returned by [Store.ClaimJob], holds.
func (j Job) Lease() JobLease { return JobLease{JobID: j.ID, Owner: j.LeaseOwner, Attempt: j.Attempts} }

const jobColumns = `id, memory_id, account_id, status, payload, error, webhook_url, attempts, created_at, updated_at, lease_owner, lease_expires`

// leaseHeld is the condition, on jobs, that a lease (3 arguments: id,
// owner, attempt) still holds its job.
const leaseHeld = `id = ? AND lease_owner = ? AND attempts = ? AND status = '` + JobProcessing + `'`

func scanJob(r rowScanner) (Job, error) {
	var j Job
	var payload string
	var errText, hook, owner sql.NullString
	var created, updated, expires int64
	if err := r.Scan(&j.ID, &j.MemoryID, &j.AccountID, &j.Status, &payload, &errText, &hook, &j.Attempts, &created, &updated, &owner, &expires); err != nil {
		return Job{}, err
	}
	j.Payload = []byte(payload)
	j.Error, j.WebhookURL = fromNullString(errText), fromNullString(hook)
	j.CreatedAt, j.UpdatedAt = fromMS(created), fromMS(updated)
	j.LeaseOwner, j.LeaseExpires = owner.String, fromMS(expires)
	return j, nil
}

// InsertJob stores a new job. j.Status is normally JobPending.
func (s *Store) InsertJob(ctx context.Context, j Job) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		var owner any
		if j.LeaseOwner != "" {
			owner = j.LeaseOwner
		}
		var expires int64
		if !j.LeaseExpires.IsZero() {
			expires = ms(j.LeaseExpires)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs(`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			j.ID, j.MemoryID, j.AccountID, j.Status, string(j.Payload), nullString(j.Error), nullString(j.WebhookURL),
			j.Attempts, ms(j.CreatedAt), ms(j.UpdatedAt), owner, expires)
		return err
	})
}

// JobByMemory returns the account's job that creates the memory, or
// ErrNotFound.
func (s *Store) JobByMemory(ctx context.Context, accountID, memoryID string) (Job, error) {
	return queryOne(ctx, s.db.R, scanJob, "SELECT "+jobColumns+" FROM jobs WHERE account_id = ? AND memory_id = ?", accountID, memoryID)
}

// JobByID returns the account's job with the id, or ErrNotFound.
func (s *Store) JobByID(ctx context.Context, accountID, id string) (Job, error) {
	return queryOne(ctx, s.db.R, scanJob, "SELECT "+jobColumns+" FROM jobs WHERE account_id = ? AND id = ?", accountID, id)
}

// SessionExists reports whether the account has the session.
func (s *Store) SessionExists(ctx context.Context, accountID, sessionID string) (bool, error) {
	err := checkSession(ctx, s.db.R, accountID, sessionID)
	if errors.Is(err, ErrSessionNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ClaimJob claims a job for owner until now+lease and returns it, with
// the attempt counted; ok is false when there is nothing to claim. The job
// is the oldest processing one whose lease has expired (its claimant died
// or stalled), else the oldest pending one. The claim is one UPDATE in an
// IMMEDIATE transaction, so two claimants, in this process or another,
// never get the same lease.
func (s *Store) ClaimJob(ctx context.Context, owner string, now time.Time, lease time.Duration) (j Job, ok bool, err error) {
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = ?, attempts = attempts + 1, lease_owner = ?, lease_expires = ?,
				updated_at = max(updated_at, ?)
			WHERE id = coalesce(
				(SELECT id FROM jobs WHERE status = ? AND lease_expires <= ? ORDER BY created_at, rowid LIMIT 1),
				(SELECT id FROM jobs WHERE status = ? ORDER BY created_at, rowid LIMIT 1))
			RETURNING `+jobColumns,
			JobProcessing, owner, ms(now.Add(lease)), ms(now), JobProcessing, ms(now), JobPending)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Job{}, false, nil
	}
	return j, err == nil, err
}

// NextLeaseExpiry returns the earliest end of a processing job's lease: when
// a job whose claimant has gone away becomes claimable. ok is false when no
// job is processing.
func (s *Store) NextLeaseExpiry(ctx context.Context) (t time.Time, ok bool, err error) {
	v, err := queryValue[sql.NullInt64](ctx, s.db.R, "SELECT min(lease_expires) FROM jobs WHERE status = ?", JobProcessing)
	if err != nil {
		return time.Time{}, false, err
	}
	if !v.Valid {
		return time.Time{}, false, nil
	}
	return fromMS(v.Int64), true, nil
}

// RenewJob extends the lease to until. When the lease no longer holds the
// job, nothing changes and the error says why: ErrJobDone (finished),
// ErrJobLost (another claim's, or handed back) or ErrNotFound (deleted).
func (s *Store) RenewJob(ctx context.Context, l JobLease, until time.Time) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET lease_expires = ? WHERE `+leaseHeld, ms(until), l.JobID, l.Owner, l.Attempt)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if err := checkLease(ctx, tx, l); err != nil {
				return err
			}
			return ErrJobLost // not reached: the UPDATE saw the same row
		}
		return nil
	})
}

// ReleaseJob hands the lease's job back to the queue, pending and
// claimable at once, without counting the attempt, for work that was
// cancelled cleanly. A lease that no longer holds its job changes nothing.
func (s *Store) ReleaseJob(ctx context.Context, l JobLease, now time.Time) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET status = ?, attempts = max(attempts - 1, 0), lease_owner = NULL, lease_expires = 0,
				updated_at = max(updated_at, ?)
			WHERE `+leaseHeld, JobPending, ms(now), l.JobID, l.Owner, l.Attempt)
		return err
	})
}

// checkLease reports, inside a write transaction, why the lease cannot
// finish its job: ErrNotFound (the job is gone), ErrJobDone (finished) or
// ErrJobLost (claimed again, or handed back); nil if it still holds it.
func checkLease(ctx context.Context, tx *sql.Tx, l JobLease) error {
	var status string
	var owner sql.NullString
	var attempts int
	if err := tx.QueryRowContext(ctx, "SELECT status, lease_owner, attempts FROM jobs WHERE id = ?", l.JobID).Scan(&status, &owner, &attempts); err != nil {
		return notFound(err)
	}
	switch {
	case status == JobReady || status == JobFailed:
		return ErrJobDone
	case status != JobProcessing || owner.String != l.Owner || attempts != l.Attempt:
		return ErrJobLost
	}
	return nil
}

// CompleteJob stores the job's memory (item, as in [Store.InsertMemories])
// and finishes the job in the same transaction: ready when the memory was
// stored, failed with the text explain gives for the outcome otherwise (a
// duplicate or a missing session). It returns the finished job and the
// outcome. Only the lease that holds the job may finish it: otherwise
// nothing changes and the error is ErrJobDone (finished already),
// ErrJobLost (the job is another claim's) or ErrNotFound.
func (s *Store) CompleteJob(ctx context.Context, l JobLease, item BatchItem, now time.Time, explain func(BatchOutcome) string) (Job, BatchOutcome, error) {
	var j Job
	var o BatchOutcome
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := checkLease(ctx, tx, l); err != nil {
			return err
		}
		var err error
		o, err = insertItem(ctx, tx, &item, map[string]agentRow{})
		if errors.Is(err, ErrSessionNotFound) {
			o.Err, err = err, nil
		}
		if err != nil {
			return err
		}
		status, errText := JobReady, sql.NullString{}
		if o.Err != nil || o.DuplicateID != "" {
			status, errText = JobFailed, sql.NullString{String: explain(o), Valid: true}
		}
		j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = ?, error = ?, updated_at = max(updated_at, ?)
			WHERE id = ? RETURNING `+jobColumns, status, errText, ms(now), l.JobID)
		return err
	})
	return j, o, err
}

// FailJob finishes the lease's job as failed with the message. Only the
// lease that holds the job may: otherwise nothing changes and the error is
// ErrJobDone, ErrJobLost or ErrNotFound, as for [Store.CompleteJob].
func (s *Store) FailJob(ctx context.Context, l JobLease, message string, now time.Time) (Job, error) {
	var j Job
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := checkLease(ctx, tx, l); err != nil {
			return err
		}
		var err error
		j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = ?, error = ?, updated_at = max(updated_at, ?)
			WHERE id = ? RETURNING `+jobColumns, JobFailed, message, ms(now), l.JobID)
		return err
	})
	return j, err
}
