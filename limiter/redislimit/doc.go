// Package redislimit enforces per-key rate limits with token buckets kept
// in Redis, so that several processes (the nodes behind a load balancer)
// share one allowance per key: three nodes hammered on one key admit
// exactly what one node admits.
//
// # Use
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	lim, err := redislimit.New(client, redislimit.Options{}) // 100 a minute
//	...
//	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Limiter: lim, ...})
//
// A [*Limiter] is a [limiter.Limiter] (and a [limiter.Peeker], for a
// dashboard) with the policy documented in package limiter, figure for
// figure: the same decisions and the same
// X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset and
// Retry-After values as [limiter.Local] for the same history of requests
// (the tests run the shared suite of package limiter/limitertest on both,
// and compare them decision by decision on random workloads).
//
// # How
//
// Each decision is one Lua script run by Redis atomically: it reads the
// key's hash (tokens, the instant of the last update, the limit, burst and
// rate the bucket has), applies golang.org/x/time/rate's arithmetic as
// Local drives it (adjusting the bucket when the key's limit changed,
// refilling continuously, taking one token if a whole one is there), and
// writes the hash back. Lua's numbers are the same IEEE float64 as Go's,
// tokens travel as round-tripping decimals, and the figures are computed
// from the script's result by the same code as Local's, so nothing is
// approximated. A hash expires ExpiryMargin after its bucket is full again:
// a full bucket behaves exactly as a missing one, so memory is bounded by
// the keys in use without changing any decision.
//
// # Clock
//
// By default the instant of a decision is Redis's clock (TIME, read inside
// the script), one clock for every node, so nodes whose clocks disagree
// still share one bucket correctly. Options.Now replaces it (tests walk
// fixed instants that way); nodes that use their own clocks should keep
// them synchronised: a bucket does not refill for time going backwards.
//
// # Redis unavailable
//
// When Redis cannot be reached (refused, reset, or no answer within
// Options.Timeout), Allow follows Options.OnUnavailable:
//
//   - [FailOpen] (the default) decides in process with a [limiter.Local]
//     of the same options, so each node still enforces the limit on its
//     own (n nodes admit up to n times the allowance), and returns no
//     error;
//   - [FailClosed] returns an error matching limiter.ErrUnavailable and
//     memory.ErrUnavailable, which the REST API answers with 503 and
//     Retry-After.
//
// Either way the first failure is logged at Warn and the recovery at Info
// (Options.Logger), and [Limiter.Health] reports the outage. For
// Options.RetryInterval after a failure, Allow does not try Redis, so an
// outage costs one Timeout per interval, not one per request. A caller's
// context that ends is not a failure of Redis: Allow returns its error.
//
// # Concurrency
//
// A Limiter is safe for concurrent use, and any number of Limiters over
// any number of clients may share one Redis: Redis runs each script alone.
// A Redis Cluster works too (each script touches one key).
package redislimit
