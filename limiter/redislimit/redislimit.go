package redislimit

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/limiter/internal/bucket"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Defaults applied by [New] to zero fields of [Options].
const (
	DefaultPrefix        = "memoryrelay:ratelimit:"
	DefaultTimeout       = 500 * time.Millisecond
	DefaultRetryInterval = time.Second
)

// ExpiryMargin is how long after its bucket is full again (by Redis's
// clock) a key's hash is kept. A full bucket behaves exactly as a missing
// one, so expiry changes no decision; the margin covers a clock passed in
// Options.Now that runs behind Redis's.
const ExpiryMargin = time.Minute

// Policy is what [Limiter.Allow] does when Redis cannot be reached.
type Policy int

const (
	// FailOpen decides in process instead, with a [limiter.Local] of the
	// same options in each Limiter: every node then enforces the limit on
	// its own, so n nodes admit up to n times the allowance until Redis is
	// back. Allow returns no error. The first failure is logged at Warn,
	// the recovery at Info, and Health reports the outage.
	FailOpen Policy = iota
	// FailClosed refuses the request: Allow returns an error matching
	// limiter.ErrUnavailable and memory.ErrUnavailable (an
	// *memory.UnavailableError), which the REST API answers with 503 and
	// Retry-After. The first failure and the recovery are logged as for
	// FailOpen.
	FailClosed
)

func (p Policy) String() string {
	switch p {
	case FailOpen:
		return "fail open"
	case FailClosed:
		return "fail closed"
	}
	return "Policy(" + strconv.Itoa(int(p)) + ")"
}

// Options configures a [Limiter]. The zero value is valid: every zero
// field takes its documented default. Limit, Window and Burst have the
// meaning they have in [limiter.Options], and every node sharing a Redis
// should set them alike.
type Options struct {
	// Limit is the number of requests per Window a key may make when the
	// caller passes no per-key limit. Default limiter.DefaultLimit (100).
	Limit int
	// Window is the duration Limit is expressed over. Default
	// limiter.DefaultWindow (one minute).
	Window time.Duration
	// Burst is the bucket capacity; 0 means each key's limit. Default 0.
	Burst int

	// Prefix is put before each rate-limit key to make the Redis key of its
	// bucket. Default DefaultPrefix.
	Prefix string

	// Now, when set, gives the instant of each decision. Default nil: the
	// instant is Redis's own clock (the TIME command, read inside the
	// script), one clock for every node whatever their own clocks say.
	Now func() time.Time

	// OnUnavailable is what Allow does when Redis cannot be reached.
	// Default FailOpen.
	OnUnavailable Policy

	// Timeout bounds each call to Redis, on top of the caller's context.
	// Default DefaultTimeout (500 ms).
	Timeout time.Duration

	// RetryInterval is how long after a failure Allow decides without
	// trying Redis (by the policy), so that an outage costs one Timeout per
	// interval rather than one per request. Default DefaultRetryInterval
	// (one second).
	RetryInterval time.Duration

	// Logger receives the outage and recovery lines; never keys. Default:
	// discard.
	Logger *slog.Logger
}

// Limiter is a [limiter.Limiter] whose buckets live in Redis, so that
// every process sharing the Redis shares one allowance per key. Each
// decision is one atomic script call.
//
// Create it with [New]. A Limiter is safe for concurrent use; it starts no
// goroutines and needs no Close (closing the client is the caller's).
type Limiter struct {
	client redis.UniversalClient
	opts   Options
	local  *limiter.Local // the FailOpen fallback

	mu      sync.Mutex
	down    error     // the failure that began the outage; nil when up
	retryAt time.Time // during an outage, when Allow tries Redis again
}

var (
	_ limiter.Limiter = (*Limiter)(nil)
	_ limiter.Peeker  = (*Limiter)(nil)
)

//go:embed bucket.lua
var bucketLua string

var script = redis.NewScript(bucketLua)

