package limiter_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/limiter/limitertest"
)

// t0 is the first instant of most tests. Its fraction of a second checks
// that ResetUnix rounds up.
var t0 = time.Date(2025, 3, 17, 12, 0, 0, 250_000_000, time.UTC)

func newLocal(tb testing.TB, opts limiter.Options) *limiter.Local {
	tb.Helper()
	l, err := limiter.NewLocal(opts)
	if err != nil {
		tb.Fatalf("NewLocal(%+v): %v", opts, err)
	}
	return l
}

// spend takes n tokens from key at now and fails unless all are allowed.
func spend(tb testing.TB, l *limiter.Local, key string, limit, n int, now time.Time) {
	tb.Helper()
	for i := range n {
		if d := l.AllowAt(key, limit, now); !d.Allowed {
			tb.Fatalf("request %d of %d for %q at %v: denied: %+v", i+1, n, key, now, d)
		}
	}
}

func at(d time.Duration) time.Time { return t0.Add(d) }

// TestConformance runs the policy's shared suite on Local: every case,
// including those that hammer minute windows every millisecond.
func TestConformance(t *testing.T) {
	limitertest.Run(t, func(tb testing.TB, opts limiter.Options) limiter.Limiter {
		return newLocal(tb, opts)
	}, limitertest.Config{})
}

func TestNewLocalOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    limiter.Options
		wantErr string // substring; "" means no error
	}{
		{name: "zero value", opts: limiter.Options{}},
		{name: "all set", opts: limiter.Options{Limit: 10, Window: time.Second, Burst: 3, MaxKeys: 5, Now: time.Now}},
		{name: "negative limit", opts: limiter.Options{Limit: -1}, wantErr: "Limit"},
		{name: "negative window", opts: limiter.Options{Window: -time.Second}, wantErr: "Window"},
		{name: "negative burst", opts: limiter.Options{Burst: -1}, wantErr: "Burst"},
		{name: "negative max keys", opts: limiter.Options{MaxKeys: -1}, wantErr: "MaxKeys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := limiter.NewLocal(tt.opts)
			if tt.wantErr == "" {
				if err != nil || l == nil {
					t.Fatalf("NewLocal: %v, %v; want a limiter", l, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("NewLocal: no error; want one mentioning %q", tt.wantErr)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "limiter: ") || !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q: want prefix %q and mention of %q", msg, "limiter: ", tt.wantErr)
			}
		})
	}
}

// TestCountdown walks one key through fixed instants: 5 requests per minute,
// so a token every 12 s, burst 5.
// TestFiguresAreHonest checks, at many instants, that Remaining is exactly
// the number of further requests allowed at the same instant, and that at
// Reset (and at ResetUnix) the bucket is full again.
// TestAdmittedCount checks the formula documented in doc.go: from a full
// bucket at t0, a client requesting every step is admitted
// B + ceil(D·L/W) − 1 requests in [t0, t0+D), and no interval of length W
// admits more than B + L − 1.
func TestMaxKeysEvictsLeastRecentlyUsed(t *testing.T) {
	l := newLocal(t, limiter.Options{Limit: 10, MaxKeys: 3})
	// No bucket refills within the test, so only LRU order decides.
	steps := []struct {
		key       string
		remaining int
	}{
		{"a", 9}, {"b", 9}, {"c", 9}, // recency: a b c
		{"a", 8}, // b c a
		{"d", 9}, // evicts b: c a d
		{"b", 9}, // fresh; evicts c: a d b
		{"a", 7}, // remembered: d b a
		{"c", 9}, // fresh; evicts d: b a c
		{"b", 8},
		{"a", 6},
	}
	for i, s := range steps {
		d := l.AllowAt(s.key, 0, at(time.Duration(i)*time.Millisecond))
		if !d.Allowed || d.Remaining != s.remaining {
			t.Fatalf("step %d key %q: %+v; want remaining %d", i, s.key, d, s.remaining)
		}
		if n := l.Len(); n > 3 {
			t.Fatalf("step %d: Len() = %d > MaxKeys 3", i, n)
		}
	}
}

func TestMaxKeysEvictsFullBucketsFirst(t *testing.T) {
	l := newLocal(t, limiter.Options{MaxKeys: 3})
	spend(t, l, "slow", 1, 1, t0) // 1 per minute: empty for a minute
	spend(t, l, "fast1", 600, 1, t0)
	spend(t, l, "fast2", 600, 1, t0) // 600 per minute: full after 100ms
	// "slow" is least recently used but not full; a fast one is full.
	spend(t, l, "new", 0, 1, at(time.Second))
	if d := l.AllowAt("slow", 1, at(time.Second)); d.Allowed {
		t.Errorf("slow key allowed: its empty bucket was evicted instead of a full one: %+v", d)
	}
	for _, key := range []string{"fast1", "fast2"} {
		// Whether remembered or not, a full bucket decides alike.
		if d := l.AllowAt(key, 600, at(time.Second)); !d.Allowed || d.Remaining != 599 {
			t.Errorf("%s: %+v; want allowed with remaining 599", key, d)
		}
	}
	if n := l.Len(); n > 3 {
		t.Errorf("Len() = %d > MaxKeys 3", n)
	}
}

