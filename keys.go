package memoryrelay

import (
	"context"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// createKey creates an API key in the account and returns it with its
// token, the only copy of the secret. A field the key store refuses is a
// *memory.ValidationError naming it.
func (r *Relay) createKey(ctx context.Context, accountID string, in memory.NewKey) (keys.Key, keys.Token, error) {
	k, tok, err := r.keys.Create(ctx, accountID, keys.CreateParams{
		Name: in.Name, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt, RateLimit: in.RateLimit, Metadata: in.Metadata,
	})
	return k, tok, keyErr(err)
}

// listKeys returns a page of the account's keys, newest first. Keys never
// carry their secret or its hash.
func (r *Relay) listKeys(ctx context.Context, accountID string, p memory.PageParams) (memory.Page[keys.Key], error) {
	var v valid.Problems
	q := page.Offset(&v, page.Keys, p.Limit, p.Offset, p.Cursor)
	if err := v.Err(); err != nil {
		return memory.Page[keys.Key]{}, err
	}
	ks, total, err := r.keys.List(ctx, accountID, q.Limit, q.Offset)
	if err != nil {
		return memory.Page[keys.Key]{}, err
	}
	return page.OffsetPage(page.Keys, ks, func(k keys.Key) keys.Key { return k }, total, q), nil
}

// getKey returns the account's key with the id.
func (r *Relay) getKey(ctx context.Context, accountID, id string) (keys.Key, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return keys.Key{}, keyErr(keys.ErrNotFound)
	}
	k, err := r.keys.Get(ctx, accountID, id)
	return k, keyErr(err)
}

// revokeKey revokes the account's key at once. The account's last live
// admin key cannot be revoked: a *memory.ValidationError that unwraps to
// keys.ErrLastAdmin.
func (r *Relay) revokeKey(ctx context.Context, accountID, id string) (keys.Key, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return keys.Key{}, keyErr(keys.ErrNotFound)
	}
	k, err := r.keys.Revoke(ctx, accountID, id)
	if errors.Is(err, keys.ErrLastAdmin) {
		return keys.Key{}, &memory.ValidationError{Problems: []memory.Problem{{Field: "id",
			Message: "the account's last admin key cannot be revoked"}}, Err: err}
	}
	return k, keyErr(err)
}

// rotateKey gives the account's key a new secret, returned in the token;
// the old one keeps working for grace (0 to 24h). A revoked key is a
// *memory.ValidationError that unwraps to keys.ErrRevoked.
func (r *Relay) rotateKey(ctx context.Context, accountID, id string, grace time.Duration) (keys.Key, keys.Token, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return keys.Key{}, keys.Token{}, keyErr(keys.ErrNotFound)
	}
	k, tok, err := r.keys.Rotate(ctx, accountID, id, grace)
	if errors.Is(err, keys.ErrRevoked) {
		return keys.Key{}, keys.Token{}, &memory.ValidationError{Problems: []memory.Problem{{Field: "id",
			Message: "a revoked key cannot be rotated"}}, Err: err}
	}
	return k, tok, keyErr(err)
}
