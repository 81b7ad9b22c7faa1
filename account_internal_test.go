package memoryrelay

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestForeignKeyIsAccountNotFound: a write for an account that does not
// exist, should it pass the handle's check (an account deleted by hand
// meanwhile), fails on a foreign key in the store; classify reports the
// account not found, never the driver's error.
func TestForeignKeyIsAccountNotFound(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	idx, err := indexing.Indexer{Embedder: r.embed}.Index(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	now := r.now()
	raw := r.store.InsertMemory(ctx, &store.Memory{ID: uuid.New(), AccountID: "no-such-account", AgentRef: memory.DefaultAgent,
		Content: "x", Visibility: "private", Importance: 0.5, Tier: "warm", Scope: "long-term", CreatedAt: now, UpdatedAt: now}, idx)
	if raw == nil || !strings.Contains(raw.Error(), "FOREIGN KEY") {
		t.Fatalf("the store's error: %v, want a foreign-key failure", raw)
	}
	err = r.classify(raw)
	var nf *memory.NotFoundError
	if !errors.As(err, &nf) || nf.Kind != "account" || err.Error() != "account not found" || !errors.Is(err, ErrNotFound) {
		t.Errorf("classified: %v, want account not found", err)
	}
}

// TestClassifyWrapsDriverErrors: an error the API does not know is wrapped
// with the package's prefix, its cause kept.
func TestClassifyWrapsDriverErrors(t *testing.T) {
	r := &Relay{}
	cause := errors.New("some driver failure")
	if err := r.classify(cause); !errors.Is(err, cause) || err.Error() != "memoryrelay: some driver failure" {
		t.Errorf("classify: %v", err)
	}
	r.closed.Store(true)
	if err := r.classify(cause); !errors.Is(err, ErrClosed) {
		t.Errorf("classify after Close: %v", err)
	}
}