func TestMaxKeysBoundsMemory(t *testing.T) {
	tests := []struct{ maxKeys, keys int }{{1, 10}, {2, 100}, {50, 1000}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max %d", tt.maxKeys), func(t *testing.T) {
			l := newLocal(t, limiter.Options{MaxKeys: tt.maxKeys})
			for i := range tt.keys {
				spend(t, l, fmt.Sprint("key", i), 0, 1, t0)
				if n, want := l.Len(), min(i+1, tt.maxKeys); n != want {
					t.Fatalf("after %d keys: Len() = %d; want %d", i+1, n, want)
				}
			}
		})
	}
}

func TestIdleKeysAreSweptLazily(t *testing.T) {
	const keys = 1000
	l := newLocal(t, limiter.Options{Limit: 60}) // full again 1 s after one request
	for i := range keys {
		spend(t, l, fmt.Sprint("idle", i), 0, 1, t0)
	}
	if n := l.Len(); n != keys {
		t.Fatalf("Len() = %d; want %d", n, keys)
	}
	// Before the buckets are full, nothing may go.
	for range keys {
		l.AllowAt("hot", 0, at(500*time.Millisecond))
	}
	if n := l.Len(); n != keys+1 {
		t.Fatalf("Len() = %d before buckets refilled; want %d", n, keys+1)
	}
	// Once they are, calls for any key sweep them, up to two per call.
	now := at(time.Second)
	for range keys/2 - 1 {
		l.AllowAt("hot", 0, now)
	}
	if n := l.Len(); n < 3 {
		t.Fatalf("Len() = %d after %d calls; want >= 3 (at most two swept per call)", n, keys/2-1)
	}
	for range keys/2 + 1 {
		l.AllowAt("hot", 0, now)
	}
	if n := l.Len(); n != 1 {
		t.Errorf("Len() = %d after %d calls; want 1 (only the hot key)", n, keys)
	}
}

// TestEvictionChangesNoDecision runs one workload against a limiter that
// sweeps full buckets of idle keys and against references that cannot (one
// limiter per key, so no other key's call sweeps it): every decision must
// agree.
func TestEvictionChangesNoDecision(t *testing.T) {
	opts := limiter.Options{Limit: 20, Window: time.Second}
	shared := newLocal(t, opts)
	refs := map[string]*limiter.Local{}
	swept := false
	for i := range 5000 {
		key := "hot" // denied often: a request every 6 ms, a token every 50 ms
		if i%2 == 1 {
			key = fmt.Sprint("k", (i*i+3*i)%37) // idle for varying spells
		}
		now := at(time.Duration(i) * 3 * time.Millisecond)
		before := shared.Len()
		got := shared.AllowAt(key, 0, now)
		if shared.Len() < before {
			swept = true
		}
		ref := refs[key]
		if ref == nil {
			ref = newLocal(t, opts)
			refs[key] = ref
		}
		if want := ref.AllowAt(key, 0, now); got != want {
			t.Fatalf("call %d (%s at %v): %+v; reference %+v", i, key, now, got, want)
		}
	}
	if !swept {
		t.Error("no key was ever swept; the test does not exercise eviction")
	}
}

func TestErrors(t *testing.T) {
	l := newLocal(t, limiter.Options{Limit: 1})
	allowed := l.AllowAt("k", 0, t0)
	denied := l.AllowAt("k", 0, at(30*time.Second))

	if err := allowed.Err(); err != nil {
		t.Errorf("allowed.Err() = %v; want nil", err)
	}
	err := fmt.Errorf("authorize: %w", denied.Err())
	if !errors.Is(err, limiter.ErrLimited) {
		t.Errorf("errors.Is(%v, ErrLimited) = false", err)
	}
	var le *limiter.LimitedError
	if !errors.As(err, &le) {
		t.Fatalf("errors.As(%v, *LimitedError) = false", err)
	}
	if le.Decision != denied {
		t.Errorf("LimitedError.Decision = %+v; want %+v", le.Decision, denied)
	}
	if got, want := le.Error(), "Rate limit exceeded. Try again in 30 seconds."; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if errors.Is(errors.New("other"), limiter.ErrLimited) {
		t.Error("an unrelated error matches ErrLimited")
	}
}

func TestDecisionHelpers(t *testing.T) {
	tests := []struct {
		name      string
		d         limiter.Decision
		resetUnix int64
		retrySec  int
	}{
		{name: "zero", d: limiter.Decision{Reset: time.Unix(100, 0)}, resetUnix: 100, retrySec: 1},
		{name: "allowed", d: limiter.Decision{Allowed: true, Reset: time.Unix(100, 1)}, resetUnix: 101, retrySec: 0},
		{name: "fraction", d: limiter.Decision{RetryAfter: 1500 * time.Millisecond, Reset: time.Unix(100, 999_999_999)}, resetUnix: 101, retrySec: 2},
		{name: "whole", d: limiter.Decision{RetryAfter: 3 * time.Second, Reset: time.Unix(100, 0).In(time.FixedZone("x", 3600))}, resetUnix: 100, retrySec: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.ResetUnix(); got != tt.resetUnix {
				t.Errorf("ResetUnix() = %d; want %d", got, tt.resetUnix)
			}
			if got := tt.d.RetryAfterSeconds(); got != tt.retrySec {
				t.Errorf("RetryAfterSeconds() = %d; want %d", got, tt.retrySec)
			}
		})
	}
}
