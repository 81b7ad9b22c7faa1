package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/progress"
)

const doctorAbout = `
Check a database and report each finding on its own line, "ok" or "FAIL":

  - the file: it exists, is a SQLite database of this program, is not
    damaged (PRAGMA quick_check over every page, however large the file), its
    schema is current and its embedder is the one given (-embedder);
  - the services, as health reports them (database writable with free space,
    the embedder answering);
  - the search index: it builds from the stored vectors within -timeout, and
    how far it is behind the change feed.

A server may keep running on the file meanwhile. Exit status 1 when a check
failed.`

func doctor(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "doctor", "doctor [flags]", doctorAbout)
	db := addDBFlags(fs, sys.getenv)
	timeout := fs.Duration("timeout", 2*time.Minute, "how long the search index may take to build")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("doctor takes no arguments, got %q", rest)
	}
	r := &report{w: sys}
	defer r.summary()

	fi, err := os.Stat(db.path)
	if err != nil {
		r.fail("file", "%v", err)
		return errReported
	}
	opts, err := db.options(false)
	if err != nil {
		r.fail("embedder", "%v", err)
		return errReported
	}
	opts.Workers = -1 // a server on the file runs the queue; doctor only looks
	opts.QuickCheckBytes = math.MaxInt64
	began := time.Now()
	relay, err := memoryrelay.Open(ctx, opts)
	switch {
	case errors.Is(err, memoryrelay.ErrDamaged):
		r.fail("integrity", "%v; restore it from a backup (memoryrelay backup -h says how)", err)
	case errors.Is(err, memoryrelay.ErrReembedding):
		r.fail("embedder", "%v", err)
	case errors.Is(err, memoryrelay.ErrEmbedderMismatch):
		r.fail("embedder", "%v; give the database's embedder with -embedder", err)
	case err != nil:
		r.fail("open", "%v", err)
	}
	if err != nil {
		return errReported
	}
	defer relay.Close()
	r.ok("integrity", "quick_check of %s found no damage (%s)", progress.Bytes(fi.Size()), time.Since(began).Round(time.Millisecond))
	r.ok("schema", "opens with this version (an older schema is migrated); embedder %s/%d", relay.Embedder().Model(), relay.Embedder().Dimension())

	h := relay.Health(ctx)
	services := make([]string, 0, len(h.Services))
	for s := range h.Services {
		services = append(services, s)
	}
	sort.Strings(services)
	for _, s := range services {
		if h.Services[s] == memoryrelay.ServiceUp || s == "vector_store" {
			continue // the index is checked below, once built
		}
		r.fail(s, "%s", h.Services[s])
	}
	for _, p := range h.Problems {
		if !isIndexProblem(p) {
			r.note("  " + p)
		}
	}
	if h.Services["database"] == memoryrelay.ServiceUp {
		r.ok("database", "readable and writable, with free space")
	}
	if h.Services["embeddings"] == memoryrelay.ServiceUp {
		r.ok("embeddings", "the embedder answers")
	}

	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	began = time.Now()
	if err := relay.WaitSearchIndex(wctx); err != nil {
		r.fail("search index", "not built: %v", err)
		return errReported
	}
	st, err := relay.Stats(ctx)
	if err != nil {
		r.fail("search index", "%v", err)
		return errReported
	}
	r.ok("search index", "built from %d vectors in %s; %d changes behind the feed", st.IndexVectors, time.Since(began).Round(time.Millisecond), st.IndexLag)
	r.ok("size", "database %s, write-ahead log %s", progress.Bytes(st.DatabaseBytes), progress.Bytes(st.WALBytes))
	if r.failed > 0 {
		return errReported
	}
	return nil
}

// isIndexProblem tells the index's problems, checked once it is built,
// from the others.
func isIndexProblem(p string) bool { return strings.HasPrefix(p, "vector_store:") }

// report prints doctor's findings.
type report struct {
	w      *system
	failed int
}

func (r *report) ok(check, format string, args ...any) {
	fmt.Fprintf(r.w.stdout, "ok    %-13s %s\n", check, fmt.Sprintf(format, args...))
}

func (r *report) fail(check, format string, args ...any) {
	r.failed++
	fmt.Fprintf(r.w.stdout, "FAIL  %-13s %s\n", check, fmt.Sprintf(format, args...))
}

func (r *report) note(line string) { fmt.Fprintln(r.w.stdout, line) }

func (r *report) summary() {
	if r.failed > 0 {
		fmt.Fprintf(r.w.stdout, "%d check(s) failed.\n", r.failed)
	}
}
