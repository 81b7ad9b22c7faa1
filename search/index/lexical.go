package index

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

var _ search.Lexical = (*Index)(nil)

// SearchText returns the k memories that f selects that score highest by
// lexical.Score against terms, each at least min, best first (equal
// scores: the larger row id first), after catching up with committed
// writes. Scores use the statistics of every memory the index holds, as
// the store's full-text table does. Filters are applied inside the top-k
// search, from the in-memory attributes where [Index.Search] reads them
// there, else from an allow-list of the store ([Store.FilterIDs]).
//
// While the index is being rebuilt, SearchText answers from the index as
// it was and keeps only hits that f still selects in the store
// ([Store.FilterVectors]): it may miss memories written since, never
// returns one the filter excludes.
//
// SearchText implements [search.Lexical].
func (v *Index) SearchText(ctx context.Context, f search.Filter, terms []string, k int, min float64) ([]lexical.Hit, error) {
	if k < 1 || len(terms) == 0 {
		return nil, nil
	}
	stale, err := v.catchUp(ctx)
	if err != nil {
		return nil, fmt.Errorf("index: catch up: %w", err)
	}
	lx := v.lex.Load()
	var out []lexical.Hit
	for _, hidden := range []bool{false, true} {
		if hidden && !f.IncludeConfidential && !f.IncludeArchived {
			break
		}
		part, ok := v.existing(partKey{f.AccountID, hidden})
		if !ok {
			continue
		}
		allow, err := v.allow(ctx, f, hidden)
		if err != nil {
			return nil, err
		}
		out = append(out, lx.Search(part, lexical.Query{Terms: terms, K: k, Min: min, Allow: allow})...)
	}
	if stale && len(out) > 0 {
		ids := make([]int64, len(out))
		for i, h := range out {
			ids[i] = h.ID
		}
		selected, err := v.st.FilterVectors(ctx, f, ids)
		if err != nil {
			return nil, err
		}
		out = slices.DeleteFunc(out, func(h lexical.Hit) bool { _, ok := selected[h.ID]; return !ok })
	}
	slices.SortFunc(out, func(a, b lexical.Hit) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.ID, a.ID)) })
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// ScoreText returns the lexical.Score against terms of each of ids, in
// their order, as SearchText scores them: 0 for a memory of another
// account, of a partition f leaves out, or that shares no term. It reads
// the index as of its last catch-up (a hybrid search calls it right after
// SearchText).
//
// ScoreText implements [search.Lexical].
func (v *Index) ScoreText(ctx context.Context, f search.Filter, terms []string, ids []int64) ([]float64, error) {
	out := make([]float64, len(ids))
	if len(terms) == 0 || len(ids) == 0 {
		return out, nil
	}
	lx := v.lex.Load()
	for _, hidden := range []bool{false, true} {
		if hidden && !f.IncludeConfidential && !f.IncludeArchived {
			break
		}
		part, ok := v.existing(partKey{f.AccountID, hidden})
		if !ok {
			continue
		}
		for i, s := range lx.Score(part, lexical.Query{Terms: terms}, ids) {
			out[i] = max(out[i], s) // a memory is in one partition: 0 in the other
		}
	}
	return out, nil
}

// allow returns the filter of a search of one partition of f's account:
// nil when f selects the whole visible partition, else from the in-memory
// attributes or an allow-list read from the store.
func (v *Index) allow(ctx context.Context, f search.Filter, hidden bool) (func(int64) bool, error) {
	if !hidden && !narrows(f) {
		return nil, nil
	}
	allow, err := v.attrFilter(ctx, f, hidden)
	if err != nil || allow != nil {
		return allow, err
	}
	ids, err := v.st.FilterIDs(ctx, f)
	if err != nil {
		return nil, err
	}
	return func(id int64) bool { return ids[id] }, nil
}
