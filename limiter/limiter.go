package limiter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/memoryrelay/memoryrelay/limiter/internal/bucket"
)

// Defaults applied by [NewLocal] to zero fields of [Options].
const (
	// DefaultLimit is the number of requests a key may make per window.
	DefaultLimit = 100
	// DefaultWindow is the window the limit is expressed over.
	DefaultWindow = time.Minute
	// DefaultMaxKeys is the number of keys a [Local] tracks before it evicts.
	DefaultMaxKeys = 100_000
)

const (
	// sweepPerCall is how many tracked keys each call examines for lazy
	// eviction of full (idle) buckets.
	sweepPerCall = 2
	// evictScan is how many of the least recently used keys are searched for
	// a full bucket when MaxKeys is reached.
	evictScan = 8
)

// Limiter takes rate-limit tokens from per-key buckets.
//
// [*Local] is the in-process implementation. Package limiter/redislimit
// implements it over Redis, so that several processes share one allowance
// per key, with the same figures (package limiter/limitertest checks both).
type Limiter interface {
	// Allow takes one token from the bucket of key, whose limit is limit
	// requests per window (limit <= 0 means the limiter's default).
	// The error is for implementations that touch the network; a denial is
	// not an error but a Decision with Allowed false (see [Decision.Err]).
	Allow(ctx context.Context, key string, limit int) (Decision, error)
}

// Peeker is implemented by limiters that can report the state of a key's
// bucket without taking a token from it, as a dashboard does. [*Local]
// implements it.
type Peeker interface {
	// Peek reports the bucket of key, whose limit is limit requests per
	// window (limit <= 0: the limiter's default), as of now, taking
	// nothing: Allowed says whether a request now would be allowed,
	// Remaining how many requests in a row would be (not counting one
	// more, as Allow's Remaining does), Reset when the bucket is full
	// again and RetryAfter, when none would be allowed, the wait until one
	// would.
	Peek(ctx context.Context, key string, limit int) (Decision, error)
}

var (
	_ Limiter = (*Local)(nil)
	_ Peeker  = (*Local)(nil)
)

// Options configures a [Local]. The zero value is valid: every zero field
// takes its documented default. Negative values are rejected by [NewLocal].
type Options struct {
	// Limit is the number of requests per Window a key may make when the
	// caller passes no per-key limit (limit <= 0 to Allow).
	// Default DefaultLimit (100).
	Limit int

	// Window is the duration Limit is expressed over. Tokens refill
	// continuously at Limit/Window, not all at once at a window boundary.
	// Default DefaultWindow (one minute).
	Window time.Duration

	// Burst is the bucket capacity in requests: how many requests an idle
	// key may make at one instant. 0 means "same as the key's limit", so a
	// key with a per-key limit of 500 gets a burst of 500. A positive value
	// applies to every key whatever its limit. Default 0.
	Burst int

	// MaxKeys bounds the number of keys tracked at once. When a new key would
	// exceed it, a key whose bucket is full is dropped if one is found among
	// the least recently used, otherwise the least recently used key is.
	// Default DefaultMaxKeys (100,000).
	MaxKeys int

	// Now returns the current time for Allow. Default time.Now.
	// AllowAt ignores it.
	Now func() time.Time
}

// Decision is the outcome of taking one token, with the figures the
// X-RateLimit-* and Retry-After headers need.
type Decision struct {
	// Allowed reports whether the request may proceed.
	Allowed bool

	// Limit is the key's limit in requests per window.
	Limit int

	// Remaining is the number of further requests the key could make at the
	// same instant: whole tokens left after this request. Never negative;
	// 0 on a denial.
	Remaining int

	// Reset is when the bucket is full again if the key makes no further
	// requests, to the nanosecond: at Reset, as many requests in a row as
	// the burst would be allowed. Never before the instant of the decision; equal to it
	// when the bucket is already full.
	Reset time.Time

	// RetryAfter is, on a denial, how long to wait until a request would be
	// allowed, rounded up to whole seconds and at least one second: a
	// request RetryAfter after the denied one is allowed (if no other
	// request for the key came between), one a second earlier is not.
	// It is zero when Allowed.
	RetryAfter time.Duration
}

// ResetUnix returns Reset as Unix seconds, rounded up so that the allowance
// is full by then. It is the value of the X-RateLimit-Reset header.
func (d Decision) ResetUnix() int64 {
	s := d.Reset.Unix()
	if d.Reset.Nanosecond() > 0 {
		s++
	}
	return s
}

