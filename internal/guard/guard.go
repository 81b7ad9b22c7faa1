package guard

import "context"

// Gate admits the calls of an account and classifies their errors. The
// Relay implements it; each resource package receives it.
type Gate interface {
	// Admit returns nil when the account's calls may run: an error
	// otherwise (memory.ErrClosed, an account not found).
	Admit(ctx context.Context, accountID string) error
	// Classify turns a call's error into the API's vocabulary (see
	// package apierr); nil stays nil.
	Classify(err error) error
}

// Call runs f for the account once g admits it, and returns its result,
// or the zero value and the error classified.
func Call[T any](ctx context.Context, g Gate, accountID string, f func() (T, error)) (T, error) {
	var zero T
	if err := g.Admit(ctx, accountID); err != nil {
		return zero, err
	}
	v, err := f()
	if err != nil {
		return zero, g.Classify(err)
	}
	return v, nil
}

// Call2 is Call for functions with two results and an error.
func Call2[T, U any](ctx context.Context, g Gate, accountID string, f func() (T, U, error)) (T, U, error) {
	var (
		zt T
		zu U
	)
	if err := g.Admit(ctx, accountID); err != nil {
		return zt, zu, err
	}
	v, u, err := f()
	if err != nil {
		return zt, zu, g.Classify(err)
	}
	return v, u, nil
}

// Call0 is Call for functions with only an error.
func Call0(ctx context.Context, g Gate, accountID string, f func() error) error {
	if err := g.Admit(ctx, accountID); err != nil {
		return err
	}
	return g.Classify(f())
}
