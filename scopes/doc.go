// Package scopes is the permission vocabulary of memoryrelay API keys.
//
// # Scopes
//
// A key holds one or more of four scopes (API.md §2.3):
//
//   - [Read]: list and retrieve, plus the read-only POSTs (search, context, embed).
//   - [Write]: create and update.
//   - [Delete]: delete.
//   - [Admin]: everything, plus key management. Admin implies the other three.
//
// Apart from admin's implication the scopes are independent: a read+write key
// cannot delete.
//
// # Sets
//
// A [Set] is a small bit set of scopes; its zero value holds none. Sets are
// built with [NewSet], or parsed from names with [ParseSet] (a JSON array)
// and [ParseList] (a comma- or space-separated string such as "read,write").
// [Set.Has] and [Set.Check] answer whether a key may do something, with
// admin's implication applied; [Set.Contains] stops a key from creating a
// key with more power than its own. [Set.Strings] lists only the scopes held
// explicitly, in the canonical order read, write, delete, admin.
//
// # Errors
//
// Parsing an unknown name returns an error wrapping [ErrUnknown]. A failed
// [Set.Check] returns a [*MissingError], whose message is the exact text the
// HTTP API sends to clients:
//
//	Insufficient scope. Required: write
//
// # Concurrency
//
// [Scope] and [Set] are plain values: safe to copy and to use from many
// goroutines. The package has no mutable state.
package scopes
