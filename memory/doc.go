// Package memory defines the objects memoryrelay stores and the
// account-scoped API over them, as a set of interfaces with two
// implementations: the library itself, in process
// (memoryrelay.Relay.Account), and the Go client of a remote server
// (package client). A program written against these interfaces moves
// between embedded and remote by changing the constructor of its
// [Account].
//
//	var acct memory.Account = relay.Account(accountID) // embedded
//	var acct memory.Account = c.Account()              // remote
//	m, err := acct.Memories().Create(ctx, memory.NewMemory{Content: "Likes green tea"})
//
// Every method is scoped to one account: nothing in this API takes an
// account id, so no call can reach another account's data. Objects of
// another account are not found ([ErrNotFound]), as if they did not exist.
//
// Package memory has no dependency on storage: it is types, limits,
// interfaces and errors only, and importing it links no database.
//
// # Conventions
//
// Instants are time.Time in UTC, to the millisecond. Optional values are
// pointers (nil: none) or, for JSON objects, json.RawMessage (nil: the
// empty object {}). In inputs, a nil pointer or an empty string takes the
// default documented at the field. Lists take a limit (1–100 unless a
// field says otherwise; 0 means the default, 20; larger values are
// clamped), an offset and an opaque cursor (a [Page]'s NextCursor) that
// wins over the offset; they return a [Page].
//
// # Limits
//
// Every limit and default of an input is a constant beside its type:
// [MaxContentChars], [MaxBatch] and the search range with [Memories],
// [MaxPageLimit] and [MaxOffset] with [Page], the field limits of each
// resource in its file, and those several share ([MaxMetadataSize],
// [MaxJSONDepth], [MaxAgentRef], [MaxProjectSlug], [MaxTags]). An input
// past one is a *ValidationError that lists every problem of the input,
// one [Problem] per field, named by its Go field; the in-process and the
// remote implementation enforce the same values.
package memory
