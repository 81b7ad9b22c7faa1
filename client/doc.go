// Package client is the Go client of a MemoryRelay server: it implements
// the account-scoped API of package memory over the REST API that
// memoryrelay's httpapi package (and the hosted service) serves, so that a
// program written against memory.Account runs remote by changing one
// constructor.
//
//	c, err := client.New(client.Options{}) // MEMORYRELAY_API_KEY, http://localhost:8000
//	...
//	var acct memory.Account = c.Account()
//	res, err := acct.Memories().Create(ctx, memory.NewMemory{AgentID: "assistant", Content: "Likes green tea"})
//	hits, err := acct.Memories().Search(ctx, memory.SearchParams{Query: "what does the user drink?"})
//
// The account is the API key's: every call acts for the key's account,
// within the key's scopes (read, write, delete, admin; the API contract
// §2.3 maps each method's endpoint to the scope it needs).
//
// # Errors
//
// Every error answer of the server is an *[Error] (status, type, message,
// request id). It unwraps to the error of package memory that the same
// failure gives in process, so errors.Is and errors.As read alike on both
// sides:
//
//   - 400: *memory.ValidationError (memory.ErrInvalid), one Problem per
//     entry of the body's details (or errors), else one with the body's
//     message. Problem.Field is the Go name of the wire field
//     ("agent_id" → "AgentID", "search_mode" → "Mode").
//   - 404: *memory.NotFoundError (memory.ErrNotFound); Kind is what the
//     server's message says was not found ("memory", "agent", "key", …),
//     else what the method looks up.
//   - 409: *memory.ConflictError (memory.ErrConflict).
//   - 503: *memory.UnavailableError (memory.ErrUnavailable), RetryAfter
//     from the Retry-After header.
//
// Three classes have no counterpart in process and match sentinels of this
// package: 401 [ErrAuthentication], 403 [ErrForbidden] and 429
// [ErrRateLimit]. A 500 (or any other status) matches only [ErrAPI]: the
// server failed, and unlike a 503 it does not promise that nothing was
// written. Errors of the transport (no connection, timeouts) are returned
// as the http.Client gives them.
//
// Rate-limited requests and, for idempotent methods (GET, PUT, PATCH,
// DELETE), server errors and network errors are retried with exponential
// backoff that honours Retry-After ([Options].MaxRetries).
//
// # Remote and in process
//
// The methods mean what package memory documents. Where HTTP gives less,
// it says so here:
//
//   - keys.Key.AccountID is empty: the server does not send it.
//   - Usage().Quota is the quota of the client's key.
//   - A failed item of Memories().CreateBatch has as Err a
//     *memory.ValidationError with the server's message and the item's
//     field ("Content"), or an *Error for other failures.
//   - Strings that are not valid UTF-8 are refused before sending
//     (*memory.ValidationError), as JSON cannot carry them.
//   - Keys().Rotate sends the grace in whole seconds, rounded up.
//   - Decision tags given to Decisions().List travel comma-separated: a
//     tag holding a comma cannot be filtered on.
//   - A filter given as a pointer to "" is no filter (the server reads an
//     empty query parameter as absent).
//   - Decisions().Get, Patterns().Get and Memories().DeleteUser call routes
//     that memoryrelay's server adds to the hosted API, and Keys().Revoke,
//     CreateAsync's Job instants, Contexts().Build's items and
//     Entities().Neighborhood's Entity read fields it adds (README, "The
//     whole hosted API"). A server without them answers those routes with
//     a 404 (Kind "route") and leaves those fields zero.
//
// A Client is safe for concurrent use.
package client
