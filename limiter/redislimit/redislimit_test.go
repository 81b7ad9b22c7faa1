package redislimit_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/memoryrelay/memoryrelay/internal/redistest"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/limiter/internal/bucket"
	"github.com/memoryrelay/memoryrelay/limiter/limitertest"
	"github.com/memoryrelay/memoryrelay/limiter/redislimit"
	"github.com/memoryrelay/memoryrelay/memory"
)

var t0 = limitertest.T0

func newClient(tb testing.TB, srv *redistest.Server) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	tb.Cleanup(func() { c.Close() })
	return c
}

var prefixes atomic.Int64

// freshPrefix returns a key prefix no other limiter of the test binary uses.
func freshPrefix() string { return fmt.Sprintf("test%d:", prefixes.Add(1)) }

func newLimiter(tb testing.TB, c redis.UniversalClient, opts redislimit.Options) *redislimit.Limiter {
	tb.Helper()
	l, err := redislimit.New(c, opts)
	if err != nil {
		tb.Fatalf("New(%+v): %v", opts, err)
	}
	return l
}

func fromLimiterOptions(o limiter.Options) redislimit.Options {
	return redislimit.Options{Limit: o.Limit, Window: o.Window, Burst: o.Burst, Now: o.Now, Prefix: freshPrefix()}
}

// TestConformance runs the policy's shared suite against Redis. The
// hammering cases over minute windows (120,000 calls each, a few minutes
// in all) run only with MEMORYRELAY_LONG_TESTS=1; their one-second
// counterparts, which check the same formula, always run.
func TestConformance(t *testing.T) {
	c := newClient(t, redistest.Start(t))
	cfg := limitertest.Config{MaxCalls: 30_000}
	if os.Getenv("MEMORYRELAY_LONG_TESTS") != "" {
		cfg.MaxCalls = 0
	}
	limitertest.Run(t, func(tb testing.TB, opts limiter.Options) limiter.Limiter {
		return newLimiter(tb, c, fromLimiterOptions(opts))
	}, cfg)
}

// reference decides as limiter.Local does, with one x/time/rate limiter
// per key driven the same way, but never forgets a key. (Local forgets a
// full bucket, and Redis expires one a minute after it is full: both then
// start afresh, which differs from keeping the bucket only when the key's
// limit changes meanwhile, and at different moments.)
type reference struct {
	opts    limiter.Options
	buckets map[string]*refBucket
}

type refBucket struct {
	lim          *rate.Limiter
	limit, burst int
	perSecond    float64
}

func (r *reference) allowAt(key string, limit int, now time.Time) limiter.Decision {
	if limit <= 0 {
		limit = cmp.Or(r.opts.Limit, limiter.DefaultLimit)
	}
	burst := cmp.Or(r.opts.Burst, limit)
	window := cmp.Or(r.opts.Window, limiter.DefaultWindow)
	b := r.buckets[key]
	switch {
	case b == nil:
		ps := bucket.PerSecond(limit, window)
		b = &refBucket{lim: rate.NewLimiter(rate.Limit(ps), burst), limit: limit, burst: burst, perSecond: ps}
		r.buckets[key] = b
	default:
		if b.limit != limit {
			b.perSecond = bucket.PerSecond(limit, window)
			b.lim.SetLimitAt(now, rate.Limit(b.perSecond))
			b.limit = limit
		}
		if b.burst != burst {
			b.lim.SetBurstAt(now, burst)
			b.burst = burst
		}
	}
	allowed := b.lim.AllowN(now, 1)
	remaining, toFull, retry := bucket.Figures(allowed, b.lim.TokensAt(now), b.perSecond, b.burst)
	return limiter.Decision{Allowed: allowed, Limit: limit, Remaining: remaining, Reset: now.Add(toFull), RetryAfter: retry}
}

// peekAt reports the bucket as Local.PeekAt does.
func (r *reference) peekAt(key string, limit int, now time.Time) limiter.Decision {
	if limit <= 0 {
		limit = cmp.Or(r.opts.Limit, limiter.DefaultLimit)
	}
	burst := cmp.Or(r.opts.Burst, limit)
	perSecond := bucket.PerSecond(limit, cmp.Or(r.opts.Window, limiter.DefaultWindow))
	tokens := float64(burst)
	if b := r.buckets[key]; b != nil {
		tokens = min(b.lim.TokensAt(now), tokens)
	}
	n, toFull, retry := bucket.Peek(tokens, perSecond, burst)
	return limiter.Decision{Allowed: n > 0, Limit: limit, Remaining: n, Reset: now.Add(toFull), RetryAfter: retry}
}

