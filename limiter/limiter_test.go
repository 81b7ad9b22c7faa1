package limiter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/limiter"
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

// near reports whether got is within two nanoseconds of want. x/time/rate
// keeps tokens as float64, and allows a request whose missing fraction of a
// token refills in under a nanosecond, so the instant a bucket is full can
// be a nanosecond before the exact one (and rounding differs between
// architectures that fuse multiply-add).
func near(got, want time.Time) bool {
	d := got.Sub(want)
	return -2 <= d && d <= 2
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

func TestDefaults(t *testing.T) {
	l := newLocal(t, limiter.Options{Now: func() time.Time { return t0 }})
	var last limiter.Decision
	for i := range limiter.DefaultLimit {
		d, err := l.Allow(context.Background(), "k", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Limit != 100 || d.Remaining != 99-i {
			t.Fatalf("request %d: %+v; want allowed, limit 100, remaining %d", i+1, d, 99-i)
		}
		last = d
	}
	if want := at(time.Minute); !near(last.Reset, want) || last.ResetUnix() != want.Unix()+1 {
		t.Errorf("Reset after 100 requests = %v; want %v (one minute to refill)", last.Reset, want)
	}
	d, _ := l.Allow(context.Background(), "k", 0)
	if d.Allowed || d.RetryAfter != time.Second {
		t.Errorf("request 101: %+v; want denied with RetryAfter 1s (a token every 600ms)", d)
	}
}

// TestCountdown walks one key through fixed instants: 5 requests per minute,
// so a token every 12 s, burst 5.
func TestCountdown(t *testing.T) {
	l := newLocal(t, limiter.Options{Limit: 5})
	steps := []struct {
		at            time.Duration
		allowed       bool
		remaining     int
		reset         time.Duration // from t0
		retryAfterSec int
	}{
		{at: 0, allowed: true, remaining: 4, reset: 12 * time.Second},
		{at: 0, allowed: true, remaining: 3, reset: 24 * time.Second},
		{at: 0, allowed: true, remaining: 2, reset: 36 * time.Second},
		{at: 0, allowed: true, remaining: 1, reset: 48 * time.Second},
		{at: 0, allowed: true, remaining: 0, reset: 60 * time.Second},
		{at: 0, allowed: false, reset: 60 * time.Second, retryAfterSec: 12},
		{at: 11400 * time.Millisecond, allowed: false, reset: 60 * time.Second, retryAfterSec: 1},
		{at: 12 * time.Second, allowed: true, remaining: 0, reset: 72 * time.Second},
		{at: 12500 * time.Millisecond, allowed: false, reset: 72 * time.Second, retryAfterSec: 12},
		{at: 30 * time.Second, allowed: true, remaining: 0, reset: 84 * time.Second}, // 1.5 tokens before
		{at: 36 * time.Second, allowed: true, remaining: 0, reset: 96 * time.Second},
		{at: 60 * time.Second, allowed: true, remaining: 1, reset: 108 * time.Second},  // 2 tokens before
		{at: 108 * time.Second, allowed: true, remaining: 4, reset: 120 * time.Second}, // full before
		{at: 10 * time.Minute, allowed: true, remaining: 4, reset: 10*time.Minute + 12*time.Second},
	}
	for i, s := range steps {
		now := at(s.at)
		d := l.AllowAt("k", 0, now)
		if d.Allowed != s.allowed || d.Remaining != s.remaining || d.Limit != 5 ||
			!near(d.Reset, at(s.reset)) || d.RetryAfterSeconds() != s.retryAfterSec {
			t.Fatalf("step %d at t0+%v: got %+v (retry %ds); want allowed %v, remaining %d, reset t0+%v, retry %ds",
				i, s.at, d, d.RetryAfterSeconds(), s.allowed, s.remaining, s.reset, s.retryAfterSec)
		}
		if d.Reset.Before(now) {
			t.Errorf("step %d: Reset %v before now %v", i, d.Reset, now)
		}
		// t0 is at .25 s, so every Reset above has the same fraction: rounded up.
		if got, want := d.ResetUnix(), at(s.reset).Unix()+1; got != want {
			t.Errorf("step %d: ResetUnix = %d; want %d", i, got, want)
		}
	}
}

func TestRetryAfterRounding(t *testing.T) {
	tests := []struct {
		name  string
		limit int           // per minute, burst 1
		wait  time.Duration // after spending the only token at t0
		want  int           // seconds
	}{
		{name: "need 0.6s", limit: 60, wait: 400 * time.Millisecond, want: 1},
		{name: "need 1s", limit: 60, wait: 0, want: 1},
		{name: "need 1ms", limit: 60, wait: 999 * time.Millisecond, want: 1},
		{name: "need 2ns", limit: 60, wait: time.Second - 2*time.Nanosecond, want: 1},
		{name: "need 1.2s", limit: 30, wait: 800 * time.Millisecond, want: 2},
		{name: "need 2s", limit: 30, wait: 0, want: 2},
		{name: "need 1.001s", limit: 30, wait: 999 * time.Millisecond, want: 2},
		{name: "need 59.9s", limit: 1, wait: 100 * time.Millisecond, want: 60},
		{name: "need 1h", limit: 1, wait: 0, want: 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLocal(t, limiter.Options{Burst: 1})
			spend(t, l, "k", tt.limit, 1, t0)
			d := l.AllowAt("k", tt.limit, at(tt.wait))
			if d.Allowed {
				t.Fatalf("allowed: %+v", d)
			}
			if got := d.RetryAfterSeconds(); got != tt.want || d.RetryAfter != time.Duration(tt.want)*time.Second {
				t.Errorf("RetryAfter = %v, RetryAfterSeconds() = %d; want %ds", d.RetryAfter, got, tt.want)
			}
			if d.Remaining != 0 {
				t.Errorf("Remaining = %d on a denial; want 0", d.Remaining)
			}
			wantMsg := fmt.Sprintf("Rate limit exceeded. Try again in %d seconds.", tt.want)
			if err := d.Err(); err == nil || err.Error() != wantMsg {
				t.Errorf("Err() = %v; want %q", err, wantMsg)
			}
		})
	}
}

func TestRetryAfterIsTheShortestWholeWait(t *testing.T) {
	configs := []struct {
		limit, burst int
		window       time.Duration
	}{
		{limit: 100, window: time.Minute},
		{limit: 7, burst: 2, window: time.Minute},
		{limit: 3, burst: 1, window: time.Second},
		{limit: 1, window: time.Hour},
		{limit: 20, burst: 10, window: 10 * time.Second},
	}
	for _, c := range configs {
		t.Run(fmt.Sprintf("%d per %v burst %d", c.limit, c.window, c.burst), func(t *testing.T) {
			opts := limiter.Options{Limit: c.limit, Window: c.window, Burst: c.burst}
			l := newLocal(t, opts)
			denials := 0
			// Request every 37.3 ms so that waits have odd fractions.
			for i := range 2000 {
				now := at(time.Duration(i) * 37300 * time.Microsecond)
				d := l.AllowAt("k", 0, now)
				if d.Allowed {
					continue
				}
				denials++
				// Probe a limiter with the same history.
				probe := newLocal(t, opts)
				for j := range i + 1 {
					probe.AllowAt("k", 0, at(time.Duration(j)*37300*time.Microsecond))
				}
				if probe.AllowAt("k", 0, now.Add(d.RetryAfter-time.Second)).Allowed {
					t.Fatalf("request %d: allowed RetryAfter-1s = %v after a denial; RetryAfter %v is not the shortest", i, d.RetryAfter-time.Second, d.RetryAfter)
				}
				if !probe.AllowAt("k", 0, now.Add(d.RetryAfter)).Allowed {
					t.Fatalf("request %d: denied RetryAfter = %v after a denial", i, d.RetryAfter)
				}
				if denials == 20 {
					return
				}
			}
			t.Fatalf("only %d denials", denials)
		})
	}
}

// TestFiguresAreHonest checks, at many instants, that Remaining is exactly
// the number of further requests allowed at the same instant, and that at
// Reset (and at ResetUnix) the bucket is full again.
func TestFiguresAreHonest(t *testing.T) {
	configs := []struct {
		limit, burst int
		window       time.Duration
		step         time.Duration
	}{
		{limit: 100, window: time.Minute, step: 170 * time.Millisecond},
		{limit: 3, burst: 2, window: time.Second, step: 111 * time.Millisecond},
		{limit: 7, window: time.Minute, step: 1300 * time.Millisecond},
		{limit: 1000, burst: 50, window: time.Hour, step: 2345 * time.Millisecond},
	}
	for _, c := range configs {
		t.Run(fmt.Sprintf("%d per %v burst %d", c.limit, c.window, c.burst), func(t *testing.T) {
			opts := limiter.Options{Limit: c.limit, Window: c.window, Burst: c.burst}
			burst := c.burst
			if burst == 0 {
				burst = c.limit
			}
			history := func(n int) *limiter.Local {
				l := newLocal(t, opts)
				for i := range n {
					l.AllowAt("k", 0, at(time.Duration(i)*c.step))
				}
				return l
			}
			for n := 1; n < 400; n += 13 {
				l := history(n - 1)
				now := at(time.Duration(n-1) * c.step)
				d := l.AllowAt("k", 0, now)
				for i := range d.Remaining {
					if !l.AllowAt("k", 0, now).Allowed {
						t.Fatalf("after %d requests: Remaining %d but request %d at the same instant denied", n, d.Remaining, i+1)
					}
				}
				if e := l.AllowAt("k", 0, now); e.Allowed {
					t.Fatalf("after %d requests: Remaining %d but one more at the same instant allowed", n, d.Remaining)
				}
				for _, reset := range []time.Time{d.Reset, time.Unix(d.ResetUnix(), 0)} {
					l := history(n)
					for i := range burst {
						if !l.AllowAt("k", 0, reset).Allowed {
							t.Fatalf("after %d requests: %d of %d requests at reset %v denied", n, i+1, burst, reset)
						}
					}
				}
			}
		})
	}
}

func TestPerKeyIsolation(t *testing.T) {
	tests := []struct {
		name      string
		spendKey  string
		spendLim  int
		otherKey  string
		otherLim  int
		wantOther int // remaining of other's first request
	}{
		{name: "same limit", spendKey: "a", otherKey: "b", wantOther: 9},
		{name: "prefix key", spendKey: "a", otherKey: "aa", wantOther: 9},
		{name: "empty key", spendKey: "", otherKey: "a", wantOther: 9},
		{name: "other has override", spendKey: "a", otherKey: "b", otherLim: 3, wantOther: 2},
		{name: "spender has override", spendKey: "a", spendLim: 50, otherKey: "b", wantOther: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLocal(t, limiter.Options{Limit: 10})
			for l.AllowAt(tt.spendKey, tt.spendLim, t0).Allowed {
			}
			d := l.AllowAt(tt.otherKey, tt.otherLim, t0)
			if !d.Allowed || d.Remaining != tt.wantOther {
				t.Errorf("other key: %+v; want allowed with remaining %d", d, tt.wantOther)
			}
			if d := l.AllowAt(tt.spendKey, tt.spendLim, t0); d.Allowed {
				t.Errorf("spent key allowed after other key's request: %+v", d)
			}
		})
	}
}

