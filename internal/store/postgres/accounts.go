package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// CreateAccount stores a new account.
func (s *Store) CreateAccount(ctx context.Context, name string, now time.Time) (store.Account, error) {
	a := store.Account{ID: uuid.New(), Name: name, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO accounts(id, name, created_at) VALUES ($1, $2, $3)", a.ID, a.Name, ms(a.CreatedAt))
		return err
	})
	return a, err
}

// Account returns the account with the id, or store.ErrNotFound.
func (s *Store) Account(ctx context.Context, id string) (store.Account, error) {
	return scanAccount(s.queryRow(ctx, "SELECT id, name, created_at FROM accounts WHERE id = $1", id))
}

// AccountByName returns the oldest account with the name, or
// store.ErrNotFound.
func (s *Store) AccountByName(ctx context.Context, name string) (store.Account, error) {
	return scanAccount(s.queryRow(ctx, "SELECT id, name, created_at FROM accounts WHERE name = $1 ORDER BY created_at, id LIMIT 1", name))
}

func scanAccount(r pgx.Row) (store.Account, error) {
	var a store.Account
	var created int64
	if err := r.Scan(&a.ID, &a.Name, &created); err != nil {
		return store.Account{}, notFound(err)
	}
	a.CreatedAt = fromMS(created)
	return a, nil
}

// CountKeys returns how many keys (of any state) the account has.
func (s *Store) CountKeys(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.queryRow(ctx, "SELECT count(*) FROM api_keys WHERE account_id = $1", accountID).Scan(&n)
	return n, err
}

// Meta returns the value stored under key, or "" and false.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.queryRow(ctx, "SELECT value FROM meta WHERE key = $1", key).Scan(&v)
	if err = notFound(err); errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	return v, err == nil, err
}

// SetMetaIfAbsent stores value under key unless a value is there already,
// and returns the value now stored: of several nodes setting one key at
// once, one value wins and every node gets it.
func (s *Store) SetMetaIfAbsent(ctx context.Context, key, value string) (string, error) {
	var got string
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, value); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT value FROM meta WHERE key = $1", key).Scan(&got)
	})
	return got, err
}
