package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

const (
	// MaxQueryTerms is how many distinct terms of a query the lexical
	// side considers: the first MaxQueryTerms distinct terms of
	// [lexical.Terms] in the order they appear (repeats count once). The
	// query's embedding is made from the whole text.
	MaxQueryTerms = 1024

	// DefaultMaxTextCandidates is the default of
	// [Options.MaxTextCandidates].
	DefaultMaxTextCandidates = 50_000
)

// Options configure an [Engine].
type Options struct {
	// Embedder embeds queries. It must be the embedder that made the
	// stored vectors. Required.
	Embedder embed.Embedder

	// Fusion is the policy of hybrid search. [FusionAuto], the zero
	// value, is resolved with Embedder ([Fusion.Resolve]).
	Fusion Fusion

	// MaxTextCandidates bounds the work of the lexical side: when the
	// query's terms occur in more memories than this in total (of all
	// accounts, by [Text.TermDocs]), only the rarest terms are matched,
	// as many as fit in the bound, and always the rarest one. A term so
	// common that matching it would score a large part of the store adds
	// little to BM25 and would dominate the time of the search; memories
	// that share only such terms with the query are still found by the
	// vector side. 0 means [DefaultMaxTextCandidates].
	MaxTextCandidates int
}

// Query is one search.
type Query struct {
	// Text is the query: its terms are matched on the lexical side, its
	// embedding on the vector side. It must not be blank.
	Text string
	// Mode is [ModeHybrid], [ModeSemantic] or [ModeKeyword]; "" is
	// ModeHybrid.
	Mode string
	// Limit is the most hits returned; below 1, none.
	Limit int
	// Threshold is the lowest score of a hit, in [0,1]. A hit scores
	// above 0 in any case.
	Threshold float64
	// Filter selects the memories searched.
	Filter Filter
}

// Result is a hit of a search: a memory and its score, in [0,1].
type Result[M any] struct {
	Memory M
	Score  float64
}

// Engine ranks the memories of a [Store] against queries. It is safe for
// concurrent use.
type Engine[M any] struct {
	st      Store[M]
	embed   embed.Embedder
	fusion  Fusion // resolved: never FusionAuto
	maxText int
	index   atomic.Pointer[indexRef]
}

// indexRef boxes an Index for an atomic pointer.
type indexRef struct{ Index }

// NewEngine returns an engine that searches st with opts.
func NewEngine[M any](st Store[M], opts Options) (*Engine[M], error) {
	if st == nil {
		return nil, errors.New("search: NewEngine: no store")
	}
	if opts.Embedder == nil {
		return nil, errors.New("search: NewEngine: no embedder")
	}
	if opts.MaxTextCandidates < 0 {
		return nil, fmt.Errorf("search: NewEngine: MaxTextCandidates %d is negative", opts.MaxTextCandidates)
	}
	if opts.MaxTextCandidates == 0 {
		opts.MaxTextCandidates = DefaultMaxTextCandidates
	}
	return &Engine[M]{st: st, embed: opts.Embedder, fusion: opts.Fusion.Resolve(opts.Embedder), maxText: opts.MaxTextCandidates}, nil
}

// Fusion returns the engine's fusion policy, resolved: never
// [FusionAuto].
func (e *Engine[M]) Fusion() Fusion { return e.fusion }

// SetIndex makes the engine take vector candidates from ix instead of the
// exact scan of [Vectors.NearestVectors]; nil goes back to the scan. A
// program builds its index in the background and sets it once ready;
// searches in progress finish with what they started with.
func (e *Engine[M]) SetIndex(ix Index) {
	if ix == nil {
		e.index.Store(nil)
		return
	}
	e.index.Store(&indexRef{ix})
}

