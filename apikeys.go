package memoryrelay

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Limits on API keys (API contract §9).
const (
	MaxKeyName  = 100
	MaxKeyGrace = keys.MaxGrace
)

// NewKey is the input of [Relay.CreateKey].
type NewKey struct {
	Name      string          // required, 1–100 characters
	Scopes    scopes.Set      // required, not empty
	ExpiresAt *time.Time      // optional; must be in the future
	RateLimit int             // requests per minute; 0: the server default
	Metadata  json.RawMessage // JSON object ≤ 10 KiB
}

// CreateKey creates an API key in the account and returns it with its
// token, the only copy of the secret.
func (r *Relay) CreateKey(ctx context.Context, accountID string, in NewKey) (keys.Key, keys.Token, error) {
	if n := utf8.RuneCountInString(in.Name); n == 0 || n > MaxKeyName {
		return keys.Key{}, keys.Token{}, invalid("name", "name must be 1-%d characters", MaxKeyName)
	}
	if in.Scopes.IsEmpty() {
		return keys.Key{}, keys.Token{}, invalid("scopes", "scopes must be a non-empty list of read, write, delete, admin")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(r.opts.Now()) {
		return keys.Key{}, keys.Token{}, invalid("expires_at", "expires_at must be in the future")
	}
	if in.RateLimit < 0 {
		return keys.Key{}, keys.Token{}, invalid("rate_limit", "rate_limit must be 0 or more")
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return keys.Key{}, keys.Token{}, err
	}
	return r.keys.Create(ctx, accountID, keys.CreateParams{
		Name: in.Name, Scopes: in.Scopes, ExpiresAt: in.ExpiresAt, RateLimit: in.RateLimit, Metadata: meta,
	})
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
	if grace < 0 || grace > MaxKeyGrace {
		return keys.Key{}, keys.Token{}, invalid("grace_seconds", "grace_seconds must be between 0 and %d", int(MaxKeyGrace/time.Second))
	}
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

func keyErr(err error) error {
	if errors.Is(err, keys.ErrNotFound) {
		return errKeyNotFound
	}
	return err
}