// TestMatchesLocal runs random workloads (several keys, per-key limits
// that change, a fixed burst or none, instants that mostly advance and
// sometimes go back, peeks among the requests) through Redis and through a reference that decides
// as Local does but forgets no bucket: every Decision must be identical,
// to the nanosecond of Reset. Keys whose limit never changes go through
// Local itself too, which must agree as well.
func TestMatchesLocal(t *testing.T) {
	c := newClient(t, redistest.Start(t))
	configs := []limiter.Options{
		{},
		{Limit: 7, Window: time.Second},
		{Limit: 3, Window: time.Minute, Burst: 2},
		{Limit: 1000, Window: time.Hour, Burst: 50},
		{Limit: 13, Window: 1300 * time.Millisecond, Burst: 40},
	}
	for i, opts := range configs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			var now time.Time
			opts.Now = func() time.Time { return now }
			local, err := limiter.NewLocal(opts)
			if err != nil {
				t.Fatal(err)
			}
			ref := &reference{opts: opts, buckets: map[string]*refBucket{}}
			remote := newLimiter(t, c, fromLimiterOptions(opts))
			now = t0
			denied := 0
			for call := range 3000 {
				switch r := rng.IntN(100); {
				case r < 70: // same instant
				case r < 97:
					now = now.Add(time.Duration(rng.Int64N(int64(100 * time.Millisecond))))
				case r < 99:
					now = now.Add(time.Duration(rng.Int64N(int64(3 * cmp.Or(opts.Window, limiter.DefaultWindow)))))
				default: // a clock stepping back a little
					now = now.Add(-time.Duration(rng.Int64N(int64(50 * time.Millisecond))))
				}
				key := fmt.Sprint("k", rng.IntN(5))
				limit := 0
				if key == "k4" {
					limit = 4 // fixed: Local forgetting it changes nothing
				} else if rng.IntN(10) == 0 {
					limit = []int{1, 2, 5, 50, 200}[rng.IntN(5)]
				}
				if rng.IntN(8) == 0 { // a peek, which changes nothing
					want := ref.peekAt(key, limit, now)
					got, err := remote.Peek(context.Background(), key, limit)
					if err != nil || got != want {
						t.Fatalf("call %d (peek %s limit %d at %v):\nredis     %+v, %v\nreference %+v", call, key, limit, now, got, err, want)
					}
					if key == "k4" {
						if l, _ := local.Peek(context.Background(), key, limit); l != want {
							t.Fatalf("call %d (peek %s at %v):\nlocal     %+v\nreference %+v", call, key, now, l, want)
						}
					}
					continue
				}
				want := ref.allowAt(key, limit, now)
				got, err := remote.Allow(context.Background(), key, limit)
				if err != nil {
					t.Fatalf("call %d: %v", call, err)
				}
				if got != want {
					t.Fatalf("call %d (%s limit %d at %v):\nredis     %+v\nreference %+v", call, key, limit, now, got, want)
				}
				if key == "k4" {
					if l, _ := local.Allow(context.Background(), key, limit); l != want {
						t.Fatalf("call %d (%s at %v):\nlocal     %+v\nreference %+v", call, key, now, l, want)
					}
				}
				if !got.Allowed {
					denied++
				}
			}
			if denied == 0 {
				t.Fatal("no denial: the workload does not exercise empty buckets")
			}
		})
	}
}

