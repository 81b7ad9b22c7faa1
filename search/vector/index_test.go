package vector_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// dataset is a mixture of Gaussians: n unit vectors, each around one of
// `clusters` unit centres that share a common component (embeddings are
// not centred at the origin), with Gaussian noise of about the centre's
// norm; and queries drawn the same way but not in the data. Row i has id
// int64(i).
type dataset struct {
	dim     int
	vecs    [][]float32
	queries [][]float32

	truthOnce sync.Once
	truth     [][]int64 // exact top 10 of each query, without filter
}

// top10 returns the exact top 10 of query i, computed once: under the race
// detector brute force is the slow part of the tests.
func (ds *dataset) top10(i int) []int64 {
	ds.truthOnce.Do(func() {
		ds.truth = make([][]int64, len(ds.queries))
		for j, q := range ds.queries {
			ds.truth[j] = bruteForce(ds.vecs, q, 10, nil)
		}
	})
	return ds.truth[i]
}

func newDataset(n, dim, clusters, nq int, seed uint64) *dataset {
	return newDatasetOffset(n, dim, clusters, nq, seed, 0.5)
}

// newDatasetOffset is newDataset with the weight of the centres' common
// component: 0.5 makes unrelated vectors' cosine about 0.2, 2 about 0.8.
func newDatasetOffset(n, dim, clusters, nq int, seed uint64, offset float32) *dataset {
	r := rand.New(rand.NewPCG(seed, 42))
	normal := func(v []float32) {
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		vector.Normalize(v)
	}
	shared := make([]float32, dim)
	normal(shared)
	centres := make([][]float32, clusters)
	for j := range centres {
		c := make([]float32, dim)
		normal(c)
		for i := range c {
			c[i] += offset * shared[i]
		}
		vector.Normalize(c)
		centres[j] = c
	}
	noise := make([]float32, dim)
	draw := func() []float32 {
		c := centres[r.IntN(clusters)]
		normal(noise)
		v := make([]float32, dim)
		for i := range v {
			v[i] = c[i] + noise[i]
		}
		vector.Normalize(v)
		return v
	}
	ds := &dataset{dim: dim, vecs: make([][]float32, n), queries: make([][]float32, nq)}
	for i := range ds.vecs {
		ds.vecs[i] = draw()
	}
	for i := range ds.queries {
		ds.queries[i] = draw()
	}
	return ds
}

// items yields the data set for Index.Build, in partition 0.
func (ds *dataset) items() func(func(int64, uint32, []float32) bool) {
	return func(yield func(int64, uint32, []float32) bool) {
		for i, v := range ds.vecs {
			if !yield(int64(i), 0, v) {
				return
			}
		}
	}
}

// lookup is an exact callback reading the data set.
func (ds *dataset) lookup() func([]int64) ([][]float32, error) {
	return func(ids []int64) ([][]float32, error) {
		out := make([][]float32, len(ids))
		for i, id := range ids {
			out[i] = ds.vecs[id]
		}
		return out, nil
	}
}

