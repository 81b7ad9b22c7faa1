package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/progress"
)

const exportAbout = `
Write the database's accounts as JSON Lines, to -o FILE or standard output:
a header line (the format, the embedder of the vectors, the accounts, the
number of records of each type), then every account, agent, project and
project relationship, session, memory with its vector, entity and entity
link, decision, pattern and pattern adoption. Ids, times, metadata and
vectors are kept exactly: import restores the same rows, and an export of the
imported database is byte for byte the same file.

Not exported: API keys (make new ones with keys create), key usage, and v2
jobs still in the queue (their memories do not exist yet: export says how
many). Everything is read from one snapshot, so a server may keep running.

  memoryrelay export -o all.jsonl
  memoryrelay export -account acme -account 3f2c… > two.jsonl`

func export(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "export", "export [flags]", exportAbout)
	db := addDBFlags(fs, sys.getenv)
	var refs []string
	fs.Func("account", "an account to export, by id or name (repeat for more); default every account", func(s string) error {
		refs = append(refs, s)
		return nil
	})
	out := fs.String("o", "-", "the file to write (it must not exist); - for standard output")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("export takes no arguments, got %q (the file is -o)", rest)
	}
	opts, err := db.options(false)
	if err != nil {
		return err
	}
	var ids []string
	if refs != nil {
		relay, err := db.openAdmin(ctx, false)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			a, err := resolveAccount(ctx, relay, ref)
			if err != nil {
				relay.Close()
				return err
			}
			ids = append(ids, a.ID)
		}
		relay.Close()
	}
	w, finish, err := outputFile(*out, sys)
	if err != nil {
		return err
	}
	meter := progress.New(sys.stderr, "export", 0, progress.Options{Unit: "records"})
	st, err := memoryrelay.Export(ctx, opts, w, memoryrelay.ExportParams{Accounts: ids, Progress: func(done, total int64) {
		meter.SetTotal(total)
		meter.Set(done)
	}})
	if err = finish(err); err != nil {
		return err
	}
	meter.Done()
	fmt.Fprintf(sys.stderr, "Exported %d account(s): %s; vectors of %s.\n", len(st.Accounts), countsText(st.Counts), st.Embedder)
	if st.PendingJobs > 0 {
		fmt.Fprintf(sys.stderr, "Note: %d v2 jobs were still queued; their memories did not exist yet and are not in the export.\n", st.PendingJobs)
	}
	return nil
}

// outputFile opens where an export goes: standard output for "-", else a
// new file written beside its name and renamed into place by finish, so
// that a failed export leaves no file that looks whole.
func outputFile(name string, sys *system) (io.Writer, func(error) error, error) {
	if name == "-" {
		return sys.stdout, func(err error) error { return err }, nil
	}
	if _, err := os.Lstat(name); err == nil {
		return nil, nil, fmt.Errorf("%s exists: give a new file (an export never overwrites)", name)
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.partial")
	if err != nil {
		return nil, nil, err
	}
	return f, func(err error) error {
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), name)
		}
		if err != nil {
			os.Remove(f.Name())
		}
		return err
	}, nil
}

func countsText(counts map[string]int64) string {
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	var parts []string
	for _, t := range types {
		if counts[t] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[t], t))
		}
	}
	if len(parts) == 0 {
		return "no records"
	}
	return strings.Join(parts, ", ")
}

const importAbout = `
Read an export (memoryrelay export) into the database, creating it if
needed. All or nothing: every record is written in one transaction, and any
error (a malformed line, an id the database has already, a file cut short)
leaves the database as it was; run it again once the cause is fixed. Writers
wait for it meanwhile: stop the server, or expect its writes to fail while the
import runs. Rows keep their ids and times; the full-text index is rebuilt.

The vectors are those of the export's embedder (named in its header). They
are imported as they are when the database is new, or has that embedder, and
-embedder names it. Into a new database with another -embedder, -reembed
imports the rows and then embeds every text again with it (the re-embedding
is resumable: run reembed -to with that embedder if it is interrupted);
without -reembed, import refuses, naming both embedders.

  memoryrelay import all.jsonl
  memoryrelay import -db new.db -embedder model2vec:/models/potion-base-8M -reembed all.jsonl`

func importCmd(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "import", "import [flags] FILE", importAbout)
	db := addDBFlags(fs, sys.getenv)
	reembed := fs.Bool("reembed", false, "into a new database, embed every text again with -embedder")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("import takes one FILE, the export to read (- for standard input)")
	}
	opts, err := db.options(true)
	if err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	if rest[0] != "-" {
		f, err := os.Open(rest[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	meter := progress.New(sys.stderr, "import", 0, progress.Options{Unit: "records"})
	var remeter *progress.Meter
	began := time.Now()
	st, err := memoryrelay.Import(ctx, opts, in, memoryrelay.ImportParams{
		Reembed: *reembed,
		Progress: func(done, total int64) {
			meter.SetTotal(total)
			meter.Set(done)
		},
		ReembedProgress: func(p memoryrelay.ReembedProgress) {
			if remeter == nil {
				meter.Done()
				remeter = progress.New(sys.stderr, "reembed", 0, progress.Options{Unit: "texts"})
			}
			remeter.SetLabel("reembed " + p.Table)
			remeter.Set(int64(p.Done))
		},
	})
	switch {
	case errors.Is(err, memoryrelay.ErrExportEmbedder):
		return fmt.Errorf("%w (give -embedder, or -reembed into a new database)", err)
	case err != nil && st.Counts == nil:
		return fmt.Errorf("%w; nothing was imported", err)
	case err != nil:
		return err
	}
	meter.Done()
	if remeter != nil {
		remeter.Done()
	}
	fmt.Fprintf(sys.stdout, "Imported %d account(s) into %s in %s: %s.\n", len(st.Accounts), db.path, time.Since(began).Round(time.Millisecond), countsText(st.Counts))
	if st.Reembedded > 0 {
		fmt.Fprintf(sys.stdout, "Re-embedded %d texts from %s to %s.\n", st.Reembedded, st.Embedder, embedderName(opts))
	}
	return nil
}

func embedderName(opts memoryrelay.Options) string {
	return fmt.Sprintf("%s/%d", opts.Embedder.Model(), opts.Embedder.Dimension())
}