// TestAcrossNodes hammers one key from three limiters, each with its own
// client, as three nodes would: together they admit exactly the burst,
// and each Remaining figure is reported once. With Redis's clock, the
// window (an hour) is long enough for no token to refill meanwhile.
func TestAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	for _, clock := range []string{"redis TIME", "fixed Options.Now"} {
		t.Run(clock, func(t *testing.T) {
			prefix := freshPrefix()
			const limit, nodes, workers, each = 300, 3, 8, 40 // 960 requests
			var lims []*redislimit.Limiter
			for range nodes {
				opts := redislimit.Options{Limit: limit, Window: time.Hour, Prefix: prefix}
				if clock != "redis TIME" {
					opts.Now = func() time.Time { return t0 }
				}
				lims = append(lims, newLimiter(t, newClient(t, srv), opts))
			}
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				remaining = map[int]int{}
				perNode   [nodes]int
				allowed   int
			)
			for n, l := range lims {
				for range workers {
					wg.Go(func() {
						for range each {
							d, err := l.Allow(context.Background(), "key", 0)
							if err != nil {
								t.Error(err)
								return
							}
							if d.Allowed {
								mu.Lock()
								allowed++
								perNode[n]++
								remaining[d.Remaining]++
								mu.Unlock()
							}
						}
					})
				}
			}
			wg.Wait()
			if allowed != limit {
				t.Errorf("three nodes admitted %d of %d; want %d (one node's allowance)", allowed, nodes*workers*each, limit)
			}
			for r := range limit {
				if remaining[r] != 1 {
					t.Errorf("Remaining %d reported %d times; want once", r, remaining[r])
				}
			}
			t.Logf("admitted per node: %v", perNode)
		})
	}
}

// TestRedisClock decides by Redis's clock (Options.Now unset): the
// figures are relative to the real time, which Redis on this machine
// shares with the test.
func TestRedisClock(t *testing.T) {
	l := newLimiter(t, newClient(t, redistest.Start(t)), redislimit.Options{Limit: 10, Window: time.Hour, Prefix: freshPrefix()})
	ctx := context.Background()
	before := time.Now()
	var d limiter.Decision
	for i := range 10 {
		var err error
		if d, err = l.Allow(ctx, "k", 0); err != nil || !d.Allowed || d.Remaining != 9-i {
			t.Fatalf("request %d: %+v, %v; want allowed with remaining %d", i+1, d, err, 9-i)
		}
	}
	after := time.Now()
	// Ten tokens spent within [before, after]: full again an hour later
	// (Redis TIME has microseconds: a millisecond either side of slack).
	if d.Reset.Before(before.Add(time.Hour-time.Millisecond)) || d.Reset.After(after.Add(time.Hour+time.Millisecond)) {
		t.Errorf("Reset %v; want between %v and %v", d.Reset, before.Add(time.Hour), after.Add(time.Hour))
	}
	d, err := l.Allow(ctx, "k", 0)
	if err != nil || d.Allowed || d.RetryAfterSeconds() != 360 {
		t.Errorf("request 11: %+v, %v; want denied, Retry-After 360 s (a token every 6 min)", d, err)
	}

	// Refill: 20 a second, burst 1: the next token comes 50 ms after one
	// was taken, by Redis's clock.
	fast := newLimiter(t, newClient(t, redistest.Start(t)), redislimit.Options{Limit: 20, Window: time.Second, Burst: 1, Prefix: freshPrefix()})
	// spent is read before the first request, so the token Redis hands
	// back 50 ms after it took one is never seen sooner than 50 ms after
	// spent, however late the replies arrive on a loaded machine.
	spent := time.Now()
	if d, err := fast.Allow(ctx, "k", 0); err != nil || !d.Allowed {
		t.Fatalf("first request: %+v, %v", d, err)
	}
	if d, err := fast.Allow(ctx, "k", 0); err != nil || (d.Allowed && time.Since(spent) < 50*time.Millisecond) {
		t.Fatalf("second request at once: %+v, %v; want denied", d, err)
	}
	for {
		d, err := fast.Allow(ctx, "k", 0)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			break
		}
		if time.Since(spent) > 10*time.Second {
			t.Fatal("no token after 10 s")
		}
	}
	if waited := time.Since(spent); waited < 50*time.Millisecond {
		t.Errorf("a token came back after %v; want 50 ms", waited)
	}
}

