package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/keys"
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

// TestErrorClassesOfSQLite: SQLite's own failures reach the caller
// classified in store's vocabulary: a write that waited past the busy
// timeout for another process's lock matches store.ErrBusy (and is
// Unavailable: "The database is busy"), and the calls that open
// connections of their own (Backup, the change feed) match
// store.ErrClosed after Close.
func TestErrorClassesOfSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	st1, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st1.Close()
	st2, err := Open(ctx, Options{Path: path, BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = st1.InTx(ctx, func(ctx context.Context) error {
		if err := st1.SetMeta(ctx, "held", "1"); err != nil { // takes the write lock
			return err
		}
		err := st2.SetMeta(context.Background(), "k", "v")
		if !errors.Is(err, store.ErrBusy) {
			t.Errorf("a write past the busy timeout: %v, want store.ErrBusy", err)
		}
		if reason, ok := store.Unavailable(err); !ok || reason != "The database is busy" {
			t.Errorf("Unavailable(%v) = %q, %v", err, reason, ok)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st2.SetMeta(ctx, "k", "v"); err != nil {
		t.Fatalf("the same write once the lock is free: %v", err)
	}
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st2.Backup(ctx, filepath.Join(t.TempDir(), "copy.db")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Backup after Close: %v, want store.ErrClosed", err)
	}
	if _, err := st2.OpenVectorFeed(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("OpenVectorFeed after Close: %v, want store.ErrClosed", err)
	}
	if err := st2.Keys().InsertKey(ctx, keys.Key{ID: "k", AccountID: "a"}, [32]byte{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("a key write after Close: %v, want store.ErrClosed", err)
	}
}
