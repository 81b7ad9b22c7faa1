package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// CreateAccount stores a new account.
func (s *Store) CreateAccount(ctx context.Context, name string, now time.Time) (store.Account, error) {
	a := store.Account{ID: uuid.New(), Name: name, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO accounts(id, name, created_at) VALUES (?, ?, ?)", a.ID, a.Name, ms(a.CreatedAt))
		return err
	})
	return a, err
}

// Account returns the account with the id.
func (s *Store) Account(ctx context.Context, id string) (store.Account, error) {
	return queryOne(ctx, s.q(ctx), scanAccount, "SELECT id, name, created_at FROM accounts WHERE id = ?", id)
}

func scanAccount(r rowScanner) (store.Account, error) {
	var a store.Account
	var created int64
	if err := r.Scan(&a.ID, &a.Name, &created); err != nil {
		return store.Account{}, err
	}
	a.CreatedAt = fromMS(created)
	return a, nil
}

// AccountByName returns the oldest account with the name.
func (s *Store) AccountByName(ctx context.Context, name string) (store.Account, error) {
	return queryOne(ctx, s.q(ctx), scanAccount, "SELECT id, name, created_at FROM accounts WHERE name = ? ORDER BY created_at, id LIMIT 1", name)
}

// CountKeys returns how many keys (of any state) the account has.
func (s *Store) CountKeys(ctx context.Context, accountID string) (int, error) {
	return queryValue[int](ctx, s.q(ctx), "SELECT count(*) FROM api_keys WHERE account_id = ?", accountID)
}
