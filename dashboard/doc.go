// Package dashboard serves memoryrelay's web dashboard: the "Settings > API
// Keys" page of the hosted service's documentation (create, revoke and
// rotate keys, each secret shown once), and pages onto an account's
// memories, agents, usage and health, as one http.Handler that a host
// mounts beside the REST API.
//
// # Mounting
//
// New returns an http.Handler and never listens. Mount it under a prefix
// with http.StripPrefix, exactly like package httpapi:
//
//	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: "memory.db"})
//	...
//	api, err := httpapi.New(relay, httpapi.Options{})
//	...
//	dash, err := dashboard.New(relay, dashboard.Options{})
//	...
//	mux := http.NewServeMux()
//	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", dash))
//	mux.Handle("/", api)
//
// The prefix is found on each request (the part of the URI that
// StripPrefix removed) for links, redirects and the cookie path; set
// Options.BasePath where a router rewrites paths otherwise. Everything the
// pages use (templates, one style sheet, one small script) is embedded
// with go:embed: no CDN, no network, and no Node build step. The pages are
// rendered on the server with html/template, which escapes every value
// for its context, so memory content, metadata and names are inert text
// whatever they hold; the script only adds the copy button of a new key,
// and every page works without it.
//
// # Pages
//
//   - /signin: sign in with an API key.
//   - /keys: every key of the account (name, display prefix, scopes,
//     created, last used, expires, rate limit, status: active, expired,
//     revoked or in rotation grace), and the form to create one (name,
//     scopes, optional expiry and rate limit). /keys/new shows a new or
//     rotated secret once, with a copy button; it cannot be shown again.
//     /keys/{id}/revoke and /keys/{id}/rotate confirm, the latter with a
//     grace period. The account's last admin key cannot be revoked.
//   - /memories: search (mode, agent, threshold; scores shown) or, without
//     a query, the list, per agent, with paging; /memories/{id}: one memory
//     whole, with its metadata and linked entities, and delete (with a
//     confirmation).
//   - /agents: each agent with its counts and stats.
//   - /usage: per key, requests today against the daily quota, and its
//     rate-limit bucket now (limit, requests available, when full again),
//     when the Service implements RateLimitReporter.
//   - /health: the service's health object.
//
// # Security
//
//   - Sign-in takes a key with the admin scope (a valid key without it
//     gets a page saying that it cannot manage the account). The key is
//     posted once, checked with Service.Authorize (which counts against
//     the key's rate limit, as any request does), and exchanged for a
//     server-side session: the browser holds only a random session id, in
//     a cookie that is HttpOnly, SameSite=Strict, scoped to the
//     dashboard's path, Secure over TLS (or with Options.SecureCookies),
//     and expiring with the session. The key is never stored in the
//     browser, never put in a URL or a page, and never logged; the
//     session keeps only the key's record.
//   - Sessions end Options.SessionTTL after sign-in (default 12h), after
//     Options.IdleTimeout without a request (default 1h), at sign-out,
//     and as soon as their key is revoked or expires: the key's record is
//     read again on every request. They live in memory: a restart ends
//     them. Pages viewed in a session do not count against the key's rate
//     limit or quota.
//   - Every state-changing request is a POST that must carry the
//     session's CSRF token (the sign-in form: a token bound to a
//     SameSite=Strict cookie), and is refused when the browser says it
//     came from another origin (http.CrossOriginProtection).
//   - Sign-in attempts are rate-limited per client (Options.SignInRate a
//     minute, default 10, by package limiter), keyed by Options.ClientIP.
//   - Every response carries a Content-Security-Policy that allows only
//     the dashboard's own script and style sheet (no inline script or
//     style), forbids framing, and lets forms post only to the dashboard;
//     pages are Cache-Control: no-store.
//   - Every route checks the scope it needs against the session's key.
//
// Errors are pages with a message for people and the right status: a
// caller's mistake (a bad form value, an unknown memory) is a 4xx that
// says what to fix, never a 500.
//
// # Concurrency
//
// The handler is safe for concurrent use. It starts no goroutine and needs
// no Close: ended sessions are dropped when they are met.
package dashboard
