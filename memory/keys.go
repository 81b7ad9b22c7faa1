package memory

import (
	"context"
	"encoding/json"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// NewKey is the input of [Keys.Create].
type NewKey struct {
	Name      string          // required, 1–100 characters
	Scopes    scopes.Set      // required, not empty
	ExpiresAt *time.Time      // optional; must be in the future
	RateLimit int             // requests per minute, 0 to keys.MaxRateLimit; 0: the server default
	Metadata  json.RawMessage // JSON object ≤ 10 KiB
}

// Keys manages the API keys of an account. The raw key (a keys.Token) is
// returned only by Create and Rotate; every other method returns what is
// known about a key without its secret.
type Keys interface {
	Create(ctx context.Context, in NewKey) (keys.Key, keys.Token, error)
	// List lists the account's keys, newest first. Its cursor carries the
	// next page's offset: a key created during a walk shifts the pages
	// after it by one.
	List(ctx context.Context, p PageParams) (Page[keys.Key], error)
	Get(ctx context.Context, id string) (keys.Key, error)
	// Revoke revokes a key at once. The account's last admin key cannot be
	// revoked (*ValidationError).
	Revoke(ctx context.Context, id string) (keys.Key, error)
	// Rotate gives a key a new secret, keeping its id, name, scopes and
	// expiry; the old secret keeps working for grace (0–24h).
	Rotate(ctx context.Context, id string, grace time.Duration) (keys.Key, keys.Token, error)
}