// Search ranks the memories that q.Filter selects against q and returns
// the best q.Limit with a score of at least q.Threshold, best first, ties
// to the newer memory.
//
// Scores are in [0,1] (API.md §7). In [ModeKeyword] a memory's score is
// its [lexical.Score] (BM25, normalised) against the query's terms, in
// [ModeSemantic] the [SemanticScore] of its vector against the query's
// embedding, and in [ModeHybrid] the engine's [Fusion] of the two.
//
// Candidates come from both sides and are scored on both: the lexical
// side returns every selected memory that shares a matched term with the
// query (see [Options.MaxTextCandidates]); the vector side the 4·Limit
// nearest, from the [Index] when one is set and otherwise by an exact
// scan. A hybrid candidate found by one side only gets its score of the
// other: 0 lexical for a memory that shares no term, and its exact cosine,
// read from the stored vectors, for a lexical candidate beyond the
// vector top list; except under [FusionLexicalFirst], which never reads
// the cosine of a lexical match, and so need not read those vectors.
// Enough vector candidates are taken that every hit of the final list is
// among them: a memory outside the vector top 4·Limit can only rank
// through its lexical score, which every lexical match has.
func (e *Engine[M]) Search(ctx context.Context, q Query) ([]Result[M], error) {
	mode := q.Mode
	if mode == "" {
		mode = ModeHybrid
	}
	if mode != ModeHybrid && mode != ModeSemantic && mode != ModeKeyword {
		return nil, fmt.Errorf("search: unknown mode %q", q.Mode)
	}
	if q.Limit < 1 {
		return nil, nil
	}
	f := q.Filter

	type cand struct {
		sem, kw float64
		hasSem  bool
		created int64
	}
	cands := map[int64]*cand{}
	get := func(id, created int64) *cand {
		c := cands[id]
		if c == nil {
			c = &cand{created: created}
			cands[id] = c
		}
		return c
	}

	if mode != ModeSemantic {
		terms, err := e.rarestTerms(ctx, queryTerms(q.Text))
		if err != nil {
			return nil, fmt.Errorf("search: full-text: %w", err)
		}
		text, err := e.st.TextCandidates(ctx, f, terms)
		if err != nil {
			return nil, fmt.Errorf("search: full-text: %w", err)
		}
		for _, t := range text {
			get(t.ID, t.Created).kw = lexical.Score(t.Stats)
		}
	}
	if mode != ModeKeyword {
		vecs, err := e.embed.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, fmt.Errorf("search: embed query: %w", err)
		}
		if len(vecs) != 1 {
			return nil, fmt.Errorf("search: embed query: %w", vector.ErrInvalid)
		}
		qv := vecs[0]
		if err := vector.Check(qv, e.embed.Dimension()); err != nil {
			return nil, fmt.Errorf("search: embed query: %w", err)
		}
		k := q.Limit * 4
		if ix := e.index.Load(); ix != nil {
			near, err := ix.Search(ctx, f, qv, k)
			if err != nil {
				return nil, fmt.Errorf("search: vector index: %w", err)
			}
			for _, n := range near {
				c := get(n.ID, 0) // the creation time is known once the memory is read
				c.sem, c.hasSem = SemanticScore(1-float64(n.Score)), true
			}
		} else {
			near, err := e.st.NearestVectors(ctx, f, qv, k)
			if err != nil {
				return nil, fmt.Errorf("search: vector scan: %w", err)
			}
			for _, v := range near {
				c := get(v.ID, v.Created)
				c.sem, c.hasSem = SemanticScore(v.Distance), true
			}
		}
		// Lexical candidates beyond the vector top list get their exact
		// semantic score too, so that the fusion never understates them;
		// except under FusionLexicalFirst, which ignores the semantic
		// score of a lexical match: that saves reading the vectors of
		// what is often most of the account.
		lexicalFirst := e.fusion == FusionLexicalFirst
		var missing []int64
		for id, c := range cands {
			if !c.hasSem && !(lexicalFirst && c.kw > 0) {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			stored, err := e.st.Vectors(ctx, missing)
			if err != nil {
				return nil, fmt.Errorf("search: vectors: %w", err)
			}
			for id, v := range stored {
				if len(v) != len(qv) {
					continue // undecodable, or of another model: Reembed's business
				}
				cands[id].sem = SemanticScore(1 - float64(vector.Cosine(v, qv)))
			}
		}
	}

	type scored struct {
		id, created int64
		score       float64
	}
	var ranked []scored
	for id, c := range cands {
		var s float64
		switch mode {
		case ModeKeyword:
			s = c.kw
		case ModeSemantic:
			s = c.sem
		default:
			s = e.fusion.Fuse(c.sem, c.kw)
		}
		if s >= q.Threshold && s > 0 {
			ranked = append(ranked, scored{id, c.created, s})
		}
	}
	sort.Slice(ranked, func(i, j int) bool {
		if ranked[i].score != ranked[j].score {
			return ranked[i].score > ranked[j].score
		}
		if ranked[i].created != ranked[j].created {
			return ranked[i].created > ranked[j].created
		}
		return ranked[i].id > ranked[j].id
	})
	if len(ranked) > q.Limit {
		ranked = ranked[:q.Limit]
	}
	ids := make([]int64, len(ranked))
	for i, s := range ranked {
		ids[i] = s.id
	}
	rows, err := e.st.Rows(ctx, f.AccountID, ids)
	if err != nil {
		return nil, fmt.Errorf("search: read hits: %w", err)
	}
	byID := make(map[int64]Row[M], len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	type hit struct {
		row   Row[M]
		score float64
	}
	hits := make([]hit, 0, len(ranked))
	for _, s := range ranked {
		if r, ok := byID[s.id]; ok { // deleted meanwhile: skipped
			hits = append(hits, hit{r, s.score})
		}
	}
	// Ties go to the newer memory (API.md §7); candidates from the index
	// learn their creation time only now.
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].score != hits[j].score {
			return hits[i].score > hits[j].score
		}
		return hits[i].row.Created > hits[j].row.Created
	})
	out := make([]Result[M], len(hits))
	for i, h := range hits {
		out[i] = Result[M]{Memory: h.row.Memory, Score: h.score}
	}
	return out, nil
}

// queryTerms returns the distinct terms of a query ([lexical.Terms]), in
// the order they first appear, at most MaxQueryTerms of them.
func queryTerms(query string) []string {
	all := lexical.Terms(query)
	seen := make(map[string]struct{}, min(len(all), MaxQueryTerms))
	out := all[:0]
	for _, t := range all {
		if _, dup := seen[t]; dup {
			continue
		}
		seen[t] = struct{}{}
		out = append(out, t)
		if len(out) == MaxQueryTerms {
			break
		}
	}
	return out
}

// rarestTerms keeps the query terms to match: all of them while the
// memories containing them number at most maxText in total, else the
// rarest ones up to that budget, and always the rarest one (see
// Options.MaxTextCandidates).
func (e *Engine[M]) rarestTerms(ctx context.Context, terms []string) ([]string, error) {
	if len(terms) < 2 {
		return terms, nil
	}
	docs, err := e.st.TermDocs(ctx, terms)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, n := range docs {
		total += n
	}
	if total <= e.maxText {
		return terms, nil
	}
	kept := slices.Clone(terms)
	slices.SortStableFunc(kept, func(a, b string) int { return cmp.Compare(docs[a], docs[b]) })
	sum := 0
	for i, t := range kept {
		sum += docs[t]
		if i > 0 && sum > e.maxText {
			return kept[:i], nil
		}
	}
	return kept, nil
}
