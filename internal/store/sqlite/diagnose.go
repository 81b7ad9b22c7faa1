package sqlite

import (
	"context"
	"fmt"
	"strconv"
)

// Diagnosis is what Diagnose found. A zero count of each problem means
// that check passed.
type Diagnosis struct {
	// Integrity holds what PRAGMA integrity_check reported (at most 20
	// lines): damaged pages, and indexes that disagree with their tables.
	// Empty when it found nothing.
	Integrity []string
	// ForeignKeys counts rows naming a parent row that does not exist
	// (PRAGMA foreign_key_check).
	ForeignKeys int

	Memories, Vectors, FullText int // rows of the memories, their vectors and full-text rows
	// Memories without a vector or a full-text row, and vector or
	// full-text rows of no memory.
	MissingVectors, OrphanVectors, MissingFullText, OrphanFullText int
	// Vectors whose length is not the embedder's dimension: of memories,
	// decisions and patterns.
	WrongVectors, WrongDecisionVectors, WrongPatternVectors int

	// The change feed: its oldest and newest positions and its rows.
	FeedOldest, FeedNewest int64
	FeedRows               int
}

// Diagnose checks the whole database: every page and index
// (integrity_check), every foreign key, and that the memories, their
// vectors (of dimension dim) and their full-text rows agree. It reads
// everything, so it takes as long as reading the file. When the integrity
// check finds damage (or cannot read the file for it), the other checks
// are not made.
func (s *Store) Diagnose(ctx context.Context, dim int) (Diagnosis, error) {
	var d Diagnosis
	err := s.read(ctx, func(q queryer) error {
		lines, err := queryAll(ctx, q, scanValue[string], "PRAGMA integrity_check(20)")
		if err != nil {
			// Damage bad enough that the check itself cannot read the
			// file (SQLITE_CORRUPT): that is its finding.
			d.Integrity = []string{err.Error()}
			return nil
		}
		if len(lines) != 1 || lines[0] != "ok" {
			d.Integrity = lines
			return nil
		}
		if err := queryEach(ctx, q, func(r rowScanner) error { d.ForeignKeys++; return nil }, "PRAGMA foreign_key_check"); err != nil {
			return err
		}
		bytes := strconv.Itoa(4 * dim)
		for _, c := range []struct {
			dst   *int
			query string
		}{
			{&d.Memories, "SELECT count(*) FROM memories"},
			{&d.Vectors, "SELECT count(*) FROM memory_vectors"},
			{&d.FullText, "SELECT count(*) FROM memory_fts"},
			{&d.MissingVectors, "SELECT count(*) FROM memories m WHERE NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.seq = m.seq)"},
			{&d.OrphanVectors, "SELECT count(*) FROM memory_vectors v WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.seq = v.seq)"},
			{&d.MissingFullText, "SELECT count(*) FROM memories m WHERE NOT EXISTS (SELECT 1 FROM memory_fts f WHERE f.docid = m.seq)"},
			{&d.OrphanFullText, "SELECT count(*) FROM memory_fts f WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.seq = f.docid)"},
			{&d.WrongVectors, "SELECT count(*) FROM memory_vectors WHERE NOT (length(embedding) = " + bytes +
				fmt.Sprintf(" OR (length(embedding) = %d AND substr(embedding, 1, 4) = X'%x'))", dim+int8Header, int8Magic[:])},
			{&d.WrongDecisionVectors, "SELECT count(*) FROM decisions WHERE embedding IS NOT NULL AND length(embedding) != " + bytes},
			{&d.WrongPatternVectors, "SELECT count(*) FROM patterns WHERE embedding IS NOT NULL AND length(embedding) != " + bytes},
			{&d.FeedRows, "SELECT count(*) FROM vector_changes"},
		} {
			n, err := queryValue[int](ctx, q, c.query)
			if err != nil {
				return err
			}
			*c.dst = n
		}
		return queryRow(ctx, q, `SELECT coalesce((SELECT min(id) FROM vector_changes), 0),
			max(coalesce((SELECT max(id) FROM vector_changes), 0),
				coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes'), 0))`).Scan(&d.FeedOldest, &d.FeedNewest)
	})
	return d, err
}
