package index_test

// The index over the SQLite store's feed: what a rebuild does to searches
// that run meanwhile, with the real change log, connection and timeouts.

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

func testStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "store.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openIndex opens an index of dimension 4 over st's feed.
func openIndex(t *testing.T, st *sqlite.Store) *index.Index {
	t.Helper()
	ctx := context.Background()
	feed, err := st.OpenVectorFeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := index.Open(ctx, feed, st, vector.IndexOptions{Dim: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// prune prunes st's feed through the position that through computes from
// the newest one, as another process's index does.
func prune(t *testing.T, st *sqlite.Store, through func(newest int64) int64) {
	t.Helper()
	ctx := context.Background()
	feed, err := st.OpenVectorFeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	_, newest, err := feed.Bounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := feed.Prune(ctx, through(newest)); err != nil {
		t.Fatal(err)
	}
}

// pruneAllButNewest leaves only the newest change in the feed.
func pruneAllButNewest(t *testing.T, st *sqlite.Store) {
	prune(t, st, func(newest int64) int64 { return newest - 1 })
}

// pruneAll empties the feed.
func pruneAll(t *testing.T, st *sqlite.Store) {
	prune(t, st, func(newest int64) int64 { return newest })
}

func addTestMemory(t *testing.T, st *sqlite.Store, acct, tier string, vec []float32) store.Memory {
	t.Helper()
	now := time.Now().UTC()
	m := store.Memory{ID: uuid.New(), AccountID: acct, AgentRef: "agent", Content: "a " + tier + " note", Visibility: "private", Importance: 0.5,
		Tier: tier, Scope: "long-term", CreatedAt: now, UpdatedAt: now}
	if err := st.InsertMemory(context.Background(), &m, store.Indexed{Vector: vec, Terms: strings.Join(lexical.Terms(m.Content), " ")}); err != nil {
		t.Fatal(err)
	}
	return m
}

// searchWithin runs v.Search and fails the test, rather than hanging it,
// if no answer comes within d.
func searchWithin(t *testing.T, d time.Duration, v *index.Index, f search.Filter, q []float32) []int64 {
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
// (the feed was pruned past the index, as another process does),
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
	v := openIndex(t, st)

	entered, release := make(chan struct{}), make(chan struct{})
	var enterOnce, releaseOnce sync.Once
	index.SetRebuildHook(v, func() {
		enterOnce.Do(func() { close(entered) })
		<-release
	})
	defer releaseOnce.Do(func() { close(release) })

	// Another process writes, and prunes the log past this index.
	fresh := addTestMemory(t, st, acct.ID, "hot", []float32{1, 0, 0, 0})
	if err := st.DeleteMemory(ctx, acct.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateMemory(ctx, acct.ID, hide.ID, func(m *store.Memory) error { m.Visibility = "confidential"; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	pruneAllButNewest(t, st)

	type result struct {
		ids []int64
		err error
	}
	trigger := make(chan result, 1)
	go func() {
		ns, err := v.Search(ctx, search.Filter{AccountID: acct.ID}, q, 10)
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
	for _, f := range []search.Filter{{AccountID: acct.ID}, {AccountID: acct.ID, Tier: &hot}} {
		for _, ids := range [][]int64{searchWithin(t, 10*time.Second, v, f, q), textWithin(t, 10*time.Second, v, f, "note")} {
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
	ids = searchWithin(t, 10*time.Second, v, search.Filter{AccountID: acct.ID, Tier: &hot}, q)
	if !slices.Contains(ids, fresh.Seq) || !slices.Contains(ids, old.Seq) || slices.Contains(ids, warm.Seq) {
		t.Errorf("tier filter after the rebuild: %v (fresh %d, old %d, warm %d)", ids, fresh.Seq, old.Seq, warm.Seq)
	}
	ids = textWithin(t, 10*time.Second, v, search.Filter{AccountID: acct.ID}, "note")
	if !slices.Contains(ids, fresh.Seq) || !slices.Contains(ids, old.Seq) || slices.Contains(ids, gone.Seq) || slices.Contains(ids, hide.Seq) {
		t.Errorf("text search after the rebuild: %v (fresh %d, old %d, gone %d, hidden %d)", ids, fresh.Seq, old.Seq, gone.Seq, hide.Seq)
	}
}

// textWithin runs v.SearchText and fails the test, rather than hanging
// it, if no answer comes within d.
func textWithin(t *testing.T, d time.Duration, v *index.Index, f search.Filter, query string) []int64 {
	t.Helper()
	type result struct {
		hs  []lexical.Hit
		err error
	}
	ch := make(chan result, 1)
	go func() {
		hs, err := v.SearchText(context.Background(), f, lexical.Terms(query), 10, 0)
		ch <- result{hs, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		ids := make([]int64, len(r.hs))
		for i, h := range r.hs {
			ids[i] = h.ID
		}
		return ids
	case <-time.After(d):
		t.Fatalf("no answer within %v", d)
		return nil
	}
}

// TestLexicalIndexesFollowEachOther: two stores on one file (two
// processes), each with its index: the text each writes, rewrites or
// deletes is what the other's lexical index finds at its next search.
func TestLexicalIndexesFollowEachOther(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func() *sqlite.Store {
		st, err := sqlite.Open(ctx, sqlite.Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st1, st2 := open(), open()
	acct, err := st1.CreateAccount(ctx, "acct", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := openIndex(t, st1), openIndex(t, st2)
	all := search.Filter{AccountID: acct.ID}
	m := addTestMemory(t, st1, acct.ID, "hot", []float32{1, 0, 0, 0})
	if ids := textWithin(t, 10*time.Second, v2, all, "hot note"); !slices.Equal(ids, []int64{m.Seq}) {
		t.Fatalf("the other's write: %v, want %d", ids, m.Seq)
	}
	idx := store.Indexed{Vector: []float32{0, 1, 0, 0}, Terms: strings.Join(lexical.Terms("lighthouse keeper"), " ")}
	if _, err := st2.UpdateMemory(ctx, acct.ID, m.ID, func(mm *store.Memory) error { mm.Content = "lighthouse keeper"; return nil }, &idx); err != nil {
		t.Fatal(err)
	}
	if ids := textWithin(t, 10*time.Second, v1, all, "hot note"); len(ids) != 0 {
		t.Fatalf("the old text after the other's rewrite: %v", ids)
	}
	if ids := textWithin(t, 10*time.Second, v1, all, "lighthouse"); !slices.Equal(ids, []int64{m.Seq}) {
		t.Fatalf("the other's rewrite: %v, want %d", ids, m.Seq)
	}
	if err := st1.DeleteMemory(ctx, acct.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if ids := textWithin(t, 10*time.Second, v2, all, "lighthouse"); len(ids) != 0 {
		t.Fatalf("after the other's delete: %v", ids)
	}
}

// TestVectorIndexEmptyLog: a feed pruned to nothing (an operator's
// DELETE, say) still tells the index it missed changes: the feed keeps its
// newest position (SQLite: ids are AUTOINCREMENT, so sqlite_sequence keeps
// it).
func TestVectorIndexEmptyLog(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct, err := st.CreateAccount(ctx, "acct", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	q := []float32{0, 1, 0, 0}
	addTestMemory(t, st, acct.ID, "warm", []float32{1, 0, 0, 0})
	v := openIndex(t, st)
	rebuilds := 0
	index.SetRebuildHook(v, func() { rebuilds++ })
	m := addTestMemory(t, st, acct.ID, "warm", q)
	pruneAll(t, st)
	for range 2 { // the second finds nothing new: no rebuild loop
		if ids := searchWithin(t, 10*time.Second, v, search.Filter{AccountID: acct.ID}, q); len(ids) != 2 || ids[0] != m.Seq {
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
	v := openIndex(t, st)
	q := []float32{0, 0, 1, 0}
	fresh := addTestMemory(t, st, acct.ID, "warm", q)
	addTestMemory(t, st, acct.ID, "warm", q)
	pruneAllButNewest(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	index.SetRebuildHook(v, func() {
		cancel()
		time.Sleep(50 * time.Millisecond) // database/sql closes the rows on its own goroutine
	})
	if _, err := v.Search(ctx, search.Filter{AccountID: acct.ID}, q, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Search with its context cancelled during the rebuild: %v", err)
	}
	if n := v.Len(); n != 50 {
		t.Fatalf("Len after a cancelled rebuild = %d, want the previous 50", n)
	}
	index.SetRebuildHook(v, nil)
	if ids := searchWithin(t, 10*time.Second, v, search.Filter{AccountID: acct.ID}, q); len(ids) < 2 || !slices.Contains(ids[:2], fresh.Seq) || v.Len() != 52 {
		t.Fatalf("the next search: %v, Len %d; want %d among the first two of 52", ids, v.Len(), fresh.Seq)
	}
}
