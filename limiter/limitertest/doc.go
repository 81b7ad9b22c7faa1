// Package limitertest checks that a [limiter.Limiter] follows the policy
// documented in package limiter, figure for figure: the same decisions and
// the same X-RateLimit-* and Retry-After values as [limiter.Local] for the
// same history of requests.
//
// A backend's test calls [Run] with a function that builds a fresh,
// empty limiter from [limiter.Options]:
//
//	func TestConformance(t *testing.T) {
//		limitertest.Run(t, func(tb testing.TB, opts limiter.Options) limiter.Limiter {
//			return newMyLimiter(tb, opts) // no state shared with earlier ones
//		}, limitertest.Config{})
//	}
//
// The suite walks fixed instants through Options.Now, which it always
// sets, so a backend must take the time of a decision from Options.Now
// when it is set. It calls Allow from several goroutines in one test, and
// fails the test on any error Allow returns.
package limitertest
