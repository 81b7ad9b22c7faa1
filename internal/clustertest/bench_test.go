package clustertest

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
)

// words is the natural vocabulary of ../shared/data (most frequent
// first), for texts whose terms look like users' (see its README).
func words(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("../../../shared/data/words-50k.txt")
	if err != nil {
		tb.Skipf("the shared vocabulary: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// texts draws Zipf-distributed texts of lo to hi words from vocab.
type texts struct {
	mu    sync.Mutex
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

func newTexts(vocab []string, seed uint64) *texts {
	rng := rand.New(rand.NewPCG(seed, seed))
	return &texts{rng: rng, zipf: rand.NewZipf(rng, 1.0001, 1, uint64(len(vocab)-1)), vocab: vocab}
}

func (x *texts) text(lo, hi int) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := lo + x.rng.IntN(hi-lo+1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = x.vocab[x.zipf.Uint64()]
	}
	return strings.Join(ws, " ")
}

// latencies collects the durations of requests, for percentiles.
type latencies struct {
	mu sync.Mutex
	ds []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.ds = append(l.ds, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B) {
	slices.Sort(l.ds)
	if len(l.ds) == 0 {
		return
	}
	p := func(q float64) float64 { return float64(l.ds[int(q*float64(len(l.ds)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
}

// BenchmarkNodes compares one node with three on one PostgreSQL and one
// Redis, through the REST API: creates and hybrid searches from parallel
// clients spread over the nodes round robin (req/s is the throughput of
// all clients; p50/p95 the latency of one request). Every node, the
// database and Redis share this machine: three nodes can only show what
// the extra work of several nodes costs here, not what more machines buy.
func BenchmarkNodes(b *testing.B) {
	vocab := words(b)
	// n = 0 is one node on SQLite, the embedded mode, for comparison.
	open := func(b *testing.B, n int) *cluster {
		if n > 0 {
			return newCluster(b, n, nil)
		}
		c := &cluster{opts: memoryrelay.Options{Path: filepath.Join(b.TempDir(), "relay.db"), RateLimit: 1_000_000}}
		c.add(b)
		return c
	}
	name := func(n int) string {
		if n == 0 {
			return "sqlite"
		}
		return fmt.Sprintf("postgres-nodes=%d", n)
	}
	for _, n := range []int{0, 1, 3} {
		b.Run("create/"+name(n), func(b *testing.B) {
			c := open(b, n)
			n := len(c.nodes)
			_, admin := c.account(b)
			x := newTexts(vocab, 1)
			var lat latencies
			var next atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					nd := c.nodes[int(next.Add(1))%n]
					t0 := time.Now()
					must(b, http.StatusCreated, "POST", nd.url+"/v1/memories", admin, map[string]any{"content": x.text(8, 40)})
					lat.add(time.Since(t0))
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			lat.report(b)
		})
		b.Run("search/"+name(n), func(b *testing.B) {
			c := open(b, n)
			n := len(c.nodes)
			_, admin := c.account(b)
			x := newTexts(vocab, 2)
			const seed = 2000
			for i := 0; i < seed; i += 100 {
				batch := make([]any, 100)
				for j := range batch {
					batch[j] = map[string]any{"content": x.text(8, 40)}
				}
				must(b, http.StatusOK, "POST", c.nodes[0].url+"/v1/memories/batch", admin, map[string]any{"memories": batch})
			}
			for _, nd := range c.nodes { // every index has caught up
				must(b, http.StatusOK, "POST", nd.url+"/v1/memories/search", admin, map[string]any{"query": "warm up"})
			}
			var lat latencies
			var next atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					nd := c.nodes[int(next.Add(1))%n]
					t0 := time.Now()
					must(b, http.StatusOK, "POST", nd.url+"/v1/memories/search", admin, map[string]any{"query": x.text(5, 10)})
					lat.add(time.Since(t0))
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			lat.report(b)
		})
	}
}

// BenchmarkFeedLag measures, under write load (writers creating memories
// on node A without pause), how long a memory created on A takes to be
// found by a semantic search (the vector index alone) on node B: one
// probe per op, p50/p95 over the probes.
func BenchmarkFeedLag(b *testing.B) {
	vocab := words(b)
	c := newCluster(b, 2, nil)
	_, admin := c.account(b)
	a, nb := c.nodes[0], c.nodes[1]
	x := newTexts(vocab, 3)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, _, _ := call(b, "POST", a.url+"/v1/memories", admin, map[string]any{"content": x.text(8, 40)})
				if code == http.StatusCreated {
					written.Add(1)
				}
			}
		})
	}
	var lat latencies
	b.ResetTimer()
	for i := range b.N {
		content := fmt.Sprintf("probe %d %s", i, x.text(8, 12))
		out := must(b, http.StatusCreated, "POST", a.url+"/v1/memories", admin, map[string]any{"content": content})
		id := out["id"].(string)
		lag, ok := until(10*time.Second, func() bool {
			res := must(b, http.StatusOK, "POST", nb.url+"/v1/memories/search", admin, map[string]any{"query": content, "search_mode": "semantic", "limit": 3})
			return slices.Contains(hits(res), id)
		})
		if !ok {
			b.Fatalf("probe %d not found on B after %v", i, lag)
		}
		lat.add(lag)
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	lat.report(b)
	b.ReportMetric(float64(written.Load())/b.Elapsed().Seconds(), "background-writes/s")
}
