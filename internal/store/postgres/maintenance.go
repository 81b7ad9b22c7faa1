package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// The store's own upkeep: usage counters, meta, re-embedding, health,
// backup and compaction.

// AddKeyUsage adds the counts to the stored per-key, per-day totals in one
// transaction; nodes adding to one key's count at once add up (each adds
// in one statement, INSERT … ON CONFLICT DO UPDATE SET count = count +
// excluded.count). Counts of keys that no longer exist are dropped. The
// rows are written in key order, so that two nodes' flushes never
// deadlock.
func (s *Store) AddKeyUsage(ctx context.Context, batch []store.Usage) error {
	if len(batch) == 0 {
		return nil
	}
	sum := map[[2]string]int64{}
	for _, u := range batch {
		sum[[2]string{u.KeyID, u.Day}] += u.Count
	}
	ks := make([][2]string, 0, len(sum))
	for k := range sum {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	ids, days, counts := make([]string, len(ks)), make([]string, len(ks)), make([]int64, len(ks))
	for i, k := range ks {
		ids[i], days[i], counts[i] = k[0], k[1], sum[k]
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO key_usage(key_id, day, count)
			SELECT u.id, u.day, u.n FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u(id, day, n, i)
			WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.id = u.id) ORDER BY u.i
			ON CONFLICT (key_id, day) DO UPDATE SET count = key_usage.count + excluded.count`, ids, days, counts)
		return err
	})
}

// KeyUsage returns the stored count of requests made with the key on the
// day (YYYY-MM-DD, UTC); 0 when there is none.
func (s *Store) KeyUsage(ctx context.Context, keyID, day string) (int64, error) {
	var n int64
	err := s.do(ctx, func(q querier) error {
		var err error
		n, err = queryValue[int64](ctx, q, "SELECT count FROM key_usage WHERE key_id = $1 AND day = $2", keyID, day)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	return n, err
}

// SetMeta stores value under key, replacing any value there.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.write(ctx, func(tx pgx.Tx) error { return setMeta(ctx, tx, key, value) })
}

func setMeta(ctx context.Context, q querier, key, value string) error {
	_, err := q.Exec(ctx, "INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	return err
}

// FinishMeta sets key to value and deletes the keys in drop, in one
// transaction.
func (s *Store) FinishMeta(ctx context.Context, key, value string, drop ...string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := setMeta(ctx, tx, key, value); err != nil {
			return err
		}
		if len(drop) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, "DELETE FROM meta WHERE key = ANY($1::text[])", drop)
		return err
	})
}

// MetaKeys lists the meta keys that start with prefix.
func (s *Store) MetaKeys(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	err := s.do(ctx, func(q querier) error {
		var err error
		out, err = queryAll(ctx, q, scanValue[string], "SELECT key FROM meta WHERE left(key, $1) = $2 ORDER BY key", len([]rune(prefix)), prefix)
		return err
	})
	return out, err
}

// embeddedText says, per table with embeddings, how a re-embedding walks
// it: its row number, the text its embedding is made of, and the update
// of one embedding ($1 the vector, $2 the row number).
var embeddedText = map[string]struct{ rowid, text, from, update string }{
	"memories":  {"seq", "content", "memories", "UPDATE memory_vectors SET embedding = $1 WHERE seq = $2"},
	"decisions": {"rowid", "title || E'\\n\\n' || rationale", "decisions", "UPDATE decisions SET embedding = $1 WHERE rowid = $2"},
	"patterns":  {"rowid", "title || E'\\n\\n' || description", "patterns", "UPDATE patterns SET embedding = $1 WHERE rowid = $2"},
}

// TextsAfter returns up to limit rows of table after row number after, in
// that order, with the text their embedding is made of.
func (s *Store) TextsAfter(ctx context.Context, table string, after int64, limit int) ([]store.TextRow, error) {
	t, ok := embeddedText[table]
	if !ok {
		return nil, fmt.Errorf("store: %q has no embeddings", table)
	}
	var out []store.TextRow
	err := s.do(ctx, func(q querier) error {
		var err error
		out, err = queryAll(ctx, q, func(r rowScanner) (store.TextRow, error) {
			var t store.TextRow
			err := r.Scan(&t.RowID, &t.Text)
			return t, err
		}, "SELECT "+t.rowid+", "+t.text+" FROM "+t.from+" WHERE "+t.rowid+" > $1 ORDER BY "+t.rowid+" LIMIT $2", after, limit)
		return err
	})
	return out, err
}

// SetEmbeddings writes new embeddings of table's rows and records the last
// row number done under the meta key checkpoint, in one transaction, so
// that an interrupted re-embedding resumes after the last batch it
// committed.
func (s *Store) SetEmbeddings(ctx context.Context, table string, rowIDs []int64, vectors [][]float32, checkpoint string) error {
	t, ok := embeddedText[table]
	if !ok {
		return fmt.Errorf("store: %q has no embeddings", table)
	}
	if len(rowIDs) != len(vectors) {
		return fmt.Errorf("store: %d rows and %d vectors", len(rowIDs), len(vectors))
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		if len(rowIDs) == 0 {
			return nil
		}
		var b pgx.Batch
		for i, id := range rowIDs {
			b.Queue(t.update, encodeVector(vectors[i]), id)
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		return setMeta(ctx, tx, checkpoint, strconv.FormatInt(rowIDs[len(rowIDs)-1], 10))
	})
}

// CheckRead reads a row of a real table: the read side of a health
// check. It also learns whether the server takes writes (a hot standby,
// or default_transaction_read_only, does not), which WriteProblems then
// reports.
func (s *Store) CheckRead(ctx context.Context) error {
	return s.do(ctx, func(q querier) error {
		var n int
		var recovery bool
		var ro string
		if err := q.QueryRow(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM meta LIMIT 1) x), pg_is_in_recovery(),
			current_setting('default_transaction_read_only')`).Scan(&n, &recovery, &ro); err != nil {
			return err
		}
		s.readOnly.Store(recovery || ro == "on")
		return nil
	})
}

