package sqlite

import (
	"context"
	"database/sql"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
)

// Damaged returns nil while the database is not known to be damaged, and
// otherwise the first error that showed it was (it matches
// sqlitedb.ErrDamaged). Writes are refused from then on.
func (s *Store) Damaged() error { return s.db.Damaged() }

// WriteProblems lists what would make writes to the database fail soon:
// a read-only file, folder or file system, or less than minFree bytes
// free. It returns nil when there is none.
func (s *Store) WriteProblems(minFree uint64) []string {
	return sqlitedb.WriteProblems(s.path, minFree)
}

// CheckRead reads a row of a real table, so that the schema and a page of
// the file are read: the read side of a health check.
func (s *Store) CheckRead(ctx context.Context) error {
	_, err := queryValue[int](ctx, s.q(ctx), "SELECT count(*) FROM (SELECT 1 FROM meta LIMIT 1)")
	return err
}

// JobQueueState counts the queued and claimed v2 jobs of every account
// (an index range scan of jobs_status).
func (s *Store) JobQueueState(ctx context.Context) (store.JobQueue, error) {
	var q store.JobQueue
	var oldest sql.NullInt64
	err := queryRow(ctx, s.q(ctx), `SELECT
		(SELECT count(*) FROM jobs WHERE status = ?),
		(SELECT count(*) FROM jobs WHERE status = ?),
		(SELECT min(created_at) FROM jobs WHERE status = ?)`, jobs.Pending, jobs.Processing, jobs.Pending).
		Scan(&q.Pending, &q.Processing, &oldest)
	if oldest.Valid {
		q.OldestPending = fromMS(oldest.Int64)
	}
	return q, err
}
