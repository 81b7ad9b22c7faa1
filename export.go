package memoryrelay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/dump"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// ErrExportEmbedder is matched by the error of an Import whose vectors
// were made by another embedder than the database's or Options.Embedder,
// when it is not allowed to re-embed them.
var ErrExportEmbedder = errors.New("memoryrelay: the export's vectors are of another embedder")

// ErrImportExists is matched by the error of an Import that met a row the
// database already has (the same export imported twice, say).
var ErrImportExists = dump.ErrExists

// ErrExportFormat is matched by the error of an Import of a file that is
// not a well-formed export (it names the line).
var ErrExportFormat = dump.ErrFormat

// ExportParams are Export's choices.
type ExportParams struct {
	// Accounts are the ids of the accounts to export; nil: every account.
	Accounts []string
	// Progress, when not nil, is called after each record with the number
	// written and the total.
	Progress func(done, total int64)
}

// ExportStats describes a finished export.
type ExportStats struct {
	Embedder string           // the embedder of the vectors, as the database records it
	Accounts []string         // the accounts exported
	Counts   map[string]int64 // records of each type
	// PendingJobs counts v2 jobs of any account not finished when the
	// export was read: their memories do not exist yet and are not in it.
	PendingJobs int
}

// Export writes the accounts of the database at opts.Path to w as JSON
// Lines: a header (the format, the embedder, the accounts and the number
// of records of each type), then every account, agent, project, project
// relationship, session, memory (with its vector), entity, entity link,
// decision, pattern and pattern adoption, in that order and, within a type,
// by account and id. Everything is read from one snapshot, so the database
// may stay in use; reads are not cut short by Options.StatementTimeout.
// Ids, times (to the millisecond), metadata and vectors (bit for bit) are
// kept, so Import restores the same rows and an export of the imported
// database is byte for byte the same. Not exported: API keys and their
// usage (secrets of the account, not its data), v2 jobs, and the derived
// full-text rows and change log (Import rebuilds them). Options.Embedder is
// not used: the vectors are written as stored.
func Export(ctx context.Context, opts Options, w io.Writer, p ExportParams) (ExportStats, error) {
	opts.StatementTimeout = -1
	if err := opts.fill(); err != nil {
		return ExportStats{}, err
	}
	st, err := openDumpStorage(ctx, opts)
	if err != nil {
		return ExportStats{}, err
	}
	defer st.Close()
	if target, ok, err := st.Meta(ctx, metaReembedTarget); err != nil {
		return ExportStats{}, err
	} else if ok {
		return ExportStats{}, fmt.Errorf("%w: it moves to %s; finish it (Reembed) before exporting", ErrReembedding, target)
	}
	stats := ExportStats{}
	stats.Embedder, _, err = st.Meta(ctx, metaEmbedder)
	if err != nil {
		return stats, err
	}
	if q, err := st.JobQueueState(ctx); err == nil {
		stats.PendingJobs = q.Pending + q.Processing
	}
	dw := dump.NewWriter(w, sqlite.DumpSchema())
	var done, total int64
	err = st.Export(ctx, p.Accounts, func(accounts []string, counts map[string]int64) error {
		stats.Accounts, stats.Counts = accounts, counts
		for _, n := range counts {
			total += n
		}
		return dw.WriteHeader(dump.Header{Embedder: stats.Embedder, Accounts: accounts, Counts: counts})
	}, func(rec dump.Record) error {
		if err := dw.Write(rec); err != nil {
			return err
		}
		done++
		if p.Progress != nil {
			p.Progress(done, total)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return stats, fmt.Errorf("memoryrelay: export: %w", apierr.NotFound(apierr.Account))
	}
	if err != nil {
		return stats, fmt.Errorf("memoryrelay: export: %w", err)
	}
	return stats, dw.Flush()
}

// ImportParams are Import's choices.
type ImportParams struct {
	// Reembed allows importing an export made with another embedder than
	// Options.Embedder into an empty database: its rows are imported with
	// their vectors, and the database is then moved to Options.Embedder
	// by Reembed (resumably: if that is interrupted, run Reembed).
	Reembed bool
	// ReembedBatch is Reembed's batch; 0: DefaultReembedBatch.
	ReembedBatch int
	// Progress, when not nil, is called after each record with the number
	// read and the total the header announces; ReembedProgress after each
	// batch of the re-embedding.
	Progress        func(done, total int64)
	ReembedProgress func(ReembedProgress)
}

// ImportStats describes a finished import.
type ImportStats struct {
	Embedder   string           // the export's embedder
	Accounts   []string         // the accounts imported
	Counts     map[string]int64 // records written, by type
	Reembedded int              // texts re-embedded afterwards (ImportParams.Reembed)
}

// Import reads an export (see Export) from r into the database at
// opts.Path, creating it if needed, all or nothing: every record is
// written in one transaction, which any error rolls back, leaving the
// database as it was (other writers wait for it meanwhile). Rows keep
// their ids and times; the full-text rows are rebuilt from the content.
//
// The vectors are the export's embedder's. They are imported as they are
// when the database has that embedder, or has none yet and
// Options.Embedder is the same; into an empty database with another
// Options.Embedder only with ImportParams.Reembed. Otherwise Import
// refuses with ErrExportEmbedder, naming both. A row the database holds
// already fails it with ErrImportExists; a malformed file with
// ErrExportFormat naming the line.
func Import(ctx context.Context, opts Options, r io.Reader, p ImportParams) (ImportStats, error) {
	if err := opts.fill(); err != nil {
		return ImportStats{}, err
	}
	schema := sqlite.DumpSchema()
	rd, err := dump.NewReader(r, schema)
	if err != nil {
		return ImportStats{}, fmt.Errorf("memoryrelay: import: %w", err)
	}
	h := rd.Header()
	stats := ImportStats{Embedder: h.Embedder, Accounts: h.Accounts}
	dim, err := embedderDim(h.Embedder)
	if err != nil {
		return stats, fmt.Errorf("memoryrelay: import: %w: %v", dump.ErrFormat, err)
	}
	st, err := openDumpStorage(ctx, opts)
	if err != nil {
		return stats, err
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	if target, ok, err := st.Meta(ctx, metaReembedTarget); err != nil {
		return stats, err
	} else if ok {
		return stats, fmt.Errorf("%w: it moves to %s; finish it (Reembed) before importing", ErrReembedding, target)
	}
	have, recorded, err := st.Meta(ctx, metaEmbedder)
	if err != nil {
		return stats, err
	}
	accounts, err := st.Accounts(ctx)
	if err != nil {
		return stats, err
	}
	want := embedderID(opts.Embedder)
	reembed := false
	switch {
	case recorded && len(accounts) > 0 && have != h.Embedder:
		return stats, fmt.Errorf("%w: its vectors are of %s and this database's of %s: import it into a new database (with re-embedding, to %s), or into one of %s",
			ErrExportEmbedder, h.Embedder, have, want, h.Embedder)
	case recorded && len(accounts) > 0 && have != want:
		return stats, fmt.Errorf("%w: database has %s, Options.Embedder is %s", ErrEmbedderMismatch, have, want)
	case h.Embedder != want && !p.Reembed:
		return stats, fmt.Errorf("%w: its vectors are of %s, Options.Embedder is %s: use %s to keep them, or re-embed every text with %s (ImportParams.Reembed)",
			ErrExportEmbedder, h.Embedder, want, h.Embedder, want)
	case h.Embedder != want:
		reembed = true
	}
	meta := map[string]string{}
	if !recorded || len(accounts) == 0 {
		// A new (or empty) database takes the export's embedder, in the
		// import's transaction; Reembed moves it on afterwards if asked.
		meta[metaEmbedder] = h.Embedder
	}
	var total, done int64
	for _, n := range h.Counts {
		total += n
	}
	read := map[string]int64{}
	next := func() (dump.Record, error) {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			// All or nothing: a file that ends short of its header's
			// counts is refused before the transaction commits.
			for _, t := range schema { // in the file's order: the first type short is named
				if n := h.Counts[t.Name]; read[t.Name] != n {
					return rec, fmt.Errorf("%w: the header announces %d %s records, the file holds %d (is it cut short?)", dump.ErrFormat, n, t.Name, read[t.Name])
				}
			}
			return rec, err
		}
		if err != nil {
			return rec, err
		}
		if err := checkVectors(rec, dim); err != nil {
			return rec, fmt.Errorf("%w: line %d: %v", dump.ErrFormat, rd.Line(), err)
		}
		read[rec.Type]++
		done++
		if p.Progress != nil {
			p.Progress(done, total)
		}
		return rec, nil
	}
	counts, err := st.Import(ctx, h.Accounts, meta, next, func(content string) string {
		return strings.Join(lexical.Terms(content), " ")
	})
	if errors.Is(err, dump.ErrFormat) {
		return stats, fmt.Errorf("memoryrelay: import: %w", err) // it names the line
	}
	if err != nil {
		return stats, fmt.Errorf("memoryrelay: import: line %d: %w", rd.Line(), err)
	}
	stats.Counts = counts
	if !reembed {
		return stats, nil
	}
	st.Close()
	closed = true
	rp, err := Reembed(ctx, opts, p.ReembedBatch, p.ReembedProgress)
	stats.Reembedded = rp.Done
	if err != nil {
		return stats, fmt.Errorf("memoryrelay: import: the rows are in, the re-embedding stopped (run Reembed to finish it): %w", err)
	}
	return stats, nil
}

// embedderDim reads the dimension out of an embedder id ("model/384").
func embedderDim(id string) (int, error) {
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return 0, fmt.Errorf("the embedder %q names no dimension", id)
	}
	d, err := strconv.Atoi(id[i+1:])
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("the embedder %q names no dimension", id)
	}
	return d, nil
}

