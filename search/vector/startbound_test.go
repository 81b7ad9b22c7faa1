package vector_test

import (
	"slices"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// TestIndexStartBound: an unfiltered search bounds the distance of the
// rows it keeps by a sample (the partition's first chunk); the results
// must be exactly those of the scan without the bound (same ids, same
// scores), whatever the sample says. The layouts: clustered data as it
// comes; the first chunk made of copies of the queries' neighbourhoods
// (the bound is too tight for the other shares, which must be rescanned);
// and the first chunk made of the farthest rows (a loose bound). k from 1
// to 200, 2 and 3 workers (shares of different sizes); and with
// Candidates = Shortlist = Rerank = k, where a search returns every
// candidate of its scan, so that a candidate lost to the bound shows.
func TestIndexStartBound(t *testing.T) {
	const n, dim = 60000, 64
	base := newDataset(n, dim, 50, 24, 7)
	near := newDataset(n, dim, 50, 24, 7)
	far := newDataset(n, dim, 50, 24, 7)
	// near: the first 4096 rows are perturbed copies of the queries.
	for i := range 4096 {
		q := near.queries[i%len(near.queries)]
		v := slices.Clone(q)
		for j := range v {
			v[j] += 0.05 * base.vecs[n-1-i][j]
		}
		vector.Normalize(v)
		near.vecs[i] = v
	}
	// far: the first 4096 rows point away from the queries.
	for i := range 4096 {
		v := slices.Clone(far.queries[i%len(far.queries)])
		for j := range v {
			v[j] = -v[j] + 0.1*base.vecs[n-1-i][j]
		}
		vector.Normalize(v)
		far.vecs[i] = v
	}
	for _, tc := range []struct {
		name string
		ds   *dataset
	}{{"clustered", base}, {"near first chunk", near}, {"far first chunk", far}} {
		for _, c := range []struct {
			workers int
			fixed   int // Candidates = Shortlist = Rerank, searched with k = fixed
		}{{2, 0}, {3, 0}, {2, 2000}, {3, 2000}} {
			workers := c.workers
			opts := vector.IndexOptions{Dim: dim, Workers: workers, Candidates: c.fixed, Shortlist: c.fixed, Rerank: c.fixed}
			with, without := tc.ds.index(t, opts), tc.ds.index(t, opts)
			vector.DisableStartBound(without)
			ks := []int{1, 10, 200}
			if c.fixed > 0 {
				// Every candidate is returned: a share's rows that the
				// bound left out and no rescan restored show.
				ks = []int{c.fixed}
			}
			for _, k := range ks {
				for qi, q := range tc.ds.queries {
					got, err := with.Search(q, 0, k, nil, tc.ds.lookup())
					if err != nil {
						t.Fatal(err)
					}
					want, err := without.Search(q, 0, k, nil, tc.ds.lookup())
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%s, %d workers, k=%d, query %d: with the bound %v, without %v", tc.name, workers, k, qi, got, want)
					}
				}
			}
		}
	}
}
