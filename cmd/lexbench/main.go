// Command lexbench measures [lexical.Index] (top-k by MaxScore with block bounds) against
// exhaustive scoring of every match, today's SQLite FTS4 path (every
// matching row's matchinfo scored in Go) and plain SQLite FTS5 (`bm25
// ORDER BY rank LIMIT k`), on the same generated texts and queries, and
// prints a markdown table: p50/p95 latency, the ratio to each baseline,
// and the index's build time and memory per document.
//
//	go run ./cmd/lexbench -n 100000
//	go run -tags sqlite_fts5 ./cmd/lexbench -n 1000000 -sqlite-queries 50
//	go run ./cmd/lexbench -n 100000 -vocab worst -filter 0.1
//
// # Data
//
// Texts come from package internal/benchtext, seeded: -vocab natural
// draws memories of 8–40 words and queries of 5–10 words Zipf-wise from
// ../shared/data/words-50k.txt; -vocab worst draws memories of 6–15 words
// and queries of 5–10 uniformly from 72 words, so that nearly every
// memory shares terms with every query. All of them are in one partition
// (one account). Every method sees the same terms: lexical.Terms of each
// text (lowercased, stemmed, stopwords removed), which the SQLite tables
// store space-joined, as the store's FTS4 table does.
//
// # Methods
//
//   - index, RankScore: Search ranking by lexical.Score, as the engine
//     does; index, RankBM25: ranking by Okapi BM25 (k1 1.2, b 0.75), the
//     ranking FTS5 computes;
//   - exhaustive: SearchExhaustive, which scores every match by walking
//     all their postings (the cost the index avoids);
//   - FTS4 matchinfo: `SELECT docid, matchinfo(t, 'pcnalx') … MATCH 'a OR
//     b …'`, each row's statistics scored by lexical.Score in Go and the
//     top k kept: what keyword search does today without its cap;
//   - FTS5 bm25: `SELECT rowid … MATCH … ORDER BY rank LIMIT k`. FTS5
//     needs the sqlite_fts5 build tag (only this program uses it); built
//     without it, the row is left out with a note.
//
// -filter f runs the index rows again with an Allow function selecting a
// fraction f of the memories (one agent of 1/f, looked up in an array, as
// the attribute table of package search/index does).
//
// Latencies are wall-clock times of single searches, one after another,
// after a few warm-up searches, in one goroutine; "CPU ms/query" is the
// process's CPU time over them divided by their number, which a shared
// machine disturbs less. Memory per document is
// the live heap the index adds (after a garbage collection) divided by
// the number of documents. SQLite databases are built in -dir (a
// temporary directory by default), their page cache left at SQLite's
// default, and their size on disk reported.
package main

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/internal/benchtext"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lexbench:", err)
		os.Exit(1)
	}
}

type config struct {
	n, queries, k, sqliteQueries int
	vocab                        string
	filter                       float64
	sqlite, exhaustive           bool
	dir, cpuProfile              string
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("lexbench", flag.ContinueOnError)
	var c config
	fs.IntVar(&c.n, "n", 100_000, "memories")
	fs.IntVar(&c.queries, "queries", 200, "queries per method")
	fs.IntVar(&c.k, "k", 10, "hits per query")
	fs.StringVar(&c.vocab, "vocab", "natural", "natural (Zipf over ../shared/data/words-50k.txt) or worst (72 words, uniform)")
	fs.Float64Var(&c.filter, "filter", 0, "also run the index with a filter selecting this fraction of the memories (0: no)")
	fs.BoolVar(&c.sqlite, "sqlite", true, "measure SQLite FTS4 matchinfo and FTS5 bm25")
	fs.IntVar(&c.sqliteQueries, "sqlite-queries", 0, "queries for the SQLite methods (0: -queries)")
	fs.BoolVar(&c.exhaustive, "exhaustive", true, "measure exhaustive scoring")
	fs.StringVar(&c.dir, "dir", "", "directory for the SQLite databases (default: a temporary one, removed)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the index's build and searches to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.n < 1 || c.queries < 1 || c.k < 1 || c.filter < 0 || c.filter > 1 {
		return errors.New("-n, -queries and -k must be positive, -filter in [0,1]")
	}
	if c.sqliteQueries <= 0 || c.sqliteQueries > c.queries {
		c.sqliteQueries = c.queries
	}
	var v *benchtext.Vocab
	switch c.vocab {
	case "natural":
		var err error
		if v, err = benchtext.Natural(); err != nil {
			return err
		}
	case "worst":
		v = benchtext.Worst()
	default:
		return fmt.Errorf("-vocab %q: want natural or worst", c.vocab)
	}
	return bench(c, v, out)
}

