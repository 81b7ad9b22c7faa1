// Package spend meters what a key's requests cost the server, and
// enforces its daily and monthly spend limits (API.md §10.2).
//
// What costs money on a self-hosted server is the tokens sent to a paid
// embedder, priced by configuration in USD per million tokens ([Price];
// the built-in embedder is free). Amounts are held as integer nano-USD
// ([Amount]) so that sums never drift, and a request's cost is rounded up
// to the next nano-USD: nothing metered is free.
//
// Periods are UTC: a day from midnight to midnight, a month from the
// first at midnight. [Check] decides whether a cost fits a key's
// [Limits] given its [Usage]; when it does not, the error is an
// *[ExceededError] carrying the period and the wait until it resets (the
// 429's Retry-After). The storage keeps the counters and makes check and
// add one atomic step, so two requests racing for the last cents cannot
// both pass.
//
// Everything here is pure and safe for concurrent use.
package spend
