package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// The classifications the Relay makes of the store's errors without
// naming the engine: a write naming an unknown account, a call after
// Close, and the write problems of a healthy database.
func TestErrorClasses(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	if p := st.WriteProblems(0); p != nil {
		t.Errorf("WriteProblems(0) = %q, want none", p)
	}
	if p := st.WriteProblems(^uint64(0)); len(p) != 1 {
		t.Errorf("WriteProblems(max) = %q, want the free-space problem", p)
	}
	_, _, err := st.CreateAgent(ctx, "no-such-account", "", "a", nil, nil, time.Now())
	if err == nil || !store.ForeignKey(err) {
		t.Errorf("CreateAgent in an unknown account: %v; ForeignKey = false", err)
	}
	if store.ForeignKey(store.ErrNotFound) || store.Closed(store.ErrNotFound) {
		t.Error("ErrNotFound is classified as a foreign key or closed error")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Meta(ctx, "k"); err == nil || !store.Closed(err) {
		t.Errorf("Meta after Close: %v; Closed = false", err)
	}
}
