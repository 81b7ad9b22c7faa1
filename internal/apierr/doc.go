// Package apierr maps what storage reports to the error vocabulary of
// package memory: a missing row is a *memory.NotFoundError of the
// resource's kind, a storage failure that may pass a
// *memory.UnavailableError, a write for an account that does not exist an
// account not found, and anything else is wrapped, never returned bare.
package apierr