// index returns an index built from the data set.
func (ds *dataset) index(tb testing.TB, opts vector.IndexOptions) *vector.Index {
	tb.Helper()
	x, err := vector.NewIndex(opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := x.Build(ds.items()); err != nil {
		tb.Fatal(err)
	}
	return x
}

// bruteForce returns the ids of the k vectors with the highest dot product
// with q among those allow accepts (nil: all), best first, ties by id.
func bruteForce(vecs [][]float32, q []float32, k int, allow func(int64) bool) []int64 {
	type hit struct {
		id    int64
		score float32
	}
	var top []hit
	if k <= 0 {
		return nil
	}
	for i, v := range vecs {
		if allow != nil && !allow(int64(i)) {
			continue
		}
		s := vector.Dot(q, v)
		if len(top) == k && s <= top[k-1].score {
			continue
		}
		j, _ := slices.BinarySearchFunc(top, s, func(h hit, s float32) int {
			if h.score >= s {
				return -1
			}
			return 1
		})
		top = slices.Insert(top, j, hit{int64(i), s})
		if len(top) > k {
			top = top[:k]
		}
	}
	ids := make([]int64, len(top))
	for i, h := range top {
		ids[i] = h.id
	}
	return ids
}

// recallAt returns the mean fraction of the exact top k that search finds,
// over the first nq queries of ds (all if nq is 0).
func recallAt(tb testing.TB, ds *dataset, k, nq int, allow func(int64) bool, search func(q []float32) []vector.Neighbor) float64 {
	tb.Helper()
	queries := ds.queries
	if nq > 0 {
		queries = queries[:nq]
	}
	var sum float64
	for i, q := range queries {
		var want []int64
		if k == 10 && allow == nil {
			want = ds.top10(i)
		} else {
			want = bruteForce(ds.vecs, q, k, allow)
		}
		got := search(q)
		hit := 0
		for _, n := range got {
			if slices.Contains(want, n.ID) {
				hit++
			}
		}
		if len(want) > 0 {
			sum += float64(hit) / float64(len(want))
		} else {
			sum++
		}
	}
	return sum / float64(len(queries))
}

// testData is the data set of the recall tests, built once: 20k vectors
// of dimension 384 in 100 clusters, 25 queries.
var testData = sync.OnceValue(func() *dataset { return newDataset(20000, 384, 100, 25, 7) })

func TestIndexRecall(t *testing.T) {
	ds := testData()
	const k = 10
	tests := []struct {
		name      string
		opts      vector.IndexOptions
		exact     bool // pass the exact callback
		upsert    bool // load with Upsert instead of Build
		queries   int  // how many of the queries to run; 0: all
		minRecall float64
	}{
		{name: "default", opts: vector.IndexOptions{Dim: 384}, exact: true, minRecall: 0.99},
		{name: "keepfloats", opts: vector.IndexOptions{Dim: 384, KeepFloats: true}, minRecall: 0.99},
		{name: "three workers", opts: vector.IndexOptions{Dim: 384, Workers: 3}, exact: true, minRecall: 0.99},
		{name: "loaded by upsert", opts: vector.IndexOptions{Dim: 384}, exact: true, upsert: true, minRecall: 0.99},
		{name: "exact scan", opts: vector.IndexOptions{Dim: 384, Exact: true}, queries: 8, minRecall: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testing.Short() && tt.name != "default" {
				t.Skip("-short")
			}
			var x *vector.Index
			if tt.upsert {
				var err error
				if x, err = vector.NewIndex(tt.opts); err != nil {
					t.Fatal(err)
				}
				for i, v := range ds.vecs {
					if err := x.Upsert(int64(i), 0, v); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				x = ds.index(t, tt.opts)
			}
			if x.Len() != len(ds.vecs) {
				t.Fatalf("Len = %d, want %d", x.Len(), len(ds.vecs))
			}
			var exact func([]int64) ([][]float32, error)
			if tt.exact {
				exact = ds.lookup()
			}
			r := recallAt(t, ds, k, tt.queries, nil, func(q []float32) []vector.Neighbor {
				res, err := x.Search(q, 0, k, nil, exact)
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != k {
					t.Fatalf("%d results, want %d", len(res), k)
				}
				checkSorted(t, res)
				for _, n := range res {
					if want := vector.Dot(q, ds.vecs[n.ID]); math.Abs(float64(n.Score-want)) > 1e-5 {
						t.Fatalf("id %d: Score %v, exact cosine %v", n.ID, n.Score, want)
					}
				}
				return res
			})
			t.Logf("recall@%d = %.4f", k, r)
			if r < tt.minRecall {
				t.Errorf("recall@%d = %.4f, want >= %v", k, r, tt.minRecall)
			}
		})
	}
}

// TestIndexBuildDrift builds from rows whose distribution changes after
// the first 17,000 (strong common components, as in some embedding models,
// that differ between the halves). Build codes the first rows around their
// own mean, then must notice the drift and recode around the mean of all:
// the second half must then be found as well as when the rows come
// interleaved.
func TestIndexBuildDrift(t *testing.T) {
	a := newDatasetOffset(17000, 128, 20, 0, 21, 2)
	b := newDatasetOffset(17000, 128, 20, 20, 22, 2)
	inOrder := &dataset{dim: 128, vecs: append(slices.Clone(a.vecs), b.vecs...), queries: b.queries}
	recall := func(order func(yield func(int64, uint32, []float32) bool)) float64 {
		x, err := vector.NewIndex(vector.IndexOptions{Dim: 128})
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Build(order); err != nil {
			t.Fatal(err)
		}
		return recallAt(t, inOrder, 10, 0, nil, func(q []float32) []vector.Neighbor {
			res, err := x.Search(q, 0, 10, nil, inOrder.lookup())
			if err != nil {
				t.Fatal(err)
			}
			return res
		})
	}
	drifting := recall(inOrder.items())
	interleaved := recall(func(yield func(int64, uint32, []float32) bool) {
		n := len(a.vecs)
		for i := range n {
			if !yield(int64(i), 0, a.vecs[i]) || !yield(int64(n+i), 0, b.vecs[i]) {
				return
			}
		}
	})
	t.Logf("second half: recall@10 = %.4f built in order, %.4f interleaved", drifting, interleaved)
	if drifting < interleaved-0.05 {
		t.Errorf("second half: recall@10 = %.4f built in order, want about %.4f as interleaved", drifting, interleaved)
	}
}

// checkSorted fails unless ns is best first, ties by ascending id.
func checkSorted(t *testing.T, ns []vector.Neighbor) {
	t.Helper()
	for i := 1; i < len(ns); i++ {
		a, b := ns[i-1], ns[i]
		if a.Score < b.Score || (a.Score == b.Score && a.ID >= b.ID) {
			t.Fatalf("results out of order at %d: %+v", i, ns)
		}
	}
}

func TestIndexFilter(t *testing.T) {
	ds := testData()
	x := ds.index(t, vector.IndexOptions{Dim: 384})
	const k = 10
	tests := []struct {
		name      string
		allow     func(int64) bool
		wantLen   int
		minRecall float64
	}{
		{"keeps 10%", func(id int64) bool { return id%10 == 3 }, k, 0.99},
		{"keeps 1%", func(id int64) bool { return id%100 == 42 }, k, 0.99},
		{"keeps 3 rows", func(id int64) bool { return id == 5 || id == 500 || id == 19999 }, 3, 1},
		{"keeps nothing", func(int64) bool { return false }, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			allow := func(id int64) bool {
				mu.Lock() // allow may run on several goroutines
				calls++
				mu.Unlock()
				return tt.allow(id)
			}
			r := recallAt(t, ds, k, 0, tt.allow, func(q []float32) []vector.Neighbor {
				res, err := x.Search(q, 0, k, allow, ds.lookup())
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != tt.wantLen {
					t.Fatalf("%d results, want %d", len(res), tt.wantLen)
				}
				for _, n := range res {
					if !tt.allow(n.ID) {
						t.Fatalf("result %d is not allowed", n.ID)
					}
				}
				return res
			})
			if tt.wantLen == 0 {
				return
			}
			t.Logf("recall@%d = %.4f, allow called %.0f times per search", k, r, float64(calls)/float64(len(ds.queries)))
			if r < tt.minRecall {
				t.Errorf("recall@%d = %.4f, want >= %v", k, r, tt.minRecall)
			}
		})
	}
}

