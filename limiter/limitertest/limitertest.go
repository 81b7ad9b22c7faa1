package limitertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/limiter"
)

// Factory returns a new limiter configured by opts, sharing no bucket with
// any limiter it returned before. opts.Now is always set.
type Factory func(tb testing.TB, opts limiter.Options) limiter.Limiter

// Config says how much of the suite a backend can afford.
type Config struct {
	// MaxCalls bounds the number of Allow calls of one hammering case (a
	// client requesting every millisecond for two windows). Cases that need
	// more are left out, each with a log line; their counterparts over
	// one-second windows, which check the same formula, still run.
	// 0: no bound, every case runs.
	MaxCalls int
}

// Run runs the conformance tests as subtests of t, each on limiters made
// by newLimiter.
func Run(t *testing.T, newLimiter Factory, cfg Config) {
	s := &suite{newLimiter: newLimiter, cfg: cfg}
	t.Run("Defaults", s.testDefaults)
	t.Run("Countdown", s.testCountdown)
	t.Run("RetryAfterRounding", s.testRetryAfterRounding)
	t.Run("RetryAfterIsTheShortestWholeWait", s.testRetryAfterIsTheShortestWholeWait)
	t.Run("FiguresAreHonest", s.testFiguresAreHonest)
	t.Run("PerKeyIsolation", s.testPerKeyIsolation)
	t.Run("PerKeyLimit", s.testPerKeyLimit)
	t.Run("AdmittedCount", s.testAdmittedCount)
	t.Run("ConcurrentOneKeyAdmitsExactlyBurst", s.testConcurrentOneKeyAdmitsExactlyBurst)
	t.Run("ClockFromOptions", s.testClockFromOptions)
	t.Run("DenialError", s.testDenialError)
	probe := s.subject(t, limiter.Options{})
	if _, ok := probe.lim.(limiter.Peeker); ok {
		t.Run("Peek", s.testPeek)
		t.Run("PeekTakesNothing", s.testPeekTakesNothing)
	} else {
		t.Log("Peek left out: the limiter does not implement limiter.Peeker")
	}
}

type suite struct {
	newLimiter Factory
	cfg        Config
}

// T0 is the first instant of most tests. Its fraction of a second checks
// that ResetUnix rounds up.
var T0 = time.Date(2025, 3, 17, 12, 0, 0, 250_000_000, time.UTC)

func at(d time.Duration) time.Time { return T0.Add(d) }

// subject is a limiter under test with the clock its Options.Now reads.
type subject struct {
	tb  testing.TB
	lim limiter.Limiter

	mu  sync.Mutex
	now time.Time
}

func (s *suite) subject(tb testing.TB, opts limiter.Options) *subject {
	tb.Helper()
	sub := &subject{tb: tb, now: T0}
	opts.Now = sub.clock
	sub.lim = s.newLimiter(tb, opts)
	return sub
}

func (sub *subject) clock() time.Time {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.now
}

// allowAt takes a token for key at the instant now; an error fails the test.
func (sub *subject) allowAt(key string, limit int, now time.Time) limiter.Decision {
	sub.tb.Helper()
	sub.mu.Lock()
	sub.now = now
	sub.mu.Unlock()
	d, err := sub.lim.Allow(context.Background(), key, limit)
	if err != nil {
		sub.tb.Fatalf("Allow(%q, %d) at %v: %v", key, limit, now, err)
	}
	return d
}

// peekAt peeks at key's bucket at the instant now; an error fails the test.
func (sub *subject) peekAt(key string, limit int, now time.Time) limiter.Decision {
	sub.tb.Helper()
	sub.mu.Lock()
	sub.now = now
	sub.mu.Unlock()
	d, err := sub.lim.(limiter.Peeker).Peek(context.Background(), key, limit)
	if err != nil {
		sub.tb.Fatalf("Peek(%q, %d) at %v: %v", key, limit, now, err)
	}
	return d
}

// spend takes n tokens from key at now and fails unless all are allowed.
func (sub *subject) spend(key string, limit, n int, now time.Time) {
	sub.tb.Helper()
	for i := range n {
		if d := sub.allowAt(key, limit, now); !d.Allowed {
			sub.tb.Fatalf("request %d of %d for %q at %v: denied: %+v", i+1, n, key, now, d)
		}
	}
}