// method is one row of the table.
type method struct {
	name       string
	p50, p95   time.Duration
	cpu        time.Duration // process CPU time per query
	note       string
	baseline   bool // a baseline the index rows are compared to
	queriesRun int
}

func bench(c config, v *benchtext.Vocab, out io.Writer) error {
	// The texts, as terms.
	rng := benchtext.Rand(0)
	terms := make([][]string, c.n)
	var totalTerms int
	for i := range terms {
		terms[i] = lexical.Terms(v.Text(rng))
		totalTerms += len(terms[i])
	}
	qrng := benchtext.Rand(1)
	queries := make([][]string, c.queries)
	for i := range queries {
		queries[i] = lexical.Terms(v.Query(qrng))
		if len(queries[i]) == 0 {
			queries[i] = lexical.Terms(v.Query(qrng) + " " + v.Query(qrng))
		}
	}

	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The index.
	heap0 := liveHeap()
	start, cpu0 := time.Now(), cpuTime()
	x := lexical.NewIndex()
	var tb lexical.Buffer
	for i, ts := range terms {
		tb.Tokenize(strings.Join(ts, " "))
		x.UpsertTerms(int64(i+1), 1, &tb)
	}
	build, buildCPU := time.Since(start), cpuTime()-cpu0
	heap1 := liveHeap()
	st := x.PartitionStats(1)
	fmt.Fprintf(out, "%d memories (%s vocabulary: %d words; %.1f terms a memory after stopwords, %d distinct), %d queries, k = %d, GOMAXPROCS %d\n\n",
		c.n, v.Name, v.Len(), float64(totalTerms)/float64(c.n), st.Terms, c.queries, c.k, runtime.GOMAXPROCS(0))
	fmt.Fprintf(out, "index: built in %v, CPU %v (%.2f µs of CPU a memory, tokenizing included), %.0f bytes a memory on the heap (%.1f MiB)\n\n",
		build.Round(time.Millisecond), buildCPU.Round(time.Millisecond), float64(buildCPU.Microseconds())/float64(c.n), float64(heap1-heap0)/float64(c.n), float64(heap1-heap0)/(1<<20))

	var rows []method
	timeIt := func(name string, n int, fn func(q []string)) method {
		for _, q := range queries[:min(5, n)] {
			fn(q) // warm-up
		}
		lat := make([]time.Duration, n)
		cpu0 := cpuTime()
		for i, q := range queries[:n] {
			t0 := time.Now()
			fn(q)
			lat[i] = time.Since(t0)
		}
		cpu := (cpuTime() - cpu0) / time.Duration(n)
		slices.Sort(lat)
		return method{name: name, p50: lat[n/2], p95: lat[min(n-1, n*95/100)], cpu: cpu, queriesRun: n}
	}
	search := func(rank lexical.Ranking, allow func(int64) bool) func([]string) {
		return func(q []string) { x.Search(1, lexical.Query{Terms: q, K: c.k, Rank: rank, Allow: allow}) }
	}
	rows = append(rows, timeIt("index (block-max MaxScore), RankScore", c.queries, search(lexical.RankScore, nil)))
	rows = append(rows, timeIt("index (block-max MaxScore), RankBM25", c.queries, search(lexical.RankBM25, nil)))
	if c.exhaustive {
		m := timeIt("exhaustive (every match scored), RankScore", c.queries, func(q []string) {
			x.SearchExhaustive(1, lexical.Query{Terms: q, K: c.k, Rank: lexical.RankScore})
		})
		m.baseline = true
		rows = append(rows, m)
	}
	if c.filter > 0 {
		// One agent of 1/filter, by id, looked up in an array.
		groups := max(1, int(1/c.filter+0.5))
		agent := make([]uint8, c.n+1)
		arng := benchtext.Rand(2)
		for i := range agent {
			agent[i] = uint8(arng.IntN(groups))
		}
		allow := func(id int64) bool { return agent[id] == 0 }
		label := fmt.Sprintf(", filter %.0f%%", 100/float64(groups))
		rows = append(rows, timeIt("index, RankScore"+label, c.queries, search(lexical.RankScore, allow)))
		rows = append(rows, timeIt("index, RankBM25"+label, c.queries, search(lexical.RankBM25, allow)))
		if c.exhaustive {
			m := timeIt("exhaustive, RankScore"+label, c.queries, func(q []string) {
				x.SearchExhaustive(1, lexical.Query{Terms: q, K: c.k, Allow: allow})
			})
			rows = append(rows, m)
		}
	}
	var notes []string
	if c.sqlite {
		dir := c.dir
		if dir == "" {
			d, err := os.MkdirTemp("", "lexbench")
			if err != nil {
				return err
			}
			defer os.RemoveAll(d)
			dir = d
		}
		sqlRows, sqlNotes, err := sqliteMethods(c, dir, terms, queries, timeIt)
		if err != nil {
			return err
		}
		rows = append(rows, sqlRows...)
		notes = append(notes, sqlNotes...)
	}

	fmt.Fprintln(out, "| method | p50 ms | p95 ms | CPU ms/query | queries | ×exhaustive | ×FTS4 | ×FTS5 | note |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---|")
	base := func(prefix string) time.Duration {
		for _, r := range rows {
			if r.baseline && strings.HasPrefix(r.name, prefix) {
				return r.p50
			}
		}
		return 0
	}
	ratio := func(b, d time.Duration) string {
		if b == 0 || d == 0 {
			return ""
		}
		return fmt.Sprintf("%.1f", float64(b)/float64(d))
	}
	for _, r := range rows {
		fmt.Fprintf(out, "| %s | %.3f | %.3f | %.3f | %d | %s | %s | %s | %s |\n", r.name, ms(r.p50), ms(r.p95), ms(r.cpu), r.queriesRun,
			ratio(base("exhaustive"), r.p50), ratio(base("SQLite FTS4"), r.p50), ratio(base("SQLite FTS5"), r.p50), r.note)
	}
	for _, n := range notes {
		fmt.Fprintln(out, "\n"+n)
	}
	runtime.KeepAlive(x)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuTime returns the process's CPU time, user and system, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// liveHeap returns the live heap after a garbage collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// sqliteMethods builds an FTS4 and an FTS5 table of the same terms in
// databases of their own and measures their queries.
func sqliteMethods(c config, dir string, terms, queries [][]string, timeIt func(string, int, func([]string)) method) ([]method, []string, error) {
	var rows []method
	var notes []string
	for _, kind := range []string{"fts4", "fts5"} {
		path := filepath.Join(dir, kind+".db")
		os.Remove(path)
		db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=OFF&_synchronous=OFF")
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(1)
		ddl := "CREATE VIRTUAL TABLE t USING fts4(terms, tokenize=simple)"
		if kind == "fts5" {
			ddl = "CREATE VIRTUAL TABLE t USING fts5(terms, tokenize='unicode61')"
		}
		if _, err := db.Exec(ddl); err != nil {
			db.Close()
			if kind == "fts5" && strings.Contains(err.Error(), "no such module") {
				notes = append(notes, "FTS5 left out: this build has no FTS5 (run with `go run -tags sqlite_fts5`).")
				continue
			}
			return nil, nil, fmt.Errorf("%s: %w", kind, err)
		}
		start := time.Now()
		if err := fill(db, kind, terms); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("%s: %w", kind, err)
		}
		built := time.Since(start)
		var pages, pageSize int64
		db.QueryRow("PRAGMA page_count").Scan(&pages)
		db.QueryRow("PRAGMA page_size").Scan(&pageSize)
		size := pages * pageSize
		var m method
		if kind == "fts4" {
			stmt, err := db.Prepare("SELECT docid, matchinfo(t, 'pcnalx') FROM t WHERE t MATCH ?")
			if err != nil {
				db.Close()
				return nil, nil, err
			}
			m = timeIt("SQLite FTS4 matchinfo, every match scored in Go (today's path)", c.sqliteQueries, func(q []string) {
				if err := fts4TopK(stmt, q, c.k); err != nil {
					panic(err)
				}
			})
			stmt.Close()
		} else {
			stmt, err := db.Prepare("SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank LIMIT ?")
			if err != nil {
				db.Close()
				return nil, nil, err
			}
			m = timeIt("SQLite FTS5 `bm25 ORDER BY rank LIMIT k`", c.sqliteQueries, func(q []string) {
				rs, err := stmt.Query(matchExpr(q), c.k)
				if err != nil {
					panic(err)
				}
				for rs.Next() {
				}
				if err := rs.Err(); err != nil {
					panic(err)
				}
				rs.Close()
			})
			stmt.Close()
		}
		m.baseline = true
		m.note = fmt.Sprintf("table %.0f bytes a memory on disk, built in %v", float64(size)/float64(c.n), built.Round(time.Millisecond))
		rows = append(rows, m)
		db.Close()
	}
	return rows, notes, nil
}