func TestPerKeyLimit(t *testing.T) {
	type req struct {
		at        time.Duration
		limit     int
		n         int // requests at this instant; the last one is checked
		allowed   bool
		remaining int
		wantLimit int
	}
	tests := []struct {
		name  string
		opts  limiter.Options
		steps []req
	}{
		{
			name: "override below default",
			steps: []req{
				{limit: 10, n: 10, allowed: true, remaining: 0, wantLimit: 10},
				{limit: 10, n: 1, allowed: false, wantLimit: 10},
				{at: 6 * time.Second, limit: 10, n: 1, allowed: true, wantLimit: 10},
			},
		},
		{
			name: "override above default",
			steps: []req{
				{limit: 500, n: 1, allowed: true, remaining: 499, wantLimit: 500},
			},
		},
		{
			name: "raised limit keeps spent tokens",
			steps: []req{
				{n: 60, allowed: true, remaining: 40, wantLimit: 100},
				{limit: 200, n: 1, allowed: true, remaining: 39, wantLimit: 200},
				{limit: 200, n: 39, allowed: true, remaining: 0, wantLimit: 200},
				{limit: 200, n: 1, allowed: false, wantLimit: 200},
				// New rate: a token every 300 ms rather than 600 ms.
				{at: 300 * time.Millisecond, limit: 200, n: 1, allowed: true, remaining: 0, wantLimit: 200},
			},
		},
		{
			name: "lowered limit caps tokens",
			steps: []req{
				{n: 1, allowed: true, remaining: 99, wantLimit: 100},
				{limit: 10, n: 1, allowed: true, remaining: 9, wantLimit: 10},
				{limit: 0, n: 1, allowed: true, remaining: 8, wantLimit: 100}, // back to default, not reset
			},
		},
		{
			name: "fixed burst applies to overrides",
			opts: limiter.Options{Burst: 5},
			steps: []req{
				{limit: 1000, n: 5, allowed: true, remaining: 0, wantLimit: 1000},
				{limit: 1000, n: 1, allowed: false, wantLimit: 1000},
				{at: 60 * time.Millisecond, limit: 1000, n: 1, allowed: true, remaining: 0, wantLimit: 1000},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLocal(t, tt.opts)
			for i, s := range tt.steps {
				var d limiter.Decision
				for range s.n {
					d = l.AllowAt("k", s.limit, at(s.at))
				}
				if d.Allowed != s.allowed || d.Remaining != s.remaining || d.Limit != s.wantLimit {
					t.Fatalf("step %d: %+v; want allowed %v, remaining %d, limit %d", i, d, s.allowed, s.remaining, s.wantLimit)
				}
			}
		})
	}
}

