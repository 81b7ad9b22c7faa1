// Command vecbench measures [vector.Index] against an exact float32 scan
// and sqlite-vec's vec0 KNN on the same generated vectors and queries, and
// prints a markdown table: latency percentiles, recall@k against exact
// search, build time, process memory, and speed ratios.
//
//	go run ./cmd/vecbench -n 100000
//	go run ./cmd/vecbench -n 1000000 -vec0=false -filter 0.1
//
// # Data
//
// Vectors are generated deterministically from -seed and their id, so any
// vector can be regenerated on demand and none has to stay in memory: the
// ground truth is computed by streaming, and the index's exact callback
// regenerates the few dozen vectors it asks for per search (-rescore gen)
// or reads them from an SQLite table as production does (-rescore sqlite,
// one `WHERE id IN (...)` query). The process RSS reported for the index
// is therefore what a production process holds: the index plus a
// generator table of 4 MiB (and SQLite's page cache with -rescore sqlite).
//
// -shape clustered (the default) draws each vector around one of -clusters
// centres: normalise(centre + noise), where the centres share a common
// component (-offset; real embeddings are not centred at the origin) and
// the noise is Gaussian with norm about -spread. -shape uniform draws
// directions uniformly on the sphere. Queries come from the same
// distribution but are not in the data.
//
// # Filter
//
// -filter f keeps a pseudo-random fraction f of the ids (a bitmap lookup in
// the index's allow callback; a metadata column `keep` in vec0, which
// sqlite-vec 0.1.6 applies during its KNN scan, so vec0 still returns k
// rows). The exact scan and the ground truth apply the same filter.
//
// # Columns
//
// Latencies are wall-clock times of single searches run one after
// another, after five warm-up searches; each search of the index and of
// the Go scan uses GOMAXPROCS goroutines, vec0 one thread. "CPU ms/query"
// is the process's CPU time (user + system, all threads) over the searches
// divided by their number: on a shared machine it varies less than the
// latencies. Recall@k is the mean fraction of the exact top k found. ×vec0
// and ×exact are the p50 latency of vec0 and of the Go scan divided by the
// method's. The index row notes the p50 time spent in its exact callback.
//
// RSS is VmRSS from /proc/self/status after the method was built and
// queried and after a forced garbage collection that returns free memory
// to the OS; peak is VmHWM, reset before each method (Linux 4.0+). The
// methods run one after another in table order and each is released
// before the next is built.
package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vec "github.com/asg017/sqlite-vec-go-bindings/cgo"
	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "vecbench:", err)
		os.Exit(1)
	}
}

