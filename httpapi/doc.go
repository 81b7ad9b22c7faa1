// Package httpapi serves memoryrelay over HTTP: the REST API of the hosted
// MemoryRelay service (the API contract, API.md), so that its official SDKs
// and MCP server work against it with only their base URL changed.
//
// # Mounting
//
// New returns an http.Handler and never listens. Serve it alone, or mount
// it under a prefix of the host's own mux:
//
//	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: "memory.db"})
//	...
//	api, err := httpapi.New(relay, httpapi.Options{})
//	...
//	mux := http.NewServeMux()
//	mux.Handle("/memory/", http.StripPrefix("/memory", api))
//
// Hosts can protect their own routes with memoryrelay keys:
//
//	mux.Handle("GET /reports", httpapi.RequireKey(relay, scopes.Read)(reports))
//
// and read the key inside with KeyFromContext.
//
// # The service
//
// New serves any [Service]: Authorize, Health, and AccountFor, which gives
// the memory.Account of a key. Each request is served through that
// account's resource groups (package memory's interfaces, the ones the Go
// client implements too), so a host decorates the API — tracing, auditing,
// tenancy — by wrapping them: embed the memory.Account and override the
// group it cares about. Validation errors name Go fields
// (memory.Problem.Field, "AgentID"); the handler answers with the
// request's names ("agent_id") in the contract's messages.
//
// # Behaviour
//
//   - Keys come from "Authorization: Bearer <key>" (scheme in any case) or
//     "X-API-Key: <key>"; Authorization wins when both are sent. Health
//     (/health, /v1/health) needs none.
//   - Every authenticated response carries X-RateLimit-Limit, -Remaining
//     and -Reset; a 429 adds an integer Retry-After.
//   - Every response carries X-Request-ID (the client's, when it is 1–128
//     visible ASCII characters, else a generated req_…) and a JSON body
//     with Content-Type application/json, errors included.
//   - Errors have the contract's body {type, message, detail, error, code,
//     request_id}; internal errors are logged and answered with a generic
//     500 that reveals nothing.
//   - Runs of '/' are collapsed and a trailing '/' ignored, without
//     redirects. A known path with another method gets 405 with Allow.
//   - Request bodies over Options.MaxBodyBytes (default 10 MiB) get 400.
//     JSON bodies may omit any optional field or send it as null; unknown
//     fields are ignored; a field of the wrong type gets a 400 naming it.
//
// # Observing
//
// Options.Observers are told of each request once it is served
// (RequestInfo: request id, route pattern, status, duration, the key's
// display prefix and account, why a key was refused, a rate-limit refusal,
// the mode and time of a memory search; never a key). RequestLog is one
// that writes a log/slog line per request; package metrics is another,
// which counts them for Prometheus.
//
// # Concurrency
//
// The handler is safe for concurrent use.
package httpapi
