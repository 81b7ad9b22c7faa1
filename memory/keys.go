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
	Name      string          // ≤ 255 characters; "": "key-" and the key's prefix (API.md §10.2)
	Scopes    scopes.Set      // required, not empty
	ExpiresAt *time.Time      // optional; must be in the future
	RateLimit int             // requests per minute, 0 to keys.MaxRateLimit; 0: the server default
	Metadata  json.RawMessage // JSON object ≤ 10 KiB
	// DailySpendLimit and MonthlySpendLimit bound what the key's requests
	// may cost per UTC day and month, in USD, 0 to keys.MaxSpendLimit;
	// nil is unlimited (API.md §10.2).
	DailySpendLimit   *float64
	MonthlySpendLimit *float64
}

// KeyPatch is the input of [Keys.Update]: nil fields are left as they
// are; a spend limit changes when its Set is true (to nil: unlimited).
type KeyPatch struct {
	Name              *string         // 1–255 characters
	Metadata          json.RawMessage // a JSON object ≤ 10 KiB, replacing the stored one
	DailySpendLimit   keys.LimitChange
	MonthlySpendLimit keys.LimitChange
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
	// Update changes a key's name, metadata and spend limits.
	Update(ctx context.Context, id string, p KeyPatch) (keys.Key, error)
}
