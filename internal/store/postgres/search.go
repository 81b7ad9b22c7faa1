package postgres

// The reads of retrieval: *Store implements search.Store[Memory] (what
// package search's Engine reads) and index.Store (what the vector index of
// package search/index reads when it searches). Memories are named by
// their seq.

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

var (
	_ search.Store[store.Memory] = (*Store)(nil)
	_ index.Store                = (*Store)(nil)
)

// searchFilter is f as a Filter.
func searchFilter(f search.Filter) store.Filter {
	return store.Filter{
		AccountID: f.AccountID, AgentRef: f.AgentID, UserID: f.UserID, Scope: f.Scope, SessionID: f.SessionID, Tier: f.Tier,
		MinImportance: f.MinImportance, Project: f.Project, Metadata: f.Metadata, Namespace: f.Namespace,
		IncludeConfidential: f.IncludeConfidential, IncludeArchived: f.IncludeArchived,
	}
}

// TermDocs returns how many memories (of all accounts) contain each of
// terms, from term_stats (kept at each commit); terms no memory has are
// absent.
func (s *Store) TermDocs(ctx context.Context, terms []string) (map[string]int, error) {
	out := make(map[string]int, len(terms))
	if len(terms) == 0 {
		return out, nil
	}
	err := s.do(ctx, func(q querier) error {
		return queryEach(ctx, q, func(r rowScanner) error {
			var t string
			var n int
			if err := r.Scan(&t, &n); err != nil {
				return err
			}
			out[t] = n
			return nil
		}, "SELECT term, docs FROM term_stats WHERE term = ANY($1::text[]) AND docs > 0", terms)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MaxMatchTerms is the largest number of distinct terms TextCandidates
// matches, as the SQLite store's MATCH expression.
const MaxMatchTerms = 64

// matchTerms returns the terms TextCandidates matches, by the SQLite
// store's rule (its MatchExpr): the distinct terms that could have come
// from lexical.Terms (non-empty, at most lexical.MaxTermBytes, letters and
// numbers only), in first-occurrence order; when there are more than
// MaxMatchTerms, the longest (in characters) are kept, ties going to the
// earlier term.
func matchTerms(terms []string) []string {
	type cand struct {
		term       string
		runes, pos int
	}
	var cands []cand
	seen := map[string]bool{}
	for _, t := range terms {
		if seen[t] {
			continue
		}
		n, ok := termRunes(t)
		if !ok {
			continue
		}
		seen[t] = true
		cands = append(cands, cand{t, n, len(cands)})
	}
	if len(cands) > MaxMatchTerms {
		slices.SortStableFunc(cands, func(a, b cand) int { return b.runes - a.runes })
		cands = cands[:MaxMatchTerms]
		slices.SortFunc(cands, func(a, b cand) int { return a.pos - b.pos })
	}
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.term
	}
	return out
}

// termRunes reports whether t could be a term (non-empty, at most
// lexical.MaxTermBytes, only letters and numbers) and its length in runes.
func termRunes(t string) (int, bool) {
	if t == "" || len(t) > lexical.MaxTermBytes {
		return 0, false
	}
	n := 0
	for _, r := range t {
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsNumber(r)) {
			return 0, false
		}
		n++
	}
	return n, true
}

// TextCandidates returns every memory that f selects whose terms hold
// any of terms (at most MaxMatchTerms of them: see matchTerms), with the
// statistics of its row that FTS4's matchinfo('pcnalx') gives the SQLite
// store: the rows of the table and their average length (corpus_stats),
// each term's rows and occurrences (term_stats), and the row's own length
// and occurrences, counted here from its terms. The candidates come from
// the GIN index of memory_terms.lexemes; all of it is read in one
// snapshot.
func (s *Store) TextCandidates(ctx context.Context, f search.Filter, terms []string) ([]search.TextCandidate, error) {
	match := matchTerms(terms)
	if len(match) == 0 {
		return nil, nil
	}
	var out []search.TextCandidate
	err := s.read(ctx, func(tx pgx.Tx) error {
		p := params{match}
		cond, ok, err := where(ctx, tx, searchFilter(f), true, &p)
		if err != nil || !ok {
			return err
		}
		var rows, length int64
		if err := tx.QueryRow(ctx, "SELECT docs, length FROM corpus_stats").Scan(&rows, &length); err != nil {
			return err
		}
		avg := 0
		if rows > 0 {
			avg = int((length + rows/2) / rows)
		}
		at := make(map[string]int, len(match))
		global := make([]lexical.TermStats, len(match))
		for i, t := range match {
			at[t] = i
		}
		err = queryEach(ctx, tx, func(r rowScanner) error {
			var t string
			var docs, hits int64
			if err := r.Scan(&t, &docs, &hits); err != nil {
				return err
			}
			if i, ok := at[t]; ok {
				global[i].Docs, global[i].AllHits = int(docs), int(hits)
			}
			return nil
		}, "SELECT term, docs, hits FROM term_stats WHERE term = ANY($1::text[])", match)
		if err != nil {
			return err
		}
		return queryEach(ctx, tx, func(r rowScanner) error {
			var c search.TextCandidate
			var text string
			if err := r.Scan(&c.ID, &c.Created, &text); err != nil {
				return err
			}
			st := lexical.Stats{Rows: int(rows), AvgLength: avg, Terms: slices.Clone(global)}
			for w := range strings.FieldsSeq(text) {
				st.Length++
				if i, ok := at[w]; ok {
					st.Terms[i].Hits++
				}
			}
			c.Stats = st
			out = append(out, c)
			return nil
		}, `SELECT m.seq, m.created_at, t.terms FROM memory_terms t JOIN memories m ON m.seq = t.seq
			WHERE t.lexemes && $1::text[] AND `+cond, p...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// farFirst is a heap of the nearest so far, the farthest (then the
// oldest) on top.
type farFirst []search.VectorCandidate

func (h farFirst) Len() int { return len(h) }
func (h farFirst) Less(i, j int) bool {
	if h[i].Distance != h[j].Distance {
		return h[i].Distance > h[j].Distance
	}
	return h[i].Created < h[j].Created
}
func (h farFirst) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *farFirst) Push(x any)   { *h = append(*h, x.(search.VectorCandidate)) }
func (h *farFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// NearestVectors returns the k memories that f selects nearest to q by
// cosine distance, nearest first (ties: the newer first). It streams the
// vectors of every selected row and computes their distances here, so
// the result is exact under any filter; vectors of another dimension are
// left out. It is the exact scan of Options.ExactSearch, and of searches
// before the in-process index is built.
func (s *Store) NearestVectors(ctx context.Context, f search.Filter, q []float32, k int) ([]search.VectorCandidate, error) {
	if k <= 0 {
		return nil, nil
	}
	var best farFirst
	err := s.read(ctx, func(tx pgx.Tx) error {
		var p params
		cond, ok, err := where(ctx, tx, searchFilter(f), true, &p)
		if err != nil || !ok {
			return err
		}
		var buf []float32
		return queryEach(ctx, tx, func(r rowScanner) error {
			var c search.VectorCandidate
			var blob []byte
			if err := r.Scan(&c.ID, &c.Created, &blob); err != nil {
				return err
			}
			buf, c.Distance = distance(buf, blob, q)
			if math.IsNaN(c.Distance) {
				return nil
			}
			if len(best) < k {
				heap.Push(&best, c)
			} else if farther(best[0], c) {
				best[0] = c
				heap.Fix(&best, 0)
			}
			return nil
		}, `SELECT m.seq, m.created_at, v.embedding FROM memories m JOIN memory_vectors v ON v.seq = m.seq WHERE `+cond, p...)
	})
	if err != nil {
		return nil, err
	}
	out := []search.VectorCandidate(best)
	slices.SortFunc(out, func(a, b search.VectorCandidate) int {
		switch {
		case farther(a, b):
			return 1
		case farther(b, a):
			return -1
		}
		return 0
	})
	return out, nil
}

// farther reports whether a ranks after b: farther, or as far and older.
func farther(a, b search.VectorCandidate) bool {
	if a.Distance != b.Distance {
		return a.Distance > b.Distance
	}
	return a.Created < b.Created
}

// Vectors returns the stored embeddings of the memories seqs names,
// decoded; one whose stored bytes are not float32 little-endian maps to
// nil.
func (s *Store) Vectors(ctx context.Context, seqs []int64) (map[int64][]float32, error) {
	out := make(map[int64][]float32, len(seqs))
	if len(seqs) == 0 {
		if s.closed.Load() {
			return nil, ErrClosed
		}
		return out, nil
	}
	err := s.do(ctx, func(q querier) error {
		return queryEach(ctx, q, vectorInto(out), "SELECT seq, embedding FROM memory_vectors WHERE seq = ANY($1::bigint[])", seqs)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// vectorInto scans a (seq, embedding) row into out, decoded (nil when it
// cannot be).
func vectorInto(out map[int64][]float32) func(rowScanner) error {
	return func(r rowScanner) error {
		var seq int64
		var b []byte
		if err := r.Scan(&seq, &b); err != nil {
			return err
		}
		v, err := decodeVectorInto(nil, b)
		if err != nil {
			v = nil
		}
		out[seq] = v
		return nil
	}
}

// Rows returns the account's memories with the given seqs, in no
// particular order, for a search's hits.
func (s *Store) Rows(ctx context.Context, accountID string, seqs []int64) ([]search.Row[store.Memory], error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	var ms []store.Memory
	err := s.do(ctx, func(q querier) error {
		var err error
		ms, err = queryAll(ctx, q, scanMemory, "SELECT "+memoryColumns+" FROM memories m WHERE m.account_id = $1 AND m.seq = ANY($2::bigint[])", accountID, seqs)
		if err != nil {
			return err
		}
		return fillEntities(ctx, q, ms)
	})
	if err != nil {
		return nil, err
	}
	out := make([]search.Row[store.Memory], len(ms))
	for i, m := range ms {
		out[i] = search.Row[store.Memory]{ID: m.Seq, Created: m.CreatedAt.UnixMilli(), Memory: m}
	}
	return out, nil
}

// FilterVectors returns the vectors of those of seqs whose memories f
// selects for a search, decoded as by Vectors.
func (s *Store) FilterVectors(ctx context.Context, f search.Filter, seqs []int64) (map[int64][]float32, error) {
	out := make(map[int64][]float32, len(seqs))
	err := s.read(ctx, func(tx pgx.Tx) error {
		p := params{seqs}
		cond, ok, err := where(ctx, tx, searchFilter(f), true, &p)
		if err != nil || !ok || len(seqs) == 0 {
			return err
		}
		return queryEach(ctx, tx, vectorInto(out), `SELECT m.seq, v.embedding FROM memories m JOIN memory_vectors v ON v.seq = m.seq
			WHERE m.seq = ANY($1::bigint[]) AND `+cond, p...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FilterIDs returns the seqs of the memories f selects for a search.
func (s *Store) FilterIDs(ctx context.Context, f search.Filter) (map[int64]bool, error) {
	seqs := map[int64]bool{}
	err := s.read(ctx, func(tx pgx.Tx) error {
		var p params
		cond, ok, err := where(ctx, tx, searchFilter(f), true, &p)
		if err != nil || !ok {
			return err
		}
		return queryEach(ctx, tx, func(r rowScanner) error {
			seq, err := scanValue[int64](r)
			if err == nil {
				seqs[seq] = true
			}
			return err
		}, "SELECT m.seq FROM memories m WHERE "+cond, p...)
	})
	if err != nil {
		return nil, err
	}
	return seqs, nil
}

// AgentKey returns the row key of the account's agent that ref names (its
// id or name): the agent attribute of the rows of the vector feed. false:
// the account has no such agent.
func (s *Store) AgentKey(ctx context.Context, accountID, ref string) (string, bool, error) {
	var key string
	err := s.do(ctx, func(q querier) error {
		var err error
		key, err = resolveAgent(ctx, q, accountID, ref, false, time.Time{})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return key, true, nil
}

// OpenVectorFeed opens the change feed (a *Feed) for an index.Index.
func (s *Store) OpenVectorFeed(ctx context.Context) (index.Feed, error) {
	f, err := s.OpenFeed(ctx)
	if err != nil {
		return nil, err
	}
	return f, nil
}
