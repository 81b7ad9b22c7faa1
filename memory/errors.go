package memory

import (
	"errors"
	"strings"
)

// Errors of the API. Every error a method returns for one of these
// reasons matches the sentinel with errors.Is, whichever implementation
// (in process or remote) produced it; the typed errors below carry the
// details and unwrap to their cause.
var (
	// ErrInvalid: the input breaks a documented rule. The error is a
	// *ValidationError.
	ErrInvalid = errors.New("memory: invalid input")
	// ErrNotFound: the object does not exist in the account (or exists in
	// another one). The error is a *NotFoundError.
	ErrNotFound = errors.New("memory: not found")
	// ErrConflict: the write collides with existing state, such as a taken
	// project slug or agent name. The error is a *ConflictError.
	ErrConflict = errors.New("memory: conflict")
	// ErrUnavailable: the storage (or the remote server) cannot serve the
	// request now; nothing the caller did wrong, and nothing was written.
	// Retrying later may succeed. The error is an *UnavailableError.
	ErrUnavailable = errors.New("memory: unavailable")
	// ErrClosed: the implementation was closed.
	ErrClosed = errors.New("memory: closed")
)

// ValidationError reports input that breaks the rules. It matches
// ErrInvalid. Problems has one entry per problem found, in input order;
// the error's text is the first one's.
type ValidationError struct {
	Problems []Problem
	// Err is the error that showed the problem, if any (for example
	// keys.ErrLastAdmin when a revocation is refused); Unwrap returns it,
	// so errors.Is matches both ErrInvalid and it.
	Err error
}

// Problem is one rule an input breaks.
type Problem struct {
	// Field names the input field: the Go field's name, with a dotted path
	// and index for nested values ("Memories[3].Content"). HTTP maps it to
	// the wire name.
	Field string
	// Message says what is wrong, in a sentence that names the field.
	Message string
}

// Invalid returns a *ValidationError with one problem.
func Invalid(field, message string) *ValidationError {
	return &ValidationError{Problems: []Problem{{Field: field, Message: message}}}
}

// Field is the first problem's field.
func (e *ValidationError) Field() string {
	if len(e.Problems) == 0 {
		return ""
	}
	return e.Problems[0].Field
}

func (e *ValidationError) Error() string {
	switch len(e.Problems) {
	case 0:
		return "invalid input"
	case 1:
		return e.Problems[0].Message
	}
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, "; ")
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the cause, or nil.
func (e *ValidationError) Unwrap() error { return e.Err }

// NotFoundError says which kind of object was not found. It matches
// ErrNotFound and unwraps to the error that showed it, if any (for keys,
// keys.ErrNotFound).
type NotFoundError struct {
	Kind string // "memory", "agent", "key", …
	Err  error  // the cause, or nil
}

func (e *NotFoundError) Error() string        { return e.Kind + " not found" }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }
func (e *NotFoundError) Unwrap() error        { return e.Err }

// ConflictError reports a write that collides with existing state. It
// matches ErrConflict.
type ConflictError struct {
	Message string
}

func (e *ConflictError) Error() string        { return e.Message }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// UnavailableError reports that the request could not be served now. It
// matches ErrUnavailable and unwraps to its cause.
type UnavailableError struct {
	Reason     string // for people, e.g. "The storage is full"
	RetryAfter int    // seconds a retry should wait; 0: unknown
	Err        error  // the cause
}

func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }
func (e *UnavailableError) Unwrap() error        { return e.Err }