// near reports whether got is within two nanoseconds of want. x/time/rate
// keeps tokens as float64, and allows a request whose missing fraction of a
// token refills in under a nanosecond, so the instant a bucket is full can
// be a nanosecond before the exact one (and rounding differs between
// architectures that fuse multiply-add).
func near(got, want time.Time) bool {
	d := got.Sub(want)
	return -2 <= d && d <= 2
}

func (s *suite) testDefaults(t *testing.T) {
	sub := s.subject(t, limiter.Options{})
	var last limiter.Decision
	for i := range limiter.DefaultLimit {
		d := sub.allowAt("k", 0, T0)
		if !d.Allowed || d.Limit != 100 || d.Remaining != 99-i {
			t.Fatalf("request %d: %+v; want allowed, limit 100, remaining %d", i+1, d, 99-i)
		}
		last = d
	}
	if want := at(time.Minute); !near(last.Reset, want) || last.ResetUnix() != want.Unix()+1 {
		t.Errorf("Reset after 100 requests = %v; want %v (one minute to refill)", last.Reset, want)
	}
	d := sub.allowAt("k", 0, T0)
	if d.Allowed || d.RetryAfter != time.Second {
		t.Errorf("request 101: %+v; want denied with RetryAfter 1s (a token every 600ms)", d)
	}
}

// testCountdown walks one key through fixed instants: 5 requests per
// minute, so a token every 12 s, burst 5.
func (s *suite) testCountdown(t *testing.T) {
	sub := s.subject(t, limiter.Options{Limit: 5})
	steps := []struct {
		at            time.Duration
		allowed       bool
		remaining     int
		reset         time.Duration // from T0
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
	for i, st := range steps {
		now := at(st.at)
		d := sub.allowAt("k", 0, now)
		if d.Allowed != st.allowed || d.Remaining != st.remaining || d.Limit != 5 ||
			!near(d.Reset, at(st.reset)) || d.RetryAfterSeconds() != st.retryAfterSec {
			t.Fatalf("step %d at T0+%v: got %+v (retry %ds); want allowed %v, remaining %d, reset T0+%v, retry %ds",
				i, st.at, d, d.RetryAfterSeconds(), st.allowed, st.remaining, st.reset, st.retryAfterSec)
		}
		if d.Reset.Before(now) {
			t.Errorf("step %d: Reset %v before now %v", i, d.Reset, now)
		}
		// T0 is at .25 s, so every Reset above has the same fraction: rounded up.
		if got, want := d.ResetUnix(), at(st.reset).Unix()+1; got != want {
			t.Errorf("step %d: ResetUnix = %d; want %d", i, got, want)
		}
	}
}

func (s *suite) testRetryAfterRounding(t *testing.T) {
	tests := []struct {
		name  string
		limit int           // per minute, burst 1
		wait  time.Duration // after spending the only token at T0
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
			sub := s.subject(t, limiter.Options{Burst: 1})
			sub.spend("k", tt.limit, 1, T0)
			d := sub.allowAt("k", tt.limit, at(tt.wait))
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

func (s *suite) testRetryAfterIsTheShortestWholeWait(t *testing.T) {
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
			sub := s.subject(t, opts)
			step := func(j int) time.Time { return at(time.Duration(j) * 37300 * time.Microsecond) }
			denials := 0
			// Request every 37.3 ms so that waits have odd fractions.
			for i := range 2000 {
				now := step(i)
				d := sub.allowAt("k", 0, now)
				if d.Allowed {
					continue
				}
				denials++
				// Probe limiters with the same history.
				probe := func(after time.Duration) bool {
					p := s.subject(t, opts)
					for j := range i + 1 {
						p.allowAt("k", 0, step(j))
					}
					return p.allowAt("k", 0, now.Add(after)).Allowed
				}
				if probe(d.RetryAfter - time.Second) {
					t.Fatalf("request %d: allowed RetryAfter-1s = %v after a denial; RetryAfter %v is not the shortest", i, d.RetryAfter-time.Second, d.RetryAfter)
				}
				if !probe(d.RetryAfter) {
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

// testFiguresAreHonest checks, at many instants, that Remaining is exactly
// the number of further requests allowed at the same instant, and that at
// Reset (and at ResetUnix) the bucket is full again.
func (s *suite) testFiguresAreHonest(t *testing.T) {
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
			history := func(n int) *subject {
				sub := s.subject(t, opts)
				for i := range n {
					sub.allowAt("k", 0, at(time.Duration(i)*c.step))
				}
				return sub
			}
			for n := 1; n < 400; n += 13 {
				sub := history(n - 1)
				now := at(time.Duration(n-1) * c.step)
				d := sub.allowAt("k", 0, now)
				for i := range d.Remaining {
					if !sub.allowAt("k", 0, now).Allowed {
						t.Fatalf("after %d requests: Remaining %d but request %d at the same instant denied", n, d.Remaining, i+1)
					}
				}
				if e := sub.allowAt("k", 0, now); e.Allowed {
					t.Fatalf("after %d requests: Remaining %d but one more at the same instant allowed", n, d.Remaining)
				}
				for _, reset := range []time.Time{d.Reset, time.Unix(d.ResetUnix(), 0)} {
					sub := history(n)
					for i := range burst {
						if !sub.allowAt("k", 0, reset).Allowed {
							t.Fatalf("after %d requests: %d of %d requests at reset %v denied", n, i+1, burst, reset)
						}
					}
				}
			}
		})
	}
}

func (s *suite) testPerKeyIsolation(t *testing.T) {
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
		{name: "separator in key", spendKey: "a:b", otherKey: "a", wantOther: 9},
		{name: "other has override", spendKey: "a", otherKey: "b", otherLim: 3, wantOther: 2},
		{name: "spender has override", spendKey: "a", spendLim: 50, otherKey: "b", wantOther: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := s.subject(t, limiter.Options{Limit: 10})
			for sub.allowAt(tt.spendKey, tt.spendLim, T0).Allowed {
			}
			d := sub.allowAt(tt.otherKey, tt.otherLim, T0)
			if !d.Allowed || d.Remaining != tt.wantOther {
				t.Errorf("other key: %+v; want allowed with remaining %d", d, tt.wantOther)
			}
			if d := sub.allowAt(tt.spendKey, tt.spendLim, T0); d.Allowed {
				t.Errorf("spent key allowed after other key's request: %+v", d)
			}
		})
	}
}

func (s *suite) testPerKeyLimit(t *testing.T) {
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
			sub := s.subject(t, tt.opts)
			for i, st := range tt.steps {
				var d limiter.Decision
				for range st.n {
					d = sub.allowAt("k", st.limit, at(st.at))
				}
				if d.Allowed != st.allowed || d.Remaining != st.remaining || d.Limit != st.wantLimit {
					t.Fatalf("step %d: %+v; want allowed %v, remaining %d, limit %d", i, d, st.allowed, st.remaining, st.wantLimit)
				}
			}
		})
	}
}

