package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "store.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func addTestMemory(t *testing.T, st *Store, acct, tier string, vec []float32) Memory {
	t.Helper()
	now := time.Now().UTC()
	m := Memory{ID: uuid.New(), AccountID: acct, AgentRef: "agent", Content: "c", Visibility: "private", Importance: 0.5,
		Tier: tier, Scope: "long-term", CreatedAt: now, UpdatedAt: now}
	if err := st.InsertMemory(context.Background(), &m, Indexed{Vector: EncodeVector(vec), Terms: "c"}); err != nil {
		t.Fatal(err)
	}
	return m
}

// searchWithin runs v.Search and fails the test, rather than hanging it,
// if no answer comes within d.
func searchWithin(t *testing.T, d time.Duration, v *VectorIndex, f Filter, q []float32) []int64 {
	t.Helper()
	type result struct {
		ns  []vector.Neighbor
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ns, err := v.Search(context.Background(), f, q, 10)
		ch <- result{ns, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		ids := make([]int64, len(r.ns))
		for i, n := range r.ns {
			ids[i] = n.ID
		}
		return ids
	case <-time.After(d):
		t.Fatalf("no answer within %v", d)
		return nil
	}
}

// TestVectorIndexSearchesDuringRebuild: while a rebuild is held mid-way
// (the change log was pruned past the index, as another process does),
// searches are answered at once from the index as it is, with and without
// filters, and return nothing their filter no longer selects (a memory
// deleted or made confidential meanwhile); once the rebuild is done, the
// search that triggered it and the next ones see the new memories.
func TestVectorIndexSearchesDuringRebuild(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct, err := st.CreateAccount(ctx, "acct", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	q := []float32{1, 0, 0, 0}
	old := addTestMemory(t, st, acct.ID, "hot", []float32{1, 0.1, 0, 0})
	warm := addTestMemory(t, st, acct.ID, "warm", []float32{1, 0, 0.1, 0})
	gone := addTestMemory(t, st, acct.ID, "hot", []float32{1, 0, 0, 0.1})
	hide := addTestMemory(t, st, acct.ID, "hot", []float32{1, 0.1, 0.1, 0})
	v, err := st.OpenVectorIndex(ctx, vector.IndexOptions{Dim: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	entered, release := make(chan struct{}), make(chan struct{})
	var enterOnce, releaseOnce sync.Once
	v.rebuildHook = func() {
		enterOnce.Do(func() { close(entered) })
		<-release
	}
	defer releaseOnce.Do(func() { close(release) })

	// Another process writes, and prunes the log past this index.
	fresh := addTestMemory(t, st, acct.ID, "hot", []float32{1, 0, 0, 0})
	if err := st.DeleteMemory(ctx, acct.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateMemory(ctx, acct.ID, hide.ID, func(m *Memory) error { m.Visibility = "confidential"; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.W.ExecContext(ctx, "DELETE FROM vector_changes WHERE id < (SELECT max(id) FROM vector_changes)"); err != nil {
		t.Fatal(err)
	}

	type result struct {
		ids []int64
		err error
	}
	trigger := make(chan result, 1)
	go func() {
		ns, err := v.Search(ctx, Filter{AccountID: acct.ID}, q, 10)
		var ids []int64
		for _, n := range ns {
			ids = append(ids, n.ID)
		}
		trigger <- result{ids, err}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the search did not start a rebuild")
	}

	hot := "hot"
	for _, f := range []Filter{{AccountID: acct.ID}, {AccountID: acct.ID, Tier: &hot}} {
		ids := searchWithin(t, 10*time.Second, v, f, q)
		if !slices.Contains(ids, old.Seq) {
			t.Errorf("%+v during the rebuild: %v lacks %d", f, ids, old.Seq)
		}
		if slices.Contains(ids, gone.Seq) || slices.Contains(ids, hide.Seq) {
			t.Errorf("%+v during the rebuild: %v holds a deleted (%d) or confidential (%d) memory", f, ids, gone.Seq, hide.Seq)
		}
		if f.Tier != nil && slices.Contains(ids, warm.Seq) {
			t.Errorf("tier filter during the rebuild: %v holds a warm memory", ids)
		}
	}

	releaseOnce.Do(func() { close(release) })
	var ids []int64
	select {
	case r := <-trigger:
		if r.err != nil {
			t.Fatal(r.err)
		}
		ids = r.ids
	case <-time.After(10 * time.Second):
		t.Fatal("the rebuild did not finish")
	}
	if !slices.Contains(ids, fresh.Seq) || slices.Contains(ids, gone.Seq) || slices.Contains(ids, hide.Seq) {
		t.Errorf("after the rebuild: %v (fresh %d, gone %d, hidden %d)", ids, fresh.Seq, gone.Seq, hide.Seq)
	}
	ids = searchWithin(t, 10*time.Second, v, Filter{AccountID: acct.ID, Tier: &hot}, q)
	if !slices.Contains(ids, fresh.Seq) || !slices.Contains(ids, old.Seq) || slices.Contains(ids, warm.Seq) {
		t.Errorf("tier filter after the rebuild: %v (fresh %d, old %d, warm %d)", ids, fresh.Seq, old.Seq, warm.Seq)
	}
}

// TestVectorIndexEmptyLog: a change log pruned to nothing (an operator's
// DELETE, say) still tells the index it missed changes: ids are
// AUTOINCREMENT, so sqlite_sequence keeps the position.
func TestVectorIndexEmptyLog(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct, err := st.CreateAccount(ctx, "acct", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	q := []float32{0, 1, 0, 0}
	addTestMemory(t, st, acct.ID, "warm", []float32{1, 0, 0, 0})
	v, err := st.OpenVectorIndex(ctx, vector.IndexOptions{Dim: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	rebuilds := 0
	v.rebuildHook = func() { rebuilds++ }
	m := addTestMemory(t, st, acct.ID, "warm", q)
	if _, err := st.db.W.ExecContext(ctx, "DELETE FROM vector_changes"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second finds nothing new: no rebuild loop
		if ids := searchWithin(t, 10*time.Second, v, Filter{AccountID: acct.ID}, q); len(ids) != 2 || ids[0] != m.Seq {
			t.Fatalf("after the log was emptied: %v, want %d first of 2", ids, m.Seq)
		}
		if rebuilds != 1 {
			t.Fatalf("%d rebuilds, want 1", rebuilds)
		}
	}
}

// TestVectorIndexRebuildCancelled: a rebuild whose context is cancelled
// mid-way (the client of the search that started it went away) leaves the
// index as it was, not with the rows read so far; the next search
// rebuilds.
func TestVectorIndexRebuildCancelled(t *testing.T) {
	st := testStore(t)
	acct, err := st.CreateAccount(context.Background(), "acct", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		addTestMemory(t, st, acct.ID, "warm", []float32{1, float32(i), 0, 0})
	}
	v, err := st.OpenVectorIndex(context.Background(), vector.IndexOptions{Dim: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	q := []float32{0, 0, 1, 0}
	fresh := addTestMemory(t, st, acct.ID, "warm", q)
	addTestMemory(t, st, acct.ID, "warm", q)
	if _, err := st.db.W.Exec("DELETE FROM vector_changes WHERE id < (SELECT max(id) FROM vector_changes)"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.rebuildHook = func() {
		cancel()
		time.Sleep(50 * time.Millisecond) // database/sql closes the rows on its own goroutine
	}
	if _, err := v.Search(ctx, Filter{AccountID: acct.ID}, q, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Search with its context cancelled during the rebuild: %v", err)
	}
	if n := v.Len(); n != 50 {
		t.Fatalf("Len after a cancelled rebuild = %d, want the previous 50", n)
	}
	v.rebuildHook = nil
	if ids := searchWithin(t, 10*time.Second, v, Filter{AccountID: acct.ID}, q); len(ids) < 2 || !slices.Contains(ids[:2], fresh.Seq) || v.Len() != 52 {
		t.Fatalf("the next search: %v, Len %d; want %d among the first two of 52", ids, v.Len(), fresh.Seq)
	}
}
