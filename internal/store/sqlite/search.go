package sqlite

// The reads of retrieval: *Store implements search.Store[Memory] (what
// package search's Engine reads) and index.Store (what the vector index of
// package search/index reads when it searches). Memories are named by
// their seq, the search tables' docid.

import (
	"context"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
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
// terms, from the full-text index's own statistics; terms no memory has
// are absent. Each term is one SQL variable: the caller passes distinct
// terms and bounds their number (SQLite allows 32,766 variables).
func (s *Store) TermDocs(ctx context.Context, terms []string) (map[string]int, error) {
	out := make(map[string]int, len(terms))
	if len(terms) == 0 {
		return out, nil
	}
	in, args := inList(terms)
	err := queryEach(ctx, s.q(ctx), func(r rowScanner) error {
		var t string
		var n int
		if err := r.Scan(&t, &n); err != nil {
			return err
		}
		out[t] = n
		return nil
	}, "SELECT term, documents FROM memory_fts_terms WHERE col = '*' AND term IN "+in, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TextCandidates returns every memory that f selects whose terms match
// any of terms (at most MaxMatchTerms of them: see MatchExpr), with the
// statistics of its row from FTS4's matchinfo('pcnalx').
func (s *Store) TextCandidates(ctx context.Context, f search.Filter, terms []string) ([]search.TextCandidate, error) {
	cond, args, ok, err := s.where(ctx, searchFilter(f), true)
	match := MatchExpr(terms)
	if err != nil || !ok || match == "" {
		return nil, err
	}
	// CROSS JOIN keeps the full-text index as the outer loop: SQLite would
	// otherwise walk the account's memories and evaluate the whole MATCH
	// expression once per row.
	q := `SELECT m.seq, matchinfo(memory_fts, 'pcnalx'), m.created_at FROM memory_fts CROSS JOIN memories m ON m.seq = memory_fts.docid
		WHERE memory_fts MATCH ? AND ` + cond
	args = append([]any{match}, args...)
	return queryAll(ctx, s.q(ctx), func(r rowScanner) (search.TextCandidate, error) {
		var c search.TextCandidate
		var info []byte
		if err := r.Scan(&c.ID, &info, &c.Created); err != nil {
			return c, err
		}
		st, err := ParseMatchinfo(info)
		c.Stats = st
		return c, err
	}, q, args...)
}

// NearestVectors returns the k memories that f selects nearest to q by
// cosine distance (sqlite-vec's vec_distance_cosine), nearest first. It
// scans every selected row, so the result is exact under any filter (for
// rows stored as int8, to within the query's own quantisation: see
// cosineDistance).
func (s *Store) NearestVectors(ctx context.Context, f search.Filter, q []float32, k int) ([]search.VectorCandidate, error) {
	cond, args, ok, err := s.where(ctx, searchFilter(f), true)
	if err != nil || !ok {
		return nil, err
	}
	query := `SELECT m.seq, ` + cosineDistance("v.embedding") + ` AS d, m.created_at FROM memories m JOIN memory_vectors v ON v.seq = m.seq
		WHERE ` + cond + ` ORDER BY d, m.created_at DESC LIMIT ?`
	args = append(queryArgs(q), args...)
	args = append(args, k)
	return queryAll(ctx, s.q(ctx), func(r rowScanner) (search.VectorCandidate, error) {
		var c search.VectorCandidate
		err := r.Scan(&c.ID, &c.Distance, &c.Created)
		return c, err
	}, query, args...)
}

// Vectors returns the stored embeddings of the memories seqs names,
// decoded (either format, see [DecodeVector]); one whose BLOB is in
// neither maps to nil.
func (s *Store) Vectors(ctx context.Context, seqs []int64) (map[int64][]float32, error) {
	out := make(map[int64][]float32, len(seqs))
	for len(seqs) > 0 {
		n := min(len(seqs), maxInList)
		in, args := inList(seqs[:n])
		seqs = seqs[n:]
		if err := queryEach(ctx, s.q(ctx), vectorInto(out), "SELECT seq, embedding FROM memory_vectors WHERE seq IN "+in, args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxInList is how many values an IN list of [Store.Vectors] holds at
// most: lists longer than that are split into several statements.
const maxInList = 500

// vectorInto scans a (seq, embedding) row into out, decoded (nil when it
// cannot be).
func vectorInto(out map[int64][]float32) func(rowScanner) error {
	return func(r rowScanner) error {
		var seq int64
		var b []byte
		if err := r.Scan(&seq, &b); err != nil {
			return err
		}
		v, err := DecodeVector(b)
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
	ms, err := s.memoriesBySeq(ctx, accountID, seqs)
	if err != nil {
		return nil, err
	}
	out := make([]search.Row[store.Memory], len(ms))
	for i, m := range ms {
		out[i] = search.Row[store.Memory]{ID: m.Seq, Created: m.CreatedAt.UnixMilli(), Memory: m}
	}
	return out, nil
}

// memoriesBySeq returns the account's memories with the given sequence
// numbers, in no particular order.
func (s *Store) memoriesBySeq(ctx context.Context, accountID string, seqs []int64) ([]store.Memory, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	// "+m.account_id" keeps SQLite from walking the account's index: the
	// primary-key lookups of the IN list are what we want.
	in, args := inList(seqs)
	out, err := queryAll(ctx, s.q(ctx), scanMemory, "SELECT "+memoryColumns+" FROM memories m WHERE +m.account_id = ? AND m.seq IN "+in,
		append([]any{accountID}, args...)...)
	if err != nil {
		return nil, err
	}
	return out, fillEntities(ctx, s.q(ctx), out)
}

// FilterVectors returns the vectors of those of seqs whose memories f
// selects for a search, decoded as by Vectors.
func (s *Store) FilterVectors(ctx context.Context, f search.Filter, seqs []int64) (map[int64][]float32, error) {
	out := make(map[int64][]float32, len(seqs))
	cond, condArgs, ok, err := s.where(ctx, searchFilter(f), true)
	if err != nil || !ok {
		return out, err
	}
	for len(seqs) > 0 {
		n := min(len(seqs), maxInList)
		in, args := inList(seqs[:n])
		seqs = seqs[n:]
		err := queryEach(ctx, s.q(ctx), vectorInto(out), `SELECT m.seq, v.embedding FROM memories m JOIN memory_vectors v ON v.seq = m.seq
			WHERE m.seq IN `+in+` AND `+cond, append(args, condArgs...)...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FilterIDs returns the seqs of the memories f selects for a search.
func (s *Store) FilterIDs(ctx context.Context, f search.Filter) (map[int64]bool, error) {
	seqs := map[int64]bool{}
	cond, args, ok, err := s.where(ctx, searchFilter(f), true)
	if err != nil || !ok {
		return seqs, err
	}
	err = queryEach(ctx, s.q(ctx), func(r rowScanner) error {
		seq, err := scanValue[int64](r)
		if err == nil {
			seqs[seq] = true
		}
		return err
	}, "SELECT m.seq FROM memories m WHERE "+cond, args...)
	if err != nil {
		return nil, err
	}
	return seqs, nil
}

// AgentKey returns the row key of the account's agent that ref names (its
// id or name): the agent attribute of the rows of the vector feed. false:
// the account has no such agent.
func (s *Store) AgentKey(ctx context.Context, accountID, ref string) (string, bool, error) {
	key, err := resolveAgent(ctx, s.q(ctx), accountID, ref, false, time.Time{})
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return key, true, nil
}
