package vector_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	vec "github.com/asg017/sqlite-vec-go-bindings/cgo"
	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// The benchmarks search one shared data set of benchN clustered vectors of
// dimension 384 (k = 10) with each method: the Index as production uses it
// (exact vectors through a callback), the Index keeping float32 vectors,
// the Index's exact scan, a plain single-goroutine float32 scan, and
// sqlite-vec's vec0 KNN on a temporary database. cmd/vecbench measures the
// same methods at 100k and 1M vectors, with recall.
const (
	benchN   = 20000
	benchDim = 384
	benchK   = 10
)

// benchData is built once per process: it is read-only after.
var benchData = sync.OnceValue(func() *dataset {
	return newDataset(benchN, benchDim, 100, 64, 1)
})

// benchData100k and benchData1M are benchData at 100k and 1M vectors, for
// BenchmarkIndexSearchFilter.
var (
	benchData100k = sync.OnceValue(func() *dataset { return newDataset(100_000, benchDim, 100, 64, 1) })
	benchData1M   = sync.OnceValue(func() *dataset { return newDataset(1_000_000, benchDim, 100, 64, 1) })
)

// queryLoop runs search on the data set's queries in turn, one a
// benchmark iteration, the timer reset first.
func queryLoop(b *testing.B, ds *dataset, search func(q []float32)) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		search(ds.queries[i%len(ds.queries)])
		i++
	}
}

// searchLoop searches x for the data set's queries in turn, k = benchK,
// one a benchmark iteration.
func searchLoop(b *testing.B, x *vector.Index, ds *dataset, allow func(int64) bool, exact func([]int64) ([][]float32, error)) {
	b.Helper()
	queryLoop(b, ds, func(q []float32) {
		if _, err := x.Search(q, 0, benchK, allow, exact); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkIndexSearch(b *testing.B) {
	ds := benchData()
	lookup := ds.lookup()
	cases := []struct {
		name  string
		opts  vector.IndexOptions
		exact func([]int64) ([][]float32, error)
		allow func(int64) bool
	}{
		{"callback", vector.IndexOptions{Dim: benchDim}, lookup, nil},
		{"callback/filter10", vector.IndexOptions{Dim: benchDim}, lookup, func(id int64) bool { return id%10 == 3 }},
		{"keepfloats", vector.IndexOptions{Dim: benchDim, KeepFloats: true}, nil, nil},
		{"exactscan", vector.IndexOptions{Dim: benchDim, Exact: true}, nil, nil},
		{"callback/workers1", vector.IndexOptions{Dim: benchDim, Workers: 1}, lookup, nil},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			searchLoop(b, ds.index(b, tc.opts), ds, tc.allow, tc.exact)
		})
	}
}

// BenchmarkIndexSearchFilter measures filtered searches at 20k and 100k
// vectors, and 1M with VECTOR_BENCH_1M=1 (about 3 GiB and a minute to
// build), with the calls of allow per search (allows/op): a random 10%
// filter and a 1% one.
func BenchmarkIndexSearchFilter(b *testing.B) {
	for _, size := range []struct {
		name string
		ds   func() *dataset
	}{{"20k", benchData}, {"100k", benchData100k}, {"1M", benchData1M}} {
		for _, f := range []struct {
			name  string
			allow func(int64) bool
		}{
			{"filter10", func(id int64) bool { return id%10 == 3 }},
			{"filter1", func(id int64) bool { return id%100 == 42 }},
		} {
			b.Run(size.name+"/"+f.name, func(b *testing.B) {
				if size.name == "1M" && os.Getenv("VECTOR_BENCH_1M") != "1" {
					b.Skip("VECTOR_BENCH_1M=1 runs the 1M case")
				}
				ds := size.ds()
				x := ds.index(b, vector.IndexOptions{Dim: benchDim})
				lookup := ds.lookup()
				var calls atomic.Int64
				allow := func(id int64) bool {
					calls.Add(1)
					return f.allow(id)
				}
				searchLoop(b, x, ds, allow, lookup)
				b.ReportMetric(float64(calls.Load())/float64(b.N), "allows/op")
			})
		}
	}
}

// BenchmarkIndexSearchParallel measures throughput with concurrent
// searches, each of which also scans with Workers goroutines.
func BenchmarkIndexSearchParallel(b *testing.B) {
	ds := benchData()
	x := ds.index(b, vector.IndexOptions{Dim: benchDim})
	lookup := ds.lookup()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := x.Search(ds.queries[i%len(ds.queries)], 0, benchK, nil, lookup); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkScanFloat32 is the simplest exact search: one goroutine, Dot
// against every vector, a top-k kept by insertion.
func BenchmarkScanFloat32(b *testing.B) {
	ds := benchData()
	queryLoop(b, ds, func(q []float32) { _ = bruteForce(ds.vecs, q, benchK, nil) })
}

func BenchmarkVec0KNN(b *testing.B) {
	ds := benchData()
	db := vec0DB(b, ds)
	stmt, err := db.Prepare("SELECT rowid, distance FROM vecs WHERE embedding MATCH ? AND k = ?")
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	queryLoop(b, ds, func(q []float32) {
		rows, err := stmt.Query(sqlite.EncodeVector(q), benchK)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Close(); err != nil || n != benchK {
			b.Fatalf("vec0 returned %d rows, err %v", n, err)
		}
	})
}

func BenchmarkIndexBuild(b *testing.B) {
	ds := benchData()
	for _, keep := range []bool{false, true} {
		b.Run(fmt.Sprintf("keepfloats=%v", keep), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x, err := vector.NewIndex(vector.IndexOptions{Dim: benchDim, KeepFloats: keep})
				if err != nil {
					b.Fatal(err)
				}
				if err := x.Build(ds.items()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchN, "ns/vector")
		})
	}
}

func BenchmarkIndexUpsert(b *testing.B) {
	ds := benchData()
	x := ds.index(b, vector.IndexOptions{Dim: benchDim})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Replace existing rows: the index keeps its size.
		if err := x.Upsert(int64(i%benchN), 0, ds.vecs[(i*7)%benchN]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// vecOnce registers sqlite-vec with SQLite, which is process-wide, once.
var vecOnce sync.Once

// vec0DB returns a database in b.TempDir() with the data set in a vec0
// table `vecs` (cosine distance).
func vec0DB(b *testing.B, ds *dataset) *sql.DB {
	b.Helper()
	vecOnce.Do(vec.Auto)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(b.TempDir(), "vec.db")+"?_journal_mode=WAL")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(fmt.Sprintf("CREATE VIRTUAL TABLE vecs USING vec0(embedding float[%d] distance_metric=cosine)", ds.dim)); err != nil {
		b.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i, v := range ds.vecs {
		if _, err := tx.Exec("INSERT INTO vecs (rowid, embedding) VALUES (?, ?)", i, sqlite.EncodeVector(v)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return db
}