// TestKeyExpiry checks that a bucket's hash expires ExpiryMargin after the
// bucket is full again, so idle keys cost Redis no memory.
func TestKeyExpiry(t *testing.T) {
	c := newClient(t, redistest.Start(t))
	prefix := freshPrefix()
	l := newLimiter(t, c, redislimit.Options{Limit: 60, Prefix: prefix}) // a token a second
	ctx := context.Background()
	for range 3 {
		if _, err := l.Allow(ctx, "k", 0); err != nil {
			t.Fatal(err)
		}
	}
	ttl, err := c.PTTL(ctx, prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	// Three tokens short: full in 3 s.
	if lo, hi := redislimit.ExpiryMargin+2900*time.Millisecond, redislimit.ExpiryMargin+3*time.Second; ttl < lo || ttl > hi {
		t.Errorf("PTTL = %v; want in [%v, %v]", ttl, lo, hi)
	}
	if n, err := c.Exists(ctx, prefix+"other").Result(); err != nil || n != 0 {
		t.Errorf("a key never used exists: %d, %v", n, err)
	}
}

func TestNewOptions(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}) // never contacted
	defer c.Close()
	tests := []struct {
		name    string
		opts    redislimit.Options
		wantErr string
	}{
		{name: "zero value"},
		{name: "all set", opts: redislimit.Options{Limit: 10, Window: time.Second, Burst: 3, Prefix: "p:", Now: time.Now,
			OnUnavailable: redislimit.FailClosed, Timeout: time.Second, RetryInterval: time.Second, Logger: slog.Default()}},
		{name: "negative limit", opts: redislimit.Options{Limit: -1}, wantErr: "Limit"},
		{name: "negative window", opts: redislimit.Options{Window: -1}, wantErr: "Window"},
		{name: "negative burst", opts: redislimit.Options{Burst: -1}, wantErr: "Burst"},
		{name: "negative timeout", opts: redislimit.Options{Timeout: -1}, wantErr: "Timeout"},
		{name: "negative retry interval", opts: redislimit.Options{RetryInterval: -1}, wantErr: "RetryInterval"},
		{name: "unknown policy", opts: redislimit.Options{OnUnavailable: 7}, wantErr: "OnUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := redislimit.New(c, tt.opts)
			if tt.wantErr == "" {
				if err != nil || l == nil {
					t.Fatalf("New: %v, %v", l, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "redislimit: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New: %v; want an error prefixed redislimit: naming %s", err, tt.wantErr)
			}
		})
	}
	if _, err := redislimit.New(nil, redislimit.Options{}); err == nil {
		t.Error("New(nil client): no error")
	}
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer plain.Close()
	if _, err := redislimit.New(plain, redislimit.Options{}); err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled") {
		t.Errorf("New(client without ContextTimeoutEnabled): %v; want an error naming it", err)
	}
}

