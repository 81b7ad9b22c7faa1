package memoryrelay_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestRateLimitState: the state follows Authorize's decisions, takes no
// token itself, and uses the key's own limit.
func TestRateLimitState(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	r, _ := open(t, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "rate.db"), RateLimit: 5, Now: func() time.Time { return now }})
	acct := account(t, r)
	k, tok, err := r.Account(acct).Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		t.Fatal(err)
	}
	own, _, err := r.Account(acct).Keys().Create(ctx, memory.NewKey{Name: "own", Scopes: scopes.NewSet(scopes.Read), RateLimit: 60})
	if err != nil {
		t.Fatal(err)
	}
	state := func(k keys.Key) limiter.Decision {
		t.Helper()
		d, err := r.RateLimitState(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := state(k); !d.Allowed || d.Limit != 5 || d.Remaining != 5 || !d.Reset.Equal(now) {
		t.Fatalf("unused key: %+v", d)
	}
	for range 2 {
		if _, err := r.Authorize(ctx, tok.Reveal(), scopes.Read); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 { // peeks take nothing
		if d := state(k); d.Remaining != 3 || !d.Reset.Equal(now.Add(24*time.Second)) {
			t.Fatalf("after 2 requests: %+v", d)
		}
	}
	if d := state(own); d.Limit != 60 || d.Remaining != 60 {
		t.Errorf("key with its own limit: %+v", d)
	}
}

type plainLimiter struct{}

func (plainLimiter) Allow(context.Context, string, int) (limiter.Decision, error) {
	return limiter.Decision{Allowed: true}, nil
}

func TestRateLimitStateUnsupported(t *testing.T) {
	r, _ := open(t, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "rate.db"), Limiter: plainLimiter{}})
	if _, err := r.RateLimitState(context.Background(), keys.Key{ID: "x"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("err = %v, want errors.ErrUnsupported", err)
	}
	r.Close()
	if _, err := r.RateLimitState(context.Background(), keys.Key{ID: "x"}); !errors.Is(err, memoryrelay.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
