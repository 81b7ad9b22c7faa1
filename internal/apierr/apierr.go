package apierr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Kinds of memory.NotFoundError.
const (
	Account  = "account"
	Memory   = "memory"
	Agent    = "agent"
	Entity   = "entity"
	Session  = "session"
	Decision = "decision"
	Pattern  = "pattern"
	Project  = "project"
	Key      = "key"
)

// NotFound is a *memory.NotFoundError of the kind.
func NotFound(kind string) error { return &memory.NotFoundError{Kind: kind} }

// ErrNoSession is the error of a write naming a session the account does
// not have.
var ErrNoSession error = memory.Invalid("SessionID", "SessionID does not name a session of this account")

// FromStore maps the storage errors of one resource: a missing row is a
// *memory.NotFoundError of the kind, a missing session ErrNoSession.
// Anything else is left to Classify.
func FromStore(err error, kind string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrSessionNotFound):
		return ErrNoSession
	case errors.Is(err, store.ErrNotFound):
		return &memory.NotFoundError{Kind: kind, Err: err}
	}
	return err
}

// Classify is the last step of every call of the API: an error of the
// API's vocabulary passes as it is; with closed (the Relay was closed),
// or a storage error saying so, it is memory.ErrClosed; a storage error is
// a *memory.UnavailableError when it is one of that kind, and a
// foreign-key failure (a write for an account that does not exist) a
// *memory.NotFoundError of kind Account; anything else is wrapped with the
// "memoryrelay: " prefix, never returned bare.
func Classify(err error, closed bool) error {
	if err == nil {
		return nil
	}
	var (
		verr *memory.ValidationError
		nf   *memory.NotFoundError
		cerr *memory.ConflictError
		uerr *memory.UnavailableError
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &nf), errors.As(err, &cerr), errors.As(err, &uerr),
		errors.Is(err, memory.ErrClosed):
		return err
	case closed || store.Closed(err):
		return memory.ErrClosed
	}
	if ue := Unavailable(err); ue != nil {
		return ue
	}
	if store.ForeignKey(err) {
		return &memory.NotFoundError{Kind: Account, Err: err}
	}
	if strings.HasPrefix(err.Error(), "memoryrelay: ") {
		return err
	}
	return fmt.Errorf("memoryrelay: %w", err)
}

// Unavailable returns err as a *memory.UnavailableError when it is a
// storage failure of that kind (locked past the busy timeout, disk full,
// read-only, damaged, past the statement timeout), and nil otherwise.
func Unavailable(err error) *memory.UnavailableError {
	var ue *memory.UnavailableError
	if errors.As(err, &ue) {
		return ue
	}
	if reason, ok := store.Unavailable(err); ok {
		return &memory.UnavailableError{Reason: reason, Err: err}
	}
	return nil
}