// logBuffer is a slog handler's output, safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// TestUnavailable stops Redis in the middle of a test, under each policy,
// then starts it again: FailClosed refuses with an unavailable error,
// FailOpen decides in process; both log the outage once and the recovery
// once, Health reports the outage, and decisions come from Redis again
// after it is back (a second node sees the first node's spending).
func TestUnavailable(t *testing.T) {
	for _, policy := range []redislimit.Policy{redislimit.FailClosed, redislimit.FailOpen} {
		t.Run(policy.String(), func(t *testing.T) {
			srv := redistest.Start(t)
			var logs logBuffer
			prefix := freshPrefix()
			opts := redislimit.Options{Limit: 10, Window: time.Hour, Prefix: prefix, OnUnavailable: policy,
				RetryInterval: 20 * time.Millisecond, Logger: logs.logger()}
			node1 := newLimiter(t, newClient(t, srv), opts)
			node2 := newLimiter(t, newClient(t, srv), opts)
			ctx := context.Background()
			for i := range 3 {
				if d, err := node1.Allow(ctx, "k", 0); err != nil || d.Remaining != 9-i {
					t.Fatalf("request %d: %+v, %v", i, d, err)
				}
			}
			if err := node1.Health(ctx); err != nil {
				t.Fatalf("Health with Redis up: %v", err)
			}

			srv.Kill(t)
			for i := range 50 {
				d, err := node1.Allow(ctx, "k", 0)
				switch policy {
				case redislimit.FailClosed:
					if !errors.Is(err, limiter.ErrUnavailable) || !errors.Is(err, memory.ErrUnavailable) {
						t.Fatalf("request %d with Redis down: %+v, %v; want an error matching limiter.ErrUnavailable and memory.ErrUnavailable", i, d, err)
					}
					var ue *memory.UnavailableError
					if !errors.As(err, &ue) || ue.Reason != "The rate limiter is unavailable" || ue.RetryAfter != 1 {
						t.Fatalf("error %#v; want *memory.UnavailableError with a reason and RetryAfter 1", err)
					}
				case redislimit.FailOpen:
					// The in-process bucket starts full; 10 allowed, then denied.
					if err != nil || d.Allowed != (i < 10) || (d.Allowed && d.Remaining != 9-i) {
						t.Fatalf("request %d with Redis down: %+v, %v; want the in-process figures", i, d, err)
					}
				}
				if i == 25 {
					time.Sleep(30 * time.Millisecond) // past RetryInterval: Redis is tried again
				}
			}
			switch d, err := node1.Peek(ctx, "k", 0); policy {
			case redislimit.FailClosed:
				if !errors.Is(err, limiter.ErrUnavailable) {
					t.Errorf("Peek with Redis down: %+v, %v; want ErrUnavailable", d, err)
				}
			case redislimit.FailOpen:
				if err != nil || d.Allowed || d.Remaining != 0 {
					t.Errorf("Peek with Redis down: %+v, %v; want the spent in-process bucket", d, err)
				}
			}
			if err := node1.Health(ctx); !errors.Is(err, limiter.ErrUnavailable) {
				t.Errorf("Health with Redis down: %v; want ErrUnavailable", err)
			}
			if n := strings.Count(logs.String(), "redislimit: redis unavailable"); n != 1 {
				t.Errorf("outage logged %d times; want once:\n%s", n, logs.String())
			}
			if !strings.Contains(logs.String(), "policy=\""+policy.String()+"\"") {
				t.Errorf("outage line does not name the policy:\n%s", logs.String())
			}

			srv.Restart(t) // empty: no persistence
			deadline := time.Now().Add(10 * time.Second)
			for node1.Health(ctx) != nil {
				if time.Now().After(deadline) {
					t.Fatal("Health still failing 10 s after Redis restarted")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if !strings.Contains(logs.String(), "redislimit: redis reachable again") {
				t.Errorf("recovery not logged:\n%s", logs.String())
			}
			// Decisions are shared again: node 2 sees node 1's tokens.
			for i := range 4 {
				if d, err := node1.Allow(ctx, "k", 0); err != nil || !d.Allowed || d.Remaining != 9-i {
					t.Fatalf("after restart, node 1 request %d: %+v, %v", i, d, err)
				}
			}
			if d, err := node2.Allow(ctx, "k", 0); err != nil || d.Remaining != 5 {
				t.Fatalf("after restart, node 2: %+v, %v; want remaining 5", d, err)
			}
		})
	}
}

// TestHungRedis pauses Redis (SIGSTOP): a call gives up after
// Options.Timeout, and later calls within RetryInterval do not wait.
func TestHungRedis(t *testing.T) {
	srv := redistest.Start(t)
	const timeout = 100 * time.Millisecond
	l := newLimiter(t, newClient(t, srv), redislimit.Options{Prefix: freshPrefix(), OnUnavailable: redislimit.FailClosed,
		Timeout: timeout, RetryInterval: time.Hour})
	ctx := context.Background()
	if _, err := l.Allow(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	srv.Pause(t)
	defer srv.Resume(t)
	start := time.Now()
	if _, err := l.Allow(ctx, "k", 0); !errors.Is(err, limiter.ErrUnavailable) {
		t.Fatalf("Allow on a hung Redis: %v; want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 10*timeout {
		t.Errorf("Allow on a hung Redis took %v; want about Timeout %v", took, timeout)
	}
	start = time.Now()
	for range 100 {
		if _, err := l.Allow(ctx, "k", 0); !errors.Is(err, limiter.ErrUnavailable) {
			t.Fatalf("Allow during the outage: %v; want ErrUnavailable", err)
		}
	}
	if took := time.Since(start); took > timeout {
		t.Errorf("100 calls during the outage took %v; they should not wait on Redis", took)
	}
}

// TestCanceledContext: a caller that gives up is not an outage.
func TestCanceledContext(t *testing.T) {
	var logs logBuffer
	l := newLimiter(t, newClient(t, redistest.Start(t)), redislimit.Options{Prefix: freshPrefix(), OnUnavailable: redislimit.FailClosed, Logger: logs.logger()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.Allow(ctx, "k", 0)
	if !errors.Is(err, context.Canceled) || errors.Is(err, limiter.ErrUnavailable) {
		t.Fatalf("Allow with a canceled context: %v; want context.Canceled, not ErrUnavailable", err)
	}
	if d, err := l.Allow(context.Background(), "k", 0); err != nil || d.Remaining != 99 {
		t.Fatalf("next Allow: %+v, %v; want allowed from a full bucket (the canceled call took nothing)", d, err)
	}
	if logs.String() != "" {
		t.Errorf("logged: %s", logs.String())
	}
}
