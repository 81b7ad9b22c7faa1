package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
	lexical atomic.Pointer[lexicalRef]
}

// indexRef boxes an Index for an atomic pointer.
type indexRef struct{ Index }

// lexicalRef boxes a Lexical for an atomic pointer.
type lexicalRef struct{ Lexical }

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

// SetLexical makes the engine take lexical candidates from lx, the top
// few by score, instead of every match from [Text.TextCandidates]; nil
// goes back to Text. Like SetIndex, it is for an index built in the
// background.
func (e *Engine[M]) SetLexical(lx Lexical) {
	if lx == nil {
		e.lexical.Store(nil)
		return
	}
	e.lexical.Store(&lexicalRef{lx})
}

// candidateFactor is how many candidates each side of a search takes per
// hit asked for.
const candidateFactor = 4

// cand is a memory a search considers, with its scores.
type cand struct {
	sem, kw       float64
	hasSem, hasKw bool
	created       int64 // 0 until its row is read, for candidates of an index
}

// Search ranks the memories that q.Filter selects against q and returns
// the best q.Limit with a score of at least q.Threshold, best first.
//
// Scores are in [0,1] (API.md §7). In [ModeKeyword] a memory's score is
// its [lexical.Score] (BM25, normalised) against the query's terms, in
// [ModeSemantic] the [SemanticScore] of its vector against the query's
// embedding, and in [ModeHybrid] the engine's [Fusion] of the two.
//
// Ties: equal scores are ordered by the other signal in hybrid search
// (the sum of the two scores: under FusionLexicalFirst, lexical matches of
// equal score by their cosine), then by the newer memory, then by the
// larger row id. Where a list is cut at a tie among candidates of an
// index, whose creation times are read only for the hits, the larger row
// id wins.
//
// Candidates come from both sides and are scored on both. The lexical
// side: with a [Lexical] index set, its best 4·Limit (Limit in keyword
// mode); without, every selected memory that shares a matched term with
// the query from [Text] (see [Options.MaxTextCandidates]). The vector
// side: the 4·Limit nearest, from the [Index] when one is set and
// otherwise by an exact scan. A hybrid candidate found by one side only
// gets its score of the other: its lexical score from the index
// ([Lexical.ScoreText]), 0 without one (it shares no matched term), and
// its exact cosine, read from the stored vectors; except under
// [FusionLexicalFirst], which never reads the cosine of a lexical match.
//
// A hybrid search with a lexical index asks it on a goroutine of its own
// while the query is embedded and the vector side searched: on two cores
// the two sides take about as long as the slower.
//
// Hybrid search bounds what a memory outside both candidate lists can
// score: the fusion of the two lists' last scores (of the vector list's
// last and 0 where the lexical list holds every match, as it does
// without a lexical index), and under [FusionLexicalFirst] also half the
// vector list's last cosine (a memory sharing no term); when that could
// reach the hits, the search takes 16·Limit candidates a side instead,
// once.
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
	var lx Lexical
	if r := e.lexical.Load(); r != nil {
		lx = r.Lexical
	}
	// A hybrid search asks the lexical index on a goroutine of its own
	// while the query is embedded and the vector side searched.
	var pending chan lexicalResult
	if lx != nil && mode == ModeHybrid {
		pending = make(chan lexicalResult, 1)
		go func() {
			hits, err := lx.SearchText(ctx, q.Filter, queryTerms(q.Text), q.Limit*candidateFactor, 0)
			pending <- lexicalResult{hits, err}
		}()
		defer func() {
			if pending != nil {
				<-pending // not consumed (an error before rank): wait for it all the same
			}
		}()
	}
	var qv []float32
	if mode != ModeKeyword {
		vecs, err := e.embed.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, fmt.Errorf("search: embed query: %w", err)
		}
		if len(vecs) != 1 {
			return nil, fmt.Errorf("search: embed query: %w", vector.ErrInvalid)
		}
		qv = vecs[0]
		if err := vector.Check(qv, e.embed.Dimension()); err != nil {
			return nil, fmt.Errorf("search: embed query: %w", err)
		}
	}
	k := q.Limit * candidateFactor
	if mode == ModeKeyword {
		k = q.Limit
	}
	ranked, exact, err := e.rank(ctx, q, mode, lx, pending, qv, k)
	if err == nil && !exact {
		ranked, _, err = e.rank(ctx, q, mode, lx, nil, qv, k*candidateFactor)
	}
	if err != nil {
		return nil, err
	}
	return e.hits(ctx, q, ranked)
}