func fill(db *sql.DB, kind string, terms [][]string) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := "INSERT INTO t(docid, terms) VALUES (?, ?)"
	if kind == "fts5" {
		q = "INSERT INTO t(rowid, terms) VALUES (?, ?)"
	}
	stmt, err := tx.Prepare(q)
	if err != nil {
		return err
	}
	for i, ts := range terms {
		if _, err := stmt.Exec(i+1, strings.Join(ts, " ")); err != nil {
			return err
		}
	}
	if kind == "fts4" {
		if _, err := tx.Exec("INSERT INTO t(t) VALUES('optimize')"); err != nil {
			return err
		}
	} else if _, err := tx.Exec("INSERT INTO t(t) VALUES('optimize')"); err != nil {
		return err
	}
	return tx.Commit()
}

// matchExpr is an FTS MATCH expression for any of the terms.
func matchExpr(q []string) string {
	quoted := make([]string, len(q))
	for i, t := range q {
		quoted[i] = `"` + t + `"`
	}
	return strings.Join(quoted, " OR ")
}

// fts4TopK runs today's path: every matching row with its matchinfo,
// scored by lexical.Score, the best k kept.
func fts4TopK(stmt *sql.Stmt, q []string, k int) error {
	rs, err := stmt.Query(matchExpr(q))
	if err != nil {
		return err
	}
	defer rs.Close()
	var best []lexical.Hit
	var info []byte
	var st lexical.Stats
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id, &info); err != nil {
			return err
		}
		if err := parseMatchinfo(info, &st); err != nil {
			return err
		}
		s := lexical.Score(st)
		if len(best) < k {
			best = append(best, lexical.Hit{ID: id, Score: s})
			continue
		}
		w := 0
		for i := range best {
			if best[i].Score < best[w].Score {
				w = i
			}
		}
		if s > best[w].Score {
			best[w] = lexical.Hit{ID: id, Score: s}
		}
	}
	return rs.Err()
}

// parseMatchinfo decodes matchinfo 'pcnalx' of a one-column table into
// st: p, c, n, a, l, then 3 words per phrase (x).
func parseMatchinfo(b []byte, st *lexical.Stats) error {
	u := func(i int) int { return int(binary.NativeEndian.Uint32(b[4*i:])) }
	if len(b) < 20 || len(b)%4 != 0 {
		return fmt.Errorf("matchinfo of %d bytes", len(b))
	}
	p := u(0)
	if len(b) != 4*(5+3*p) {
		return fmt.Errorf("matchinfo of %d bytes for %d phrases", len(b), p)
	}
	st.Rows, st.AvgLength, st.Length = u(2), u(3), u(4)
	st.Terms = st.Terms[:0]
	for i := range p {
		st.Terms = append(st.Terms, lexical.TermStats{Hits: u(5 + 3*i), AllHits: u(6 + 3*i), Docs: u(7 + 3*i)})
	}
	return nil
}
