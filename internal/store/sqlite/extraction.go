package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// migrationExtractionKeys adds the bring-your-own keys of the LLM entity
// extractor (API.md §10.7): at most one active per account.
const migrationExtractionKeys = `
CREATE TABLE extraction_keys (
	id                TEXT PRIMARY KEY,
	account_id        TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	provider          TEXT NOT NULL,
	label             TEXT,
	model             TEXT NOT NULL,
	base_url          TEXT,
	sealed            BLOB NOT NULL,
	masked            TEXT NOT NULL,
	active            INTEGER NOT NULL DEFAULT 0,
	last_validated_at INTEGER,
	last_used_at      INTEGER,
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL
);
CREATE INDEX extraction_keys_account ON extraction_keys(account_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX extraction_keys_active ON extraction_keys(account_id) WHERE active = 1;
`

const extractionKeyColumns = `id, account_id, provider, label, model, base_url, sealed, masked, active, last_validated_at, last_used_at, created_at, updated_at`

func scanExtractionKey(r rowScanner) (store.ExtractionKey, error) {
	var k store.ExtractionKey
	var label, base sql.NullString
	var validated, used sql.NullInt64
	var created, updated int64
	if err := r.Scan(&k.ID, &k.AccountID, &k.Provider, &label, &k.Model, &base, &k.Sealed, &k.Masked, &k.Active,
		&validated, &used, &created, &updated); err != nil {
		return store.ExtractionKey{}, err
	}
	k.Label, k.BaseURL = fromNullString(label), fromNullString(base)
	k.LastValidatedAt, k.LastUsedAt = fromNullMS(validated), fromNullMS(used)
	k.CreatedAt, k.UpdatedAt = fromMS(created), fromMS(updated)
	return k, nil
}

// CreateExtractionKey stores a new key of k.AccountID; an active one
// deactivates the account's others in the same transaction.
func (s *Store) CreateExtractionKey(ctx context.Context, k store.ExtractionKey) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if k.Active {
			if _, err := tx.ExecContext(ctx, "UPDATE extraction_keys SET active = 0, updated_at = ? WHERE account_id = ? AND active = 1", ms(k.UpdatedAt), k.AccountID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO extraction_keys(`+extractionKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.AccountID, k.Provider, nullString(k.Label), k.Model, nullString(k.BaseURL), k.Sealed, k.Masked, k.Active,
			nullMS(k.LastValidatedAt), nullMS(k.LastUsedAt), ms(k.CreatedAt), ms(k.UpdatedAt))
		return err
	})
}

// ExtractionKey returns the account's key, or ErrNotFound.
func (s *Store) ExtractionKey(ctx context.Context, accountID, id string) (store.ExtractionKey, error) {
	return queryOne(ctx, s.q(ctx), scanExtractionKey, "SELECT "+extractionKeyColumns+" FROM extraction_keys WHERE account_id = ? AND id = ?", accountID, id)
}

// ExtractionKeys returns the account's keys, newest first (an account
// has few: the caller bounds how many it may store).
func (s *Store) ExtractionKeys(ctx context.Context, accountID string) ([]store.ExtractionKey, error) {
	return queryAll(ctx, s.q(ctx), scanExtractionKey, "SELECT "+extractionKeyColumns+" FROM extraction_keys WHERE account_id = ? ORDER BY created_at DESC, id DESC", accountID)
}

// ActiveExtractionKey returns the account's active key, or ErrNotFound.
func (s *Store) ActiveExtractionKey(ctx context.Context, accountID string) (store.ExtractionKey, error) {
	return queryOne(ctx, s.q(ctx), scanExtractionKey, "SELECT "+extractionKeyColumns+" FROM extraction_keys WHERE account_id = ? AND active = 1", accountID)
}

// ActivateExtractionKey makes the key the account's only active one and
// returns it; ErrNotFound if there is none.
func (s *Store) ActivateExtractionKey(ctx context.Context, accountID, id string, now time.Time) (store.ExtractionKey, error) {
	var out store.ExtractionKey
	err := s.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM extraction_keys WHERE account_id = ? AND id = ?", accountID, id); err != nil || !ok {
			if err == nil {
				err = store.ErrNotFound
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE extraction_keys SET active = 0, updated_at = ? WHERE account_id = ? AND active = 1 AND id != ?", ms(now), accountID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE extraction_keys SET active = 1, updated_at = ? WHERE account_id = ? AND id = ? AND active = 0", ms(now), accountID, id); err != nil {
			return err
		}
		var err error
		out, err = queryOne(ctx, tx, scanExtractionKey, "SELECT "+extractionKeyColumns+" FROM extraction_keys WHERE id = ?", id)
		return err
	})
	return out, err
}

// DeactivateExtractionKeys deactivates every key of the account and
// returns how many were active.
func (s *Store) DeactivateExtractionKeys(ctx context.Context, accountID string, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE extraction_keys SET active = 0, updated_at = ? WHERE account_id = ? AND active = 1", ms(now), accountID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// DeleteExtractionKey deletes the account's key; ErrNotFound if none.
func (s *Store) DeleteExtractionKey(ctx context.Context, accountID, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM extraction_keys WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// TouchExtractionKey records a use (and, when validated, a successful
// validation) of the key at now.
func (s *Store) TouchExtractionKey(ctx context.Context, accountID, id string, now time.Time, validated bool) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		q := "UPDATE extraction_keys SET last_used_at = max(coalesce(last_used_at, 0), ?)"
		if validated {
			q += ", last_validated_at = max(coalesce(last_validated_at, 0), ?)"
		}
		args := []any{ms(now)}
		if validated {
			args = append(args, ms(now))
		}
		_, err := tx.ExecContext(ctx, q+" WHERE account_id = ? AND id = ?", append(args, accountID, id)...)
		return err
	})
}
