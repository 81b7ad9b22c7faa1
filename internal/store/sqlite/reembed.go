package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

var embeddedText = map[string]struct{ text, update string }{
	"memories":  {"content", "UPDATE memory_vectors SET embedding = ? WHERE seq = ?"},
	"decisions": {"title || char(10) || char(10) || rationale", "UPDATE decisions SET embedding = ? WHERE rowid = ?"},
	"patterns":  {"title || char(10) || char(10) || description", "UPDATE patterns SET embedding = ? WHERE rowid = ?"},
}

// TextsAfter returns up to limit rows of table after rowid, in rowid order,
// with the text their embedding is made of.
func (s *Store) TextsAfter(ctx context.Context, table string, after int64, limit int) ([]store.TextRow, error) {
	t, ok := embeddedText[table]
	if !ok {
		return nil, fmt.Errorf("store: %q has no embeddings", table)
	}
	return queryAll(ctx, s.q(ctx), func(r rowScanner) (store.TextRow, error) {
		var t store.TextRow
		err := r.Scan(&t.RowID, &t.Text)
		return t, err
	}, "SELECT rowid, "+t.text+" FROM "+table+" WHERE rowid > ? ORDER BY rowid LIMIT ?", after, limit)
}

// SetEmbeddings writes new embeddings of table's rows and records the last
// rowid done under the meta key checkpoint, in one transaction, so that an
// interrupted re-embedding resumes after the last batch it committed.
func (s *Store) SetEmbeddings(ctx context.Context, table string, rowIDs []int64, vectors [][]float32, checkpoint string) error {
	t, ok := embeddedText[table]
	if !ok {
		return fmt.Errorf("store: %q has no embeddings", table)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, t.update)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, id := range rowIDs {
			blob := EncodeVector(vectors[i])
			if table == "memories" { // memory_vectors, in the store's encoding
				blob = s.encode(vectors[i])
			}
			if _, err := st.ExecContext(ctx, blob, id); err != nil {
				return err
			}
		}
		if len(rowIDs) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
			checkpoint, strconv.FormatInt(rowIDs[len(rowIDs)-1], 10))
		return err
	})
}

// SetMeta stores value under key, replacing any value there.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
		return err
	})
}

// FinishMeta sets key to value and deletes the keys in drop, in one
// transaction.
func (s *Store) FinishMeta(ctx context.Context, key, value string, drop ...string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value); err != nil {
			return err
		}
		for _, k := range drop {
			if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", k); err != nil {
				return err
			}
		}
		return nil
	})
}

// MetaKeys lists the meta keys that start with prefix.
func (s *Store) MetaKeys(ctx context.Context, prefix string) ([]string, error) {
	return queryAll(ctx, s.q(ctx), scanValue[string], "SELECT key FROM meta WHERE substr(key, 1, ?) = ?", len(prefix), prefix)
}
