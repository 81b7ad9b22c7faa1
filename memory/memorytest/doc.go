// Package memorytest checks that an implementation of the account-scoped
// API of package memory keeps its contract, as testing/fstest does for
// file systems: one conformance suite, run by every implementation (the
// library in process, and the Go client against a server), so that both
// behave alike and a program moves between them unchanged.
//
// # Running the suite
//
// An implementation calls [Run] from one of its tests with an [Opener]
// that makes a new [Env]: two new accounts of one library or server, the
// first acting for an admin key. In process:
//
//	func TestConformance(t *testing.T) {
//		r, err := memoryrelay.Open(t.Context(), memoryrelay.Options{Path: filepath.Join(t.TempDir(), "m.db")})
//		if err != nil {
//			t.Fatal(err)
//		}
//		t.Cleanup(func() { r.Close() })
//		memorytest.Run(t, func(t *testing.T) memorytest.Env {
//			a, key := newAccount(t, r) // r.CreateAccount, an admin key, r.AccountFor(key)
//			b, _ := newAccount(t, r)
//			return memorytest.Env{Account: a, Other: b, KeyID: key.ID}
//		})
//	}
//
// Remote, the same with a server in between: an httptest.Server serving
// httpapi over such a relay, whose rate limit lets a few hundred calls per
// account through at once (Options.RateLimit 1,000,000, say), and one
// client per account, made with the account's admin key (package client's
// TestConformance does this):
//
//	h, err := httpapi.New(r, httpapi.Options{})
//	...
//	srv := httptest.NewServer(h)
//	t.Cleanup(srv.Close)
//	...
//	c, err := client.New(client.Options{BaseURL: srv.URL, APIKey: token.Reveal()})
//	...
//	return memorytest.Env{Account: c.Account(), Other: otherClient.Account(), KeyID: key.ID}
//
// The Opener is called for every leaf subtest, about 90 times: sharing one
// library or server between calls keeps the suite fast (the whole suite
// takes about half a second in process), as long as each call's accounts
// are new. An Env whose Account acts for no key (memoryrelay.Relay.Account)
// runs too, with KeyID "": the suite then checks that Usage.Quota refuses
// it.
//
// # What it checks
//
// One subtest per resource group (Memories, Search, Agents, Entities,
// Sessions, Decisions, Patterns, Projects, Contexts, Keys, Usage), then
// NotFound (every method that names an object, with ids of nothing) and
// Isolation (nothing of Other is visible or writable through Account).
// The suite asserts what the contract fixes — package memory's
// documentation and the HTTP contract it follows (API.md) — and nothing
// of how an implementation does it:
//
//   - values both implementations must agree on are compared exactly: ids,
//     content, metadata (compacted, so key order and number spelling
//     count), counts, instants to the millisecond, order of lists and hits;
//   - instants must be UTC, whole milliseconds, and within the test's run
//     (the implementation and the test share the machine's clock);
//   - errors are matched with errors.Is and errors.As only: ErrNotFound
//     with a *NotFoundError, ErrConflict with a *ConflictError, ErrInvalid
//     with a *ValidationError whose first problem names the offending Go
//     field or parameter (compared without regard to case, underscores or
//     a leading path: "Memories[2].Content" names Content); never message
//     texts;
//   - search scores only where API.md §7 fixes them: in [0,1], best first,
//     a verbatim match ≥ 0.8, a query with no word in common < 0.3;
//   - lists newest first (CreatedAt, then ID, descending; sessions by
//     StartedAt), with exact pages, Total, HasMore, NextCursor set exactly
//     when HasMore, limits defaulted (20), clamped (100) and refused (below
//     1), walks by cursor that win over the offset, a malformed cursor
//     refused, and cursors that continue after their page even when newer
//     items arrive (every list but the keys, whose cursor is an offset);
//   - asynchronous creates reach JobReady within [JobTimeout], polled.
//
// Run uses no clock of the implementation's and sleeps only while
// polling a job.
package memorytest
