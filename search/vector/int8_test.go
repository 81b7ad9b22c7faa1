package vector_test

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// int8Decoded returns v as a store of record keeping int8 codes gives it
// back: its Int8Code decoded.
func int8Decoded(t testing.TB, v []float32) []float32 {
	q, scale, err := vector.Int8Code(v)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(q))
	for i, c := range q {
		out[i] = float32(c) * scale
	}
	return out
}

func TestInt8Code(t *testing.T) {
	v := []float32{0.5, -0.25, 0.125, 0, -1e-3}
	q, scale, err := vector.Int8Code(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int8{127, -64, 32, 0, 0}; !slices.Equal(q, want) { // -63.5 rounds to even
		t.Fatalf("Int8Code = %v, want %v", q, want)
	}
	if scale != 0.5/127 {
		t.Fatalf("scale = %v, want %v", scale, 0.5/127)
	}
	for i, f := range v {
		if d := math.Abs(float64(float32(q[i])*scale - f)); d > float64(scale)/2 {
			t.Fatalf("element %d decodes %v away", i, d)
		}
	}
	for _, bad := range [][]float32{{0, 0}, {1, float32(math.NaN())}, {float32(math.Inf(1))}} {
		if _, _, err := vector.Int8Code(bad); err == nil {
			t.Fatalf("Int8Code(%v): no error", bad)
		}
	}
}

// TestIndexInt8Rows: rows given as int8 codes (what a store of record
// keeping int8 codes returns) are rescored in memory, exactly: the exact
// callback is asked only for the other rows, and SearchFetchAll asks for
// all.
func TestIndexInt8Rows(t *testing.T) {
	ds := newDataset(3000, 64, 8, 20, 7)
	const part = 1
	// build: Build; upsert: one Upsert a row; snapshot: Build, then the
	// index written and read back into another (the flags must survive).
	for _, how := range []string{"build", "upsert", "snapshot"} {
		build := how != "upsert"
		x, err := vector.NewIndex(vector.IndexOptions{Dim: ds.dim})
		if err != nil {
			t.Fatal(err)
		}
		stored := make([][]float32, len(ds.vecs))
		for i, v := range ds.vecs {
			stored[i] = v
			if i%3 != 0 { // two rows in three int8, the rest float32
				stored[i] = int8Decoded(t, v)
			}
		}
		if build {
			err = x.Build(func(yield func(int64, uint32, []float32) bool) {
				for i, v := range stored {
					if !yield(int64(i), part, v) {
						return
					}
				}
			})
		} else {
			for i, v := range stored {
				if err = x.Upsert(int64(i), part, v); err != nil {
					break
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if how == "snapshot" {
			var buf bytes.Buffer
			if _, err := x.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if x, err = vector.NewIndex(vector.IndexOptions{Dim: ds.dim}); err != nil {
				t.Fatal(err)
			}
			if _, err := x.ReadFrom(&buf); err != nil {
				t.Fatal(err)
			}
		}
		for qi, q := range ds.queries {
			var asked []int64
			lookup := func(ids []int64) ([][]float32, error) {
				asked = append(asked, ids...)
				out := make([][]float32, len(ids))
				for i, id := range ids {
					out[i] = stored[id]
				}
				return out, nil
			}
			ns, err := x.Search(q, part, 10, nil, lookup)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != 10 {
				t.Fatalf("query %d: %d results", qi, len(ns))
			}
			for _, id := range asked {
				if id%3 != 0 {
					t.Fatalf("%s, query %d: the exact callback was asked for int8 row %d", how, qi, id)
				}
			}
			if len(asked) == 0 {
				t.Fatalf("%s, query %d: the float32 rows were never fetched", how, qi)
			}
			for _, n := range ns {
				want := vector.Cosine(q, stored[n.ID])
				if d := math.Abs(float64(n.Score - want)); d > 1e-6 {
					t.Fatalf("query %d, row %d: score %v, cosine of the stored vector %v", qi, n.ID, n.Score, want)
				}
			}
			n := len(asked)
			asked = nil
			all, err := x.SearchFetchAll(q, part, 10, nil, lookup)
			if err != nil {
				t.Fatal(err)
			}
			if len(asked) <= n || !slices.ContainsFunc(asked, func(id int64) bool { return id%3 != 0 }) {
				t.Fatalf("query %d: SearchFetchAll asked for %d rows (Search %d), none of them int8", qi, len(asked), n)
			}
			for i := range all {
				if all[i].ID != ns[i].ID || math.Abs(float64(all[i].Score-ns[i].Score)) > 1e-6 {
					t.Fatalf("query %d: SearchFetchAll %v, Search %v", qi, all, ns)
				}
			}
		}
	}
}
