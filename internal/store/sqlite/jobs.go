package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
)

// Jobs returns the store as the [jobs.Queue] of v2 jobs: a job's result is
// the memory it creates (a BatchItem, stored as [Store.InsertMemories]
// does), and explain gives the error of a job whose memory was not stored
// (a duplicate, or a missing session), which then fails. A job that is
// gone (deleted with its memory's user, say) is reported as
// [jobs.ErrLost], matching ErrNotFound too.
func (s *Store) Jobs(explain func(store.BatchOutcome) string) jobs.Queue[store.BatchItem] {
	return jobQueue{s: s, explain: explain}
}

type jobQueue struct {
	s       *Store
	explain func(store.BatchOutcome) string
}

var _ jobs.Queue[store.BatchItem] = jobQueue{}

const jobColumns = `id, memory_id, account_id, status, payload, error, webhook_url, attempts, created_at, updated_at, lease_owner, lease_expires`

// leaseHeld is the condition, on jobs, that a lease (3 arguments: id,
// owner, attempt) still holds its job.
const leaseHeld = `id = ? AND lease_owner = ? AND attempts = ? AND status = '` + jobs.Processing + `'`

func scanJob(r rowScanner) (jobs.Job, error) {
	var j jobs.Job
	var payload string
	var errText, hook, owner sql.NullString
	var created, updated, expires int64
	if err := r.Scan(&j.ID, &j.MemoryID, &j.AccountID, &j.Status, &payload, &errText, &hook, &j.Attempts, &created, &updated, &owner, &expires); err != nil {
		return jobs.Job{}, err
	}
	j.Payload = []byte(payload)
	j.Error, j.WebhookURL = fromNullString(errText), fromNullString(hook)
	j.CreatedAt, j.UpdatedAt = fromMS(created), fromMS(updated)
	j.LeaseOwner, j.LeaseExpires = owner.String, fromMS(expires)
	return j, nil
}

// InsertJob stores a new job. j.Status is normally jobs.Pending.
func (s *Store) InsertJob(ctx context.Context, j jobs.Job) error {
	return s.write(ctx, func(tx *sql.Tx) error { return insertJob(ctx, tx, j) })
}

func insertJob(ctx context.Context, tx *sql.Tx, j jobs.Job) error {
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
}

// JobByMemory returns the account's job that creates the memory, or
// ErrNotFound.
func (s *Store) JobByMemory(ctx context.Context, accountID, memoryID string) (jobs.Job, error) {
	return queryOne(ctx, s.q(ctx), scanJob, "SELECT "+jobColumns+" FROM jobs WHERE account_id = ? AND memory_id = ?", accountID, memoryID)
}

// JobByID returns the account's job with the id, or ErrNotFound.
func (s *Store) JobByID(ctx context.Context, accountID, id string) (jobs.Job, error) {
	return queryOne(ctx, s.q(ctx), scanJob, "SELECT "+jobColumns+" FROM jobs WHERE account_id = ? AND id = ?", accountID, id)
}