// scored is a ranked candidate.
type scored struct {
	id, created int64
	score, tie  float64
}

// lexicalResult is the answer of Lexical.SearchText.
type lexicalResult struct {
	hits []lexical.Hit
	err  error
}

// rank gathers the candidates of q, k a side, scores and orders them, and
// keeps the best q.Limit. pending, when not nil, delivers the lexical
// index's answer for k, asked for already; rank receives it. exact is
// false when a memory outside the candidates could rank among them (see
// Search).
func (e *Engine[M]) rank(ctx context.Context, q Query, mode string, lx Lexical, pending chan lexicalResult, qv []float32, k int) (ranked []scored, exact bool, err error) {
	f := q.Filter
	cands := map[int64]*cand{}
	get := func(id, created int64) *cand {
		c := cands[id]
		if c == nil {
			c = &cand{created: created}
			cands[id] = c
		} else if c.created == 0 {
			c.created = created
		}
		return c
	}
	terms := queryTerms(q.Text)
	exact = true
	kwFloor, semFloor := 0.0, 0.0 // the last scores of full candidate lists
	kwFull, semFull := false, false

	if mode != ModeKeyword {
		if ix := e.index.Load(); ix != nil {
			near, err := ix.Search(ctx, f, qv, k)
			if err != nil {
				return nil, false, fmt.Errorf("search: vector index: %w", err)
			}
			for _, n := range near {
				c := get(n.ID, 0) // the creation time is known once the memory is read
				c.sem, c.hasSem = SemanticScore(1-float64(n.Score)), true
			}
			if semFull = len(near) == k; semFull {
				semFloor = SemanticScore(1 - float64(near[k-1].Score))
			}
		} else {
			near, err := e.st.NearestVectors(ctx, f, qv, k)
			if err != nil {
				return nil, false, fmt.Errorf("search: vector scan: %w", err)
			}
			for _, v := range near {
				c := get(v.ID, v.Created)
				c.sem, c.hasSem = SemanticScore(v.Distance), true
			}
			if semFull = len(near) == k; semFull {
				semFloor = SemanticScore(near[k-1].Distance)
			}
		}
	}
	if mode != ModeSemantic {
		if lx != nil {
			var hits []lexical.Hit
			if pending != nil {
				r := <-pending
				close(pending) // received: Search's deferred wait must not block
				hits, err = r.hits, r.err
			} else {
				min := 0.0
				if mode == ModeKeyword {
					min = q.Threshold
				}
				hits, err = lx.SearchText(ctx, f, terms, k, min)
			}
			if err != nil {
				return nil, false, fmt.Errorf("search: lexical index: %w", err)
			}
			for _, h := range hits {
				c := get(h.ID, 0)
				c.kw, c.hasKw = h.Score, true
			}
			if kwFull = len(hits) == k; kwFull {
				kwFloor = hits[k-1].Score
			}
		} else {
			matched, err := e.rarestTerms(ctx, terms)
			if err != nil {
				return nil, false, fmt.Errorf("search: full-text: %w", err)
			}
			text, err := e.st.TextCandidates(ctx, f, matched)
			if err != nil {
				return nil, false, fmt.Errorf("search: full-text: %w", err)
			}
			for _, t := range text {
				c := get(t.ID, t.Created)
				c.kw, c.hasKw = lexical.Score(t.Stats), true
			}
		}
	}
	if mode == ModeHybrid {
		if err := e.crossScore(ctx, f, lx, terms, qv, cands); err != nil {
			return nil, false, err
		}
	}

	ranked = make([]scored, 0, len(cands))
	for id, c := range cands {
		var s, tie float64
		switch mode {
		case ModeKeyword:
			s = c.kw
		case ModeSemantic:
			s = c.sem
		default:
			s, tie = e.fusion.Fuse(c.sem, c.kw), c.sem+c.kw
		}
		if s >= q.Threshold && s > 0 {
			ranked = append(ranked, scored{id, c.created, s, tie})
		}
	}
	sortScored(ranked)
	if len(ranked) > q.Limit {
		ranked = ranked[:q.Limit]
	}
	// Could a memory outside both lists rank among these? One outside the
	// vector list (when it is full: otherwise none is) has a cosine of at
	// most semFloor, and a lexical score of at most kwFloor when the
	// lexical index's list is full, else 0 (every lexical match is in
	// it). Fuse grows with each score except at lexical = 0 under
	// FusionLexicalFirst, where a memory that shares no term scores half
	// its cosine, perhaps more than weak lexical matches: the bound is the
	// larger of the two.
	if mode == ModeHybrid && semFull {
		bound := e.fusion.Fuse(semFloor, 0)
		if kwFull {
			bound = max(bound, e.fusion.Fuse(semFloor, kwFloor))
		}
		if bound >= q.Threshold && bound > 0 && (len(ranked) < q.Limit || ranked[len(ranked)-1].score <= bound) {
			exact = false
		}
	}
	return ranked, exact, nil
}

