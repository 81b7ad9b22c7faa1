package sqlite

import (
	"context"
	"database/sql"
)

// DeleteUserMemories removes every memory of the account with the user id,
// with their index rows, entity links and jobs (triggers and foreign keys),
// and returns how many there were.
func (s *Store) DeleteUserMemories(ctx context.Context, accountID, userID string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM memories WHERE account_id = ? AND user_id = ?", accountID, userID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// DeletePendingJobsForAgent removes the account's jobs that have not yet
// stored their memory and name the agent (by id or name) in their payload.
func deletePendingJobsForAgent(ctx context.Context, tx *sql.Tx, accountID, agentID, agentName string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE account_id = ? AND status IN ('pending', 'processing')
		AND json_extract(payload, '$.memory.AgentID') IN (?, ?)`, accountID, agentID, agentName)
	return err
}

// Compact rewrites the database so that deleted content is gone from the
// file, not only unreachable: the full-text index is merged into one
// segment (FTS4 otherwise keeps deleted terms until a merge), the file is
// vacuumed, and the WAL is checkpointed and truncated. It holds the write
// lock while it runs.
func (s *Store) Compact(ctx context.Context) error {
	for _, q := range []string{
		"INSERT INTO memory_fts(memory_fts) VALUES('optimize')",
		"VACUUM",
		"PRAGMA wal_checkpoint(TRUNCATE)",
	} {
		if _, err := s.db.W.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// UserMemoryIDs returns the ids of the account's memories whose user_id
// is userID.
func (s *Store) UserMemoryIDs(ctx context.Context, accountID, userID string) ([]string, error) {
	return queryAll(ctx, s.q(ctx), scanValue[string], "SELECT id FROM memories WHERE account_id = ? AND user_id = ? ORDER BY seq", accountID, userID)
}
