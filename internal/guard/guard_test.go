package guard_test

import (
	"context"
	"errors"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/guard"
)

// gate admits the account "ok" and wraps every error it classifies.
type gate struct{ classified int }

var errRefused = errors.New("refused")

func (g *gate) Admit(_ context.Context, id string) error {
	if id != "ok" {
		return errRefused
	}
	return nil
}

func (g *gate) Classify(err error) error {
	if err == nil {
		return nil
	}
	g.classified++
	return &classified{err}
}

type classified struct{ err error }

func (c *classified) Error() string { return "classified: " + c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

// TestCall: a call runs only once admitted; its result passes, its error
// is classified, and a refusal is returned as it is with zero values.
func TestCall(t *testing.T) {
	ctx := context.Background()
	g := &gate{}
	ran := 0
	f := func() (int, error) { ran++; return 7, nil }
	if v, err := guard.Call(ctx, g, "no", f); err != errRefused || v != 0 || ran != 0 {
		t.Fatalf("refused account: %v %v, ran %d", v, err, ran)
	}
	if v, err := guard.Call(ctx, g, "ok", f); err != nil || v != 7 || ran != 1 {
		t.Fatalf("admitted: %v %v", v, err)
	}
	cause := errors.New("disk")
	v, u, err := guard.Call2(ctx, g, "ok", func() (int, string, error) { return 1, "x", cause })
	var c *classified
	if v != 0 || u != "" || !errors.As(err, &c) || !errors.Is(err, cause) {
		t.Fatalf("failed call: %v %q %v", v, u, err)
	}
	if err := guard.Call0(ctx, g, "ok", func() error { return nil }); err != nil || g.classified != 1 {
		t.Fatalf("Call0: %v, %d classified", err, g.classified)
	}
	if err := guard.Call0(ctx, g, "no", func() error { t.Fatal("ran"); return nil }); err != errRefused {
		t.Fatalf("Call0 refused: %v", err)
	}
}
