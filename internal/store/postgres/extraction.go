package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// The bring-your-own keys of the LLM entity extractor (API.md §10.7): at
// most one active per account (the partial unique index
// extraction_keys_active of migration 4).

const extractionKeyColumns = `id, account_id, provider, label, model, base_url, sealed, masked, active, last_validated_at, last_used_at, created_at, updated_at`

func scanExtractionKey(r rowScanner) (store.ExtractionKey, error) {
	var k store.ExtractionKey
	var validated, used *int64
	var created, updated int64
	if err := r.Scan(&k.ID, &k.AccountID, &k.Provider, &k.Label, &k.Model, &k.BaseURL, &k.Sealed, &k.Masked, &k.Active,
		&validated, &used, &created, &updated); err != nil {
		return store.ExtractionKey{}, err
	}
	k.LastValidatedAt, k.LastUsedAt = fromNullMS(validated), fromNullMS(used)
	k.CreatedAt, k.UpdatedAt = fromMS(created), fromMS(updated)
	return k, nil
}

// lockExtractionKeys takes the account's row lock, so that nodes changing
// which key of an account is active take turns (the partial unique index
// would otherwise fail one of two racing activations).
func lockExtractionKeys(ctx context.Context, tx pgx.Tx, accountID string) error {
	_, err := tx.Exec(ctx, "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", accountID)
	return err
}

// CreateExtractionKey stores a new key of k.AccountID; an active one
// deactivates the account's others in the same transaction.
func (s *Store) CreateExtractionKey(ctx context.Context, k store.ExtractionKey) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if k.Active {
			if err := lockExtractionKeys(ctx, tx, k.AccountID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE extraction_keys SET active = false, updated_at = $1 WHERE account_id = $2 AND active", ms(k.UpdatedAt), k.AccountID); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO extraction_keys(`+extractionKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			k.ID, k.AccountID, k.Provider, k.Label, k.Model, k.BaseURL, k.Sealed, k.Masked, k.Active,
			nullMS(k.LastValidatedAt), nullMS(k.LastUsedAt), ms(k.CreatedAt), ms(k.UpdatedAt))
		return err
	})
}

// ExtractionKey returns the account's key, or ErrNotFound.
func (s *Store) ExtractionKey(ctx context.Context, accountID, id string) (store.ExtractionKey, error) {
	var k store.ExtractionKey
	err := s.do(ctx, func(q querier) error {
		var err error
		k, err = queryOne(ctx, q, scanExtractionKey, "SELECT "+extractionKeyColumns+" FROM extraction_keys WHERE account_id = $1 AND id = $2", accountID, id)
		return err
	})
	return k, err
}

// ExtractionKeys returns the account's keys, newest first (an account
// has few: the caller bounds how many it may store).
func (s *Store) ExtractionKeys(ctx context.Context, accountID string) ([]store.ExtractionKey, error) {
	var out []store.ExtractionKey
	err := s.do(ctx, func(q querier) error {
		var err error
		out, err = queryAll(ctx, q, scanExtractionKey, "SELECT "+extractionKeyColumns+" FROM extraction_keys WHERE account_id = $1 ORDER BY created_at DESC, id DESC", accountID)
		return err
	})
	return out, err
}

// ActiveExtractionKey returns the account's active key, or ErrNotFound.
func (s *Store) ActiveExtractionKey(ctx context.Context, accountID string) (store.ExtractionKey, error) {
	var k store.ExtractionKey
	err := s.do(ctx, func(q querier) error {
		var err error
		k, err = queryOne(ctx, q, scanExtractionKey, "SELECT "+extractionKeyColumns+" FROM extraction_keys WHERE account_id = $1 AND active", accountID)
		return err
	})
	return k, err
}

// ActivateExtractionKey makes the key the account's only active one and
// returns it; ErrNotFound if there is none.
func (s *Store) ActivateExtractionKey(ctx context.Context, accountID, id string, now time.Time) (store.ExtractionKey, error) {
	var out store.ExtractionKey
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lockExtractionKeys(ctx, tx, accountID); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM extraction_keys WHERE account_id = $1 AND id = $2", accountID, id); err != nil || !ok {
			if err == nil {
				err = store.ErrNotFound
			}
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE extraction_keys SET active = false, updated_at = $1 WHERE account_id = $2 AND active AND id != $3", ms(now), accountID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE extraction_keys SET active = true, updated_at = $1 WHERE account_id = $2 AND id = $3 AND NOT active", ms(now), accountID, id); err != nil {
			return err
		}
		var err error
		out, err = queryOne(ctx, tx, scanExtractionKey, "SELECT "+extractionKeyColumns+" FROM extraction_keys WHERE id = $1", id)
		return err
	})
	return out, err
}

// DeactivateExtractionKeys deactivates every key of the account and
// returns how many were active.
func (s *Store) DeactivateExtractionKeys(ctx context.Context, accountID string, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = affected(tx.Exec(ctx, "UPDATE extraction_keys SET active = false, updated_at = $1 WHERE account_id = $2 AND active", ms(now), accountID))
		return err
	})
	return int(n), err
}

// DeleteExtractionKey deletes the account's key; ErrNotFound if none.
func (s *Store) DeleteExtractionKey(ctx context.Context, accountID, id string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		n, err := affected(tx.Exec(ctx, "DELETE FROM extraction_keys WHERE account_id = $1 AND id = $2", accountID, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// TouchExtractionKey records a use (and, when validated, a successful
// validation) of the key at now.
func (s *Store) TouchExtractionKey(ctx context.Context, accountID, id string, now time.Time, validated bool) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		q := "UPDATE extraction_keys SET last_used_at = greatest(coalesce(last_used_at, 0), $1)"
		if validated {
			q += ", last_validated_at = greatest(coalesce(last_validated_at, 0), $1)"
		}
		_, err := tx.Exec(ctx, q+" WHERE account_id = $2 AND id = $3", ms(now), accountID, id)
		return err
	})
}
