package limiter_test

import (
	"context"
	"testing"

	"github.com/memoryrelay/memoryrelay/limiter"
)

// Peek's figures are checked by the conformance suite (limitertest),
// which Local runs; what follows is Local's own.

func TestPeekTracksNoKey(t *testing.T) {
	l := newLocal(t, limiter.Options{})
	var p limiter.Peeker = l
	d, err := p.Peek(context.Background(), "never-used", 0)
	if err != nil || !d.Allowed || d.Remaining != limiter.DefaultLimit {
		t.Fatalf("Peek of an unused key = %+v, %v; want a full bucket", d, err)
	}
	if n := l.Len(); n != 0 {
		t.Errorf("Len after a peek = %d, want 0", n)
	}
}
