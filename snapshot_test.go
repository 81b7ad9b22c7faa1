package memoryrelay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestReopenIndexSnapshot: Close writes the index's snapshot beside the
// database; the next Open loads it and catches up with what another
// Relay wrote meanwhile (a new memory, a delete); a snapshot copied beside
// a backup made before it is not used (the index is rebuilt), and
// searches there are still right.
func TestReopenIndexSnapshot(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "relay.db")
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	acct := account(t, r)
	var ids []string
	for i := range 20 {
		m, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: fmt.Sprintf("note %d about the harbour and its %d boats", i, i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Memory.ID)
	}
	if err := r.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := r.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.Stats(ctx); st.IndexFromSnapshot {
		t.Fatal("first Open: IndexFromSnapshot")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-index"); err != nil || fi.Size() == 0 {
		t.Fatalf("no snapshot after Close: %v", err)
	}

	// Another process writes while this one is closed.
	w, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, ExactSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := w.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "the lighthouse keeper feeds the gulls at dawn"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Account(acct).Memories().Delete(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	w.Close()

	r2, _ := open(t, memoryrelay.Options{Path: path})
	if err := r2.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := r2.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IndexFromSnapshot || st.IndexVectors != 20 || st.IndexSnapshotBytes == 0 {
		t.Fatalf("reopen: %+v, want the index from the snapshot with 20 vectors", st)
	}
	for _, mode := range []string{"semantic", "keyword", "hybrid"} {
		hits, err := r2.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "the lighthouse keeper feeds the gulls at dawn", Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Memory.ID != fresh.Memory.ID {
			t.Errorf("%s: %+v, want the memory written after the snapshot first", mode, hits)
		}
		hits, err = r2.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "note 0 about the harbour and its 0 boats", Mode: mode, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if has(hits, ids[0]) {
			t.Errorf("%s: the memory deleted after the snapshot is found", mode)
		}
	}

	// The snapshot beside a backup from before it: not used.
	snap, err := os.ReadFile(path + "-index")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(backup+"-index", snap, 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := open(t, memoryrelay.Options{Path: backup})
	if err := b.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.Stats(ctx); st.IndexFromSnapshot || st.IndexVectors != 20 {
		t.Fatalf("backup: %+v, want a rebuilt index of 20 vectors", st)
	}
	hits, err := b.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "note 0 about the harbour and its 0 boats", Mode: "hybrid"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Memory.ID != ids[0] {
		t.Errorf("backup: %+v, want its memory 0 first", hits)
	}
}