func TestIndexPartitions(t *testing.T) {
	ds := newDataset(3000, 64, 10, 5, 3)
	x, err := vector.NewIndex(vector.IndexOptions{Dim: 64, KeepFloats: true})
	if err != nil {
		t.Fatal(err)
	}
	// Partition 1 and 2 hold the same vectors under different ids;
	// partition 3 holds one row.
	err = x.Build(func(yield func(int64, uint32, []float32) bool) {
		for i, v := range ds.vecs {
			if !yield(int64(i), 1, v) || !yield(int64(100000+i), 2, v) {
				return
			}
		}
		yield(-1, 3, ds.vecs[0])
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		partition uint32
		ids       func(int64) bool
		wantLen   int
	}{
		{1, func(id int64) bool { return id >= 0 && id < 100000 }, 10},
		{2, func(id int64) bool { return id >= 100000 }, 10},
		{3, func(id int64) bool { return id == -1 }, 1},
		{4, nil, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.partition), func(t *testing.T) {
			for _, q := range append(ds.queries, ds.vecs[0]) {
				res, err := x.Search(q, tt.partition, 10, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != tt.wantLen {
					t.Fatalf("%d results, want %d", len(res), tt.wantLen)
				}
				for _, n := range res {
					if !tt.ids(n.ID) {
						t.Fatalf("partition %d returned id %d", tt.partition, n.ID)
					}
				}
			}
		})
	}
}

// self searches for the stored vector of id and reports whether id comes
// first with a cosine of 1.
func self(t *testing.T, x *vector.Index, v []float32, partition uint32, id int64) bool {
	t.Helper()
	res, err := x.Search(v, partition, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(res) == 1 && res[0].ID == id && res[0].Score > 0.9999
}

func TestIndexUpsertDelete(t *testing.T) {
	// More than two blocks of rows per partition; small counts: finding a
	// row's own vector needs few candidates.
	ds := newDataset(70000, 16, 20, 0, 5)
	x, err := vector.NewIndex(vector.IndexOptions{Dim: 16, KeepFloats: true, Candidates: 64, Shortlist: 32, Rerank: 8})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range ds.vecs {
		if err := x.Upsert(int64(i), uint32(i%2), v); err != nil {
			t.Fatal(err)
		}
	}
	// Replace: id 7 takes the vector of 9 (both in partition 1); id 10
	// moves from partition 0 to 1 with the vector of 11.
	if err := x.Upsert(7, 1, ds.vecs[9]); err != nil {
		t.Fatal(err)
	}
	if err := x.Upsert(10, 1, ds.vecs[11]); err != nil {
		t.Fatal(err)
	}
	if got := x.Len(); got != len(ds.vecs) {
		t.Fatalf("Len after replacing = %d, want %d", got, len(ds.vecs))
	}
	if self(t, x, ds.vecs[7], 1, 7) {
		t.Errorf("id 7 still found by its old vector")
	}
	if self(t, x, ds.vecs[10], 0, 10) {
		t.Errorf("id 10 still found in partition 0")
	}
	for _, pair := range [][2]int64{{7, 9}, {10, 11}} {
		res, err := x.Search(ds.vecs[pair[1]], 1, 2, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[0].ID != pair[0] || res[1].ID != pair[1] || res[1].Score < 0.9999 {
			t.Errorf("search for the vector of %d = %+v, want ids %v with score 1", pair[1], res, pair)
		}
	}

	// Delete three quarters of the rows in a scrambled order, and an id
	// that does not exist.
	r := rand.New(rand.NewPCG(1, 2))
	perm := r.Perm(len(ds.vecs))
	deleted := make(map[int64]bool)
	for _, i := range perm[:len(perm)*3/4] {
		x.Delete(int64(i))
		deleted[int64(i)] = true
	}
	x.Delete(-5)
	if got, want := x.Len(), len(ds.vecs)-len(deleted); got != want {
		t.Fatalf("Len after deleting = %d, want %d", got, want)
	}
	for i, v := range ds.vecs {
		if i%97 != 0 && i > 20 { // a sample, with the replaced ids
			continue
		}
		if i == 7 || i == 9 || i == 10 || i == 11 {
			continue
		}
		id := int64(i)
		found := self(t, x, v, uint32(i%2), id)
		if found == deleted[id] {
			t.Fatalf("id %d: deleted %v, found by its own vector %v", id, deleted[id], found)
		}
	}
	for _, i := range perm[len(perm)*3/4:] {
		x.Delete(int64(i))
	}
	if got := x.Len(); got != 0 {
		t.Fatalf("Len after deleting all = %d", got)
	}
	for p := range uint32(2) {
		if res, err := x.Search(ds.vecs[0], p, 10, nil, nil); err != nil || len(res) != 0 {
			t.Fatalf("empty index: Search = %v, %v", res, err)
		}
	}
}

func TestIndexBuildReplaces(t *testing.T) {
	ds := newDataset(1000, 16, 5, 0, 9)
	x, err := vector.NewIndex(vector.IndexOptions{Dim: 16})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Upsert(-1, 0, ds.vecs[0]); err != nil {
		t.Fatal(err)
	}
	// Id 3 comes twice: the second, with the vector of 4, wins.
	err = x.Build(func(yield func(int64, uint32, []float32) bool) {
		for i, v := range ds.vecs {
			if !yield(int64(i), 0, v) {
				return
			}
		}
		yield(3, 0, ds.vecs[4])
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := x.Len(); got != len(ds.vecs) {
		t.Fatalf("Len = %d, want %d", got, len(ds.vecs))
	}
	lookup := ds.lookup()
	exact := func(ids []int64) ([][]float32, error) {
		if slices.Contains(ids, -1) {
			return nil, errors.New("id -1 survived Build")
		}
		vs, _ := lookup(ids)
		for i, id := range ids {
			if id == 3 {
				vs[i] = ds.vecs[4]
			}
		}
		return vs, nil
	}
	res, err := x.Search(ds.vecs[4], 0, 2, nil, exact)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].ID != 3 || res[1].ID != 4 {
		t.Errorf("Search = %+v, want ids 3 and 4", res)
	}
	res, err = x.Search(ds.vecs[0], 0, 1, nil, exact)
	if err != nil || len(res) != 1 || res[0].ID != 0 {
		t.Errorf("Search = %+v, %v, want id 0", res, err)
	}

	// A bad vector fails Build and leaves the index as it was.
	bad := []float32{float32(math.NaN())}
	bad = append(bad, ds.vecs[0][1:]...)
	err = x.Build(func(yield func(int64, uint32, []float32) bool) {
		_ = yield(1, 0, ds.vecs[1]) && yield(2, 0, bad)
	})
	if !errors.Is(err, vector.ErrInvalid) {
		t.Fatalf("Build with NaN = %v, want ErrInvalid", err)
	}
	err = x.Build(func(yield func(int64, uint32, []float32) bool) { yield(1, 0, ds.vecs[1][:3]) })
	if !errors.Is(err, vector.ErrDimensionMismatch) {
		t.Fatalf("Build with a short vector = %v, want ErrDimensionMismatch", err)
	}
	if got := x.Len(); got != len(ds.vecs) {
		t.Fatalf("Len after failed Builds = %d, want %d", got, len(ds.vecs))
	}

	// Rebuild keeps the content.
	x.Rebuild()
	res, err = x.Search(ds.vecs[0], 0, 1, nil, exact)
	if err != nil || len(res) != 1 || res[0].ID != 0 {
		t.Errorf("after Rebuild: Search = %+v, %v, want id 0", res, err)
	}
}

// TestIndexSearchDuringBuild: while Build reads its items (a database,
// in production, for seconds), searches are answered from the previous
// content; the new content is there once Build returns.
func TestIndexSearchDuringBuild(t *testing.T) {
	ds := newDataset(2000, 16, 5, 1, 23)
	x, err := vector.NewIndex(vector.IndexOptions{Dim: 16, KeepFloats: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Build(func(yield func(int64, uint32, []float32) bool) {
		for i, v := range ds.vecs[:1000] {
			if !yield(int64(i), 0, v) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	err = x.Build(func(yield func(int64, uint32, []float32) bool) {
		for i, v := range ds.vecs[1000:] {
			if !yield(int64(1000+i), 0, v) {
				return
			}
			if i != 500 {
				continue
			}
			// Mid-way: a search from another goroutine must answer.
			done := make(chan []vector.Neighbor, 1)
			go func() {
				res, err := x.Search(ds.vecs[0], 0, 1, nil, nil)
				if err != nil {
					t.Error(err)
				}
				done <- res
			}()
			select {
			case res := <-done:
				if len(res) != 1 || res[0].ID != 0 || x.Len() != 1000 {
					t.Errorf("during Build: Search = %+v, Len = %d, want id 0 of the previous 1000", res, x.Len())
				}
			case <-time.After(10 * time.Second):
				t.Error("a search waited for Build")
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := x.Search(ds.vecs[1500], 0, 1, nil, nil)
	if err != nil || len(res) != 1 || res[0].ID != 1500 || x.Len() != 1000 {
		t.Errorf("after Build: Search = %+v, %v, Len = %d, want id 1500 of 1000", res, err, x.Len())
	}
}

// TestIndexBuildFromError: items that fail leave the previous content,
// not the rows yielded before the failure.
func TestIndexBuildFromError(t *testing.T) {
	ds := newDataset(100, 8, 3, 0, 29)
	x := ds.index(t, vector.IndexOptions{Dim: 8})
	boom := errors.New("read failed")
	err := x.BuildFrom(func(yield func(int64, uint32, []float32) bool) error {
		for i := range 10 {
			if !yield(int64(1000+i), 0, ds.vecs[i]) {
				return nil
			}
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("BuildFrom = %v, want %v", err, boom)
	}
	if n := x.Len(); n != 100 {
		t.Fatalf("Len after a failed BuildFrom = %d, want the previous 100", n)
	}
	res, err := x.Search(ds.vecs[5], 0, 1, nil, ds.lookup())
	if err != nil || len(res) != 1 || res[0].ID != 5 {
		t.Fatalf("Search after a failed BuildFrom = %+v, %v, want id 5", res, err)
	}
}

func TestNewIndexErrors(t *testing.T) {
	tests := []struct {
		name string
		opts vector.IndexOptions
	}{
		{"no dim", vector.IndexOptions{}},
		{"negative dim", vector.IndexOptions{Dim: -1}},
		{"negative candidates", vector.IndexOptions{Dim: 4, Candidates: -1}},
		{"negative rerank", vector.IndexOptions{Dim: 4, Rerank: -1}},
		{"negative workers", vector.IndexOptions{Dim: 4, Workers: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if x, err := vector.NewIndex(tt.opts); err == nil {
				t.Fatalf("NewIndex(%+v) = %v, nil; want an error", tt.opts, x)
			}
		})
	}
}

func TestIndexVectorErrors(t *testing.T) {
	x, err := vector.NewIndex(vector.IndexOptions{Dim: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Upsert(1, 0, []float32{1, 0, 0}); err != nil {
		t.Fatal(err)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	exact := func(ids []int64) ([][]float32, error) { return [][]float32{{1, 0, 0}}, nil }
	tests := []struct {
		name string
		v    []float32
		want error
	}{
		{"short", []float32{1, 0}, vector.ErrDimensionMismatch},
		{"long", []float32{1, 0, 0, 0}, vector.ErrDimensionMismatch},
		{"NaN", []float32{1, nan, 0}, vector.ErrInvalid},
		{"Inf", []float32{inf, 0, 0}, vector.ErrInvalid},
		{"zeros", []float32{0, 0, 0}, vector.ErrInvalid},
		{"nil", nil, vector.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := x.Upsert(2, 0, tt.v); !errors.Is(err, tt.want) {
				t.Errorf("Upsert = %v, want %v", err, tt.want)
			}
			if _, err := x.Search(tt.v, 0, 1, nil, exact); !errors.Is(err, tt.want) {
				t.Errorf("Search = %v, want %v", err, tt.want)
			}
		})
	}
	if got := x.Len(); got != 1 {
		t.Errorf("Len = %d after failed Upserts, want 1", got)
	}
}

func TestIndexExactCallback(t *testing.T) {
	ds := newDataset(500, 8, 4, 1, 11)
	x := ds.index(t, vector.IndexOptions{Dim: 8})
	q := ds.queries[0]
	errFetch := errors.New("disk on fire")
	tests := []struct {
		name    string
		exact   func([]int64) ([][]float32, error)
		wantErr error // nil: no error
		anyErr  bool  // an error not matched by a sentinel
		check   func(*testing.T, []vector.Neighbor)
	}{
		{name: "nil callback", exact: nil, wantErr: vector.ErrNeedExact},
		{
			name:    "error propagates",
			exact:   func([]int64) ([][]float32, error) { return nil, errFetch },
			wantErr: errFetch,
		},
		{
			name:   "too few vectors",
			exact:  func(ids []int64) ([][]float32, error) { return make([][]float32, len(ids)-1), nil },
			anyErr: true,
		},
		{
			name: "wrong dimension",
			exact: func(ids []int64) ([][]float32, error) {
				vs, _ := ds.lookup()(ids)
				vs[len(vs)/2] = []float32{1}
				return vs, nil
			},
			wantErr: vector.ErrDimensionMismatch,
		},
		{
			name: "gone ids are left out",
			exact: func(ids []int64) ([][]float32, error) {
				vs, _ := ds.lookup()(ids)
				best := bruteForce(ds.vecs, q, 1, nil)[0]
				for i, id := range ids {
					if id == best {
						vs[i] = nil // deleted meanwhile
					}
				}
				return vs, nil
			},
			check: func(t *testing.T, res []vector.Neighbor) {
				want := bruteForce(ds.vecs, q, 6, nil)[1:]
				for i, n := range res {
					if n.ID != want[i] {
						t.Errorf("results %+v, want ids %v", res, want)
						break
					}
				}
			},
		},
		{
			name: "asks for Rerank ids",
			exact: func(ids []int64) ([][]float32, error) {
				if len(ids) != min(vector.DefaultRerank, 500) {
					return nil, fmt.Errorf("asked for %d vectors", len(ids))
				}
				return ds.lookup()(ids)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := x.Search(q, 0, 5, nil, tt.exact)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Search = %v, want errors.Is %v", err, tt.wantErr)
				}
				return
			case tt.anyErr:
				if err == nil {
					t.Fatal("Search succeeded, want an error")
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func TestIndexSmallK(t *testing.T) {
	ds := newDataset(30, 8, 3, 1, 13)
	for _, opts := range []vector.IndexOptions{{Dim: 8}, {Dim: 8, Exact: true}} {
		x := ds.index(t, opts)
		for _, k := range []int{-1, 0, 1, 30, 100} {
			res, err := x.Search(ds.queries[0], 0, k, nil, ds.lookup())
			if err != nil {
				t.Fatal(err)
			}
			want := bruteForce(ds.vecs, ds.queries[0], max(k, 0), nil)
			got := make([]int64, len(res))
			for i, n := range res {
				got[i] = n.ID
			}
			if !slices.Equal(got, want) {
				t.Errorf("Exact=%v k=%d: ids %v, want %v", opts.Exact, k, got, want)
			}
		}
	}
}

func TestIndexAllowPanics(t *testing.T) {
	ds := newDataset(20000, 8, 10, 1, 19)
	x := ds.index(t, vector.IndexOptions{Dim: 8, Workers: 2})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want boom", r)
			}
		}()
		x.Search(ds.queries[0], 0, 10, func(id int64) bool {
			if id > 10000 {
				panic("boom")
			}
			return true
		}, ds.lookup())
	}()
	// The read lock was released: a write goes through.
	if err := x.Upsert(1, 0, ds.vecs[2]); err != nil {
		t.Fatal(err)
	}
}

// TestIndexConcurrent runs searches, upserts and deletes at once; run it
// with -race.
func TestIndexConcurrent(t *testing.T) {
	ds := newDataset(5000, 32, 10, 20, 17)
	x := ds.index(t, vector.IndexOptions{Dim: 32, Workers: 2})
	var mu sync.Mutex // guards the vectors the exact callback reads
	vecs := slices.Clone(ds.vecs)
	exact := func(ids []int64) ([][]float32, error) {
		mu.Lock()
		defer mu.Unlock()
		out := make([][]float32, len(ids))
		for i, id := range ids {
			out[i] = vecs[id]
		}
		return out, nil
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := x.Search(ds.queries[(g+i)%len(ds.queries)], 0, 10, nil, exact); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 500 {
			id := int64(i * 7 % len(ds.vecs))
			v := ds.vecs[(i*13)%len(ds.vecs)]
			mu.Lock()
			vecs[id] = v
			mu.Unlock()
			if err := x.Upsert(id, 0, v); err != nil {
				t.Error(err)
				return
			}
			if i%10 == 0 {
				x.Delete(int64(i))
				x.Upsert(int64(i), 0, vecs[i])
			}
			if i%100 == 0 {
				x.Rebuild()
			}
		}
	})
	wg.Wait()
	if got := x.Len(); got != len(ds.vecs) {
		t.Errorf("Len = %d, want %d", got, len(ds.vecs))
	}
}

// An index over three memories in two accounts (partitions). The vectors
// of record live elsewhere, here in a map (in production, SQLite); Search
// asks for the few it rescores.
func ExampleIndex() {
	stored := map[int64][]float32{
		1: {0.9, 0.1, 0, 0},
		2: {0.8, 0, 0.2, 0},
		3: {0, 0, 0, 1},
		4: {0.9, 0.1, 0, 0}, // same vector as 1, other account
	}
	account := map[int64]uint32{1: 7, 2: 7, 3: 7, 4: 8}
	x, err := vector.NewIndex(vector.IndexOptions{Dim: 4})
	if err != nil {
		panic(err)
	}
	err = x.Build(func(yield func(int64, uint32, []float32) bool) {
		for id := int64(1); id <= 4; id++ {
			if !yield(id, account[id], stored[id]) {
				return
			}
		}
	})
	if err != nil {
		panic(err)
	}
	fetch := func(ids []int64) ([][]float32, error) {
		vs := make([][]float32, len(ids))
		for i, id := range ids {
			vs[i] = stored[id]
		}
		return vs, nil
	}
	q := []float32{1, 0, 0, 0}
	hits, err := x.Search(q, 7, 2, nil, fetch)
	if err != nil {
		panic(err)
	}
	for _, h := range hits {
		fmt.Printf("id %d: %.3f\n", h.ID, h.Score)
	}
	// Only odd ids, say the memories of one agent:
	hits, _ = x.Search(q, 7, 2, func(id int64) bool { return id%2 == 1 }, fetch)
	fmt.Println(len(hits), hits[0].ID, hits[1].ID)
	// Output:
	// id 1: 0.994
	// id 2: 0.970
	// 2 1 3
}
