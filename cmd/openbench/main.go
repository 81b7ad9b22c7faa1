// Command openbench measures memoryrelay at scale end to end: it fills a
// database with N memories (built-in embedder, batches of 1,000), then
// reopens it and reports how long Open takes to return, how long until the
// in-process vector index (built in the background) is ready, the
// process's resident memory then, and the median
// latency of semantic and hybrid searches through the facade, beside the
// same searches with Options.ExactSearch (the plain sqlite-vec scan).
//
//	go run ./cmd/openbench -n 1000000 -db /tmp/openbench.db
//
// An existing database at -db with at least N memories is reused.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "openbench:", err)
		os.Exit(1)
	}
}

var vocab = strings.Fields(`alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon
phi chi psi omega river mountain forest desert ocean island valley canyon glacier meadow harbor castle bridge tower garden
market library museum theater stadium airport station factory farm village city capital kingdom empire republic province`)

func text(rng *rand.Rand) string {
	ws := make([]string, 6+rng.IntN(10))
	for i := range ws {
		ws[i] = vocab[rng.IntN(len(vocab))]
	}
	return strings.Join(ws, " ")
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("openbench", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "memories")
	db := fs.String("db", "openbench.db", "database file (kept, and reused when big enough)")
	queries := fs.Int("queries", 50, "searches per mode")
	exact := fs.Bool("exact", true, "also measure Options.ExactSearch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: *db, Synchronous: "OFF", ExactSearch: true})
	if err != nil {
		return err
	}
	acct, err := r.AccountByName(ctx, "bench")
	if err != nil {
		if acct, err = r.CreateAccount(ctx, "bench"); err != nil {
			return err
		}
	}
	page, err := r.Account(acct.ID).Memories().List(ctx, memory.ListParams{Limit: 1})
	if err != nil {
		return err
	}
	have := page.Total
	start := time.Now()
	for have < *n {
		batch := make([]memory.NewMemory, min(1000, *n-have))
		for i := range batch {
			batch[i] = memory.NewMemory{Content: text(rng), AgentID: fmt.Sprintf("agent-%d", rng.IntN(10))}
		}
		if _, err := r.Account(acct.ID).Memories().CreateBatch(ctx, memory.BatchParams{Memories: batch}); err != nil {
			return err
		}
		have += len(batch)
	}
	if err := r.Close(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d memories in %s (filled in %s)\n\n", have, *db, time.Since(start).Round(time.Second))

	measure := func(opts memoryrelay.Options, label string) error {
		runtime.GC()
		t0 := time.Now()
		r, err := memoryrelay.Open(ctx, opts)
		if err != nil {
			return err
		}
		defer r.Close()
		openTime := time.Since(t0)
		if err := r.WaitSearchIndex(ctx); err != nil {
			return err
		}
		readyTime := time.Since(t0)
		rss := rssMiB()
		agent := "agent-3"
		for _, c := range []struct {
			mode   string
			filter *string
		}{{"semantic", nil}, {"semantic", &agent}, {"hybrid", nil}} {
			lat := make([]time.Duration, 0, *queries)
			for q := 0; q < *queries; q++ {
				t := time.Now()
				if _, err := r.Account(acct.ID).Memories().Search(ctx, memory.SearchParams{Query: text(rng), Mode: c.mode, AgentID: c.filter, Limit: 10}); err != nil {
					return err
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			f := "none"
			if c.filter != nil {
				f = "agent (10%)"
			}
			fmt.Fprintf(out, "| %s | %s | %s | %.2f | %.1f | %.2f | %.2f |\n", label, c.mode, f, openTime.Seconds(), readyTime.Seconds(), ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]))
		}
		fmt.Fprintf(out, "| %s | RSS with the index built | | | | %d MiB | |\n", label, rss)
		return nil
	}
	fmt.Fprintln(out, "| configuration | mode | filter | Open returns s | index ready s | p50 ms | p95 ms |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|")
	if err := measure(memoryrelay.Options{Path: *db}, "index (default)"); err != nil {
		return err
	}
	if *exact {
		if err := measure(memoryrelay.Options{Path: *db, ExactSearch: true}, "ExactSearch (sqlite-vec scan)"); err != nil {
			return err
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rssMiB reads the resident set size from /proc (0 where there is none).
func rssMiB() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "VmRSS:"), "kB")), &kb)
			return kb / 1024
		}
	}
	return 0
}