// crossScore gives each hybrid candidate its score of the side that did
// not find it: the lexical score of a vector candidate (from the lexical
// index; without one, a memory that is not a lexical candidate shares no
// matched term and scores 0), and the exact cosine of a lexical candidate
// beyond the vector list, except under FusionLexicalFirst, which ignores
// the cosine of a lexical match: that spares reading their vectors.
func (e *Engine[M]) crossScore(ctx context.Context, f Filter, lx Lexical, terms []string, qv []float32, cands map[int64]*cand) error {
	if lx != nil {
		var ids []int64
		for id, c := range cands {
			if !c.hasKw {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			scores, err := lx.ScoreText(ctx, f, terms, ids)
			if err != nil {
				return fmt.Errorf("search: lexical index: %w", err)
			}
			for i, id := range ids {
				if i < len(scores) {
					cands[id].kw = scores[i]
				}
			}
		}
	}
	lexicalFirst := e.fusion == FusionLexicalFirst
	var missing []int64
	for id, c := range cands {
		if !c.hasSem && !(lexicalFirst && c.kw > 0) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	stored, err := e.st.Vectors(ctx, missing)
	if err != nil {
		return fmt.Errorf("search: vectors: %w", err)
	}
	for id, v := range stored {
		if len(v) != len(qv) {
			continue // undecodable, or of another model: Reembed's business
		}
		cands[id].sem = SemanticScore(1 - float64(vector.Cosine(v, qv)))
	}
	return nil
}

// sortScored orders candidates best first: score, tie, then the newer,
// then the larger row id.
func sortScored(rs []scored) {
	slices.SortFunc(rs, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.tie, a.tie), cmp.Compare(b.created, a.created), cmp.Compare(b.id, a.id))
	})
}

// hits reads the memories of ranked, leaving out any deleted since, in
// order (ties again by creation time, now known).
func (e *Engine[M]) hits(ctx context.Context, q Query, ranked []scored) ([]Result[M], error) {
	ids := make([]int64, len(ranked))
	for i, s := range ranked {
		ids[i] = s.id
	}
	rows, err := e.st.Rows(ctx, q.Filter.AccountID, ids)
	if err != nil {
		return nil, fmt.Errorf("search: read hits: %w", err)
	}
	byID := make(map[int64]Row[M], len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	type hit struct {
		row Row[M]
		s   scored
	}
	hits := make([]hit, 0, len(ranked))
	for _, s := range ranked {
		if r, ok := byID[s.id]; ok { // deleted meanwhile: skipped
			s.created = r.Created
			hits = append(hits, hit{r, s})
		}
	}
	// Candidates from an index learn their creation time only now.
	slices.SortStableFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(b.s.score, a.s.score), cmp.Compare(b.s.tie, a.s.tie), cmp.Compare(b.s.created, a.s.created))
	})
	out := make([]Result[M], len(hits))
	for i, h := range hits {
		out[i] = Result[M]{Memory: h.row.Memory, Score: h.s.score}
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
