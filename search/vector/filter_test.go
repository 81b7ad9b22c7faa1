package vector_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// filterData is the data set of TestIndexFilterBound, built once: 100k
// vectors of dimension 64 in 100 clusters (a small dimension keeps the
// data set and brute force cheap under the race detector), 20 queries.
var filterData = sync.OnceValue(func() *dataset { return newDataset(100_000, 64, 100, 20, 3) })

// TestIndexFilterBound checks filtered searches against brute force on
// clustered data, with filters independent of the vectors, correlated with
// the query (only rows far from it, or only rows near it, allowed), very
// selective, and allowing fewer than k rows; and counts the calls of
// allow. Eight workers, as on a server, so that each goroutine's share is
// small next to its candidate limit: the case where asking every row
// below the selection's threshold asks most of the partition.
func TestIndexFilterBound(t *testing.T) {
	ds := filterData()
	n := len(ds.vecs)
	x := ds.index(t, vector.IndexOptions{Dim: ds.dim, Workers: 8})
	const k = 10
	// ranked returns the ids of q's rows, farthest first.
	ranked := func(q []float32) []int64 {
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = int64(i)
		}
		score := make([]float32, n)
		for i, v := range ds.vecs {
			score[i] = vector.Dot(q, v)
		}
		slices.SortFunc(ids, func(a, b int64) int {
			switch {
			case score[a] < score[b]:
				return -1
			case score[a] > score[b]:
				return 1
			}
			return int(a - b)
		})
		return ids
	}
	// setOf allows the ids that pick returns for the query.
	setOf := func(pick func(ranked []int64) []int64) func(q []float32) func(int64) bool {
		return func(q []float32) func(int64) bool {
			allowed := make([]bool, n)
			for _, id := range pick(ranked(q)) {
				allowed[id] = true
			}
			return func(id int64) bool { return allowed[id] }
		}
	}
	fixed := func(f func(int64) bool) func([]float32) func(int64) bool {
		return func([]float32) func(int64) bool { return f }
	}
	tests := []struct {
		name      string
		filter    func(q []float32) func(int64) bool
		wantLen   int
		minRecall float64
		maxAsked  float64 // most calls of allow per search, per row of the partition
	}{
		{"random 10%", fixed(func(id int64) bool { return id%10 == 3 }), k, 0.98, 0.5},
		{"random 1%", fixed(func(id int64) bool { return id%100 == 42 }), k, 0.98, 1},
		// The 10% of rows farthest from the query: the allowed rows the
		// search needs lie far above where the unfiltered distances say.
		// Far rows are alike in distance, which the 1-bit codes rank
		// poorly: the bound is that of the code before it (0.07).
		{"far 10%", setOf(func(r []int64) []int64 { return r[:n/10] }), k, 0.07, 2},
		// The 10% of rows nearest the query (one agent's memories, near
		// what it asks about): the allowed rows are nearer than typical; as
		// dense as they are, the code before reached 0.87.
		{"near 10%", setOf(func(r []int64) []int64 { return r[n-n/10:] }), k, 0.85, 0.5},
		{"5 rows", fixed(func(id int64) bool { return id%20_000 == 7 }), 5, 1, 1},
		{"5 far rows", setOf(func(r []int64) []int64 { return r[:5] }), 5, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			var sum float64
			for qi, q := range ds.queries {
				allowed := tt.filter(q)
				want := bruteForce(ds.vecs, q, k, allowed)
				res, err := x.Search(q, 0, k, func(id int64) bool {
					calls.Add(1)
					return allowed(id)
				}, ds.lookup())
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != tt.wantLen {
					t.Fatalf("%d results, want %d", len(res), tt.wantLen)
				}
				hit := 0
				for _, nb := range res {
					if !allowed(nb.ID) {
						t.Fatalf("result %d is not allowed", nb.ID)
					}
					if slices.Contains(want, nb.ID) {
						hit++
					}
				}
				sum += float64(hit) / float64(len(want))
				if qi < 3 {
					// The bound and the rescans depend on each share
					// alone: repeated concurrently, the same rows.
					var wg sync.WaitGroup
					again := make([][]vector.Neighbor, 4)
					for i := range again {
						wg.Go(func() { again[i], _ = x.Search(q, 0, k, allowed, ds.lookup()) })
					}
					wg.Wait()
					for i, g := range again {
						if !slices.Equal(g, res) {
							t.Fatalf("query %d, repeat %d: %v, first %v", qi, i, g, res)
						}
					}
				}
			}
			r := sum / float64(len(ds.queries))
			asked := float64(calls.Load()) / float64(len(ds.queries))
			t.Logf("recall@%d = %.4f, allow called %.0f times per search (%.2f per row)", k, r, asked, asked/float64(n))
			if r < tt.minRecall {
				t.Errorf("recall@%d = %.4f, want >= %v", k, r, tt.minRecall)
			}
			if asked > tt.maxAsked*float64(n) {
				t.Errorf("allow called %.0f times per search, want <= %.0f", asked, tt.maxAsked*float64(n))
			}
		})
	}
}
