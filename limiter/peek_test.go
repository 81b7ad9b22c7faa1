package limiter_test

import (
	"context"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/limiter"
)

func TestPeek(t *testing.T) {
	// Limit 10 a minute: one token every 6 seconds.
	tests := []struct {
		name          string
		spent         int           // tokens taken at t0
		after         time.Duration // when to peek, after t0
		limit         int           // passed to PeekAt
		wantAllowed   bool
		wantRemaining int
		wantReset     time.Duration // after t0
		wantRetry     time.Duration
	}{
		{name: "untracked key: full", spent: 0, limit: 10, wantAllowed: true, wantRemaining: 10},
		{name: "some spent", spent: 3, limit: 10, wantAllowed: true, wantRemaining: 7, wantReset: 18 * time.Second},
		{name: "refilling", spent: 3, after: 7 * time.Second, limit: 10, wantAllowed: true, wantRemaining: 8, wantReset: 18 * time.Second},
		{name: "all spent", spent: 10, limit: 10, wantRemaining: 0, wantReset: time.Minute, wantRetry: 6 * time.Second},
		{name: "all spent, one token due in 2.5s", spent: 10, after: 3500 * time.Millisecond, limit: 10, wantReset: time.Minute, wantRetry: 3 * time.Second},
		{name: "refilled", spent: 10, after: time.Minute, limit: 10, wantAllowed: true, wantRemaining: 10, wantReset: time.Minute},
		{name: "default limit", spent: 0, limit: 0, wantAllowed: true, wantRemaining: 10},
		{name: "lower limit caps tokens", spent: 3, limit: 5, wantAllowed: true, wantRemaining: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLocal(t, limiter.Options{Limit: 10})
			spend(t, l, "k", 10, tt.spent, t0)
			now := at(tt.after)
			d := l.PeekAt("k", tt.limit, now)
			wantLimit := tt.limit
			if wantLimit == 0 {
				wantLimit = 10
			}
			if d.Allowed != tt.wantAllowed || d.Remaining != tt.wantRemaining || d.Limit != wantLimit || d.RetryAfter != tt.wantRetry {
				t.Errorf("PeekAt = %+v, want allowed %v remaining %d limit %d retry %v", d, tt.wantAllowed, tt.wantRemaining, wantLimit, tt.wantRetry)
			}
			wantReset := at(tt.wantReset)
			if wantReset.Before(now) {
				wantReset = now
			}
			if !near(d.Reset, wantReset) {
				t.Errorf("Reset = %v, want %v", d.Reset, wantReset)
			}
		})
	}
}

// TestPeekTakesNothing: a peek changes no later decision, and its
// Remaining is exactly how many requests in a row Allow then admits.
func TestPeekTakesNothing(t *testing.T) {
	for _, spent := range []int{0, 1, 4, 9, 10} {
		l := newLocal(t, limiter.Options{Limit: 10})
		spend(t, l, "k", 10, spent, t0)
		now := at(1500 * time.Millisecond)
		p1 := l.PeekAt("k", 10, now)
		p2 := l.PeekAt("k", 10, now)
		if p1 != p2 {
			t.Fatalf("spent %d: two peeks differ: %+v, %+v", spent, p1, p2)
		}
		admitted := 0
		for l.AllowAt("k", 10, now).Allowed {
			admitted++
		}
		if admitted != p1.Remaining {
			t.Errorf("spent %d: peek said %d remaining, Allow admitted %d", spent, p1.Remaining, admitted)
		}
	}
}

func TestPeekTracksNoKey(t *testing.T) {
	l := newLocal(t, limiter.Options{})
	var p limiter.Peeker = l
	d, err := p.Peek(context.Background(), "never-used", 0)
	if err != nil || !d.Allowed || d.Remaining != limiter.DefaultLimit {
		t.Fatalf("Peek of an unused key = %+v, %v; want a full bucket", d, err)
	}
	if n := l.Len(); n != 0 {
		t.Errorf("Len after a peek = %d, want 0", n)
	}
}