// TestAdmittedCount checks the formula documented in doc.go: from a full
// bucket at t0, a client requesting every step is admitted
// B + ceil(D·L/W) − 1 requests in [t0, t0+D), and no interval of length W
// admits more than B + L − 1.
func TestAdmittedCount(t *testing.T) {
	tests := []struct {
		limit  int
		window time.Duration
		burst  int // 0: same as limit
		span   time.Duration
		step   time.Duration
		want   int
	}{
		{limit: 100, window: time.Minute, span: time.Minute, step: time.Millisecond, want: 199},
		{limit: 100, window: time.Minute, span: 2 * time.Minute, step: time.Millisecond, want: 299},
		{limit: 100, window: time.Minute, span: 30 * time.Second, step: time.Millisecond, want: 149},
		{limit: 100, window: time.Minute, burst: 1, span: time.Minute, step: time.Millisecond, want: 100},
		{limit: 100, window: time.Minute, burst: 10, span: 30 * time.Second, step: time.Millisecond, want: 59},
		{limit: 100, window: time.Minute, burst: 250, span: time.Minute, step: time.Millisecond, want: 349},
		{limit: 7, window: time.Minute, burst: 3, span: time.Minute, step: time.Millisecond, want: 9},
		{limit: 7, window: time.Minute, burst: 3, span: 30 * time.Second, step: time.Millisecond, want: 6},
		{limit: 1, window: time.Minute, span: time.Minute, step: time.Millisecond, want: 1},
		{limit: 1, window: time.Minute, span: time.Minute + time.Millisecond, step: time.Millisecond, want: 2},
		{limit: 60, window: time.Second, span: time.Second, step: time.Millisecond, want: 119},
		{limit: 3, window: time.Second, burst: 2, span: 10 * time.Second, step: time.Millisecond, want: 31},
		{limit: 1000, window: time.Hour, burst: 250, span: time.Hour, step: 100 * time.Millisecond, want: 1249},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("L=%d W=%v B=%d D=%v", tt.limit, tt.window, tt.burst, tt.span)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := newLocal(t, limiter.Options{Limit: tt.limit, Window: tt.window, Burst: tt.burst})
			var admitted []time.Duration
			// Hammer past the span to check sliding windows too.
			end := max(tt.span, 2*tt.window)
			for off := time.Duration(0); off < end; off += tt.step {
				if l.AllowAt("k", 0, at(off)).Allowed {
					admitted = append(admitted, off)
				}
			}
			got := 0
			for _, off := range admitted {
				if off < tt.span {
					got++
				}
			}
			if got != tt.want {
				t.Errorf("admitted %d in [t0, t0+%v); want %d", got, tt.span, tt.want)
			}
			burst := tt.burst
			if burst == 0 {
				burst = tt.limit
			}
			// Any interval [s, s+W): the most is B + L - 1, reached from t0.
			most, j := 0, 0
			for i := range admitted {
				for admitted[i]-admitted[j] >= tt.window {
					j++
				}
				most = max(most, i-j+1)
			}
			if want := burst + tt.limit - 1; most != want {
				t.Errorf("most admitted in any %v = %d; want B+L-1 = %d", tt.window, most, want)
			}
		})
	}
}

