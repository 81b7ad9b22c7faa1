package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/progress"
)

const doctorAbout = `
Check a database and report each finding on its own line, "ok" or "FAIL":

  - integrity: every page and every index of the file agrees with its table
    (SQLite's integrity_check, however large the file), and every row's
    references hold (foreign_key_check);
  - search tables: every memory has its vector and its full-text row, no such
    row is left by a deleted memory, and every vector has the embedder's
    dimension;
  - the file opens with this version (schema current or migrated) and the
    embedder given (-embedder);
  - the services, as health reports them (database writable with free space,
    the embedder answering);
  - the search index: it builds from the stored vectors within -timeout,
    holds every one of them, and how far it is behind the change feed.

It reads the whole file. A server may keep running on it meanwhile (its
writes may then show as a difference between the index and the table).
Exit status 1 when a check failed.`

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
	began := time.Now()
	d, err := memoryrelay.Diagnose(ctx, opts)
	if err != nil {
		r.fail("open", "%v", err)
		return errReported
	}
	if len(d.Integrity) > 0 {
		r.fail("integrity", "the file is damaged; restore it from a backup (memoryrelay backup -h says how):")
		for _, line := range d.Integrity {
			r.note("      " + line)
		}
		return errReported
	}
	r.ok("integrity", "every page and index of %s agrees (%s)", progress.Bytes(fi.Size()), time.Since(began).Round(time.Millisecond))
	if d.ForeignKeys > 0 {
		r.fail("references", "%d rows name a row that does not exist", d.ForeignKeys)
	} else {
		r.ok("references", "every row's references hold")
	}
	var tableProblems []string
	for _, p := range d.Problems() {
		if !strings.HasPrefix(p, "integrity:") && !strings.Contains(p, "parent row") {
			tableProblems = append(tableProblems, p)
		}
	}
	if len(tableProblems) > 0 {
		r.fail("search tables", "%s", strings.Join(tableProblems, "; "))
	} else {
		r.ok("search tables", "%d memories, each with its vector and full-text row", d.Memories)
	}

	opts.Workers = -1 // a server on the file runs the queue; doctor only looks
	opts.QuickCheckBytes = -1
	relay, err := memoryrelay.Open(ctx, opts)
	switch {
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
			r.note("      " + p)
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
	if want := d.Vectors - d.WrongVectors - d.OrphanVectors; st.IndexVectors != want {
		r.fail("search index", "holds %d vectors, the table %d (writes since the check?)", st.IndexVectors, want)
	} else {
		r.ok("search index", "built from %d vectors in %s, all of them", st.IndexVectors, time.Since(began).Round(time.Millisecond))
	}
	r.ok("change feed", "%d changes kept (positions %d-%d); the index is %d behind", d.FeedRows, d.FeedOldest, d.FeedNewest, st.IndexLag)
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
	fmt.Fprintf(r.w.stdout, "ok    %-14s %s\n", check, fmt.Sprintf(format, args...))
}

func (r *report) fail(check, format string, args ...any) {
	r.failed++
	fmt.Fprintf(r.w.stdout, "FAIL  %-14s %s\n", check, fmt.Sprintf(format, args...))
}

func (r *report) note(line string) { fmt.Fprintln(r.w.stdout, line) }

func (r *report) summary() {
	if r.failed > 0 {
		fmt.Fprintf(r.w.stdout, "%d check(s) failed.\n", r.failed)
	}
}
