package memoryrelay

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/memory"
)

// wrappedStorage is a storage that is not *sqlite.Store: it forwards to
// one, counts the reads of memories and can fail the health read.
type wrappedStorage struct {
	storage
	gets    atomic.Int64
	readErr error
}

func (w *wrappedStorage) GetMemory(ctx context.Context, accountID, id string) (store.Memory, error) {
	w.gets.Add(1)
	return w.storage.GetMemory(ctx, accountID, id)
}

func (w *wrappedStorage) CheckRead(ctx context.Context) error {
	if w.readErr != nil {
		return w.readErr
	}
	return w.storage.CheckRead(ctx)
}

// TestRelayOverAnyStorage: the Relay reaches its storage only through the
// storage interface, so a Relay over a wrapper of the SQLite store works
// as one over the store itself, and what the wrapper does is seen.
func TestRelayOverAnyStorage(t *testing.T) {
	ctx := context.Background()
	opts := Options{Path: filepath.Join(t.TempDir(), "x.db"), ExactSearch: true}
	if err := opts.fill(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, sqlite.Options{Path: opts.Path})
	if err != nil {
		t.Fatal(err)
	}
	w := &wrappedStorage{storage: st}
	r, err := open(ctx, opts, w)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	info, err := r.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	mems := r.Account(info.ID).Memories()
	cr, err := mems.Create(ctx, memory.NewMemory{Content: "Likes green tea"})
	if err != nil {
		t.Fatal(err)
	}
	m := cr.Memory
	before := w.gets.Load()
	got, err := mems.Get(ctx, m.ID)
	if err != nil || got.Content != m.Content {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if w.gets.Load() == before {
		t.Error("Get did not go through the wrapper's GetMemory")
	}
	hits, err := mems.Search(ctx, memory.SearchParams{Query: "green tea"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("Search = %d hits, %v", len(hits), err)
	}

	if h := r.Health(ctx); h.Services["database"] != ServiceUp {
		t.Errorf("Health over the wrapper: %+v", h)
	}
	w.readErr = errors.New("unreadable")
	if h := r.Health(ctx); h.Services["database"] != ServiceDown {
		t.Errorf("Health with the wrapper's read failing: %+v", h)
	}
}
