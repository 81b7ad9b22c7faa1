// Package redisnode connects one node of a cluster to the Redis its nodes
// share: one client, the rate limiter whose buckets live there
// (limiter/redislimit), the bus that tells every node of a revoked or
// rotated key (internal/keysync), and their health. The root package
// wires it when memoryrelay.Options.RedisURL is set.
package redisnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/memoryrelay/memoryrelay/internal/keysync"
	"github.com/memoryrelay/memoryrelay/limiter/redislimit"
)

// Options configures [Open].
type Options struct {
	// URL is the Redis to share: redis://[user:password@]host:port/db
	// (rediss:// for TLS), as go-redis's ParseURL reads it. Required.
	URL string
	// Limiter says whether to make the Redis rate limiter (false when the
	// program brings a limiter of its own).
	Limiter bool
	// Limit and Burst are the limiter's defaults (redislimit.Options).
	Limit, Burst int
	// FailClosed refuses requests (503) while Redis cannot be reached;
	// false (the default) limits each node on its own meanwhile.
	FailClosed bool
	// Logger receives the outage and recovery lines. Default: discard.
	Logger *slog.Logger
}

// Node is a node's link to the shared Redis. Close releases it.
type Node struct {
	client  *redis.Client
	limiter *redislimit.Limiter // nil without Options.Limiter
	bus     *keysync.Bus
	policy  redislimit.Policy
}

// Open makes the client, limiter and bus. It does not contact Redis: a
// Redis that is down at start is an outage like any other (see Health).
func Open(opts Options) (*Node, error) {
	if opts.URL == "" {
		return nil, errors.New("redisnode: Options.URL is required")
	}
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("redisnode: Options.URL: %w", err) // go-redis's errors do not repeat the password
	}
	ro.ContextTimeoutEnabled = true // the limiter's Timeout bounds each call
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{client: redis.NewClient(ro), policy: redislimit.FailOpen}
	if opts.FailClosed {
		n.policy = redislimit.FailClosed
	}
	if opts.Limiter {
		n.limiter, err = redislimit.New(n.client, redislimit.Options{Limit: opts.Limit, Burst: opts.Burst, OnUnavailable: n.policy, Logger: opts.Logger})
		if err != nil {
			n.client.Close()
			return nil, err
		}
	}
	n.bus, err = keysync.New(n.client, keysync.Options{Logger: opts.Logger})
	if err != nil {
		n.client.Close()
		return nil, err
	}
	return n, nil
}

// Limiter returns the rate limiter, nil unless Options.Limiter was set.
func (n *Node) Limiter() *redislimit.Limiter { return n.limiter }

// Publish tells every node that key id changed: a keys.Options.OnInvalidate.
func (n *Node) Publish(ctx context.Context, id string) { n.bus.Publish(ctx, id) }

// Follow starts following the other nodes' invalidations, which drop
// keys from cache (a *keys.Store), until Close.
func (n *Node) Follow(cache keysync.Cache) { n.bus.Start(cache) }

// Service states, as memoryrelay.Health names them.
const (
	Up       = "up"
	Degraded = "degraded"
	Down     = "down"
)

// Check is the health of one shared service.
type Check struct {
	Service string // "rate_limiter" or "key_sync"
	State   string // Up, Degraded or Down
	Problem string // why, when not Up
}

// Health checks the limiter (a ping of Redis, within its timeout) and the
// bus's subscription. The limiter is degraded while Redis cannot be
// reached and the policy is fail open (each node limits on its own: n
// nodes admit up to n times a key's allowance), down with fail closed
// (requests are refused); the bus is degraded while its subscription is
// down (a key revoked on another node is refused here only once the link
// is back or its cache entry expires).
func (n *Node) Health(ctx context.Context) []Check {
	var out []Check
	if n.limiter != nil {
		c := Check{Service: "rate_limiter", State: Up}
		if err := n.limiter.Health(ctx); err != nil {
			c.State, c.Problem = Degraded, fmt.Sprintf("Redis cannot be reached (%v); each node limits on its own meanwhile", err)
			if n.policy == redislimit.FailClosed {
				c.State, c.Problem = Down, fmt.Sprintf("Redis cannot be reached (%v); requests are refused (fail closed)", err)
			}
		}
		out = append(out, c)
	}
	c := Check{Service: "key_sync", State: Up}
	if err := n.bus.Health(); err != nil {
		c.State, c.Problem = Degraded, fmt.Sprintf("the key invalidation channel is down (%v); keys revoked on other nodes are refused here within the key cache's TTL", err)
	}
	return append(out, c)
}

// Close stops the bus and closes the client.
func (n *Node) Close() error {
	return errors.Join(n.bus.Close(), n.client.Close())
}
