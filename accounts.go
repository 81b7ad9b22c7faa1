package memoryrelay

import (
	"context"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/valid"
)

// accountStore is the storage of accounts, as accounts.go uses it.
type accountStore interface {
	Account(ctx context.Context, id string) (store.Account, error)
	AccountByName(ctx context.Context, name string) (store.Account, error)
	CreateAccount(ctx context.Context, name string, now time.Time) (store.Account, error)
}

// MaxAccountName bounds an account's name (CreateAccount).
const MaxAccountName = 255 // characters

// AccountInfo is an account's record. Every key and every stored object
// belongs to exactly one account; [Relay.Account] returns the API of one.
type AccountInfo struct {
	ID        string // a UUID, made by the Relay
	Name      string // a label, not unique; 1–255 characters
	CreatedAt time.Time
}

// CreateAccount creates an account. Its data is reached through
// Relay.Account(info.ID) and the keys made for it.
func (r *Relay) CreateAccount(ctx context.Context, name string) (AccountInfo, error) {
	if r.closed.Load() {
		return AccountInfo{}, ErrClosed
	}
	var v valid.Problems
	if v.Text("name", name, MaxAccountName); !v.OK() {
		return AccountInfo{}, v.Err()
	}
	a, err := r.store.CreateAccount(ctx, name, r.opts.Now())
	if err != nil {
		return AccountInfo{}, r.classify(err)
	}
	r.accounts.Store(a.ID, struct{}{})
	return accountInfoOf(a), nil
}

// LookupAccount returns the record of the account with the id; an unknown
// id is a *memory.NotFoundError of kind "account".
func (r *Relay) LookupAccount(ctx context.Context, id string) (AccountInfo, error) {
	if r.closed.Load() {
		return AccountInfo{}, ErrClosed
	}
	a, err := r.store.Account(ctx, id)
	if err != nil {
		return AccountInfo{}, r.classify(apierr.FromStore(err, apierr.Account))
	}
	return accountInfoOf(a), nil
}

// AccountByName returns the record of the oldest account with the name; an
// unknown name is a *memory.NotFoundError of kind "account".
func (r *Relay) AccountByName(ctx context.Context, name string) (AccountInfo, error) {
	if r.closed.Load() {
		return AccountInfo{}, ErrClosed
	}
	a, err := r.store.AccountByName(ctx, name)
	if err != nil {
		return AccountInfo{}, r.classify(apierr.FromStore(err, apierr.Account))
	}
	return accountInfoOf(a), nil
}

// checkAccount returns nil when the account exists, a *memory.NotFoundError
// of kind "account" when it does not, and ErrClosed after Close. An account
// found once is remembered: accounts are never deleted.
func (r *Relay) checkAccount(ctx context.Context, id string) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if _, ok := r.accounts.Load(id); ok {
		return nil
	}
	_, err := r.store.Account(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierr.NotFound(apierr.Account)
	case err != nil:
		return r.classify(err)
	}
	r.accounts.Store(id, struct{}{})
	return nil
}

func accountInfoOf(a store.Account) AccountInfo {
	return AccountInfo{ID: a.ID, Name: a.Name, CreatedAt: a.CreatedAt}
}
