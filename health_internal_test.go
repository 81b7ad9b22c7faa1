package memoryrelay

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// vector_store follows the state of the background index build: degraded
// while it runs and after it failed (searches use the exact scan), up
// once built.
func TestHealthSearchIndexStates(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if h := r.Health(ctx); h.Services["vector_store"] != ServiceUp || h.Status != "healthy" {
		t.Fatalf("built: %+v", h)
	}

	done := r.indexDone
	r.indexDone = make(chan struct{}) // as while the build runs
	h := r.Health(ctx)
	r.indexDone = done
	if h.Services["vector_store"] != ServiceDegraded || h.Status != "degraded" || !strings.Contains(strings.Join(h.Problems, "\n"), "being built") {
		t.Errorf("building: %+v", h)
	}

	vi := r.vindex.Swap(nil) // as after a failed build
	r.indexErr = errors.New("out of memory")
	h = r.Health(ctx)
	r.vindex.Store(vi)
	r.indexErr = nil
	if h.Services["vector_store"] != ServiceDegraded || h.Status != "degraded" || !strings.Contains(strings.Join(h.Problems, "\n"), "out of memory") {
		t.Errorf("failed: %+v", h)
	}
}