// config holds the flags.
type config struct {
	n, dim, k, queries, clusters int
	shape                        string
	spread, offset, filter       float64
	seed                         uint64
	vec0, exact, keepFloats      bool
	vec0Queries                  int
	rescore                      string
	candidates, shortlist        int
	rerank, workers              int
	dir                          string
	cpuprofile                   string
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("vecbench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&c.n, "n", 100000, "number of vectors")
	fs.IntVar(&c.dim, "dim", 384, "dimension")
	fs.IntVar(&c.k, "k", 10, "neighbours per query")
	fs.IntVar(&c.queries, "queries", 200, "number of queries")
	fs.StringVar(&c.shape, "shape", "clustered", "data: clustered (mixture of Gaussians) or uniform")
	fs.IntVar(&c.clusters, "clusters", 100, "number of clusters with -shape clustered")
	fs.Float64Var(&c.spread, "spread", 1, "norm of a clustered vector's noise relative to its unit centre")
	fs.Float64Var(&c.offset, "offset", 0.5, "weight of the component all cluster centres share")
	fs.Float64Var(&c.filter, "filter", 1, "fraction of ids a query may return (1 = no filter)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generator")
	fs.BoolVar(&c.vec0, "vec0", true, "include sqlite-vec vec0 float32 KNN")
	fs.IntVar(&c.vec0Queries, "vec0-queries", 0, "queries run against vec0 (0 = -queries)")
	fs.BoolVar(&c.exact, "exact", true, "include an exact float32 scan in Go (vector.Index with Exact)")
	fs.BoolVar(&c.keepFloats, "keepfloats", false, "include vector.Index with KeepFloats (4·dim bytes per vector in memory)")
	fs.StringVar(&c.rescore, "rescore", "gen", "how the index's exact callback gets vectors: gen (regenerate) or sqlite (read a table)")
	fs.IntVar(&c.candidates, "candidates", 0, "IndexOptions.Candidates (0 = default)")
	fs.IntVar(&c.shortlist, "shortlist", 0, "IndexOptions.Shortlist (0 = default)")
	fs.IntVar(&c.rerank, "rerank", 0, "IndexOptions.Rerank (0 = default)")
	fs.IntVar(&c.workers, "workers", 0, "IndexOptions.Workers (0 = GOMAXPROCS)")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the index's searches to this file")
	fs.StringVar(&c.dir, "dir", "", "directory for the temporary SQLite file (default: the system's temp dir)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.n <= 0 || c.dim <= 0 || c.k <= 0 || c.queries <= 0:
		return c, errors.New("-n, -dim, -k and -queries must be positive")
	case c.n >= 1<<31:
		return c, errors.New("-n must be below 2^31")
	case c.shape != "clustered" && c.shape != "uniform":
		return c, fmt.Errorf("-shape must be clustered or uniform, not %q", c.shape)
	case c.shape == "clustered" && c.clusters <= 0:
		return c, errors.New("-clusters must be positive")
	case !(c.filter > 0 && c.filter <= 1):
		return c, errors.New("-filter must be in (0, 1]")
	case c.rescore != "gen" && c.rescore != "sqlite":
		return c, fmt.Errorf("-rescore must be gen or sqlite, not %q", c.rescore)
	case c.vec0Queries < 0 || c.candidates < 0 || c.shortlist < 0 || c.rerank < 0 || c.workers < 0:
		return c, errors.New("negative count")
	}
	if c.vec0Queries == 0 || c.vec0Queries > c.queries {
		c.vec0Queries = c.queries
	}
	return c, nil
}

// result is one row of the table.
type result struct {
	method    string
	build     time.Duration
	lat       []time.Duration
	recall    float64
	rss, peak int64         // bytes; -1 if unknown
	cpu       time.Duration // process CPU time per query (user + system)
	note      string
}

func run(args []string, stdout io.Writer) error {
	c, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()

	g := newGen(c)
	queries := make([][]float32, c.queries)
	for i := range queries {
		queries[i] = make([]float32, c.dim)
		g.vector(-1-int64(i), queries[i])
	}
	keep := newKeep(c)

	t0 := time.Now()
	buf := make([]float32, c.dim)
	var sink float32
	for id := range c.n {
		g.vector(int64(id), buf)
		sink += buf[0]
	}
	genTime := time.Since(t0)
	_ = sink
	freeMemory()
	baseRSS, _ := memory()

	var db *sql.DB
	if c.vec0 || c.rescore == "sqlite" {
		dir, err := os.MkdirTemp(c.dir, "vecbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		db, err = openDB(filepath.Join(dir, "vecbench.db"))
		if err != nil {
			return err
		}
		defer db.Close()
	}
	var tableTime time.Duration
	if c.rescore == "sqlite" {
		t0 := time.Now()
		if err := fillTable(db, g, c); err != nil {
			return err
		}
		tableTime = time.Since(t0)
	}

	var results []result
	var got [][][]int64 // per method, per query

	// The index first, so that nothing else has touched memory yet.
	exactFn := func(ids []int64) ([][]float32, error) {
		vs := make([][]float32, len(ids))
		backing := make([]float32, len(ids)*c.dim)
		for i, id := range ids {
			vs[i] = backing[i*c.dim : (i+1)*c.dim : (i+1)*c.dim]
			g.vector(id, vs[i])
		}
		return vs, nil
	}
	name := "index (1-bit → int8 → exact, vectors regenerated)"
	if c.rescore == "sqlite" {
		name = "index (1-bit → int8 → exact, vectors read from SQLite)"
		exactFn = sqliteFetcher(db)
	}
	r, ids, err := measureIndex(name, g, c, queries, keep, vector.IndexOptions{
		Dim: c.dim, Candidates: c.candidates, Shortlist: c.shortlist, Rerank: c.rerank, Workers: c.workers,
	}, exactFn)
	if err != nil {
		return err
	}
	results, got = append(results, r), append(got, ids)

	if c.keepFloats {
		r, ids, err := measureIndex("index, KeepFloats (1-bit → int8 → float32 in memory)", g, c, queries, keep, vector.IndexOptions{
			Dim: c.dim, Candidates: c.candidates, Shortlist: c.shortlist, Rerank: c.rerank, Workers: c.workers, KeepFloats: true,
		}, nil)
		if err != nil {
			return err
		}
		results, got = append(results, r), append(got, ids)
	}
	if c.exact {
		r, ids, err := measureIndex("exact float32 scan in Go", g, c, queries, keep, vector.IndexOptions{
			Dim: c.dim, Workers: c.workers, Exact: true,
		}, nil)
		if err != nil {
			return err
		}
		results, got = append(results, r), append(got, ids)
	}
	if c.vec0 {
		r, ids, err := measureVec0(db, g, c, queries[:c.vec0Queries], keep)
		if err != nil {
			return err
		}
		results, got = append(results, r), append(got, ids)
	}

	t0 = time.Now()
	truth := groundTruth(g, c, queries, keep)
	truthTime := time.Since(t0)
	for i := range results {
		results[i].recall = recall(got[i], truth)
	}

	fmt.Fprintf(out, "vecbench: n=%d dim=%d k=%d queries=%d shape=%s", c.n, c.dim, c.k, c.queries, c.shape)
	if c.shape == "clustered" {
		fmt.Fprintf(out, " clusters=%d spread=%g offset=%g", c.clusters, c.spread, c.offset)
	}
	fmt.Fprintf(out, " filter=%g seed=%d GOMAXPROCS=%d %s/%s %s\n\n", c.filter, c.seed, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	printTable(out, results, c)
	fmt.Fprintf(out, "\nBuild times include generating the vectors (%.2f s alone for %d).", genTime.Seconds(), c.n)
	fmt.Fprintf(out, " RSS before any method: %s.", mib(baseRSS))
	if c.rescore == "sqlite" {
		fmt.Fprintf(out, " Filling the SQLite table read by the exact callback took %.1f s (not in build times).", tableTime.Seconds())
	}
	fmt.Fprintf(out, " Ground truth: exact float32 scan, streamed from the generator, %.1f s.\n", truthTime.Seconds())
	return nil
}

func printTable(out io.Writer, rs []result, c config) {
	base := func(prefix string) time.Duration {
		for _, r := range rs {
			if strings.HasPrefix(r.method, prefix) {
				return pct(r.lat, 50)
			}
		}
		return 0
	}
	vec0p50, exactp50 := base("sqlite-vec"), base("exact")
	fmt.Fprintf(out, "| method | build s | p50 ms | p95 ms | CPU ms/query | recall@%d | RSS MiB | peak RSS MiB | ×vec0 | ×exact |\n", c.k)
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		p50, p95 := pct(r.lat, 50), pct(r.lat, 95)
		ratio := func(b time.Duration) string {
			if b == 0 || p50 == 0 {
				return "–"
			}
			return fmt.Sprintf("%.1f", float64(b)/float64(p50))
		}
		method := r.method
		if r.note != "" {
			method += " " + r.note
		}
		fmt.Fprintf(out, "| %s | %.2f | %.3f | %.3f | %.3f | %.4f | %s | %s | %s | %s |\n",
			method, r.build.Seconds(), ms(p50), ms(p95), ms(r.cpu), r.recall, mibNum(r.rss), mibNum(r.peak), ratio(vec0p50), ratio(exactp50))
	}
}

func measureIndex(name string, g *gen, c config, queries [][]float32, keep *keepSet, opts vector.IndexOptions, exact func([]int64) ([][]float32, error)) (result, [][]int64, error) {
	freeMemory()
	resetPeak()
	t0 := time.Now()
	idx, err := vector.NewIndex(opts)
	if err != nil {
		return result{}, nil, err
	}
	err = idx.Build(func(yield func(int64, uint32, []float32) bool) {
		buf := make([]float32, c.dim)
		for id := range c.n {
			g.vector(int64(id), buf)
			if !yield(int64(id), 0, buf) {
				return
			}
		}
	})
	if err != nil {
		return result{}, nil, err
	}
	build := time.Since(t0)
	allow := keep.allow()
	var fetch time.Duration // time in the exact callback during one search
	timed := exact
	if exact != nil {
		timed = func(ids []int64) ([][]float32, error) {
			t := time.Now()
			defer func() { fetch += time.Since(t) }()
			return exact(ids)
		}
	}
	search1 := func(q []float32) ([]vector.Neighbor, error) {
		fetch = 0
		return idx.Search(q, 0, c.k, allow, timed)
	}
	for _, q := range queries[:min(5, len(queries))] { // warm up
		if _, err := search1(q); err != nil {
			return result{}, nil, err
		}
	}
	if c.cpuprofile != "" && !opts.Exact {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return result{}, nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return result{}, nil, err
		}
		defer pprof.StopCPUProfile()
	}
	lat := make([]time.Duration, len(queries))
	fetches := make([]time.Duration, len(queries))
	ids := make([][]int64, len(queries))
	cpu0 := cpuTime()
	for i, q := range queries {
		t := time.Now()
		res, err := search1(q)
		lat[i] = time.Since(t)
		fetches[i] = fetch
		if err != nil {
			return result{}, nil, err
		}
		for _, n := range res {
			ids[i] = append(ids[i], n.ID)
		}
	}
	cpu := (cpuTime() - cpu0) / time.Duration(len(queries))
	freeMemory()
	rss, peak := memory()
	runtime.KeepAlive(idx)
	note := ""
	if exact != nil {
		note = fmt.Sprintf("(exact callback p50 %.3f ms)", ms(pct(fetches, 50)))
	}
	return result{method: name, build: build, lat: lat, rss: rss, peak: peak, cpu: cpu, note: note}, ids, nil
}

// openDB opens an SQLite file with sqlite-vec loaded.
func openDB(path string) (*sql.DB, error) {
	vecOnce.Do(vec.Auto)
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one connection: one page cache
	if _, err := db.Exec("PRAGMA cache_size = -65536"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// vecOnce registers sqlite-vec with SQLite once per process: the
// registration is process-wide.
var vecOnce sync.Once

// insertAll runs stmt for every id in one transaction.
func insertAll(db *sql.DB, query string, n int, args func(id int64) []any) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare(query)
	if err != nil {
		return err
	}
	for id := range n {
		if _, err := stmt.Exec(args(int64(id))...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// fillTable stores every vector in the plain table `vectors`, the way the
// memories' vectors are stored, for -rescore sqlite.
func fillTable(db *sql.DB, g *gen, c config) error {
	if _, err := db.Exec("CREATE TABLE vectors (id INTEGER PRIMARY KEY, embedding BLOB NOT NULL)"); err != nil {
		return err
	}
	buf := make([]float32, c.dim)
	return insertAll(db, "INSERT INTO vectors (id, embedding) VALUES (?, ?)", c.n, func(id int64) []any {
		g.vector(id, buf)
		return []any{id, sqlite.EncodeVector(buf)}
	})
}

// sqliteFetcher returns an exact callback that reads vectors from the
// table `vectors` in one query, `WHERE id IN (?, ...)`, with a statement
// prepared once per number of ids.
func sqliteFetcher(db *sql.DB) func([]int64) ([][]float32, error) {
	stmts := make(map[int]*sql.Stmt)
	return func(ids []int64) ([][]float32, error) {
		stmt := stmts[len(ids)]
		if stmt == nil {
			q := "SELECT id, embedding FROM vectors WHERE id IN (?" + strings.Repeat(", ?", len(ids)-1) + ")"
			var err error
			if stmt, err = db.Prepare(q); err != nil {
				return nil, err
			}
			stmts[len(ids)] = stmt
		}
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err := stmt.Query(args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		byID := make(map[int64][]float32, len(ids))
		for rows.Next() {
			var id int64
			var b []byte
			if err := rows.Scan(&id, &b); err != nil {
				return nil, err
			}
			v, err := sqlite.DecodeVector(b)
			if err != nil {
				return nil, err
			}
			byID[id] = v
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		vs := make([][]float32, len(ids))
		for i, id := range ids {
			vs[i] = byID[id]
		}
		return vs, nil
	}
}

func measureVec0(db *sql.DB, g *gen, c config, queries [][]float32, keep *keepSet) (result, [][]int64, error) {
	freeMemory()
	resetPeak()
	t0 := time.Now()
	ddl := fmt.Sprintf("CREATE VIRTUAL TABLE vecs USING vec0(embedding float[%d] distance_metric=cosine, keep integer)", c.dim)
	if _, err := db.Exec(ddl); err != nil {
		return result{}, nil, err
	}
	buf := make([]float32, c.dim)
	err := insertAll(db, "INSERT INTO vecs (rowid, embedding, keep) VALUES (?, ?, ?)", c.n, func(id int64) []any {
		g.vector(id, buf)
		k := 0
		if keep.has(id) {
			k = 1
		}
		return []any{id, sqlite.EncodeVector(buf), k}
	})
	if err != nil {
		return result{}, nil, err
	}
	build := time.Since(t0)
	query := "SELECT rowid FROM vecs WHERE embedding MATCH ? AND k = ?"
	if keep != nil {
		query += " AND keep = 1"
	}
	stmt, err := db.Prepare(query)
	if err != nil {
		return result{}, nil, err
	}
	defer stmt.Close()
	knn := func(q []float32) ([]int64, error) {
		rows, err := stmt.Query(sqlite.EncodeVector(q), c.k)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	if _, err := knn(queries[0]); err != nil { // warm up
		return result{}, nil, err
	}
	lat := make([]time.Duration, len(queries))
	ids := make([][]int64, len(queries))
	cpu0 := cpuTime()
	for i, q := range queries {
		t := time.Now()
		ids[i], err = knn(q)
		lat[i] = time.Since(t)
		if err != nil {
			return result{}, nil, err
		}
	}
	cpu := (cpuTime() - cpu0) / time.Duration(len(queries))
	freeMemory()
	rss, peak := memory()
	note := ""
	if len(queries) < c.queries {
		note = fmt.Sprintf("(first %d queries)", len(queries))
	}
	return result{method: "sqlite-vec vec0 float32 KNN", build: build, lat: lat, rss: rss, peak: peak, cpu: cpu, note: note}, ids, nil
}

// gen generates vectors deterministically from a seed and an id. It is
// safe for concurrent use.
type gen struct {
	dim      int
	seed     uint64
	uniform  bool
	clusters int
	centres  []float32 // clusters × dim, unit vectors
	pool     []float32 // standard normal deviates
	noise    float32   // scale of one pool element in a vector
}

const poolSize = 1 << 20

func newGen(c config) *gen {
	r := rand.New(rand.NewPCG(c.seed, 0x9e3779b97f4a7c15))
	g := &gen{dim: c.dim, seed: c.seed, uniform: c.shape == "uniform", clusters: c.clusters}
	g.pool = make([]float32, poolSize+c.dim)
	for i := range g.pool {
		g.pool[i] = float32(r.NormFloat64())
	}
	// Two pool windows per vector, each of norm about √dim.
	g.noise = float32(c.spread / math.Sqrt(2*float64(c.dim)))
	if g.uniform {
		g.noise = 1
		return g
	}
	shared := make([]float32, c.dim)
	for i := range shared {
		shared[i] = float32(r.NormFloat64())
	}
	vector.Normalize(shared)
	g.centres = make([]float32, c.clusters*c.dim)
	for j := range c.clusters {
		cj := g.centres[j*c.dim : (j+1)*c.dim]
		for i := range cj {
			cj[i] = float32(r.NormFloat64())
		}
		vector.Normalize(cj)
		for i := range cj {
			cj[i] += float32(c.offset) * shared[i]
		}
		vector.Normalize(cj)
	}
	return g
}

// vector writes the unit vector of id to dst (of length dim).
func (g *gen) vector(id int64, dst []float32) {
	var p rand.PCG
	p.Seed(g.seed, uint64(id))
	a, b := p.Uint64(), p.Uint64()
	o1, o2 := int(a%poolSize), int(b%poolSize)
	n1, n2 := g.noise, g.noise
	if a>>63 != 0 {
		n1 = -n1
	}
	if b>>63 != 0 {
		n2 = -n2
	}
	w1 := g.pool[o1 : o1+g.dim]
	w2 := g.pool[o2 : o2+g.dim]
	dst = dst[:g.dim]
	if g.uniform {
		for i := range dst {
			dst[i] = n1*w1[i] + n2*w2[i]
		}
	} else {
		j := int(p.Uint64() % uint64(g.clusters))
		c := g.centres[j*g.dim : (j+1)*g.dim]
		for i := range dst {
			dst[i] = c[i] + n1*w1[i] + n2*w2[i]
		}
	}
	vector.Normalize(dst)
}

// keepSet is the filter: a bitmap of the ids kept. A nil *keepSet keeps
// everything.
type keepSet struct{ bits []uint64 }

func newKeep(c config) *keepSet {
	if c.filter >= 1 {
		return nil
	}
	k := &keepSet{bits: make([]uint64, (c.n+63)/64)}
	limit := uint64(c.filter * (1 << 53))
	for id := range c.n {
		if splitmix(c.seed^0x5bd1e995^uint64(id))>>11 < limit {
			k.bits[id>>6] |= 1 << (id & 63)
		}
	}
	return k
}

func (k *keepSet) has(id int64) bool {
	return k == nil || (id >= 0 && int(id>>6) < len(k.bits) && k.bits[id>>6]&(1<<(id&63)) != 0)
}

// allow returns the Search callback: nil when everything is kept.
func (k *keepSet) allow() func(int64) bool {
	if k == nil {
		return nil
	}
	return k.has
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// scored is a candidate of the ground truth.
type scored struct {
	score float32
	id    int64
}

// worse orders by ascending score, then descending id: the root of a
// bounded heap of the best.
func worse(a, b scored) bool {
	return a.score < b.score || (a.score == b.score && a.id > b.id)
}

// best keeps the k best scored items.
type best struct {
	k     int
	items []scored // min-heap by worse
}

func (h *best) push(s scored) {
	if len(h.items) < h.k {
		h.items = append(h.items, s)
		for i := len(h.items) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(h.items[i], h.items[p]) {
				break
			}
			h.items[i], h.items[p] = h.items[p], h.items[i]
			i = p
		}
		return
	}
	if !worse(h.items[0], s) {
		return
	}
	h.items[0] = s
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(h.items) && worse(h.items[l], h.items[m]) {
			m = l
		}
		if r := l + 1; r < len(h.items) && worse(h.items[r], h.items[m]) {
			m = r
		}
		if m == i {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

// groundTruth returns, for each query, the ids of its k nearest allowed
// vectors by exact float32 dot product (ties by ascending id), streaming
// the vectors from the generator on GOMAXPROCS goroutines.
func groundTruth(g *gen, c config, queries [][]float32, keep *keepSet) [][]int64 {
	workers := runtime.GOMAXPROCS(0)
	const step = 1024
	per := make([][]best, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			hs := make([]best, len(queries))
			for i := range hs {
				hs[i].k = c.k
			}
			buf := make([]float32, c.dim)
			for {
				lo := int(next.Add(step)) - step
				if lo >= c.n {
					break
				}
				for id := int64(lo); id < int64(min(lo+step, c.n)); id++ {
					if !keep.has(id) {
						continue
					}
					g.vector(id, buf)
					for qi, q := range queries {
						hs[qi].push(scored{vector.Dot(q, buf), id})
					}
				}
			}
			per[w] = hs
		})
	}
	wg.Wait()
	truth := make([][]int64, len(queries))
	for qi := range queries {
		all := best{k: c.k}
		for w := range per {
			for _, s := range per[w][qi].items {
				all.push(s)
			}
		}
		slices.SortFunc(all.items, func(a, b scored) int {
			if worse(a, b) {
				return 1
			}
			if worse(b, a) {
				return -1
			}
			return 0
		})
		for _, s := range all.items {
			truth[qi] = append(truth[qi], s.id)
		}
	}
	return truth
}

// recall returns the mean over queries of |got ∩ truth| / |truth|, over the
// queries that were run.
func recall(got, truth [][]int64) float64 {
	var sum float64
	n := 0
	for i, ids := range got {
		if len(truth[i]) == 0 {
			continue
		}
		hit := 0
		for _, id := range ids {
			if slices.Contains(truth[i], id) {
				hit++
			}
		}
		sum += float64(hit) / float64(len(truth[i]))
		n++
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

func pct(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, (len(s)*p)/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b int64) string { return mibNum(b) + " MiB" }

func mibNum(b int64) string {
	if b < 0 {
		return "?"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 0, 64)
}

// cpuTime returns the CPU time (user + system) the process has used, or 0
// where getrusage is unavailable.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// freeMemory collects garbage and returns free memory to the OS, so that
// RSS reflects live data.
func freeMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// resetPeak resets VmHWM (Linux 4.0+; ignored elsewhere).
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// memory returns VmRSS and VmHWM in bytes, or the Go runtime's view of
// memory obtained from the OS (and -1) where /proc is unavailable.
func memory() (rss, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.Sys - m.HeapReleased), -1
	}
	rss, peak = -1, -1
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak
}
