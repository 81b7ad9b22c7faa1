package memoryrelay

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Limits on API keys (API contract §9). The key store enforces them
// (package keys), whichever way a key is made: CreateKey, RotateKey or
// Relay.Keys().
const (
	MaxKeyName  = keys.MaxName
	MaxKeyGrace = keys.MaxGrace
)

// NewKey is the input of [Relay.CreateKey].
type NewKey struct {
	Name      string          // required, 1–MaxKeyName characters
	Scopes    scopes.Set      // required, not empty
	ExpiresAt *time.Time      // optional; must be in the future
	RateLimit int             // requests per minute, 0 to keys.MaxRateLimit; 0: the server default
	Metadata  json.RawMessage // JSON object ≤ 10 KiB
}

// CreateKey creates an API key in the account and returns it with its
// token, the only copy of the secret. A field the key store refuses is a
// *ValidationError naming it.
func (r *Relay) CreateKey(ctx context.Context, accountID string, in NewKey) (keys.Key, keys.Token, error) {
	k, tok, err := r.keys.Create(ctx, accountID, keys.CreateParams{
		Name: in.Name, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt, RateLimit: in.RateLimit, Metadata: in.Metadata,
	})
	return k, tok, keyErr(err)
}

// ListKeys returns a page of the account's keys, newest first. Keys never
// carry their secret or its hash.
func (r *Relay) ListKeys(ctx context.Context, accountID string, limit, offset int) (Page[keys.Key], error) {
	limit, err := pageLimit(limit, DefaultPage, MaxPage)
	if err != nil {
		return Page[keys.Key]{}, err
	}
	if err := checkOffset(offset); err != nil {
		return Page[keys.Key]{}, err
	}
	ks, total, err := r.keys.List(ctx, accountID, limit, offset)
	if err != nil {
		return Page[keys.Key]{}, err
	}
	if ks == nil {
		ks = []keys.Key{}
	}
	return Page[keys.Key]{Data: ks, Total: total, Limit: limit, Offset: offset, HasMore: offset+len(ks) < total}, nil
}

// GetKey returns the account's key with the id.
func (r *Relay) GetKey(ctx context.Context, accountID, id string) (keys.Key, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return keys.Key{}, errKeyNotFound
	}
	k, err := r.keys.Get(ctx, accountID, id)
	return k, keyErr(err)
}

// RevokeKey revokes the account's key at once. The account's last live
// admin key cannot be revoked (keys.ErrLastAdmin).
func (r *Relay) RevokeKey(ctx context.Context, accountID, id string) (keys.Key, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return keys.Key{}, errKeyNotFound
	}
	k, err := r.keys.Revoke(ctx, accountID, id)
	return k, keyErr(err)
}

// RotateKey gives the account's key a new secret, returned in the token;
// the old one keeps working for grace (0 to 24h).
func (r *Relay) RotateKey(ctx context.Context, accountID, id string, grace time.Duration) (keys.Key, keys.Token, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return keys.Key{}, keys.Token{}, errKeyNotFound
	}
	k, tok, err := r.keys.Rotate(ctx, accountID, id, grace)
	if errors.Is(err, keys.ErrRevoked) {
		return keys.Key{}, keys.Token{}, invalid("id", "a revoked key cannot be rotated")
	}
	return k, tok, keyErr(err)
}

var errKeyNotFound = &NotFoundError{Kind: "API key"}

// keyErr maps the key store's errors to the facade's: an unknown key is a
// *NotFoundError, a refused field a *ValidationError with the store's field
// and message.
func keyErr(err error) error {
	var ierr *keys.InvalidError
	switch {
	case errors.Is(err, keys.ErrNotFound):
		return errKeyNotFound
	case errors.As(err, &ierr):
		return &ValidationError{Field: ierr.Field, Message: ierr.Message}
	}
	return err
}
