package index_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// snapStore is a store in its own directory, and the path of its index
// snapshot.
func snapStore(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "store.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, st.IndexSnapshotPath()
}

// openSnap opens an index of dimension dim over st with the snapshot at
// path ("" for none).
func openSnap(t *testing.T, st *sqlite.Store, path string, dim int) *index.Index {
	t.Helper()
	ctx := context.Background()
	feed, err := st.OpenVectorFeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := index.OpenWith(ctx, feed, st, index.Options{Vector: vector.IndexOptions{Dim: dim}, SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// snapFixture fills an account with memories of varied vectors, tiers
// and texts.
func snapFixture(t *testing.T, st *sqlite.Store, n int) (acct string, mems []store.Memory) {
	t.Helper()
	a, err := st.CreateAccount(context.Background(), "acct", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		tier := []string{"hot", "warm", "cold"}[i%3]
		mems = append(mems, addTestMemory(t, st, a.ID, tier, []float32{1, float32(i%7) / 7, float32(i%5) / 5, float32(i%3) / 3}))
	}
	return a.ID, mems
}

// answers is what a set of searches of v returns: vector and text, with
// and without a filter, for a few queries.
func answers(t *testing.T, v *index.Index, acct string) [][]int64 {
	t.Helper()
	hot, agent := "hot", "agent" // every fixture memory's agent: the agent filter's own path
	var out [][]int64
	for _, f := range []search.Filter{{AccountID: acct}, {AccountID: acct, Tier: &hot}, {AccountID: acct, IncludeConfidential: true}, {AccountID: acct, AgentID: &agent}} {
		for _, q := range [][]float32{{1, 0, 0, 0}, {0, 1, 1, 0}, {1, 0.3, 0.2, 0.9}} {
			out = append(out, searchWithin(t, 10*time.Second, v, f, q))
		}
		for _, text := range []string{"note", "hot note", "warm", "edited words"} {
			out = append(out, textWithin(t, 10*time.Second, v, f, text))
		}
	}
	return out
}

// TestSnapshotReopen: Close writes a snapshot; the next Open loads it
// (not a rebuild), applies the writes committed since (inserts, an
// update of text and vector, a move to confidential, a delete), and
// answers every search as an index rebuilt from the store does.
func TestSnapshotReopen(t *testing.T) {
	ctx := context.Background()
	st, path := snapStore(t)
	acct, mems := snapFixture(t, st, 60)
	v := openSnap(t, st, path, 4)
	if s := v.Snapshot(); s.Loaded || s.Rejected != nil {
		t.Fatalf("first Open: %+v, want a build without a snapshot", s)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if s := v.Snapshot(); s.Written == 0 {
		t.Fatal("Close wrote no snapshot")
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("snapshot file: %v", err)
	}

	// Writes after the snapshot.
	for i := range 5 {
		addTestMemory(t, st, acct, "hot", []float32{1, 0, 0, float32(i) / 10})
	}
	if _, err := st.UpdateMemory(ctx, acct, mems[3].ID, func(m *store.Memory) error { m.Content = "edited words"; return nil },
		&store.Indexed{Vector: []float32{0, 1, 1, 0}, Terms: "edit word"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateMemory(ctx, acct, mems[4].ID, func(m *store.Memory) error { m.Visibility = "confidential"; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMemory(ctx, acct, mems[5].ID); err != nil {
		t.Fatal(err)
	}

	w := openSnap(t, st, path, 4)
	s := w.Snapshot()
	if !s.Loaded || s.Rejected != nil || s.CaughtUp < 8 {
		t.Fatalf("reopen: %+v, want loaded and 8 changes caught up", s)
	}
	rebuilt := openSnap(t, st, "", 4)
	if w.Len() != rebuilt.Len() {
		t.Fatalf("loaded index holds %d vectors, the rebuilt one %d", w.Len(), rebuilt.Len())
	}
	got, want := answers(t, w, acct), answers(t, rebuilt, acct)
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("search %d: from the snapshot %v, rebuilt %v", i, got[i], want[i])
		}
	}
	// Nothing changed since: Close keeps the file as it is.
	w.Close()
	fi, _ := os.Stat(path)
	mod := fi.ModTime()
	w2 := openSnap(t, st, path, 4)
	if !w2.Snapshot().Loaded {
		t.Fatalf("third Open: %+v", w2.Snapshot())
	}
	w2.Close()
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(mod) || w2.Snapshot().Written != 0 {
		t.Errorf("Close rewrote an unchanged snapshot")
	}
}

// TestSnapshotFallback: a snapshot that does not fit the store is
// rejected, with the reason, and the index is rebuilt: its searches are
// those of a fresh index.
func TestSnapshotFallback(t *testing.T) {
	ctx := context.Background()
	type tc struct {
		name  string
		spoil func(t *testing.T, st *sqlite.Store, path string)
		dim   int
	}
	flip := func(at func(size int64) int64) func(t *testing.T, st *sqlite.Store, path string) {
		return func(t *testing.T, st *sqlite.Store, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[at(int64(len(b)))] ^= 0x40
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []tc{
		{name: "checksum", spoil: flip(func(n int64) int64 { return n / 2 })},
		{name: "checksum of the footer", spoil: flip(func(n int64) int64 { return n - 6 })},
		{name: "version", spoil: flip(func(int64) int64 { return 4 })},
		{name: "truncated", spoil: func(t *testing.T, st *sqlite.Store, path string) {
			fi, _ := os.Stat(path)
			if err := os.Truncate(path, fi.Size()-100); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "dimension", dim: 5},
		{name: "token", spoil: func(t *testing.T, st *sqlite.Store, path string) {
			feed, _ := st.OpenVectorFeed(ctx)
			defer feed.Close()
			if err := feed.(index.SnapshotFeed).SetSnapshotToken(ctx, "another"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "feed pruned past the snapshot", spoil: func(t *testing.T, st *sqlite.Store, path string) {
			acct, _ := st.AccountByName(ctx, "acct")
			addTestMemory(t, st, acct.ID, "hot", []float32{1, 0, 0, 0.5})
			addTestMemory(t, st, acct.ID, "hot", []float32{1, 0, 0, 0.7})
			pruneAllButNewest(t, st)
		}},
		{name: "another database's snapshot", spoil: func(t *testing.T, st *sqlite.Store, path string) {
			other, opath := snapStore(t)
			snapFixture(t, other, 70)
			o := openSnap(t, other, opath, 4)
			o.Close()
			b, _ := os.ReadFile(opath)
			os.WriteFile(path, b, 0o600)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, path := snapStore(t)
			acct, _ := snapFixture(t, st, 40)
			v := openSnap(t, st, path, 4)
			if err := v.Close(); err != nil {
				t.Fatal(err)
			}
			if c.spoil != nil {
				c.spoil(t, st, path)
			}
			dim := 4
			if c.dim != 0 {
				dim = c.dim
			}
			w := openSnap(t, st, path, dim)
			if s := w.Snapshot(); s.Loaded || s.Rejected == nil {
				t.Fatalf("%+v, want the snapshot rejected", s)
			} else {
				t.Logf("rejected: %v", s.Rejected)
			}
			rebuilt := openSnap(t, st, "", dim)
			if w.Len() != rebuilt.Len() {
				t.Fatalf("%d vectors, rebuilt %d", w.Len(), rebuilt.Len())
			}
			if dim != 4 {
				return
			}
			got, want := answers(t, w, acct), answers(t, rebuilt, acct)
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("search %d: %v, rebuilt %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestSnapshotTwoIndexes: two indexes on one file (two processes) each
// write snapshots; whichever file is left, the next Open starts from it or
// rebuilds, and holds every write of both.
func TestSnapshotTwoIndexes(t *testing.T) {
	st, path := snapStore(t)
	acct, _ := snapFixture(t, st, 30)
	a := openSnap(t, st, path, 4)
	b := openSnap(t, st, path, 4)
	addTestMemory(t, st, acct, "hot", []float32{1, 1, 0, 0})
	if err := a.SaveSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	late := addTestMemory(t, st, acct, "hot", []float32{0, 0, 0, 1})
	if err := b.Close(); err != nil { // b's snapshot holds late
		t.Fatal(err)
	}
	last := addTestMemory(t, st, acct, "warm", []float32{0, 0, 1, 0})
	if err := a.Close(); err != nil { // a's is newer again
		t.Fatal(err)
	}
	c := openSnap(t, st, path, 4)
	if s := c.Snapshot(); !s.Loaded {
		t.Fatalf("%+v", s)
	}
	for _, m := range []store.Memory{late, last} {
		ids := searchWithin(t, 10*time.Second, c, search.Filter{AccountID: acct}, []float32{0, 0, 0, 1})
		ids2 := searchWithin(t, 10*time.Second, c, search.Filter{AccountID: acct}, []float32{0, 0, 1, 0})
		if !slices.Contains(ids, m.Seq) && !slices.Contains(ids2, m.Seq) {
			t.Errorf("memory %d missing: %v %v", m.Seq, ids, ids2)
		}
	}
}

// TestSnapshotSaveDuringSearches: searches and writes go on while a
// snapshot is written (run under -race), and the snapshot loads.
func TestSnapshotSaveDuringSearches(t *testing.T) {
	ctx := context.Background()
	st, path := snapStore(t)
	acct, _ := snapFixture(t, st, 200)
	v := openSnap(t, st, path, 4)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if g == 0 {
					addTestMemory(t, st, acct, "hot", []float32{1, float32(i), 0, 0})
					continue
				}
				if _, err := v.Search(ctx, search.Filter{AccountID: acct}, []float32{1, 0, 0, 0}, 5); err != nil {
					t.Error(err)
					return
				}
				if _, err := v.SearchText(ctx, search.Filter{AccountID: acct}, lexical.Terms("hot note"), 5, 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 3 {
		if err := v.SaveSnapshot(ctx); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	v.Close()
	w := openSnap(t, st, path, 4)
	if s := w.Snapshot(); !s.Loaded {
		t.Fatalf("%+v", s)
	}
	if r := openSnap(t, st, "", 4); r.Len() != w.Len() {
		t.Fatalf("loaded %d vectors, rebuilt %d", w.Len(), r.Len())
	}
}
