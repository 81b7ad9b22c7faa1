// Package keysync tells every process that shares a key repository when
// a key is revoked or rotated on one of them, over Redis pub/sub, so that
// each drops the key from its verification cache at once instead of
// serving it until its cache entry expires (keys.Options.CacheTTL, 30 s by
// default).
//
// # Use
//
//	bus, err := keysync.New(client, keysync.Options{})
//	store, err := keys.NewStore(repo, keys.Options{OnInvalidate: bus.Publish})
//	bus.Start(store) // follows the channel until Close
//	defer bus.Close()
//
// # Guarantees
//
// A message names one key id ("*" means every key). Pub/sub delivers a
// message to the processes subscribed when it is published, at most once,
// so the bus covers what pub/sub can lose:
//
//   - on every subscription, including each one after the link to Redis
//     came back, a process empties its cache (ForgetAll): whatever it
//     missed meanwhile cannot be served from it;
//   - a process whose publication failed publishes "*" once Redis answers
//     again, so that the others, which may never have lost their link,
//     drop what it could not name.
//
// While Redis is unreachable, a revocation reaches another process when
// the link is back (as above) or when its cache entry expires, whichever
// comes first. A dead link is noticed within two Options.PingInterval.
package keysync

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults applied by [New] to zero fields of [Options].
const (
	DefaultChannel      = "memoryrelay:keys:invalidate"
	DefaultPingInterval = time.Second
	DefaultTimeout      = time.Second
)

// all is the message that means every key.
const all = "*"

// Options configures a [Bus]. The zero value is valid.
type Options struct {
	// Channel is the Redis pub/sub channel. Default DefaultChannel.
	Channel string
	// PingInterval is how long the subscription may be silent before the
	// bus pings Redis; a link silent for two intervals is reconnected.
	// Default DefaultPingInterval (one second).
	PingInterval time.Duration
	// Timeout bounds each publication. Default DefaultTimeout.
	Timeout time.Duration
	// Logger receives the outage and recovery lines. Default: discard.
	Logger *slog.Logger
}

// Cache is what the bus invalidates: a *keys.Store.
type Cache interface {
	Forget(id string)
	ForgetAll()
}

// Bus publishes invalidations and follows those of every process. It is
// safe for concurrent use. Start starts one goroutine; Close stops it.
type Bus struct {
	client redis.UniversalClient
	opts   Options

	missed atomic.Bool // a publication failed: send "*" when Redis is back

	mu         sync.Mutex
	subscribed bool
	down       error // why the subscription is not up; nil when it is
	ps         *redis.PubSub
	cancel     context.CancelFunc
	done       chan struct{}
	closed     bool
}

// New returns a Bus over client. It does not contact Redis.
func New(client redis.UniversalClient, opts Options) (*Bus, error) {
	if client == nil {
		return nil, errors.New("keysync: nil client")
	}
	if opts.PingInterval < 0 || opts.Timeout < 0 {
		return nil, errors.New("keysync: negative PingInterval or Timeout")
	}
	opts.Channel = cmp.Or(opts.Channel, DefaultChannel)
	opts.PingInterval = cmp.Or(opts.PingInterval, DefaultPingInterval)
	opts.Timeout = cmp.Or(opts.Timeout, DefaultTimeout)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Bus{client: client, opts: opts, down: errors.New("not started")}, nil
}

// Publish tells every process (this one included) that key id changed.
// It is the keys.Options.OnInvalidate of a Store. A failure is logged and
// remembered: once Redis answers again the bus publishes "*".
func (b *Bus) Publish(ctx context.Context, id string) {
	if err := b.publish(ctx, id); err != nil {
		b.missed.Store(true)
		b.opts.Logger.Warn("keysync: publishing a key invalidation failed; other nodes will forget every key once Redis is back", "err", err)
	}
}

func (b *Bus) publish(ctx context.Context, msg string) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	defer cancel()
	return b.client.Publish(ctx, b.opts.Channel, msg).Err()
}

// Start subscribes and, until Close, calls cache.Forget for every id
// published by any process, and cache.ForgetAll on every (re)subscription
// and for "*". It returns at once; [Bus.Health] reports whether the
// subscription is up. Start after Start or Close does nothing.
func (b *Bus) Start(cache Cache) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done != nil || b.closed {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.done = cancel, make(chan struct{})
	go b.run(ctx, cache)
}

// Close stops following the channel and waits for the goroutine to end.
// It is safe to call more than once.
func (b *Bus) Close() error {
	b.mu.Lock()
	b.closed = true
	cancel, done, ps := b.cancel, b.done, b.ps
	b.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	if ps != nil {
		_ = ps.Close() // interrupts a blocked receive
	}
	<-done
	return nil
}

// Health returns nil while the subscription is up, and why it is not
// otherwise: invalidations from other processes then arrive late.
func (b *Bus) Health() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.down
}

func (b *Bus) run(ctx context.Context, cache Cache) {
	defer close(b.done)
	backoff := 10 * time.Millisecond
	for ctx.Err() == nil {
		if b.session(ctx, cache) {
			backoff = 10 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// session follows one subscription until it fails or ctx ends, and
// reports whether it was ever up.
func (b *Bus) session(ctx context.Context, cache Cache) (wasUp bool) {
	ps := b.client.Subscribe(ctx)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = ps.Close()
		return false
	}
	b.ps = ps
	b.mu.Unlock()
	defer func() {
		_ = ps.Close()
		b.mu.Lock()
		b.ps = nil
		b.mu.Unlock()
	}()
	fail := func(err error) bool {
		if ctx.Err() == nil {
			b.setDown(err)
		}
		return wasUp
	}
	if err := ps.Subscribe(ctx, b.opts.Channel); err != nil {
		return fail(err)
	}
	silent := 0
	for {
		msg, err := ps.ReceiveTimeout(ctx, b.opts.PingInterval)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && silent == 0 && ctx.Err() == nil {
				silent++
				if err := ps.Ping(ctx); err != nil {
					return fail(err)
				}
				continue
			}
			return fail(err)
		}
		silent = 0
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				cache.ForgetAll()
				wasUp = true
				b.setUp()
			}
		case *redis.Message:
			if m.Payload == all {
				cache.ForgetAll()
			} else {
				cache.Forget(m.Payload)
			}
		}
		if b.missed.Load() && b.publish(ctx, all) == nil {
			b.missed.Store(false)
		}
	}
}

func (b *Bus) setUp() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subscribed {
		b.opts.Logger.Info("keysync: subscribed again; the key cache was emptied")
	}
	b.subscribed = true
	b.down = nil
}

func (b *Bus) setDown(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down == nil {
		b.opts.Logger.Warn("keysync: subscription lost; revocations on other nodes arrive late until it is back", "err", err)
	}
	b.down = err
}
