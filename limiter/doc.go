// Package limiter enforces per-key request rate limits and reports the
// figures of the X-RateLimit-Limit, X-RateLimit-Remaining,
// X-RateLimit-Reset and Retry-After headers.
//
// # Use
//
// A [Limiter] takes one token per request from the bucket of a key:
//
//	lim, err := limiter.NewLocal(limiter.Options{}) // 100 requests per minute
//	...
//	d, err := lim.Allow(ctx, keyID, row.RequestsPerMinute) // 0: the default
//	if err != nil {
//		return err // a network backend failed; Local never fails
//	}
//	// set X-RateLimit-Limit d.Limit, X-RateLimit-Remaining d.Remaining,
//	// X-RateLimit-Reset d.ResetUnix()
//	if err := d.Err(); err != nil {
//		return err // *LimitedError: 429, Retry-After d.RetryAfterSeconds()
//	}
//
// Key on something the server verified, such as the API key's id, never on a
// header the client chose: a client that can pick its key can pick a fresh
// bucket.
//
// Every request counts, including those that later fail; a denied request
// takes no token.
//
// # Buckets and burst
//
// Each key has a token bucket from golang.org/x/time/rate. With limit L
// requests per window W and burst B, the bucket holds at most B tokens,
// starts full, and refills continuously at L/W tokens per unit of time (one
// token every W/L), not all at once at a window boundary. A request is
// allowed if it can take a whole token.
//
// B defaults to L ([Options].Burst 0): an idle key may spend its whole
// allowance at once, then continues at the refill rate. Setting
// Options.Burst smooths bursts (B < L) or tolerates larger ones (B > L).
//
// Admitted count. Starting from a full bucket at t0, a client that requests
// continuously is admitted, over the half-open interval [t0, t0+D) with
// D > 0,
//
//	B + ceil(D·L/W) − 1
//
// requests: B at t0, then one as each refilled token completes, at
// t0 + k·W/L for k = 1, 2, … while that instant is before t0+D. For D = W
// that is B + L − 1: with the defaults (B = L = 100, W = one minute), 199
// requests in the first minute, and 100 in each later minute of continuous
// use (B + 2L − 1 over two minutes). No interval of length D, wherever it
// starts, admits more: n requests at t1 ≤ … ≤ tn in [s, s+D) need
// n ≤ B + (tn − s)·L/W < B + D·L/W tokens.
//
// x/time/rate keeps tokens as float64 and allows a request whose missing
// fraction of a token would refill in under a nanosecond, so in practice a
// token completes up to a few nanoseconds before t0 + k·W/L. The count is
// therefore exact for any client that sends no request in the few
// nanoseconds before the first token due at or after t0+D, for example one
// requesting every millisecond from t0 when D is a whole number of
// milliseconds (the tests hammer so, for several L, W, B and D).
// Remaining counts with the same float arithmetic, so it is exactly the
// number of further requests the bucket would allow at that instant; Reset
// is an instant at which the bucket would allow B requests in a row, and
// RetryAfter the shortest whole number of seconds after which it would
// allow one.
//
// # Decisions
//
// A [Decision] carries Allowed, Limit (L), Remaining (whole tokens left after
// this request; 0 on a denial), Reset (when the bucket is full again; never
// before now) and RetryAfter (on a denial, the wait until one token is
// available, rounded up to whole seconds, at least one second).
// [Decision.ResetUnix] and [Decision.RetryAfterSeconds] give header values;
// ResetUnix rounds up so that the allowance really is full by then.
// When B > L, Remaining can exceed Limit.
//
// # Per-key limits
//
// The limit argument of Allow overrides Options.Limit for one key, for
// example from a requests-per-minute column of the key's row. If it
// changes between calls, the key's bucket is adjusted (refill rate and
// burst) at that instant, keeping its tokens capped at the new burst,
// rather than reset: raising a limit does not hand out a fresh allowance.
//
// # Memory
//
// A bucket that has refilled to full behaves exactly like a new one, so it
// can be forgotten without changing any decision. There is no background
// goroutine: each call examines up to two tracked keys, walking all of them
// in turn, and drops those whose bucket is full. [Options].MaxKeys bounds
// the number of tracked keys; a new key beyond it evicts a full bucket if
// one is among the eight least recently used keys, otherwise the least
// recently used key, whose next request then starts from a full bucket.
//
// # Time
//
// [Local.Allow] reads the clock from Options.Now (default time.Now);
// [Local.AllowAt] takes the instant as an argument, as x/time/rate's
// AllowN does, so tests can walk fixed instants.
//
// # Errors
//
// A denial is a Decision, not an error. [Decision.Err] turns it into a
// [*LimitedError], whose message is the REST API's "Rate limit exceeded.
// Try again in N seconds." and which matches [ErrLimited] with errors.Is.
// The error result of [Limiter.Allow] is for backends that can fail.
//
// # Concurrency
//
// [*Local] is safe for concurrent use. Concurrent requests for one key are
// serialised, so each Decision's figures are exact for that request.
package limiter
