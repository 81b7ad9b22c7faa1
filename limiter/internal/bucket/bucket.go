// Package bucket computes the figures of a rate-limit decision from the
// state of a token bucket, with the arithmetic of golang.org/x/time/rate,
// so that every limiter backend (in process or in Redis) reports the same
// X-RateLimit-* and Retry-After values for the same history.
package bucket

import (
	"math"
	"time"
)

// PerSecond returns the refill rate, in tokens per second, of limit
// requests per window, as float64(limit) / window.Seconds().
func PerSecond(limit int, window time.Duration) float64 {
	return float64(limit) / window.Seconds()
}

// Figures returns the figures of a decision taken on a bucket of capacity
// burst refilling at perSecond, which holds tokens right after the
// decision (after taking the request's token when allowed):
//
//   - remaining: on an allowance, the number of further requests the
//     bucket would allow at the same instant; 0 on a denial;
//   - toFull: how long the bucket takes to be full again (0 when it is);
//   - retryAfter: on a denial, the wait until one token is available,
//     rounded up to whole seconds and at least one second; 0 otherwise.
//
// x/time/rate allows a request whose missing fraction of a token would
// refill in under a nanosecond, which float64 rounding makes common, so
// remaining counts such requests too. toFull and the wait behind
// retryAfter are the exact refill durations rounded to the nearest
// nanosecond: the bucket is then at most half a nanosecond's refill short,
// which x/time/rate tolerates, and an exact whole second stays whole
// (truncating could leave the bucket a hair short; rounding up could push
// a Unix-second reset a second late).
func Figures(allowed bool, tokens, perSecond float64, burst int) (remaining int, toFull, retryAfter time.Duration) {
	full := float64(burst)
	if tokens < full {
		toFull = refill(full-tokens, perSecond)
	}
	if !allowed {
		wait := refill(1-tokens, perSecond)
		return 0, toFull, max((wait+time.Second-1)/time.Second, 1) * time.Second
	}
	n := burst
	if tokens < full {
		n = max(int(math.Floor(tokens)), 0)
		for n < burst && DurationFromTokens(float64(n+1)-tokens, perSecond) == 0 {
			n++
		}
	}
	return n, toFull, 0
}

// Peek returns the figures of a bucket that holds tokens, as a peek
// reports them without taking a token: n, the number of requests in a row
// that would be allowed now; toFull; and, when n is 0, retryAfter, the
// wait until one would be, rounded up to whole seconds (at least one).
func Peek(tokens, perSecond float64, burst int) (n int, toFull, retryAfter time.Duration) {
	n, toFull, _ = Figures(true, tokens, perSecond, burst)
	if n == 0 {
		_, _, retryAfter = Figures(false, tokens, perSecond, burst)
	}
	return n, toFull, retryAfter
}

// refill returns how long perSecond takes to refill tokens, rounded to the
// nearest nanosecond.
func refill(tokens, perSecond float64) time.Duration {
	d := math.Round(tokens / perSecond * float64(time.Second))
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// DurationFromTokens mirrors the unexported conversion x/time/rate uses to
// decide whether a request is allowed, including its truncation to the
// nanosecond: a request is allowed when the missing tokens convert to 0.
func DurationFromTokens(tokens, perSecond float64) time.Duration {
	d := tokens / perSecond * float64(time.Second)
	if d > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}