// SessionExists reports whether the account has the session.
func (s *Store) SessionExists(ctx context.Context, accountID, sessionID string) (bool, error) {
	err := checkSession(ctx, s.q(ctx), accountID, sessionID)
	if errors.Is(err, store.ErrSessionNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Claim claims a job for owner until now+lease and returns it, with the
// attempt counted; ok is false when there is nothing to claim. The job is
// the oldest processing one whose lease has expired (its claimant died or
// stalled), else the oldest pending one. The claim is one UPDATE in an
// IMMEDIATE transaction, so two claimants, in this process or another,
// never get the same lease.
func (q jobQueue) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration) (j jobs.Job, ok bool, err error) {
	err = q.s.write(ctx, func(tx *sql.Tx) error {
		j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = ?, attempts = attempts + 1, lease_owner = ?, lease_expires = ?,
				updated_at = max(updated_at, ?)
			WHERE id = coalesce(
				(SELECT id FROM jobs WHERE status = ? AND lease_expires <= ? ORDER BY created_at, rowid LIMIT 1),
				(SELECT id FROM jobs WHERE status = ? ORDER BY created_at, rowid LIMIT 1))
			RETURNING `+jobColumns,
			jobs.Processing, owner, ms(now.Add(lease)), ms(now), jobs.Processing, ms(now), jobs.Pending)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Job{}, false, nil
	}
	return j, err == nil, err
}

// NextExpiry returns the earliest end of a processing job's lease: when a
// job whose claimant has gone away becomes claimable. ok is false when no
// job is processing.
func (q jobQueue) NextExpiry(ctx context.Context) (t time.Time, ok bool, err error) {
	v, err := queryValue[sql.NullInt64](ctx, q.s.q(ctx), "SELECT min(lease_expires) FROM jobs WHERE status = ?", jobs.Processing)
	if err != nil {
		return time.Time{}, false, err
	}
	if !v.Valid {
		return time.Time{}, false, nil
	}
	return fromMS(v.Int64), true, nil
}

// Renew extends the lease to until. When the lease no longer holds the
// job, nothing changes and the error says why: jobs.ErrDone (finished) or
// jobs.ErrLost (another claim's, handed back, or deleted: then it matches
// ErrNotFound too).
func (q jobQueue) Renew(ctx context.Context, l jobs.Lease, until time.Time) error {
	return q.s.write(ctx, func(tx *sql.Tx) error {
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
			return jobs.ErrLost // not reached: the UPDATE saw the same row
		}
		return nil
	})
}

// Release hands the lease's job back to the queue, pending and claimable
// at once, without counting the attempt, for work that was cancelled
// cleanly. A lease that no longer holds its job changes nothing.
func (q jobQueue) Release(ctx context.Context, l jobs.Lease, now time.Time) error {
	return q.s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET status = ?, attempts = max(attempts - 1, 0), lease_owner = NULL, lease_expires = 0,
				updated_at = max(updated_at, ?)
			WHERE `+leaseHeld, jobs.Pending, ms(now), l.JobID, l.Owner, l.Attempt)
		return err
	})
}

// checkLease reports, inside a write transaction, why the lease cannot
// finish its job: jobs.ErrDone (finished) or jobs.ErrLost (claimed again,
// handed back, or gone: then matching ErrNotFound too); nil if it still
// holds it.
func checkLease(ctx context.Context, tx *sql.Tx, l jobs.Lease) error {
	var status string
	var owner sql.NullString
	var attempts int
	if err := tx.QueryRowContext(ctx, "SELECT status, lease_owner, attempts FROM jobs WHERE id = ?", l.JobID).Scan(&status, &owner, &attempts); err != nil {
		if err = notFound(err); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %w", jobs.ErrLost, err)
		}
		return err
	}
	switch {
	case status == jobs.Ready || status == jobs.Failed:
		return jobs.ErrDone
	case status != jobs.Processing || owner.String != l.Owner || attempts != l.Attempt:
		return jobs.ErrLost
	}
	return nil
}