// Damaged returns nil: PostgreSQL keeps its own files, and a damaged page
// is the error of the statement that meets it (store.ErrDamaged), not a
// state of the store.
func (s *Store) Damaged() error { return nil }

// WriteProblems lists what would make writes fail soon, as far as a client
// can tell: the server refusing writes (a hot standby, or read-only by
// configuration), as the last CheckRead found. Free space is the server's
// to watch (minFree is not used). Nil when there is none.
func (s *Store) WriteProblems(minFree uint64) []string {
	if s.readOnly.Load() {
		return []string{"the database server is read-only (a standby, or default_transaction_read_only)"}
	}
	return nil
}

// ErrBackupUnsupported is the error of Backup: it matches
// errors.ErrUnsupported.
var ErrBackupUnsupported = fmt.Errorf("postgres: Backup: %w: back up a PostgreSQL database with its own tools, pg_dump (a consistent logical copy) or base backups with WAL archiving (point-in-time recovery)", errors.ErrUnsupported)

// Backup is not supported: a copy of a database that several nodes share
// is the server's to make. It returns ErrBackupUnsupported.
func (s *Store) Backup(ctx context.Context, path string) error { return ErrBackupUnsupported }

// compactTables are the tables Compact rewrites: those that hold the
// content of memories or their traces.
var compactTables = []string{"memories", "memory_vectors", "memory_terms", "term_stats", "memory_changes", "jobs", "entity_links", "entities", "decisions", "patterns", "sessions"}

// Compact makes deletions final in the database's files: VACUUM FULL
// rewrites each table that holds memories' content (and its indexes)
// without the deleted rows, then a CHECKPOINT is asked for (it needs the
// pg_checkpoint role or a superuser; without it the server's own
// checkpoint follows within checkpoint_timeout). Each table is locked
// while it is rewritten: every node's reads and writes of it wait. The
// server's WAL, its archive and its backups keep what they kept: they are
// the operator's.
func (s *Store) Compact(ctx context.Context) error {
	for _, t := range compactTables {
		if err := s.exec(ctx, "VACUUM (FULL) "+t); err != nil {
			return err
		}
	}
	err := s.exec(ctx, "CHECKPOINT")
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient privilege
		return nil
	}
	return err
}
