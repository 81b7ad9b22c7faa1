package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrateLock is the key of the session advisory lock that lets one
// process at a time migrate the schema.
const migrateLock = 0x6d656d6d69677261 // "memmigra"

// SchemaVersion is the schema version this package writes: the number of
// its migrations.
func SchemaVersion() int { return len(migrations) }

// migrate applies the migrations the database lacks, each in a
// transaction of its own, holding the migration lock meanwhile.
// A database already at this binary's version is opened without a
// write (a hot standby, or a read-only database, opens too).
func (s *Store) migrate(ctx context.Context) error {
	var version int
	var present bool
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass('schema_version') IS NOT NULL").Scan(&present); err != nil {
		return classify(ctx, err)
	}
	if present {
		err := s.pool.QueryRow(ctx, "SELECT version FROM schema_version").Scan(&version)
		if err == nil && version == len(migrations) {
			return nil
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return classify(ctx, err)
		}
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return classify(ctx, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLock)); err != nil {
		return classify(ctx, err)
	}
	defer func() {
		// A broken connection drops its session locks by itself.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLock))
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
	version integer NOT NULL,
	one     boolean PRIMARY KEY DEFAULT true CHECK (one)
)`); err != nil {
		return classify(ctx, err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO schema_version (version) VALUES (0) ON CONFLICT DO NOTHING"); err != nil {
		return classify(ctx, err)
	}
	if err := conn.QueryRow(ctx, "SELECT version FROM schema_version").Scan(&version); err != nil {
		return classify(ctx, err)
	}
	if version > len(migrations) {
		return fmt.Errorf("the database's schema version %d is newer than this binary's (%d): upgrade the binary", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			_, err := tx.Exec(ctx, "UPDATE schema_version SET version = $1", v+1)
			return err
		})
		if err != nil {
			return classify(ctx, err)
		}
	}
	return nil
}