// Complete stores the job's memory (item, as in [Store.InsertMemories])
// and finishes the job in the same transaction: ready when the memory was
// stored, failed with the text explain gives for the outcome otherwise (a
// duplicate or a missing session). It returns the finished job. Only the
// lease that holds the job may finish it: otherwise nothing changes and
// the error is jobs.ErrDone (finished already) or jobs.ErrLost.
func (q jobQueue) Complete(ctx context.Context, l jobs.Lease, item store.BatchItem, now time.Time) (jobs.Job, error) {
	var j jobs.Job
	err := q.s.write(ctx, func(tx *sql.Tx) error {
		if err := checkLease(ctx, tx, l); err != nil {
			return err
		}
		if pending, err := exists(ctx, tx, "SELECT 1 FROM memories WHERE account_id = ? AND id = ?", item.Memory.AccountID, item.Memory.ID); err != nil {
			return err
		} else if pending {
			var err error
			j, err = q.completePending(ctx, tx, l, item, now)
			return err
		}
		// A job queued before memories were stored at accept time: its
		// memory is stored now.
		o, err := q.s.insertItem(ctx, tx, &item, map[string]agentRow{})
		if errors.Is(err, store.ErrSessionNotFound) {
			o.Err, err = err, nil
		}
		if err != nil {
			return err
		}
		status, errText := jobs.Ready, sql.NullString{}
		if o.Err != nil || o.DuplicateID != "" {
			status, errText = jobs.Failed, sql.NullString{String: q.explain(o), Valid: true}
		}
		j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = ?, error = ?, updated_at = max(updated_at, ?)
			WHERE id = ? RETURNING `+jobColumns, status, errText, ms(now), l.JobID)
		return err
	})
	return j, err
}

// completePending finishes the job of a memory stored at accept time
// (InsertPendingMemory): it writes the memory's index entries, so that
// searches find it, and the job is ready. With deduplication, a memory of
// the same agent at least as similar as the threshold makes it a
// duplicate: the accepted memory is deleted and the job fails saying of
// which memory it was a duplicate (its payload cleared: the content is
// gone with the memory).
func (q jobQueue) completePending(ctx context.Context, tx *sql.Tx, l jobs.Lease, item store.BatchItem, now time.Time) (jobs.Job, error) {
	m := item.Memory
	var seq int64
	var agentKey string
	if err := tx.QueryRowContext(ctx, "SELECT seq, agent_id FROM memories WHERE account_id = ? AND id = ?", m.AccountID, m.ID).Scan(&seq, &agentKey); err != nil {
		return jobs.Job{}, err
	}
	if item.Dedup {
		id, score, ok, err := nearestInAgent(ctx, tx, m.AccountID, agentKey, item.Index.Vector)
		if err != nil {
			return jobs.Job{}, err
		}
		if ok && score >= item.DedupThreshold-dedupSlack {
			j, err := queryOne(ctx, tx, scanJob, "SELECT "+jobColumns+" FROM jobs WHERE id = ?", l.JobID)
			if err != nil {
				return jobs.Job{}, err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM memories WHERE seq = ?", seq); err != nil { // takes the job (trigger)
				return jobs.Job{}, err
			}
			msg := q.explain(store.BatchOutcome{DuplicateID: id, Score: score})
			j.Status, j.Error, j.Payload, j.UpdatedAt = jobs.Failed, &msg, []byte("{}"), maxTime(j.UpdatedAt, now)
			j.LeaseOwner, j.LeaseExpires = "", time.Time{}
			if err := insertJob(ctx, tx, j); err != nil {
				return jobs.Job{}, err
			}
			return j, nil
		}
	}
	if err := writeIndex(ctx, tx, seq, q.s.encode(item.Index.Vector), item.Index.Terms, false); err != nil {
		return jobs.Job{}, err
	}
	if m.ExtractionStatus != nil {
		if err := linkExtracted(ctx, tx, m.AccountID, m.ID, item.Extracted, now); err != nil {
			return jobs.Job{}, err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE memories SET extraction_status = ?, extraction_method = ?, extraction_model = ? WHERE seq = ?",
			nullString(m.ExtractionStatus), nullString(m.ExtractionMethod), nullString(m.ExtractionModel), seq); err != nil {
			return jobs.Job{}, err
		}
	}
	return queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = ?, error = NULL, updated_at = max(updated_at, ?)
		WHERE id = ? RETURNING `+jobColumns, jobs.Ready, ms(now), l.JobID)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Fail finishes the lease's job as failed with the message. Only the lease
// that holds the job may: otherwise nothing changes and the error is
// jobs.ErrDone or jobs.ErrLost, as for Complete.
func (q jobQueue) Fail(ctx context.Context, l jobs.Lease, message string, now time.Time) (jobs.Job, error) {
	var j jobs.Job
	err := q.s.write(ctx, func(tx *sql.Tx) error {
		if err := checkLease(ctx, tx, l); err != nil {
			return err
		}
		var err error
		j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = ?, error = ?, updated_at = max(updated_at, ?)
			WHERE id = ? RETURNING `+jobColumns, jobs.Failed, message, ms(now), l.JobID)
		return err
	})
	return j, err
}