// New returns a Limiter over client, with defaults applied to zero fields
// of opts. It does not contact Redis. It returns an error prefixed
// "redislimit: " if a field is negative, OnUnavailable is unknown, or the
// client (a *redis.Client, *redis.ClusterClient or *redis.Ring) does not
// set ContextTimeoutEnabled: without it go-redis ignores context
// deadlines, and a hung Redis would hold every request for the client's
// read timeout and retries rather than Options.Timeout. A client of
// another type must honour context deadlines itself.
func New(client redis.UniversalClient, opts Options) (*Limiter, error) {
	switch {
	case client == nil:
		return nil, errors.New("redislimit: nil client")
	case !contextTimeouts(client):
		return nil, errors.New("redislimit: the client's options must set ContextTimeoutEnabled, so that Options.Timeout bounds each call")
	case opts.Limit < 0:
		return nil, fmt.Errorf("redislimit: Options.Limit is negative: %d", opts.Limit)
	case opts.Window < 0:
		return nil, fmt.Errorf("redislimit: Options.Window is negative: %v", opts.Window)
	case opts.Burst < 0:
		return nil, fmt.Errorf("redislimit: Options.Burst is negative: %d", opts.Burst)
	case opts.Timeout < 0:
		return nil, fmt.Errorf("redislimit: Options.Timeout is negative: %v", opts.Timeout)
	case opts.RetryInterval < 0:
		return nil, fmt.Errorf("redislimit: Options.RetryInterval is negative: %v", opts.RetryInterval)
	case opts.OnUnavailable != FailOpen && opts.OnUnavailable != FailClosed:
		return nil, fmt.Errorf("redislimit: unknown Options.OnUnavailable %d", opts.OnUnavailable)
	}
	opts.Limit = cmp.Or(opts.Limit, limiter.DefaultLimit)
	opts.Window = cmp.Or(opts.Window, limiter.DefaultWindow)
	opts.Prefix = cmp.Or(opts.Prefix, DefaultPrefix)
	opts.Timeout = cmp.Or(opts.Timeout, DefaultTimeout)
	opts.RetryInterval = cmp.Or(opts.RetryInterval, DefaultRetryInterval)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	local, err := limiter.NewLocal(limiter.Options{Limit: opts.Limit, Window: opts.Window, Burst: opts.Burst, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("redislimit: %w", err)
	}
	return &Limiter{client: client, opts: opts, local: local}, nil
}

// contextTimeouts reports whether client honours context deadlines, when
// its type says.
func contextTimeouts(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Allow takes one token from the bucket of key, whose limit is limit
// requests per window (limit <= 0 means Options.Limit), with the policy
// and figures of [limiter.Local]. If Redis cannot be reached it follows
// Options.OnUnavailable. If ctx ends first, it returns ctx's error
// (wrapped) and counts no failure.
func (l *Limiter) Allow(ctx context.Context, key string, limit int) (limiter.Decision, error) {
	if limit <= 0 {
		limit = l.opts.Limit
	}
	burst := l.opts.Burst
	if burst == 0 {
		burst = limit
	}
	if cause := l.outage(); cause != nil {
		return l.unavailable(key, limit, cause)
	}
	d, err := l.allow(ctx, key, limit, burst)
	if err == nil {
		l.recovered()
		return d, nil
	}
	if ctx.Err() != nil {
		return limiter.Decision{}, fmt.Errorf("redislimit: %w", err)
	}
	l.failed(err)
	return l.unavailable(key, limit, err)
}

// allow runs the script once.
func (l *Limiter) allow(ctx context.Context, key string, limit, burst int) (limiter.Decision, error) {
	allowed, tokens, perSecond, now, err := l.run(ctx, key, limit, burst, "")
	if err != nil {
		return limiter.Decision{}, err
	}
	remaining, toFull, retryAfter := bucket.Figures(allowed, tokens, perSecond, burst)
	return limiter.Decision{Allowed: allowed, Limit: limit, Remaining: remaining, Reset: now.Add(toFull), RetryAfter: retryAfter}, nil
}

// run runs the script once in mode ("" or "peek") and returns its
// result, the bucket's rate and the instant of the decision.
func (l *Limiter) run(ctx context.Context, key string, limit, burst int, mode string) (allowed bool, tokens, perSecond float64, now time.Time, err error) {
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	perSecond = bucket.PerSecond(limit, l.opts.Window)
	nowS, nowNS := "", ""
	if l.opts.Now != nil {
		now = l.opts.Now()
		nowS, nowNS = strconv.FormatInt(now.Unix(), 10), strconv.Itoa(now.Nanosecond())
	}
	res, err := script.Run(ctx, l.client, []string{l.opts.Prefix + key},
		limit, burst, strconv.FormatFloat(perSecond, 'g', -1, 64), nowS, nowNS, ExpiryMargin.Milliseconds(), mode).Slice()
	if err != nil {
		return false, 0, 0, time.Time{}, err
	}
	if allowed, tokens, err = parseReply(res); err != nil {
		return false, 0, 0, time.Time{}, err
	}
	if l.opts.Now == nil {
		now = time.Unix(res[2].(int64), res[3].(int64))
	}
	return allowed, tokens, perSecond, now, nil
}

// Peek reports the bucket of key without taking a token, as
// limiter.Peeker describes and with Local.PeekAt's figures. It is one
// read-only script call. When Redis cannot be reached it follows
// Options.OnUnavailable as Allow does: FailOpen peeks at the in-process
// bucket, FailClosed returns the unavailable error.
func (l *Limiter) Peek(ctx context.Context, key string, limit int) (limiter.Decision, error) {
	if limit <= 0 {
		limit = l.opts.Limit
	}
	burst := l.opts.Burst
	if burst == 0 {
		burst = limit
	}
	if cause := l.outage(); cause != nil {
		return l.unavailablePeek(key, limit, cause)
	}
	_, tokens, perSecond, now, err := l.run(ctx, key, limit, burst, "peek")
	if err != nil {
		if ctx.Err() != nil {
			return limiter.Decision{}, fmt.Errorf("redislimit: %w", err)
		}
		l.failed(err)
		return l.unavailablePeek(key, limit, err)
	}
	l.recovered()
	n, toFull, retryAfter := bucket.Peek(tokens, perSecond, burst)
	return limiter.Decision{Allowed: n > 0, Limit: limit, Remaining: n, Reset: now.Add(toFull), RetryAfter: retryAfter}, nil
}

func (l *Limiter) unavailablePeek(key string, limit int, cause error) (limiter.Decision, error) {
	if l.opts.OnUnavailable == FailOpen {
		return l.local.Peek(context.Background(), key, limit)
	}
	return limiter.Decision{}, unavailableError(cause, l.opts.RetryInterval)
}

func parseReply(res []any) (allowed bool, tokens float64, err error) {
	bad := func() (bool, float64, error) { return false, 0, fmt.Errorf("unexpected script reply %v", res) }
	if len(res) != 4 {
		return bad()
	}
	a, ok1 := res[0].(int64)
	s, ok2 := res[1].(string)
	_, ok3 := res[2].(int64)
	_, ok4 := res[3].(int64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return bad()
	}
	tokens, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(tokens) {
		return bad()
	}
	return a == 1, tokens, nil
}

// unavailable decides by the policy without Redis.
func (l *Limiter) unavailable(key string, limit int, cause error) (limiter.Decision, error) {
	if l.opts.OnUnavailable == FailOpen {
		d, _ := l.local.Allow(context.Background(), key, limit)
		return d, nil
	}
	return limiter.Decision{}, unavailableError(cause, l.opts.RetryInterval)
}

func unavailableError(cause error, retry time.Duration) error {
	return &memory.UnavailableError{
		Reason:     "The rate limiter is unavailable",
		RetryAfter: int((retry + time.Second - 1) / time.Second),
		Err:        fmt.Errorf("%w: redis: %w", limiter.ErrUnavailable, cause),
	}
}

// outage returns the failure that began the current outage while Allow
// should not try Redis yet, and nil when it should.
func (l *Limiter) outage() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down != nil && time.Now().Before(l.retryAt) {
		return l.down
	}
	return nil
}

func (l *Limiter) failed(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down == nil {
		l.down = err
		l.opts.Logger.Warn("redislimit: redis unavailable", "policy", l.opts.OnUnavailable.String(), "err", err)
	}
	l.retryAt = time.Now().Add(l.opts.RetryInterval)
}

func (l *Limiter) recovered() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down != nil {
		l.down = nil
		l.opts.Logger.Info("redislimit: redis reachable again")
	}
}

// Health pings Redis (within Options.Timeout) and returns nil if it
// answers. Otherwise it returns an error matching limiter.ErrUnavailable
// and memory.ErrUnavailable, and Allow is then in an outage: with
// FailOpen a health report should say "degraded" (limits hold per node,
// not across nodes), with FailClosed "down" (requests are refused).
func (l *Limiter) Health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	if err := l.client.Ping(ctx).Err(); err != nil {
		l.failed(err)
		return unavailableError(err, l.opts.RetryInterval)
	}
	l.recovered()
	return nil
}