// checkVectors refuses a vector of another dimension than the export's
// embedder's.
func checkVectors(rec dump.Record, dim int) error {
	for _, v := range rec.Values {
		if b, ok := v.([]byte); ok && len(b) != 4*dim {
			return fmt.Errorf("a %s's vector has %d dimensions, the export's embedder %d", rec.Type, len(b)/4, dim)
		}
	}
	return nil
}

// dumpStorage is the storage Export and Import work on: the SQLite file's
// (a PostgreSQL database is dumped with pg_dump).
type dumpStorage interface {
	openedStorage
	accountLister
	Export(ctx context.Context, ids []string, begin func(accounts []string, counts map[string]int64) error, emit func(dump.Record) error) error
	Import(ctx context.Context, accounts []string, meta map[string]string, next func() (dump.Record, error), terms func(content string) string) (sqlite.ImportStats, error)
}

var _ dumpStorage = (*sqlite.Store)(nil)

// openDumpStorage opens the storage of opts for Export or Import, or says
// that its kind has no export.
func openDumpStorage(ctx context.Context, opts Options) (dumpStorage, error) {
	st, err := openStorage(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("memoryrelay: open %s: %w", opts.database(), err)
	}
	ds, ok := st.(dumpStorage)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("memoryrelay: export and import work on SQLite files; dump %s with pg_dump: %w", opts.database(), errors.ErrUnsupported)
	}
	return ds, nil
}

// accountLister is the storage of Relay.Accounts.
type accountLister interface {
	Accounts(ctx context.Context) ([]store.Account, error)
}

// Accounts lists every account, oldest first. A storage that cannot list
// them answers an error matching errors.ErrUnsupported.
func (r *Relay) Accounts(ctx context.Context) ([]AccountInfo, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	l, ok := r.store.(accountLister)
	if !ok {
		return nil, fmt.Errorf("memoryrelay: listing accounts: %w", errors.ErrUnsupported)
	}
	as, err := l.Accounts(ctx)
	if err != nil {
		return nil, r.classify(err)
	}
	out := make([]AccountInfo, len(as))
	for i, a := range as {
		out[i] = accountInfoOf(a)
	}
	return out, nil
}
