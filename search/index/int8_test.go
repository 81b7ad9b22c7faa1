package index_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// countingStore counts the vectors the index reads from the store.
type countingStore struct {
	*sqlite.Store
	read atomic.Int64
}

func (s *countingStore) Vectors(ctx context.Context, ids []int64) (map[int64][]float32, error) {
	s.read.Add(int64(len(ids)))
	return s.Store.Vectors(ctx, ids)
}

// TestSearchInt8ReadsNoVectors: over a store keeping int8 vectors, a
// search rescores its candidates from the index's codes and reads no
// vector from SQLite, with scores equal to the cosine of the stored
// vectors; over a float32 store it reads them. Rows written in either
// encoding into one file (the setting changed between two opens) are
// both rescored correctly.
func TestSearchInt8ReadsNoVectors(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	r := rand.New(rand.NewPCG(5, 6))
	const dim = 16
	randVec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		vector.Normalize(v)
		return v
	}
	var acct string
	for _, enc := range []string{sqlite.VectorFloat32, sqlite.VectorInt8} {
		st, err := sqlite.Open(ctx, sqlite.Options{Path: path, VectorEncoding: enc})
		if err != nil {
			t.Fatal(err)
		}
		if acct == "" {
			a, err := st.CreateAccount(ctx, "a", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			acct = a.ID
		}
		for range 200 {
			addTestMemory(t, st, acct, "warm", randVec())
		}
		cs := &countingStore{Store: st}
		feed, err := st.OpenVectorFeed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v, err := index.Open(ctx, feed, cs, vector.IndexOptions{Dim: dim})
		if err != nil {
			t.Fatal(err)
		}
		var reads int64
		for range 20 {
			q := randVec()
			before := cs.read.Load()
			ns, err := v.Search(ctx, search.Filter{AccountID: acct}, q, 10)
			if err != nil {
				t.Fatal(err)
			}
			reads += cs.read.Load() - before
			ids := make([]int64, len(ns))
			for i, n := range ns {
				ids[i] = n.ID
			}
			stored, err := st.Vectors(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if want := vector.Cosine(q, stored[n.ID]); math.Abs(float64(n.Score-want)) > 1e-6 {
					t.Fatalf("%s: row %d scores %v, the stored vector %v", enc, n.ID, n.Score, want)
				}
			}
		}
		// The first open wrote float32 rows only; the second has 200 of
		// each, of which the float32 ones alone are read.
		if enc == sqlite.VectorFloat32 && reads == 0 {
			t.Errorf("float32 store: no vector read to rescore")
		}
		if enc == sqlite.VectorInt8 {
			if st.VectorEncoding() != sqlite.VectorInt8 {
				t.Fatalf("VectorEncoding = %q", st.VectorEncoding())
			}
			if reads >= 20*int64(vector.DefaultRerank) {
				t.Errorf("half-int8 file: %d vectors read in 20 searches, as many as for float32 alone", reads)
			}
		}
		v.Close()
		st.Close()
	}
	// All int8: nothing read at all.
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "int8.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.CreateAccount(ctx, "a", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for range 300 {
		addTestMemory(t, st, a.ID, "warm", randVec())
	}
	cs := &countingStore{Store: st}
	feed, err := st.OpenVectorFeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := index.Open(ctx, feed, cs, vector.IndexOptions{Dim: dim})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for range 20 {
		if ns, err := v.Search(ctx, search.Filter{AccountID: a.ID}, randVec(), 10); err != nil || len(ns) != 10 {
			t.Fatalf("Search: %d, %v", len(ns), err)
		}
	}
	if n := cs.read.Load(); n != 0 {
		t.Errorf("int8 store: %d vectors read from SQLite to rescore, want 0", n)
	}
}
