package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
)

// Jobs returns the store as the [jobs.Queue] of v2 jobs, shared by every
// node on the database: a job's result is the memory it creates (a
// BatchItem, stored as [Store.InsertMemories] does), and explain gives the
// error of a job whose memory was not stored (a duplicate, or a missing
// session), which then fails. A job that is gone (deleted with its
// memory's user, say) is reported as [jobs.ErrLost], matching ErrNotFound
// too.
//
// A claim is a lease: an owner (each node's runner has its own) and an
// expiry. Claim takes the oldest job whose lease expired, else the oldest
// pending one, with FOR UPDATE SKIP LOCKED, so nodes claiming at once
// take different jobs and never wait on each other; Complete and Fail
// lock the job's row and check the lease first, so a job is finished
// once, by the claim that holds it, even when a node that lost its lease
// (stalled, or cut off past the expiry) comes back.
func (s *Store) Jobs(explain func(store.BatchOutcome) string) jobs.Queue[store.BatchItem] {
	return jobQueue{s: s, explain: explain}
}

type jobQueue struct {
	s       *Store
	explain func(store.BatchOutcome) string
}

var _ jobs.Queue[store.BatchItem] = jobQueue{}

const jobColumns = `id, memory_id, account_id, status, payload, error, webhook_url, attempts, created_at, updated_at, lease_owner, lease_expires`

// leaseHeld is the condition, on jobs, that a lease ($1 id, $2 owner, $3
// attempt) still holds its job.
const leaseHeld = `id = $1 AND lease_owner = $2 AND attempts = $3 AND status = '` + jobs.Processing + `'`

func scanJob(r rowScanner) (jobs.Job, error) {
	var j jobs.Job
	var payload string
	var owner *string
	var created, updated, expires int64
	if err := r.Scan(&j.ID, &j.MemoryID, &j.AccountID, &j.Status, &payload, &j.Error, &j.WebhookURL, &j.Attempts, &created, &updated, &owner, &expires); err != nil {
		return jobs.Job{}, err
	}
	j.Payload = []byte(payload)
	j.CreatedAt, j.UpdatedAt = fromMS(created), fromMS(updated)
	if owner != nil {
		j.LeaseOwner = *owner
	}
	j.LeaseExpires = fromMS(expires)
	return j, nil
}

// InsertJob stores a new job. j.Status is normally jobs.Pending.
func (s *Store) InsertJob(ctx context.Context, j jobs.Job) error {
	return s.write(ctx, func(tx pgx.Tx) error { return insertJob(ctx, tx, j) })
}

func insertJob(ctx context.Context, tx pgx.Tx, j jobs.Job) error {
	var owner *string
	if j.LeaseOwner != "" {
		owner = &j.LeaseOwner
	}
	var expires int64
	if !j.LeaseExpires.IsZero() {
		expires = ms(j.LeaseExpires)
	}
	_, err := tx.Exec(ctx, `INSERT INTO jobs(`+jobColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		j.ID, j.MemoryID, j.AccountID, j.Status, string(j.Payload), j.Error, j.WebhookURL,
		j.Attempts, ms(j.CreatedAt), ms(j.UpdatedAt), owner, expires)
	return err
}

// JobByMemory returns the account's job that creates the memory, or
// ErrNotFound.
func (s *Store) JobByMemory(ctx context.Context, accountID, memoryID string) (jobs.Job, error) {
	return s.job(ctx, "SELECT "+jobColumns+" FROM jobs WHERE account_id = $1 AND memory_id = $2", accountID, memoryID)
}

// JobByID returns the account's job with the id, or ErrNotFound.
func (s *Store) JobByID(ctx context.Context, accountID, id string) (jobs.Job, error) {
	return s.job(ctx, "SELECT "+jobColumns+" FROM jobs WHERE account_id = $1 AND id = $2", accountID, id)
}

func (s *Store) job(ctx context.Context, query string, args ...any) (jobs.Job, error) {
	var j jobs.Job
	err := s.do(ctx, func(q querier) error {
		var err error
		j, err = queryOne(ctx, q, scanJob, query, args...)
		return err
	})
	return j, err
}

