package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// AddKeyUsage adds the counts to the stored per-key, per-day totals in one
// transaction. Counts of keys that no longer exist are dropped.
func (s *Store) AddKeyUsage(ctx context.Context, batch []store.Usage) error {
	if len(batch) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO key_usage(key_id, day, count)
			SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?1)
			ON CONFLICT(key_id, day) DO UPDATE SET count = key_usage.count + excluded.count`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, u := range batch {
			if _, err := stmt.ExecContext(ctx, u.KeyID, u.Day, u.Count); err != nil {
				return err
			}
		}
		return nil
	})
}

// KeyUsage returns the stored count of requests made with the key on the
// day (YYYY-MM-DD, UTC); 0 when there is none.
func (s *Store) KeyUsage(ctx context.Context, keyID, day string) (int64, error) {
	n, err := queryValue[int64](ctx, s.q(ctx), "SELECT count FROM key_usage WHERE key_id = ? AND day = ?", keyID, day)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return n, err
}
