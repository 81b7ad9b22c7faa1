package keys_test

import (
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
)

func TestKeyIsActive(t *testing.T) {
	now := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, c := range []struct {
		name string
		k    keys.Key
		want bool
	}{
		{"plain", keys.Key{}, true},
		{"expires later", keys.Key{ExpiresAt: at(time.Millisecond)}, true},
		{"expires now", keys.Key{ExpiresAt: at(0)}, false},
		{"expired", keys.Key{ExpiresAt: at(-time.Hour)}, false},
		{"revoked", keys.Key{RevokedAt: at(-time.Hour)}, false},
		{"revoked now", keys.Key{RevokedAt: at(0)}, false},
		{"revocation ahead", keys.Key{RevokedAt: at(time.Hour)}, true},
		{"rotated, in grace", keys.Key{DeprecatedAt: at(-time.Minute), GraceUntil: at(time.Hour)}, true},
	} {
		if got := c.k.IsActive(now); got != c.want {
			t.Errorf("%s: IsActive = %v, want %v", c.name, got, c.want)
		}
	}
}
