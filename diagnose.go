package memoryrelay

import (
	"context"
	"errors"
	"fmt"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
)

// Diagnosis is what Diagnose found in a database.
type Diagnosis struct {
	Embedder string // the embedder the database records
	// Integrity holds what SQLite's integrity_check reported (at most 20
	// lines: damaged pages, indexes that disagree with their tables);
	// empty when it found nothing.
	Integrity []string
	// ForeignKeys counts rows that name a parent row that does not exist.
	ForeignKeys int
	// Memories, Vectors and FullText count the memories and their vector
	// and full-text rows.
	Memories, Vectors, FullText int
	// Memories without a vector or full-text row, and rows of either kind
	// left by no memory.
	MissingVectors, OrphanVectors, MissingFullText, OrphanFullText int
	// Vectors of another length than the embedder's dimension: of
	// memories, decisions and patterns.
	WrongVectors, WrongDecisionVectors, WrongPatternVectors int
	// FeedOldest and FeedNewest are the oldest and newest positions of the
	// change feed the search index follows, FeedRows its rows.
	FeedOldest, FeedNewest int64
	FeedRows               int
}

// Problems words each problem the diagnosis found, for an operator; nil
// when it found none.
func (d Diagnosis) Problems() []string {
	var out []string
	for _, line := range d.Integrity {
		out = append(out, "integrity: "+line)
	}
	for _, c := range []struct {
		n    int
		what string
	}{
		{d.ForeignKeys, "rows name a parent row that does not exist"},
		{d.MissingVectors, "memories have no vector (semantic search misses them)"},
		{d.OrphanVectors, "vectors belong to no memory"},
		{d.MissingFullText, "memories have no full-text row (keyword search misses them)"},
		{d.OrphanFullText, "full-text rows belong to no memory"},
		{d.WrongVectors, "memory vectors are not of the embedder's dimension"},
		{d.WrongDecisionVectors, "decision vectors are not of the embedder's dimension"},
		{d.WrongPatternVectors, "pattern vectors are not of the embedder's dimension"},
	} {
		if c.n > 0 {
			out = append(out, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return out
}

// Diagnose checks the whole database at opts.Path, which may stay in use:
// every page and index (SQLite's integrity_check, not bounded by
// Options.QuickCheckBytes), every foreign key, and that the memories,
// their vectors (of the dimension the database's embedder records) and
// their full-text rows agree. It reads everything, so it takes as long as
// reading the file; reads are not cut short by Options.StatementTimeout.
// A damaged file is reported in Integrity, not refused.
func Diagnose(ctx context.Context, opts Options) (Diagnosis, error) {
	opts.StatementTimeout, opts.QuickCheckBytes = -1, -1
	if err := opts.fill(); err != nil {
		return Diagnosis{}, err
	}
	opened, err := openStorage(ctx, opts)
	if err != nil {
		return Diagnosis{}, fmt.Errorf("memoryrelay: open %s: %w", opts.database(), err)
	}
	defer opened.Close()
	st, ok := opened.(diagnoseStorage)
	if !ok {
		return Diagnosis{}, fmt.Errorf("memoryrelay: diagnose works on SQLite files, not %s: %w", opts.database(), errors.ErrUnsupported)
	}
	id, ok, err := st.Meta(ctx, metaEmbedder)
	if err != nil {
		return Diagnosis{}, fmt.Errorf("memoryrelay: diagnose: %w", err)
	}
	dim := opts.Embedder.Dimension()
	if ok {
		if dim, err = embedderDim(id); err != nil {
			return Diagnosis{}, fmt.Errorf("memoryrelay: diagnose: %w", err)
		}
	}
	d, err := st.Diagnose(ctx, dim)
	if err != nil {
		return Diagnosis{}, fmt.Errorf("memoryrelay: diagnose: %w", err)
	}
	return Diagnosis{
		Embedder: id, Integrity: d.Integrity, ForeignKeys: d.ForeignKeys,
		Memories: d.Memories, Vectors: d.Vectors, FullText: d.FullText,
		MissingVectors: d.MissingVectors, OrphanVectors: d.OrphanVectors, MissingFullText: d.MissingFullText, OrphanFullText: d.OrphanFullText,
		WrongVectors: d.WrongVectors, WrongDecisionVectors: d.WrongDecisionVectors, WrongPatternVectors: d.WrongPatternVectors,
		FeedOldest: d.FeedOldest, FeedNewest: d.FeedNewest, FeedRows: d.FeedRows,
	}, nil
}

// diagnoseStorage is the storage Diagnose checks: the SQLite file's.
type diagnoseStorage interface {
	openedStorage
	Diagnose(ctx context.Context, dim int) (sqlite.Diagnosis, error)
}

var _ diagnoseStorage = (*sqlite.Store)(nil)
