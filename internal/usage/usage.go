package usage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// FlushInterval is how often the Relay's counter writes the counts kept
// in memory to the database. Close writes the rest.
const FlushInterval = 10 * time.Second

// minutesPerDay turns a per-minute rate limit into the daily allowance a
// quota reports.
const minutesPerDay = 24 * 60

// Store is the storage of per-key daily request counts.
type Store interface {
	AddKeyUsage(ctx context.Context, batch []store.Usage) error
	KeyUsage(ctx context.Context, keyID, day string) (int64, error)
}

// Service reports the quotas of keys; For gives the memory.Usage of an
// account handle. It is safe for concurrent use.
type Service struct {
	counter *Counter
	gate    guard.Gate
	now     func() time.Time
	limit   func(keys.Key) int
}

// New returns the quotas counted by c; gate admits each call, now is the
// clock, limit gives a key's per-minute rate limit.
func New(c *Counter, gate guard.Gate, now func() time.Time, limit func(keys.Key) int) *Service {
	return &Service{counter: c, gate: gate, now: now, limit: limit}
}

// For returns the usage API of an account handle acting for the key k
// (nil: for no key, whose Quota is a *memory.ValidationError).
func (s *Service) For(accountID string, k *keys.Key) memory.Usage { return account{s, accountID, k} }

type account struct {
	s   *Service
	id  string
	key *keys.Key
}

var _ memory.Usage = account{}

// errNoKey is Quota's error on an account handle that acts for no key.
var errNoKey = valid.Invalid("key", "the account handle acts for no key (Relay.Account): use Relay.AccountFor for a key's quota")

func (a account) Quota(ctx context.Context) (memory.Quota, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Quota, error) {
		if a.key == nil {
			return memory.Quota{}, errNoKey
		}
		return a.s.quota(ctx, *a.key)
	})
}

// quota reports the usage of the key in the current UTC day. Every
// request the Relay's Authorize authenticates with the key counts,
// including those then refused for rate or scope. Counts are kept in
// memory and written to the database in batches, so authentication never
// writes SQLite; quota adds the unwritten counts of this process to the
// stored ones.
func (s *Service) quota(ctx context.Context, k keys.Key) (memory.Quota, error) {
	now := s.now().UTC()
	used, err := s.counter.used(ctx, k.ID, dayOf(now))
	if err != nil {
		return memory.Quota{}, fmt.Errorf("memoryrelay: read key usage: %w", err)
	}
	limit := int64(s.limit(k)) * minutesPerDay
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

type counterKey struct {
	keyID string
	day   int64 // see dayOf
}

// Counter counts requests per key and UTC day in memory and writes the
// counts to its Store in batches, from a goroutine that Close stops. It is
// safe for concurrent use.
type Counter struct {
	st  Store
	log *slog.Logger

	mu      sync.Mutex
	pending map[counterKey]int64

	// flushMu is held across a flush, so that a reader never sees a
	// batch both in the database and in memory, or in neither.
	flushMu sync.Mutex

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// NewCounter starts a counter over st that writes its counts every
// interval, logging a failed write to log (the counts are then kept for
// the next).
func NewCounter(st Store, log *slog.Logger, every time.Duration) *Counter {
	u := &Counter{
		st:      st,
		log:     log,
		pending: make(map[counterKey]int64),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go u.loop(every)
	return u
}

// Count records one request made with the key at the instant.
func (u *Counter) Count(keyID string, at time.Time) {
	k := counterKey{keyID, dayOf(at)}
	u.mu.Lock()
	u.pending[k]++
	u.mu.Unlock()
}

// used returns the key's count for the day: stored plus pending.
func (u *Counter) used(ctx context.Context, keyID string, day int64) (int64, error) {
	u.flushMu.Lock()
	defer u.flushMu.Unlock()
	n, err := u.st.KeyUsage(ctx, keyID, dayString(day))
	if err != nil {
		return 0, err
	}
	u.mu.Lock()
	n += u.pending[counterKey{keyID, day}]
	u.mu.Unlock()
	return n, nil
}

// flush writes the pending counts in one transaction. On failure they are
// kept for the next flush.
func (u *Counter) flush(ctx context.Context) error {
	u.flushMu.Lock()
	defer u.flushMu.Unlock()
	u.mu.Lock()
	batch := u.pending
	if len(batch) > 0 {
		u.pending = make(map[counterKey]int64, len(batch))
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

func (u *Counter) loop(every time.Duration) {
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

// Close stops the flush goroutine and writes the pending counts. Only the
// first call does anything; later ones return its error.
func (u *Counter) Close(ctx context.Context) error {
	u.closeOnce.Do(func() {
		close(u.stop)
		<-u.done
		if err := u.flush(ctx); err != nil {
			u.closeErr = fmt.Errorf("memoryrelay: write key usage: %w", err)
		}
	})
	return u.closeErr
}