// deletePendingJobsForAgent removes the account's jobs that have not yet
// stored their memory and name the agent (by id or name) in their payload.
func deletePendingJobsForAgent(ctx context.Context, q querier, accountID, agentID, agentName string) error {
	_, err := q.Exec(ctx, `DELETE FROM jobs WHERE account_id = $1 AND status IN ('pending', 'processing')
		AND payload::jsonb #>> '{memory,AgentID}' IN ($2, $3)`, accountID, agentID, agentName)
	return err
}

// Claim claims a job for owner until now+lease and returns it, with the
// attempt counted; ok is false when there is nothing to claim. The job is
// the oldest processing one whose lease has expired (its claimant died or
// stalled), else the oldest pending one. Rows another claimant has locked
// are skipped, so that claimants on several nodes never get the same
// lease nor wait for one another.
func (q jobQueue) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration) (j jobs.Job, ok bool, err error) {
	err = q.s.write(ctx, func(tx pgx.Tx) error {
		for _, pick := range []string{
			`SELECT id FROM jobs WHERE status = '` + jobs.Processing + `' AND lease_expires <= $4 ORDER BY created_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
			`SELECT id FROM jobs WHERE status = '` + jobs.Pending + `' ORDER BY created_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
		} {
			j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = $1, attempts = attempts + 1, lease_owner = $2, lease_expires = $3,
					updated_at = greatest(updated_at, $4)
				WHERE id = (`+pick+`) RETURNING `+jobColumns,
				jobs.Processing, owner, ms(now.Add(lease)), ms(now))
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
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
	var v *int64
	err = q.s.do(ctx, func(qr querier) error {
		return qr.QueryRow(ctx, "SELECT min(lease_expires) FROM jobs WHERE status = $1", jobs.Processing).Scan(&v)
	})
	if err != nil || v == nil {
		return time.Time{}, false, err
	}
	return fromMS(*v), true, nil
}

// Renew extends the lease to until. When the lease no longer holds the
// job, nothing changes and the error says why: jobs.ErrDone (finished) or
// jobs.ErrLost (another claim's, handed back, or deleted: then it matches
// ErrNotFound too).
func (q jobQueue) Renew(ctx context.Context, l jobs.Lease, until time.Time) error {
	return q.s.write(ctx, func(tx pgx.Tx) error {
		n, err := affected(tx.Exec(ctx, `UPDATE jobs SET lease_expires = $4 WHERE `+leaseHeld, l.JobID, l.Owner, l.Attempt, ms(until)))
		if err != nil || n == 1 {
			return err
		}
		if err := checkLease(ctx, tx, l); err != nil {
			return err
		}
		return jobs.ErrLost // not reached: the row is locked by the UPDATE's check
	})
}

// Release hands the lease's job back to the queue, pending and claimable
// at once, without counting the attempt, for work that was cancelled
// cleanly. A lease that no longer holds its job changes nothing.
func (q jobQueue) Release(ctx context.Context, l jobs.Lease, now time.Time) error {
	return q.s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE jobs SET status = $4, attempts = greatest(attempts - 1, 0), lease_owner = NULL, lease_expires = 0,
				updated_at = greatest(updated_at, $5)
			WHERE `+leaseHeld, l.JobID, l.Owner, l.Attempt, jobs.Pending, ms(now))
		return err
	})
}