// testAdmittedCount checks the formula documented in package limiter: from
// a full bucket at T0, a client requesting every step is admitted
// B + ceil(D·L/W) − 1 requests in [T0, T0+D), and no interval of length W
// admits more than B + L − 1.
func (s *suite) testAdmittedCount(t *testing.T) {
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
		// The minute cases above over one-second windows: the same
		// formula at a sixtieth of the calls.
		{limit: 100, window: time.Second, span: time.Second, step: time.Millisecond, want: 199},
		{limit: 100, window: time.Second, span: 2 * time.Second, step: time.Millisecond, want: 299},
		{limit: 100, window: time.Second, span: 500 * time.Millisecond, step: time.Millisecond, want: 149},
		{limit: 100, window: time.Second, burst: 1, span: time.Second, step: time.Millisecond, want: 100},
		{limit: 100, window: time.Second, burst: 10, span: 500 * time.Millisecond, step: time.Millisecond, want: 59},
		{limit: 100, window: time.Second, burst: 250, span: time.Second, step: time.Millisecond, want: 349},
		{limit: 7, window: time.Second, burst: 3, span: time.Second, step: time.Millisecond, want: 9},
		{limit: 7, window: time.Second, burst: 3, span: 500 * time.Millisecond, step: time.Millisecond, want: 6},
		{limit: 1, window: time.Second, span: time.Second, step: time.Millisecond, want: 1},
		{limit: 1, window: time.Second, span: time.Second + time.Millisecond, step: time.Millisecond, want: 2},
		{limit: 1000, window: time.Minute, burst: 250, span: time.Minute, step: 5 * time.Millisecond, want: 1249},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("L=%d W=%v B=%d D=%v", tt.limit, tt.window, tt.burst, tt.span)
		// Hammer past the span to check sliding windows too.
		end := max(tt.span, 2*tt.window)
		if calls := int(end / tt.step); s.cfg.MaxCalls > 0 && calls > s.cfg.MaxCalls {
			t.Logf("%s left out: %d calls, more than Config.MaxCalls %d", name, calls, s.cfg.MaxCalls)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sub := s.subject(t, limiter.Options{Limit: tt.limit, Window: tt.window, Burst: tt.burst})
			var admitted []time.Duration
			for off := time.Duration(0); off < end; off += tt.step {
				if sub.allowAt("k", 0, at(off)).Allowed {
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
				t.Errorf("admitted %d in [T0, T0+%v); want %d", got, tt.span, tt.want)
			}
			burst := tt.burst
			if burst == 0 {
				burst = tt.limit
			}
			// Any interval [s, s+W): the most is B + L - 1, reached from T0.
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

func (s *suite) testConcurrentOneKeyAdmitsExactlyBurst(t *testing.T) {
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
			sub := s.subject(t, tt.opts) // its clock stays at T0
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
						d, err := sub.lim.Allow(context.Background(), "k", 0)
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

func (s *suite) testClockFromOptions(t *testing.T) {
	sub := s.subject(t, limiter.Options{Limit: 60, Burst: 1})
	now := T0
	steps := []struct {
		advance time.Duration
		allowed bool
	}{{0, true}, {0, false}, {999 * time.Millisecond, false}, {time.Millisecond, true}, {0, false}}
	for i, st := range steps {
		now = now.Add(st.advance)
		if d := sub.allowAt("k", 0, now); d.Allowed != st.allowed {
			t.Fatalf("step %d at %v: %+v; want allowed %v", i, now, d, st.allowed)
		}
	}
}

func (s *suite) testDenialError(t *testing.T) {
	sub := s.subject(t, limiter.Options{Limit: 1})
	allowed := sub.allowAt("k", 0, T0)
	denied := sub.allowAt("k", 0, at(30*time.Second))
	if err := allowed.Err(); err != nil {
		t.Errorf("allowed.Err() = %v; want nil", err)
	}
	err := fmt.Errorf("authorize: %w", denied.Err())
	var le *limiter.LimitedError
	if !errors.Is(err, limiter.ErrLimited) || !errors.As(err, &le) || le.Decision != denied {
		t.Fatalf("denial error %v: want a *LimitedError matching ErrLimited and carrying %+v", err, denied)
	}
	if got, want := le.Error(), "Rate limit exceeded. Try again in 30 seconds."; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
}

func (s *suite) testPeek(t *testing.T) {
	// Limit 10 a minute: one token every 6 seconds.
	tests := []struct {
		name          string
		spent         int           // tokens taken at T0
		after         time.Duration // when to peek, after T0
		limit         int           // passed to Peek
		wantAllowed   bool
		wantRemaining int
		wantReset     time.Duration // after T0
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
			sub := s.subject(t, limiter.Options{Limit: 10})
			sub.spend("k", 10, tt.spent, T0)
			now := at(tt.after)
			d := sub.peekAt("k", tt.limit, now)
			wantLimit := tt.limit
			if wantLimit == 0 {
				wantLimit = 10
			}
			if d.Allowed != tt.wantAllowed || d.Remaining != tt.wantRemaining || d.Limit != wantLimit || d.RetryAfter != tt.wantRetry {
				t.Errorf("Peek = %+v, want allowed %v remaining %d limit %d retry %v", d, tt.wantAllowed, tt.wantRemaining, wantLimit, tt.wantRetry)
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

// testPeekTakesNothing: a peek changes no later decision, and its
// Remaining is exactly how many requests in a row Allow then admits.
func (s *suite) testPeekTakesNothing(t *testing.T) {
	for _, spent := range []int{0, 1, 4, 9, 10} {
		sub := s.subject(t, limiter.Options{Limit: 10})
		sub.spend("k", 10, spent, T0)
		now := at(1500 * time.Millisecond)
		p1 := sub.peekAt("k", 10, now)
		p2 := sub.peekAt("k", 10, now)
		if p1 != p2 {
			t.Fatalf("spent %d: two peeks differ: %+v, %+v", spent, p1, p2)
		}
		admitted := 0
		for sub.allowAt("k", 10, now).Allowed {
			admitted++
		}
		if admitted != p1.Remaining {
			t.Errorf("spent %d: peek said %d remaining, Allow admitted %d", spent, p1.Remaining, admitted)
		}
	}
}
