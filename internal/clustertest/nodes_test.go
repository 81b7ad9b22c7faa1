package clustertest

import (
	"context"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
)

// openNode opens a Relay (a node) with opts and closes it when t ends;
// it waits for its search index, so that a test measures the feed, not
// the first build.
func openNode(t testing.TB, opts memoryrelay.Options) *memoryrelay.Relay {
	t.Helper()
	ctx := context.Background()
	r, err := memoryrelay.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.WaitSearchIndex(wctx); err != nil {
		t.Fatal(err)
	}
	return r
}