// checkLease locks the lease's job and reports why the lease cannot
// finish it: jobs.ErrDone (finished) or jobs.ErrLost (claimed again,
// handed back, or gone: then matching ErrNotFound too); nil if it still
// holds it, which it then does until the transaction ends.
func checkLease(ctx context.Context, tx pgx.Tx, l jobs.Lease) error {
	var status string
	var owner *string
	var attempts int
	if err := tx.QueryRow(ctx, "SELECT status, lease_owner, attempts FROM jobs WHERE id = $1 FOR UPDATE", l.JobID).Scan(&status, &owner, &attempts); err != nil {
		if err = notFound(err); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %w", jobs.ErrLost, err)
		}
		return err
	}
	switch {
	case status == jobs.Ready || status == jobs.Failed:
		return jobs.ErrDone
	case status != jobs.Processing || owner == nil || *owner != l.Owner || attempts != l.Attempt:
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
	err := q.s.write(ctx, func(tx pgx.Tx) error {
		if err := checkLease(ctx, tx, l); err != nil {
			return err
		}
		if pending, err := exists(ctx, tx, "SELECT 1 FROM memories WHERE account_id = $1 AND id = $2", item.Memory.AccountID, item.Memory.ID); err != nil {
			return err
		} else if pending {
			var err error
			j, err = q.completePending(ctx, tx, l, item, now)
			return err
		}
		// A job queued before memories were stored at accept time: its
		// memory is stored now.
		o, err := insertItem(ctx, tx, &item, map[string]agentRow{})
		if errors.Is(err, store.ErrSessionNotFound) {
			o.Err, err = err, nil
		}
		if err != nil {
			return err
		}
		status, errText := jobs.Ready, (*string)(nil)
		if o.Err != nil || o.DuplicateID != "" {
			msg := q.explain(o)
			status, errText = jobs.Failed, &msg
		}
		j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = $1, error = $2, updated_at = greatest(updated_at, $3)
			WHERE id = $4 RETURNING `+jobColumns, status, errText, ms(now), l.JobID)
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
// gone with the memory). The agent's row is locked first, as
// insertItem's deduplication does, so that nodes take turns.
func (q jobQueue) completePending(ctx context.Context, tx pgx.Tx, l jobs.Lease, item store.BatchItem, now time.Time) (jobs.Job, error) {
	m := item.Memory
	var seq int64
	var agentKey string
	if err := tx.QueryRow(ctx, "SELECT seq, agent_id FROM memories WHERE account_id = $1 AND id = $2", m.AccountID, m.ID).Scan(&seq, &agentKey); err != nil {
		return jobs.Job{}, err
	}
	if item.Dedup {
		if _, err := tx.Exec(ctx, "SELECT 1 FROM agents WHERE id = $1 FOR UPDATE", agentKey); err != nil {
			return jobs.Job{}, err
		}
		id, score, ok, err := nearestInAgent(ctx, tx, m.AccountID, agentKey, item.Index.Vector)
		if err != nil {
			return jobs.Job{}, err
		}
		if ok && score >= item.DedupThreshold-dedupSlack {
			j, err := queryOne(ctx, tx, scanJob, "SELECT "+jobColumns+" FROM jobs WHERE id = $1", l.JobID)
			if err != nil {
				return jobs.Job{}, err
			}
			if _, err := tx.Exec(ctx, "DELETE FROM memories WHERE seq = $1", seq); err != nil { // takes the job (trigger)
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
	if err := writeIndex(ctx, tx, seq, encodeVector(item.Index.Vector), item.Index.Terms); err != nil {
		return jobs.Job{}, err
	}
	if m.ExtractionStatus != nil {
		if err := linkExtracted(ctx, tx, m.AccountID, m.ID, item.Extracted, now); err != nil {
			return jobs.Job{}, err
		}
		if _, err := tx.Exec(ctx, "UPDATE memories SET extraction_status = $1, extraction_method = $2, extraction_model = $3 WHERE seq = $4",
			m.ExtractionStatus, m.ExtractionMethod, m.ExtractionModel, seq); err != nil {
			return jobs.Job{}, err
		}
	}
	return queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = $1, error = NULL, updated_at = greatest(updated_at, $2)
		WHERE id = $3 RETURNING `+jobColumns, jobs.Ready, ms(now), l.JobID)
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
	err := q.s.write(ctx, func(tx pgx.Tx) error {
		if err := checkLease(ctx, tx, l); err != nil {
			return err
		}
		var err error
		j, err = queryOne(ctx, tx, scanJob, `UPDATE jobs SET status = $1, error = $2, updated_at = greatest(updated_at, $3)
			WHERE id = $4 RETURNING `+jobColumns, jobs.Failed, message, ms(now), l.JobID)
		return err
	})
	return j, err
}

// JobQueueState counts the queued and claimed v2 jobs of every account.
func (s *Store) JobQueueState(ctx context.Context) (store.JobQueue, error) {
	var q store.JobQueue
	var oldest *int64
	err := s.do(ctx, func(qr querier) error {
		return qr.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM jobs WHERE status = $1),
			(SELECT count(*) FROM jobs WHERE status = $2),
			(SELECT min(created_at) FROM jobs WHERE status = $1)`, jobs.Pending, jobs.Processing).
			Scan(&q.Pending, &q.Processing, &oldest)
	})
	if oldest != nil {
		q.OldestPending = fromMS(*oldest)
	}
	return q, err
}
