// Command openbench measures memoryrelay at scale end to end: it fills a
// database with N memories (built-in embedder, batches of 1,000, each
// memory of one of 10 agents), then reopens it and reports how long Open
// takes to return, how long until the in-process search index (vectors
// and texts, built in the background) is ready, the process's resident
// memory then, the database's size on disk per memory, and the p50/p95
// latency (and CPU time) of keyword, semantic and hybrid searches through the facade,
// unfiltered and filtered on one agent (10% of the memories), beside the
// same searches with Options.ExactSearch (the sqlite-vec scan and every
// FTS4 match scored).
//
//	go run ./cmd/openbench -n 1000000 -db /tmp/openbench.db
//	go run ./cmd/openbench -n 1000000 -vocab worst -db /tmp/openbench-worst.db
//
// Texts come from package internal/benchtext: -vocab natural (the
// default) draws memories of 8–40 words and queries of 5–10 Zipf-wise
// from ../shared/data/words-50k.txt; -vocab worst draws memories of 6–15
// words and queries of 5–10 uniformly from 72 words, so that full-text
// matching is at its worst. An existing database at -db with at least N
// memories is reused (give each vocabulary a file of its own).
//
// -reopen N opens the default configuration N times: the first Close
// writes the indexes' snapshot (<db>-index) and the next Opens load it;
// each reports whether it did, the time Close took and the snapshot's
// size.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/benchtext"
	"github.com/memoryrelay/memoryrelay/memory"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "openbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("openbench", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "memories")
	db := fs.String("db", "openbench.db", "database file (kept, and reused when big enough)")
	queries := fs.Int("queries", 50, "searches per mode")
	exact := fs.Bool("exact", true, "also measure Options.ExactSearch")
	exactQueries := fs.Int("exact-queries", 0, "searches per mode with ExactSearch (0: -queries)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the default configuration's searches to this file")
	reopen := fs.Int("reopen", 1, "how many times to open the default configuration (from the second on, the index loads the snapshot the previous Close wrote)")
	modes := fs.String("modes", "keyword,semantic,hybrid", "the modes to measure, comma-separated")
	vocabName := fs.String("vocab", "natural", "natural (Zipf over ../shared/data/words-50k.txt) or worst (72 words, uniform)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var v *benchtext.Vocab
	switch *vocabName {
	case "natural":
		var err error
		if v, err = benchtext.Natural(); err != nil {
			return err
		}
	case "worst":
		v = benchtext.Worst()
	default:
		return fmt.Errorf("-vocab %q: want natural or worst", *vocabName)
	}
	if *exactQueries <= 0 {
		*exactQueries = *queries
	}
	rng := benchtext.Rand(0)
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
			batch[i] = memory.NewMemory{Content: v.Text(rng), AgentID: fmt.Sprintf("agent-%d", rng.IntN(10))}
		}
		if _, err := r.Account(acct.ID).Memories().CreateBatch(ctx, memory.BatchParams{Memories: batch}); err != nil {
			return err
		}
		have += len(batch)
	}
	if err := r.Close(); err != nil {
		return err
	}
	var size int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(*db + suffix); err == nil {
			size += fi.Size()
		}
	}
	fmt.Fprintf(out, "%d memories in %s (%s vocabulary; filled in %s), %.0f bytes a memory on disk\n\n",
		have, *db, v.Name, time.Since(start).Round(time.Second), float64(size)/float64(have))

	measure := func(opts memoryrelay.Options, label string, nq int) error {
		runtime.GC()
		t0 := time.Now()
		r, err := memoryrelay.Open(ctx, opts)
		if err != nil {
			return err
		}
		closed := false
		defer func() {
			if !closed {
				r.Close()
			}
		}()
		openTime := time.Since(t0)
		if err := r.WaitSearchIndex(ctx); err != nil {
			return err
		}
		readyTime := time.Since(t0)
		rss := rssMiB()
		runtime.GC()
		debug.FreeOSMemory() // what the scavenger gives back in time
		rssSteady := rssMiB()
		if *cpuProfile != "" && label == "index (default)" {
			pf, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(pf); err != nil {
				pf.Close()
				return err
			}
			defer func() { pprof.StopCPUProfile(); pf.Close() }()
		}
		agent := "agent-3"
		for _, c := range []struct {
			mode   string
			filter *string
		}{{"keyword", nil}, {"keyword", &agent}, {"semantic", nil}, {"semantic", &agent}, {"hybrid", nil}, {"hybrid", &agent}} {
			if !slices.Contains(strings.Split(*modes, ","), c.mode) {
				continue
			}
			qrng := benchtext.Rand(1) // every mode and configuration: the same queries
			lat := make([]time.Duration, 0, nq)
			cpu0 := cpuTime()
			for q := 0; q < nq; q++ {
				t := time.Now()
				if _, err := r.Account(acct.ID).Memories().Search(ctx, memory.SearchParams{Query: v.Query(qrng), Mode: c.mode, AgentID: c.filter, Limit: 10}); err != nil {
					return err
				}
				lat = append(lat, time.Since(t))
			}
			cpu := (cpuTime() - cpu0) / time.Duration(nq)
			slices.Sort(lat)
			f := "none"
			if c.filter != nil {
				f = "agent (10%)"
			}
			fmt.Fprintf(out, "| %s | %s | %s | %.2f | %.1f | %.2f | %.2f | %.2f |\n", label, c.mode, f, openTime.Seconds(), readyTime.Seconds(), ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]), ms(cpu))
		}
		fmt.Fprintf(out, "| %s | RSS with the index built: when ready, after a GC returning free memory | | | | %d MiB | %d MiB | |\n", label, rss, rssSteady)
		st, err := r.Stats(ctx)
		if err != nil {
			return err
		}
		t1 := time.Now()
		closed = true
		if err := r.Close(); err != nil {
			return err
		}
		snap := int64(0)
		if fi, err := os.Stat(*db + "-index"); err == nil {
			snap = fi.Size()
		}
		fmt.Fprintf(out, "| %s | index from the snapshot: %v; Close took %.2f s; snapshot %d bytes, %.0f a memory | | | | | | |\n",
			label, st.IndexFromSnapshot, time.Since(t1).Seconds(), snap, float64(snap)/float64(max(have, 1)))
		return nil
	}
	fmt.Fprintln(out, "| configuration | mode | filter | Open returns s | index ready s | p50 ms | p95 ms | CPU ms/search |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---:|")
	for i := range max(*reopen, 1) {
		label := "index (default)"
		if i > 0 {
			label = fmt.Sprintf("index (default), open %d", i+1)
		}
		if err := measure(memoryrelay.Options{Path: *db}, label, *queries); err != nil {
			return err
		}
	}
	if *exact {
		if err := measure(memoryrelay.Options{Path: *db, ExactSearch: true}, "ExactSearch (sqlite-vec scan, FTS4)", *exactQueries); err != nil {
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

// cpuTime returns the CPU time the process has used, user and system, on
// every thread (background work such as catching up and the garbage
// collector included): steadier than wall-clock time on a busy machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
