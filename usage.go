package memoryrelay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
)

// usageStore is the storage of per-key daily request counts, as the usage
// counter uses it.
type usageStore interface {
	AddKeyUsage(ctx context.Context, batch []store.Usage) error
	KeyUsage(ctx context.Context, keyID, day string) (int64, error)
}

// usageFlushInterval is how often request counts kept in memory are
// written to the database. Close writes the rest.
const usageFlushInterval = 10 * time.Second

// minutesPerDay turns a per-minute rate limit into the daily allowance
// reported by a key's Usage().Quota.
const minutesPerDay = 24 * 60

// quota reports the usage of the key in the current UTC day
// (Relay.AccountFor(k).Usage().Quota). Every request that [Relay.Authorize]
// authenticates with the key counts, including those then refused for rate
// or scope. Counts are kept in memory and written to the database in
// batches (every 10 seconds and at Close), so authentication never writes
// SQLite; quota adds the unwritten counts of this process to the stored
// ones.
func (r *Relay) quota(ctx context.Context, k keys.Key) (memory.Quota, error) {
	now := r.opts.Now().UTC()
	used, err := r.usage.used(ctx, k.ID, dayOf(now))
	if err != nil {
		return memory.Quota{}, fmt.Errorf("memoryrelay: read key usage: %w", err)
	}
	limit := int64(r.rateLimitOf(k)) * minutesPerDay
	y, m, d := now.Date()
	return memory.Quota{
		Used:      used,
		Limit:     limit,
		Remaining: max(limit-used, 0),
		ResetAt:   time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC),
	}, nil
}

// dayOf numbers the UTC day of t: days since 1970-01-01. Counting by
// number keeps the per-request path free of formatting and allocation.
func dayOf(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// dayString is the stored form of a day number: YYYY-MM-DD.
func dayString(day int64) string { return time.Unix(day*86400, 0).UTC().Format(time.DateOnly) }

type usageKey struct {
	keyID string
	day   int64 // see dayOf
}

// usageCounter counts requests per key and UTC day in memory and writes
// the counts to the store in batches. It is safe for concurrent use.
type usageCounter struct {
	st  usageStore
	log *slog.Logger

	mu      sync.Mutex
	pending map[usageKey]int64

	// flushMu is held across a flush, so that a reader never sees a
	// batch both in the database and in memory, or in neither.
	flushMu sync.Mutex

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// newUsageCounter starts a counter and its flush goroutine, which close
// stops.
func newUsageCounter(st usageStore, log *slog.Logger, every time.Duration) *usageCounter {
	u := &usageCounter{
		st:      st,
		log:     log,
		pending: make(map[usageKey]int64),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go u.loop(every)
	return u
}

// count records one request made with the key at the instant.
func (u *usageCounter) count(keyID string, at time.Time) {
	k := usageKey{keyID, dayOf(at)}
	u.mu.Lock()
	u.pending[k]++
	u.mu.Unlock()
}

// used returns the key's count for the day: stored plus pending.
func (u *usageCounter) used(ctx context.Context, keyID string, day int64) (int64, error) {
	u.flushMu.Lock()
	defer u.flushMu.Unlock()
	n, err := u.st.KeyUsage(ctx, keyID, dayString(day))
	if err != nil {
		return 0, err
	}
	u.mu.Lock()
	n += u.pending[usageKey{keyID, day}]
	u.mu.Unlock()
	return n, nil
}

// flush writes the pending counts in one transaction. On failure they are
// kept for the next flush.
func (u *usageCounter) flush(ctx context.Context) error {
	u.flushMu.Lock()
	defer u.flushMu.Unlock()
	u.mu.Lock()
	batch := u.pending
	if len(batch) > 0 {
		u.pending = make(map[usageKey]int64, len(batch))
	}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	rows := make([]store.Usage, 0, len(batch))
	for k, n := range batch {
		rows = append(rows, store.Usage{KeyID: k.keyID, Day: dayString(k.day), Count: n})
	}
	if err := u.st.AddKeyUsage(ctx, rows); err != nil {
		u.mu.Lock()
		for k, n := range batch {
			u.pending[k] += n
		}
		u.mu.Unlock()
		return err
	}
	return nil
}

func (u *usageCounter) loop(every time.Duration) {
	defer close(u.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-u.stop:
			return
		case <-t.C:
			if err := u.flush(context.Background()); err != nil {
				u.log.Warn("memoryrelay: writing key usage failed", "err", err)
			}
		}
	}
}

// close stops the flush goroutine and writes the pending counts. Only the
// first call does anything.
func (u *usageCounter) close(ctx context.Context) error {
	u.closeOnce.Do(func() {
		close(u.stop)
		<-u.done
		if err := u.flush(ctx); err != nil {
			u.closeErr = fmt.Errorf("memoryrelay: write key usage: %w", err)
		}
	})
	return u.closeErr
}

// RateLimitState reports the rate-limit bucket of the key now, taking no
// token: its limit, how many requests in a row it may make now, and when
// its allowance is full again (see limiter.Peeker). A dashboard shows it;
// requests go through Authorize. With an Options.Limiter that does not
// implement limiter.Peeker the error matches errors.ErrUnsupported.
func (r *Relay) RateLimitState(ctx context.Context, k keys.Key) (limiter.Decision, error) {
	if r.closed.Load() {
		return limiter.Decision{}, ErrClosed
	}
	p, ok := r.limit.(limiter.Peeker)
	if !ok {
		return limiter.Decision{}, fmt.Errorf("memoryrelay: the rate limiter cannot report a key's state: %w", errors.ErrUnsupported)
	}
	d, err := p.Peek(ctx, k.ID, r.rateLimitOf(k))
	if err != nil {
		return limiter.Decision{}, fmt.Errorf("memoryrelay: rate limiter: %w", err)
	}
	return d, nil
}
