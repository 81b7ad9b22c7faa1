package apierr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestFromStore: a missing row is a not-found of the resource's kind
// wrapping the store's error, a missing session the validation error of
// SessionID; anything else passes.
func TestFromStore(t *testing.T) {
	var nf *memory.NotFoundError
	if err := apierr.FromStore(fmt.Errorf("get: %w", store.ErrNotFound), apierr.Decision); !errors.As(err, &nf) || nf.Kind != "decision" ||
		!errors.Is(err, memory.ErrNotFound) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("not found: %v", err)
	}
	var verr *memory.ValidationError
	if err := apierr.FromStore(store.ErrSessionNotFound, apierr.Memory); !errors.As(err, &verr) || verr.Field() != "SessionID" {
		t.Errorf("no session: %v", err)
	}
	other := errors.New("x")
	if err := apierr.FromStore(other, apierr.Memory); err != other || apierr.FromStore(nil, apierr.Memory) != nil {
		t.Errorf("other: %v", err)
	}
}

// TestClassify: the API's errors pass, a closed Relay is ErrClosed, the
// rest is wrapped with the package's prefix, its cause kept.
func TestClassify(t *testing.T) {
	verr := memory.Invalid("Content", "Content is required")
	if err := apierr.Classify(verr, true); err != verr {
		t.Errorf("a validation error after Close: %v", err)
	}
	cause := errors.New("some driver failure")
	if err := apierr.Classify(cause, false); !errors.Is(err, cause) || err.Error() != "memoryrelay: some driver failure" {
		t.Errorf("wrapped: %v", err)
	}
	if err := apierr.Classify(cause, true); !errors.Is(err, memory.ErrClosed) {
		t.Errorf("closed: %v", err)
	}
	if apierr.Classify(nil, true) != nil {
		t.Error("nil classified")
	}
	if apierr.Unavailable(cause) != nil {
		t.Error("a plain error is not unavailable")
	}
	ue := &memory.UnavailableError{Reason: "busy"}
	if got := apierr.Unavailable(fmt.Errorf("x: %w", ue)); got != ue {
		t.Errorf("Unavailable of a wrapped one: %v", got)
	}
}
