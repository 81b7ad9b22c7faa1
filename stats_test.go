package memoryrelay_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestStats: the index's size and lag follow writes and searches, the
// database's files are measured, ExactSearch has no index, and a closed
// Relay answers ErrClosed.
func TestStats(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := r.Account(account(t, r))
	if err := r.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := r.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IndexReady || st.IndexVectors != 0 || st.IndexLag != 0 || st.DatabaseBytes == 0 || st.WALBytes == 0 {
		t.Fatalf("empty: %+v", st)
	}
	for i := range 5 {
		if _, err := acct.Memories().Create(ctx, memory.NewMemory{AgentID: "a", Content: fmt.Sprintf("stats memory %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if st, err = r.Stats(ctx); err != nil || st.IndexVectors != 0 || st.IndexLag < 5 {
		t.Fatalf("after 5 writes, before a search: %+v %v", st, err)
	}
	if _, err := acct.Memories().Search(ctx, memory.SearchParams{Query: "stats memory", Mode: memory.ModeSemantic}); err != nil {
		t.Fatal(err)
	}
	if st, err = r.Stats(ctx); err != nil || st.IndexVectors != 5 || st.IndexLag != 0 {
		t.Fatalf("after a search: %+v %v", st, err)
	}

	exact, _ := open(t, memoryrelay.Options{ExactSearch: true})
	if st, err := exact.Stats(ctx); err != nil || st.IndexReady || st.IndexVectors != 0 || st.DatabaseBytes == 0 {
		t.Fatalf("ExactSearch: %+v %v", st, err)
	}
	exact.Close()
	if _, err := exact.Stats(ctx); !errors.Is(err, memoryrelay.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}
