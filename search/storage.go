package search

import (
	"context"

	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// What an Engine needs of the storage, defined here, by their consumer,
// and implemented by the storage package. Memories are named by row ids:
// numbers the storage assigns, unique within the store, which a search
// uses as candidate keys and never shows. Creation times are in Unix
// milliseconds; they order hits of equal score (the newer first).

// Store is the storage an [Engine] searches: its full-text side, its
// vectors, and the memories themselves, of type M.
type Store[M any] interface {
	Text
	Vectors
	Rows[M]
}

// Text is the full-text side of the storage, which lexical candidates
// come from.
type Text interface {
	// TermDocs returns how many memories, of all accounts, contain each
	// of terms; terms that no memory contains are absent. terms are
	// distinct and at most [MaxQueryTerms].
	TermDocs(ctx context.Context, terms []string) (map[string]int, error)

	// TextCandidates returns every memory that f selects and that
	// contains at least one of terms (the output of [lexical.Terms],
	// distinct), each with the lexical statistics of its row for those
	// terms, in the order of terms, as [lexical.Score] reads them. The
	// storage may consider only some of the terms when there are many
	// (the SQLite store keeps the 64 longest), and then reports the
	// statistics of those. No usable term: no candidate.
	TextCandidates(ctx context.Context, f Filter, terms []string) ([]TextCandidate, error)
}

// TextCandidate is a memory that shares a term with the query.
type TextCandidate struct {
	ID      int64 // the memory's row id
	Created int64 // its creation time, Unix ms
	Stats   lexical.Stats
}

// Vectors is the vector side of the storage: an exact scan, which the
// engine uses when it has no [Index], and the stored vectors themselves.
type Vectors interface {
	// NearestVectors returns the k memories that f selects nearest to q
	// by cosine distance, nearest first (ties: the newer first), by an
	// exact scan of their stored vectors.
	NearestVectors(ctx context.Context, f Filter, q []float32, k int) ([]VectorCandidate, error)

	// Vectors returns the stored vectors of the memories ids names: a
	// memory that has none (deleted, say) is absent, and one whose stored
	// vector cannot be decoded maps to nil.
	Vectors(ctx context.Context, ids []int64) (map[int64][]float32, error)
}

// VectorCandidate is a memory near the query, from an exact scan.
type VectorCandidate struct {
	ID       int64   // the memory's row id
	Created  int64   // its creation time, Unix ms
	Distance float64 // cosine distance to the query: 1 − cosine similarity
}

// Rows reads the memories a search returns.
type Rows[M any] interface {
	// Rows returns the memories of the account that ids names, in any
	// order; ids of memories that no longer exist (deleted since their
	// candidate was read) are left out.
	Rows(ctx context.Context, accountID string, ids []int64) ([]Row[M], error)
}

// Row is a memory as [Rows] returns it: its row id and creation time, by
// which the engine orders, and the memory.
type Row[M any] struct {
	ID      int64
	Created int64 // Unix ms
	Memory  M
}

// Index is an in-process nearest-neighbour index of the stored vectors,
// kept in step with the storage (package search/index is one), which the
// engine prefers to the exact scan of [Vectors] once it has one (see
// [Engine.SetIndex]).
type Index interface {
	// Search returns the k memories that f selects nearest to q, with
	// their cosine similarity, best first. It must return only memories
	// that f selects; it may miss some (an index that lags behind).
	Search(ctx context.Context, f Filter, q []float32, k int) ([]vector.Neighbor, error)
}

// Lexical is an in-process full-text index kept in step with the storage
// (package search/index's Index is one), which the engine prefers to the
// storage's [Text] once it has one (see [Engine.SetLexical]). Its scores
// are [lexical.Score] with the statistics of the searched account's
// memories (their number, and each term's document frequency among
// them), where [Text]'s are those of the whole store.
type Lexical interface {
	// SearchText returns the k memories that f selects that score highest
	// by lexical.Score against terms (distinct, as the engine gives
	// them), each scoring at least min and above 0, best first; equal
	// scores go to the larger row id first. It must return only memories
	// that f selects, scoring every one that could be among them, never
	// a sample.
	SearchText(ctx context.Context, f Filter, terms []string, k int, min float64) ([]lexical.Hit, error)

	// ScoreText returns the lexical.Score against terms of each of ids,
	// in their order, as SearchText scores them: 0 for a memory that
	// shares no term with them or that the index does not hold. It is
	// how a hybrid search learns the lexical score of a candidate that
	// the vector side found.
	ScoreText(ctx context.Context, f Filter, terms []string, ids []int64) ([]float64, error)
}
