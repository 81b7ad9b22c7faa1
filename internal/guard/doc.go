// Package guard runs the calls of one account's API: each call is first
// admitted by a [Gate] (the Relay is open, the account exists), then its
// error is classified by the same Gate, so that every resource package
// answers the same errors for the same reasons.
package guard