// RetryAfterSeconds returns RetryAfter in whole seconds, the value of the
// Retry-After header: 0 when Allowed, otherwise at least 1.
func (d Decision) RetryAfterSeconds() int {
	if d.Allowed {
		return 0
	}
	s := int((d.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Err returns nil when the request is allowed and a [*LimitedError]
// carrying d otherwise.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &LimitedError{Decision: d}
}

// ErrLimited matches every [*LimitedError] with errors.Is.
var ErrLimited = errors.New("limiter: rate limit exceeded")

// ErrUnavailable is matched (with errors.Is) by the error of a shared
// backend that could not decide because its store could not be reached,
// such as the Redis limiter failing closed. [Local] never returns it.
var ErrUnavailable = errors.New("limiter: backend unavailable")

// LimitedError reports a denied request. It matches [ErrLimited] with
// errors.Is, and carries the Decision for the response headers.
type LimitedError struct {
	Decision Decision
}

// Error returns "Rate limit exceeded. Try again in N seconds.", where N is
// Decision.RetryAfterSeconds(). This is the message the REST API sends.
func (e *LimitedError) Error() string {
	return fmt.Sprintf("Rate limit exceeded. Try again in %d seconds.", e.Decision.RetryAfterSeconds())
}

// Is reports whether target is [ErrLimited].
func (e *LimitedError) Is(target error) bool {
	return target == ErrLimited
}

// Local is an in-process [Limiter]: one golang.org/x/time/rate token bucket
// per key, kept in memory and evicted lazily.
//
// Create it with [NewLocal]; the zero value is not usable. A Local is safe
// for concurrent use; it starts no goroutines and needs no Close.
type Local struct {
	limit   int
	window  time.Duration
	burst   int // 0: same as the key's limit
	maxKeys int
	now     func() time.Time

	mu     sync.Mutex
	keys   map[string]*entry
	newest *entry // head of the recency list
	oldest *entry // tail of the recency list
	hand   *entry // next entry the sweep examines; walks oldest to newest
}

// entry is one tracked key. Its fields other than lim are guarded by Local.mu.
type entry struct {
	key          string
	lim          *rate.Limiter
	limit, burst int
	perSecond    rate.Limit // lim's rate, kept to avoid taking its lock
	fullAt       time.Time  // Reset of the last decision: not full before
	newer, older *entry
}

// NewLocal returns a Local configured by opts, with defaults applied to zero
// fields. It returns an error prefixed "limiter: " if a field is negative.
func NewLocal(opts Options) (*Local, error) {
	switch {
	case opts.Limit < 0:
		return nil, fmt.Errorf("limiter: Options.Limit is negative: %d", opts.Limit)
	case opts.Window < 0:
		return nil, fmt.Errorf("limiter: Options.Window is negative: %v", opts.Window)
	case opts.Burst < 0:
		return nil, fmt.Errorf("limiter: Options.Burst is negative: %d", opts.Burst)
	case opts.MaxKeys < 0:
		return nil, fmt.Errorf("limiter: Options.MaxKeys is negative: %d", opts.MaxKeys)
	}
	l := &Local{
		limit:   cmp.Or(opts.Limit, DefaultLimit),
		window:  cmp.Or(opts.Window, DefaultWindow),
		burst:   opts.Burst,
		maxKeys: cmp.Or(opts.MaxKeys, DefaultMaxKeys),
		now:     opts.Now,
		keys:    make(map[string]*entry),
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l, nil
}

// Allow is AllowAt(key, limit, now) with now from Options.Now.
// It ignores ctx and never returns an error.
func (l *Local) Allow(ctx context.Context, key string, limit int) (Decision, error) {
	return l.AllowAt(key, limit, l.now()), nil
}

// AllowAt takes one token from the bucket of key at instant now, as Allow
// does. limit is the key's limit in requests per window; limit <= 0 means
// Options.Limit. If the key's limit (or burst) differs from the one its
// bucket was created with, the bucket is adjusted at now, keeping its tokens
// (capped at the new burst), rather than reset.
//
// Instants passed for one key should not go backwards by more than the
// bucket takes to refill; x/time/rate does not refill for time going
// backwards, and a bucket dropped as full is treated as full at earlier
// instants too.
func (l *Local) AllowAt(key string, limit int, now time.Time) Decision {
	if limit <= 0 {
		limit = l.limit
	}
	burst := l.burst
	if burst == 0 {
		burst = limit
	}

	l.mu.Lock()
	e := l.keys[key]
	switch {
	case e == nil:
		e = l.insert(key, limit, burst, now)
	case e.limit != limit || e.burst != burst:
		l.touch(e)
		if e.limit != limit {
			e.perSecond = l.rate(limit)
			e.lim.SetLimitAt(now, e.perSecond)
			e.limit = limit
		}
		if e.burst != burst {
			e.lim.SetBurstAt(now, burst)
			e.burst = burst
		}
	default:
		l.touch(e)
	}
	d := decide(e, now)
	l.sweep(now)
	l.mu.Unlock()
	return d
}

// Peek is PeekAt(key, limit, now) with now from Options.Now. It ignores ctx
// and never returns an error.
func (l *Local) Peek(ctx context.Context, key string, limit int) (Decision, error) {
	return l.PeekAt(key, limit, l.now()), nil
}

// PeekAt reports the bucket of key at instant now as [Peeker] describes,
// taking no token and changing nothing: not the bucket, not its place in
// the eviction order. A key that is not tracked has a full bucket. If
// limit (or the burst it implies) differs from the bucket's, the figures
// are those the bucket would have once adjusted to it at now.
func (l *Local) PeekAt(key string, limit int, now time.Time) Decision {
	if limit <= 0 {
		limit = l.limit
	}
	burst := l.burst
	if burst == 0 {
		burst = limit
	}
	perSecond := float64(l.rate(limit))
	tokens := float64(burst)
	l.mu.Lock()
	if e := l.keys[key]; e != nil {
		tokens = min(e.lim.TokensAt(now), tokens)
	}
	l.mu.Unlock()
	n, toFull, retryAfter := bucket.Peek(tokens, perSecond, burst)
	return Decision{Allowed: n > 0, Limit: limit, Remaining: n, Reset: now.Add(toFull), RetryAfter: retryAfter}
}

// Len returns the number of keys currently tracked. It is at most
// Options.MaxKeys.
func (l *Local) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func (l *Local) rate(limit int) rate.Limit {
	return rate.Limit(bucket.PerSecond(limit, l.window))
}

// decide takes one token from e at now and reports the outcome. l.mu must
// be held, so that no other request changes the bucket in between. The
// figures follow x/time/rate's own arithmetic (see [bucket.Figures]).
func decide(e *entry, now time.Time) Decision {
	allowed := e.lim.AllowN(now, 1)
	remaining, toFull, retryAfter := bucket.Figures(allowed, e.lim.TokensAt(now), float64(e.perSecond), e.burst)
	d := Decision{Allowed: allowed, Limit: e.limit, Remaining: remaining, Reset: now.Add(toFull), RetryAfter: retryAfter}
	e.fullAt = d.Reset
	return d
}

// insert adds a fresh bucket for key as the newest entry, evicting first if
// MaxKeys would be exceeded. l.mu must be held.
func (l *Local) insert(key string, limit, burst int, now time.Time) *entry {
	if len(l.keys) >= l.maxKeys {
		victim := l.oldest
		for e, i := l.oldest, 0; e != nil && i < evictScan; e, i = e.newer, i+1 {
			if isFull(e, now) {
				victim = e
				break
			}
		}
		l.remove(victim)
	}
	r := l.rate(limit)
	e := &entry{key: key, lim: rate.NewLimiter(r, burst), limit: limit, burst: burst, perSecond: r}
	l.keys[key] = e
	l.pushNewest(e)
	return e
}

// sweep examines up to sweepPerCall entries at the clock hand and drops
// those whose bucket is full at now: a full bucket behaves exactly as the
// fresh one the next request would create. l.mu must be held.
func (l *Local) sweep(now time.Time) {
	for range sweepPerCall {
		e := l.hand
		if e == nil {
			if e = l.oldest; e == nil {
				return
			}
		}
		l.hand = e.newer
		if isFull(e, now) {
			l.remove(e)
		}
	}
}

// isFull reports whether e's bucket is full at now, exactly: as a fresh one
// would be. It is never full before fullAt, which saves taking lim's lock
// for keys in use.
func isFull(e *entry, now time.Time) bool {
	return !now.Before(e.fullAt) && e.lim.TokensAt(now) >= float64(e.burst)
}

// touch marks e as the most recently used entry. l.mu must be held.
func (l *Local) touch(e *entry) {
	if l.newest == e {
		return
	}
	l.unlink(e)
	l.pushNewest(e)
}

// remove forgets e. l.mu must be held.
func (l *Local) remove(e *entry) {
	l.unlink(e)
	delete(l.keys, e.key)
}

func (l *Local) pushNewest(e *entry) {
	e.older, e.newer = l.newest, nil
	if l.newest != nil {
		l.newest.newer = e
	} else {
		l.oldest = e
	}
	l.newest = e
}

// unlink takes e out of the recency list, moving the sweep hand past it.
func (l *Local) unlink(e *entry) {
	if l.hand == e {
		l.hand = e.newer
	}
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		l.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		l.newest = e.older
	}
	e.newer, e.older = nil, nil
}
