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
}

const jobColumns = `id, memory_id, account_id, status, payload, error, webhook_url, attempts, created_at, updated_at`

func scanJob(r rowScanner) (Job, error) {
	var j Job
	var payload string
	var errText, hook sql.NullString
	var created, updated int64
	if err := r.Scan(&j.ID, &j.MemoryID, &j.AccountID, &j.Status, &payload, &errText, &hook, &j.Attempts, &created, &updated); err != nil {
		return Job{}, notFound(err)
	}
	j.Payload = []byte(payload)
	j.Error, j.WebhookURL = fromNullString(errText), fromNullString(hook)
	j.CreatedAt, j.UpdatedAt = fromMS(created), fromMS(updated)
	return j, nil
}

// InsertJob stores a new job. j.Status is normally JobPending.
func (s *Store) InsertJob(ctx context.Context, j Job) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs(`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			j.ID, j.MemoryID, j.AccountID, j.Status, string(j.Payload), nullString(j.Error), nullString(j.WebhookURL),
			j.Attempts, ms(j.CreatedAt), ms(j.UpdatedAt))
		return err
	})
}

// JobByMemory returns the account's job that creates the memory, or
// ErrNotFound.
func (s *Store) JobByMemory(ctx context.Context, accountID, memoryID string) (Job, error) {
	return scanJob(s.db.R.QueryRowContext(ctx, "SELECT "+jobColumns+" FROM jobs WHERE account_id = ? AND memory_id = ?", accountID, memoryID))
}

// JobByID returns the account's job with the id, or ErrNotFound.
func (s *Store) JobByID(ctx context.Context, accountID, id string) (Job, error) {
	return scanJob(s.db.R.QueryRowContext(ctx, "SELECT "+jobColumns+" FROM jobs WHERE account_id = ? AND id = ?", accountID, id))
}

// SessionExists reports whether the account has the session.
func (s *Store) SessionExists(ctx context.Context, accountID, sessionID string) (bool, error) {
	err := checkSession(ctx, s.db.R, accountID, sessionID)
	if errors.Is(err, ErrSessionNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ClaimJob moves the oldest pending job of any account to processing,
// counts the attempt and returns it; ok is false when no job is pending.
func (s *Store) ClaimJob(ctx context.Context, now time.Time) (j Job, ok bool, err error) {
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		j, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET status = ?, attempts = attempts + 1, updated_at = max(updated_at, ?)
			WHERE id = (SELECT id FROM jobs WHERE status = ? ORDER BY created_at, rowid LIMIT 1)
			RETURNING `+jobColumns, JobProcessing, ms(now), JobPending))
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Job{}, false, nil
	}
	return j, err == nil, err
}

// RequeueJobs moves every processing job back to pending (for jobs that a
// stopped process left unfinished) and returns how many there were.
func (s *Store) RequeueJobs(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE jobs SET status = ?, updated_at = max(updated_at, ?) WHERE status = ?", JobPending, ms(now), JobProcessing)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// ReleaseJob hands a processing job back to the queue without counting
// the attempt, for work that was cancelled cleanly.
func (s *Store) ReleaseJob(ctx context.Context, jobID string, now time.Time) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET status = ?, attempts = max(attempts - 1, 0), updated_at = max(updated_at, ?)
			WHERE id = ? AND status = ?`, JobPending, ms(now), jobID, JobProcessing)
		return err
	})
}

// CompleteJob stores the job's memory (item, as in [Store.InsertMemories])
// and finishes the job in the same transaction: ready when the memory was
// stored, failed with the text explain gives for the outcome otherwise (a
// duplicate or a missing session). It returns the finished job and the
// outcome, or ErrJobDone (nothing changed) when the job was finished
// already, or ErrNotFound.
func (s *Store) CompleteJob(ctx context.Context, jobID string, item BatchItem, now time.Time, explain func(BatchOutcome) string) (Job, BatchOutcome, error) {
	var j Job
	var o BatchOutcome
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var status string
		if err := tx.QueryRowContext(ctx, "SELECT status FROM jobs WHERE id = ?", jobID).Scan(&status); err != nil {
			return notFound(err)
		}
		if status == JobReady || status == JobFailed {
			return ErrJobDone
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
		j, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET status = ?, error = ?, updated_at = max(updated_at, ?)
			WHERE id = ? RETURNING `+jobColumns, status, errText, ms(now), jobID))
		return err
	})
	return j, o, err
}

// FailJob finishes the job as failed with the message. It returns
// ErrJobDone (nothing changed) when the job was finished already.
func (s *Store) FailJob(ctx context.Context, jobID, message string, now time.Time) (Job, error) {
	var j Job
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET status = ?, error = ?, updated_at = max(updated_at, ?)
			WHERE id = ? AND status IN (?, ?) RETURNING `+jobColumns, JobFailed, message, ms(now), jobID, JobPending, JobProcessing))
		if errors.Is(err, ErrNotFound) {
			var one int
			if tx.QueryRowContext(ctx, "SELECT 1 FROM jobs WHERE id = ?", jobID).Scan(&one) == nil {
				return ErrJobDone
			}
		}
		return err
	})
	return j, err
}
