package apikeys

import (
	"context"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Service serves the keys of every account; For gives one account's. It
// is safe for concurrent use.
type Service struct {
	ks   *keys.Store
	gate guard.Gate
}

// New returns the keys of ks; gate admits each call.
func New(ks *keys.Store, gate guard.Gate) *Service { return &Service{ks: ks, gate: gate} }

// For returns the key API of the account.
func (s *Service) For(accountID string) memory.Keys { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Keys = account{}

func (a account) Create(ctx context.Context, in memory.NewKey) (keys.Key, keys.Token, error) {
	return guard.Call2(ctx, a.s.gate, a.id, func() (keys.Key, keys.Token, error) {
		k, tok, err := a.s.ks.Create(ctx, a.id, createParams(in))
		return k, tok, Err(err)
	})
}

func (a account) List(ctx context.Context, p memory.PageParams) (memory.Page[keys.Key], error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Page[keys.Key], error) { return a.s.list(ctx, a.id, p) })
}

func (a account) Get(ctx context.Context, id string) (keys.Key, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (keys.Key, error) {
		id, ok := uuid.Canonical(id)
		if !ok {
			return keys.Key{}, Err(keys.ErrNotFound)
		}
		k, err := a.s.ks.Get(ctx, a.id, id)
		return k, Err(err)
	})
}

func (a account) Revoke(ctx context.Context, id string) (keys.Key, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (keys.Key, error) { return a.s.revoke(ctx, a.id, id) })
}

func (a account) Rotate(ctx context.Context, id string, grace time.Duration) (keys.Key, keys.Token, error) {
	return guard.Call2(ctx, a.s.gate, a.id, func() (keys.Key, keys.Token, error) { return a.s.rotate(ctx, a.id, id, grace) })
}

func (a account) Update(ctx context.Context, id string, p memory.KeyPatch) (keys.Key, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (keys.Key, error) {
		id, ok := uuid.Canonical(id)
		if !ok {
			return keys.Key{}, Err(keys.ErrNotFound)
		}
		var meta []byte
		if p.Metadata != nil {
			meta = p.Metadata
		}
		k, err := a.s.ks.Update(ctx, a.id, id, keys.UpdateParams{Name: p.Name, Metadata: meta,
			DailySpendLimit: p.DailySpendLimit, MonthlySpendLimit: p.MonthlySpendLimit})
		return k, Err(err)
	})
}

// createParams is the key store's form of a new key.
func createParams(in memory.NewKey) keys.CreateParams {
	return keys.CreateParams{Name: in.Name, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt, RateLimit: in.RateLimit, Metadata: in.Metadata,
		DailySpendLimit: in.DailySpendLimit, MonthlySpendLimit: in.MonthlySpendLimit}
}

// Import stores the token as a new key of the account, as the key store's
// Import does: for a host that hands out keys made elsewhere (a bootstrap
// key from the environment, say). The fields of in are checked as by
// Create.
func (s *Service) Import(ctx context.Context, accountID string, tok keys.Token, in memory.NewKey) (keys.Key, error) {
	return guard.Call(ctx, s.gate, accountID, func() (keys.Key, error) {
		k, err := s.ks.Import(ctx, accountID, tok, createParams(in))
		return k, Err(err)
	})
}

// Err maps the key store's errors to the API's: an unknown key is a
// *memory.NotFoundError of kind "key" that unwraps to keys.ErrNotFound, a
// refused field a *memory.ValidationError with the store's field and
// message (and unwrapping to its *keys.InvalidError).
func Err(err error) error {
	var ierr *keys.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keys.ErrNotFound):
		return &memory.NotFoundError{Kind: apierr.Key, Err: keys.ErrNotFound}
	case errors.As(err, &ierr):
		return &memory.ValidationError{Problems: []memory.Problem{{Field: ierr.Field, Message: ierr.Message}}, Err: err}
	}
	return err
}

// list returns a page of the account's keys, newest first. Keys never
// carry their secret or its hash.
func (s *Service) list(ctx context.Context, accountID string, p memory.PageParams) (memory.Page[keys.Key], error) {
	var v valid.Problems
	q := page.Offset(&v, page.Keys, p.Limit, p.Offset, p.Cursor)
	if err := v.Err(); err != nil {
		return memory.Page[keys.Key]{}, err
	}
	ks, total, err := s.ks.List(ctx, accountID, q.Limit, q.Offset)
	if err != nil {
		return memory.Page[keys.Key]{}, err
	}
	return page.OffsetPage(page.Keys, ks, func(k keys.Key) keys.Key { return k }, total, q), nil
}

// revoke revokes the account's key at once. The account's last live admin
// key cannot be revoked: a *memory.ValidationError that unwraps to
// keys.ErrLastAdmin.
func (s *Service) revoke(ctx context.Context, accountID, id string) (keys.Key, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return keys.Key{}, Err(keys.ErrNotFound)
	}
	k, err := s.ks.Revoke(ctx, accountID, id)
	if errors.Is(err, keys.ErrLastAdmin) {
		return keys.Key{}, &memory.ValidationError{Problems: []memory.Problem{{Field: "id",
			Message: "the account's last admin key cannot be revoked"}}, Err: err}
	}
	return k, Err(err)
}

// rotate gives the account's key a new secret, returned in the token; the
// old one keeps working for grace (0 to keys.MaxGrace). A revoked key is a
// *memory.ValidationError that unwraps to keys.ErrRevoked.
func (s *Service) rotate(ctx context.Context, accountID, id string, grace time.Duration) (keys.Key, keys.Token, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return keys.Key{}, keys.Token{}, Err(keys.ErrNotFound)
	}
	k, tok, err := s.ks.Rotate(ctx, accountID, id, grace)
	if errors.Is(err, keys.ErrRevoked) {
		return keys.Key{}, keys.Token{}, &memory.ValidationError{Problems: []memory.Problem{{Field: "id",
			Message: "a revoked key cannot be rotated"}}, Err: err}
	}
	return k, tok, Err(err)
}