func TestConcurrentOneKeyAdmitsExactlyBurst(t *testing.T) {
	tests := []struct {
		name  string
		opts  limiter.Options
		burst int
	}{
		{name: "default", burst: 100},
		{name: "burst 7", opts: limiter.Options{Burst: 7}, burst: 7},
		{name: "burst above limit", opts: limiter.Options{Limit: 10, Burst: 300}, burst: 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Now = func() time.Time { return t0 }
			l := newLocal(t, opts)
			const workers, each = 16, 50
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				remaining = map[int]int{}
				allowed   int
			)
			for range workers {
				wg.Go(func() {
					for range each {
						d, err := l.Allow(context.Background(), "k", 0)
						if err != nil {
							t.Error(err)
							return
						}
						if d.Allowed {
							mu.Lock()
							allowed++
							remaining[d.Remaining]++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if allowed != tt.burst {
				t.Errorf("allowed %d of %d concurrent requests; want burst %d", allowed, workers*each, tt.burst)
			}
			for r := range tt.burst {
				if remaining[r] != 1 {
					t.Errorf("Remaining %d reported %d times; want once", r, remaining[r])
				}
			}
		})
	}
}

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

func TestAllowUsesOptionsNow(t *testing.T) {
	now := t0
	var lim limiter.Limiter = newLocal(t, limiter.Options{Limit: 60, Burst: 1, Now: func() time.Time { return now }})
	ctx := context.Background()
	steps := []struct {
		advance time.Duration
		allowed bool
	}{{0, true}, {0, false}, {999 * time.Millisecond, false}, {time.Millisecond, true}, {0, false}}
	for i, s := range steps {
		now = now.Add(s.advance)
		d, err := lim.Allow(ctx, "k", 0)
		if err != nil || d.Allowed != s.allowed {
			t.Fatalf("step %d at %v: %+v, %v; want allowed %v", i, now, d, err, s.allowed)
		}
	}
}
