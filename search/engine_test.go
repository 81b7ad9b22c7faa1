package search_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// memRow is a memory of memStore.
type memRow struct {
	account string
	created int64
	text    string
	terms   []string
	vec     []float32
}

// memStore is a search.Store[string] in memory (the memory is its text),
// with the counts of what the engine read.
type memStore struct {
	rows    map[int64]memRow
	deleted map[int64]bool // left out by Rows, as deleted after their candidate was read

	textTerms  [][]string // the terms of each TextCandidates call
	nearest    int        // NearestVectors calls
	vectorsFor [][]int64  // the ids of each Vectors call
}

func newMemStore(t *testing.T, e embed.Embedder, texts map[int64]string) *memStore {
	t.Helper()
	s := &memStore{rows: map[int64]memRow{}, deleted: map[int64]bool{}}
	for id, text := range texts {
		vecs, err := e.Embed(context.Background(), []string{text})
		if err != nil {
			t.Fatal(err)
		}
		s.rows[id] = memRow{account: "a", created: 1000 + id, text: text, terms: lexical.Terms(text), vec: vecs[0]}
	}
	return s
}

func (s *memStore) TermDocs(_ context.Context, terms []string) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range terms {
		for _, r := range s.rows {
			if slices.Contains(r.terms, t) {
				out[t]++
			}
		}
	}
	return out, nil
}

func (s *memStore) TextCandidates(_ context.Context, f search.Filter, terms []string) ([]search.TextCandidate, error) {
	s.textTerms = append(s.textTerms, slices.Clone(terms))
	total := 0
	for _, r := range s.rows {
		total += len(r.terms)
	}
	var out []search.TextCandidate
	for id, r := range s.rows {
		if r.account != f.AccountID {
			continue
		}
		st := lexical.Stats{Rows: len(s.rows), AvgLength: total / len(s.rows), Length: len(r.terms)}
		matched := false
		for _, term := range terms {
			var ts lexical.TermStats
			for oid, o := range s.rows {
				n := 0
				for _, x := range o.terms {
					if x == term {
						n++
					}
				}
				if n > 0 {
					ts.Docs++
					ts.AllHits += n
				}
				if oid == id {
					ts.Hits = n
				}
			}
			matched = matched || ts.Hits > 0
			st.Terms = append(st.Terms, ts)
		}
		if matched {
			out = append(out, search.TextCandidate{ID: id, Created: r.created, Stats: st})
		}
	}
	return out, nil
}

func (s *memStore) NearestVectors(_ context.Context, f search.Filter, q []float32, k int) ([]search.VectorCandidate, error) {
	s.nearest++
	var out []search.VectorCandidate
	for id, r := range s.rows {
		if r.account == f.AccountID {
			out = append(out, search.VectorCandidate{ID: id, Created: r.created, Distance: 1 - float64(vector.Cosine(r.vec, q))})
		}
	}
	slices.SortFunc(out, func(a, b search.VectorCandidate) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(b.Created, a.Created))
	})
	return out[:min(k, len(out))], nil
}

func (s *memStore) Vectors(_ context.Context, ids []int64) (map[int64][]float32, error) {
	s.vectorsFor = append(s.vectorsFor, slices.Clone(ids))
	out := map[int64][]float32{}
	for _, id := range ids {
		if r, ok := s.rows[id]; ok {
			out[id] = r.vec
		}
	}
	return out, nil
}

func (s *memStore) Rows(_ context.Context, account string, ids []int64) ([]search.Row[string], error) {
	var out []search.Row[string]
	for _, id := range ids {
		if r, ok := s.rows[id]; ok && r.account == account && !s.deleted[id] {
			out = append(out, search.Row[string]{ID: id, Created: r.created, Memory: r.text})
		}
	}
	return out, nil
}

func newEngine(t *testing.T, s *memStore, opts search.Options) *search.Engine[string] {
	t.Helper()
	if opts.Embedder == nil {
		opts.Embedder = embed.NewHashing(0)
	}
	e, err := search.NewEngine[string](s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func texts(rs []search.Result[string]) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Memory
	}
	return out
}

func run(t *testing.T, e *search.Engine[string], q search.Query) []search.Result[string] {
	t.Helper()
	if q.Filter.AccountID == "" {
		q.Filter.AccountID = "a"
	}
	if q.Limit == 0 {
		q.Limit = 10
	}
	rs, err := e.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

var corpus = map[int64]string{
	1: "The user prefers TypeScript over JavaScript for new projects.",
	2: "Deployments run every Friday at 5pm from the release branch.",
	3: "The user's dog is called Biscuit and loves long walks.",
	4: "TypeScript projects at work use React and Vite.",
}

// TestEngineModes: each mode scores by its own signal, hybrid by the
// engine's fusion of both, and every score is in (0,1].
func TestEngineModes(t *testing.T) {
	h := embed.NewHashing(0)
	s := newMemStore(t, h, corpus)
	e := newEngine(t, s, search.Options{Embedder: h})
	if e.Fusion() != search.FusionLexicalFirst {
		t.Fatalf("fusion %v for the hashing embedder", e.Fusion())
	}
	const q = "which language does the user prefer for projects"
	kw := run(t, e, search.Query{Text: q, Mode: search.ModeKeyword})
	sem := run(t, e, search.Query{Text: q, Mode: search.ModeSemantic})
	hy := run(t, e, search.Query{Text: q})
	if len(kw) == 0 || kw[0].Memory != corpus[1] || len(sem) == 0 {
		t.Fatalf("keyword %v, semantic %v", texts(kw), texts(sem))
	}
	// Lexical-first hybrid ranks the lexical matches as keyword does,
	// with the same scores.
	for i, r := range kw {
		if hy[i] != r {
			t.Fatalf("hybrid %d: %+v, keyword %+v", i, hy[i], r)
		}
	}
	for _, rs := range [][]search.Result[string]{kw, sem, hy} {
		for i, r := range rs {
			if r.Score <= 0 || r.Score > 1 || (i > 0 && r.Score > rs[i-1].Score) {
				t.Fatalf("scores out of order or range: %+v", rs)
			}
		}
	}
	// A blend ranks every memory by both signals.
	blend := run(t, newEngine(t, s, search.Options{Embedder: h, Fusion: search.FusionBlend}), search.Query{Text: q})
	for _, r := range blend {
		var k, m float64
		for _, x := range kw {
			if x.Memory == r.Memory {
				k = x.Score
			}
		}
		for _, x := range sem {
			if x.Memory == r.Memory {
				m = x.Score
			}
		}
		if want := search.Blend(m, k); math.Abs(r.Score-want) > 1e-12 {
			t.Fatalf("%q: blend %v, want Blend(%v, %v) = %v", r.Memory, r.Score, m, k, want)
		}
	}
	if _, err := e.Search(context.Background(), search.Query{Text: q, Mode: "fuzzy", Limit: 1, Filter: search.Filter{AccountID: "a"}}); err == nil {
		t.Fatal("an unknown mode searched")
	}
}

// TestEngineOrder: the limit, the threshold, ties to the newer memory,
// and a hit deleted before it was read left out.
func TestEngineOrder(t *testing.T) {
	h := embed.NewHashing(0)
	s := newMemStore(t, h, map[int64]string{1: "ferry at noon", 2: "ferry at noon", 3: "ferry at noon", 4: "bus at dawn"})
	s.rows[3] = memRow{account: "a", created: 5000, text: "ferry at noon (newest)", terms: s.rows[3].terms, vec: s.rows[3].vec}
	e := newEngine(t, s, search.Options{Embedder: h})
	if got := texts(run(t, e, search.Query{Text: "ferry noon", Mode: search.ModeKeyword, Limit: 2})); !slices.Equal(got, []string{"ferry at noon (newest)", "ferry at noon"}) {
		t.Fatalf("ties: %v", got)
	}
	rs := run(t, e, search.Query{Text: "ferry noon", Mode: search.ModeKeyword})
	if len(rs) != 3 {
		t.Fatalf("only lexical matches score in keyword mode: %v", texts(rs))
	}
	if got := run(t, e, search.Query{Text: "ferry noon", Mode: search.ModeKeyword, Threshold: math.Nextafter(rs[0].Score, 2)}); len(got) != 0 {
		t.Fatalf("above the best score: %v", texts(got))
	}
	s.deleted[3] = true
	if got := texts(run(t, e, search.Query{Text: "ferry noon", Mode: search.ModeKeyword, Limit: 2})); !slices.Equal(got, []string{"ferry at noon"}) {
		t.Fatalf("a deleted hit: %v", got)
	}
}

// TestEngineRarestTerms: past Options.MaxTextCandidates memories holding
// the query's terms, only the rarest terms are matched, and always one.
func TestEngineRarestTerms(t *testing.T) {
	h := embed.NewHashing(0)
	s := newMemStore(t, h, map[int64]string{1: "common rare", 2: "common words", 3: "common again", 4: "common still"})
	both := lexical.Terms("common rare") // as stemmed
	rare := both[1:]
	for _, c := range []struct {
		max  int
		want []string
	}{
		{0, both}, // the default bound
		{5, both},
		{4, rare},
		{1, rare},
	} {
		s.textTerms = nil
		run(t, newEngine(t, s, search.Options{Embedder: h, MaxTextCandidates: c.max}), search.Query{Text: "common rare", Mode: search.ModeKeyword})
		if len(s.textTerms) != 1 || !slices.Equal(s.textTerms[0], c.want) {
			t.Errorf("MaxTextCandidates %d: matched %v, want %v", c.max, s.textTerms, c.want)
		}
	}
	if _, err := search.NewEngine[string](s, search.Options{Embedder: h, MaxTextCandidates: -1}); err == nil {
		t.Error("a negative MaxTextCandidates")
	}
	if _, err := search.NewEngine[string](s, search.Options{}); err == nil {
		t.Error("no embedder")
	}
}

// TestEngineReadsVectors: a hybrid search reads the stored vectors of the
// lexical candidates beyond the vector top list, except under
// FusionLexicalFirst, which never uses them.
func TestEngineReadsVectors(t *testing.T) {
	h := embed.NewHashing(0)
	many := map[int64]string{}
	for i := range int64(40) {
		many[i+1] = "the harbour lantern note"
	}
	s := newMemStore(t, h, many)
	const q = "harbour"
	run(t, newEngine(t, s, search.Options{Embedder: h}), search.Query{Text: q, Limit: 2})
	if len(s.vectorsFor) != 0 {
		t.Fatalf("lexical-first read vectors of %v", s.vectorsFor)
	}
	run(t, newEngine(t, s, search.Options{Embedder: h, Fusion: search.FusionBlend}), search.Query{Text: q, Limit: 2})
	if len(s.vectorsFor) != 1 || len(s.vectorsFor[0]) != 40-2*4 {
		t.Fatalf("blend read %d vector lists, want one of the %d lexical candidates beyond the top 8", len(s.vectorsFor), 40-2*4)
	}
}

// fixedIndex is a search.Index that returns its neighbours, and records
// the filters it was asked for.
type fixedIndex struct {
	ns      []vector.Neighbor
	filters []search.Filter
	ks      []int // the k of each search
	err     error
}

func (x *fixedIndex) Search(_ context.Context, f search.Filter, _ []float32, k int) ([]vector.Neighbor, error) {
	x.filters = append(x.filters, f)
	x.ks = append(x.ks, k)
	return x.ns[:min(k, len(x.ns))], x.err
}

// TestEngineIndex: with an index set, vector candidates come from it (and
// never from the scan), under the query's filter, their creation time
// learnt from the rows; SetIndex(nil) goes back to the scan.
func TestEngineIndex(t *testing.T) {
	h := embed.NewHashing(0)
	s := newMemStore(t, h, corpus)
	e := newEngine(t, s, search.Options{Embedder: h})
	ix := &fixedIndex{ns: []vector.Neighbor{{ID: 3, Score: 0.5}, {ID: 2, Score: 0.5}}}
	e.SetIndex(ix)
	tier := "hot"
	got := run(t, e, search.Query{Text: "anything at all", Mode: search.ModeSemantic, Filter: search.Filter{AccountID: "a", Tier: &tier}})
	if !slices.Equal(texts(got), []string{corpus[3], corpus[2]}) || got[0].Score != search.SemanticScore(0.5) || s.nearest != 0 {
		t.Fatalf("from the index: %+v, %d scans", got, s.nearest)
	}
	if len(ix.filters) != 1 || ix.filters[0].Tier != &tier {
		t.Fatalf("filters passed to the index: %+v", ix.filters)
	}
	ix.err = errors.New("broken")
	if _, err := e.Search(context.Background(), search.Query{Text: "x", Mode: search.ModeSemantic, Limit: 1, Filter: search.Filter{AccountID: "a"}}); !errors.Is(err, ix.err) {
		t.Fatalf("an index error: %v", err)
	}
	e.SetIndex(nil)
	if run(t, e, search.Query{Text: "anything at all", Mode: search.ModeSemantic}); s.nearest != 1 {
		t.Fatalf("%d scans after SetIndex(nil)", s.nearest)
	}
}

// raceEnabled is set under -race (race_test.go), which makes the
// property tests take fewer seeds.
var raceEnabled bool

// lexIndex is a search.Lexical over a lexical.Index of a memStore's rows,
// one partition per account, filters applied through Allow, and the calls
// it answered counted.
type lexIndex struct {
	x        *lexical.Index
	parts    map[string]uint32
	searches int
	scored   [][]int64
}

func newLexIndex(s *memStore) *lexIndex {
	l := &lexIndex{x: lexical.NewIndex(), parts: map[string]uint32{}}
	for id, r := range s.rows {
		p, ok := l.parts[r.account]
		if !ok {
			p = uint32(len(l.parts) + 1)
			l.parts[r.account] = p
		}
		l.x.Upsert(id, p, r.text)
	}
	return l
}

func (l *lexIndex) SearchText(_ context.Context, f search.Filter, terms []string, k int, min float64) ([]lexical.Hit, error) {
	l.searches++
	p, ok := l.parts[f.AccountID]
	if !ok {
		return nil, nil
	}
	return l.x.Search(p, lexical.Query{Terms: terms, K: k, Min: min}), nil
}

func (l *lexIndex) ScoreText(_ context.Context, f search.Filter, terms []string, ids []int64) ([]float64, error) {
	l.scored = append(l.scored, slices.Clone(ids))
	p, ok := l.parts[f.AccountID]
	if !ok {
		return make([]float64, len(ids)), nil
	}
	return l.x.Score(p, lexical.Query{Terms: terms}, ids), nil
}

// TestEngineLexicalIndex: with a lexical index set, keyword and hybrid
// searches (both fusions) return exactly what they return from every
// lexical match of the store, on random corpora where most memories share
// terms with the query; the index is asked, the store's Text is not.
func TestEngineLexicalIndex(t *testing.T) {
	h := embed.NewHashing(0)
	words := strings.Fields("ferry harbour lantern noon dawn river stone bridge garden market tower bell rain")
	seeds := uint64(30)
	if testing.Short() || raceEnabled {
		seeds = 8
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 9))
		texts := map[int64]string{}
		for id := range int64(20 + rng.IntN(300)) {
			ws := make([]string, 1+rng.IntN(8))
			for i := range ws {
				ws[i] = words[rng.IntN(len(words))]
			}
			texts[id+1] = strings.Join(ws, " ")
		}
		s := newMemStore(t, h, texts)
		for _, fusion := range []search.Fusion{search.FusionLexicalFirst, search.FusionBlend} {
			plain := newEngine(t, s, search.Options{Embedder: h, Fusion: fusion})
			indexed := newEngine(t, s, search.Options{Embedder: h, Fusion: fusion})
			lx := newLexIndex(s)
			indexed.SetLexical(lx)
			for qn := range 5 {
				q := search.Query{Text: words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))], Limit: 1 + rng.IntN(3)}
				if qn%2 == 1 {
					q.Threshold = 0.3
				}
				for _, mode := range []string{search.ModeKeyword, search.ModeHybrid} {
					q.Mode = mode
					want := run(t, plain, q)
					more := q
					more.Limit++
					beyond := run(t, plain, more) // to tell a tie at the cut
					s.textTerms = nil
					got := run(t, indexed, q)
					if len(s.textTerms) != 0 {
						t.Fatalf("the indexed engine read the store's full text")
					}
					if !sameRanking(got, want, beyond) {
						t.Fatalf("seed %d %v %s %+v:\nindexed %v\nplain   %v", seed, fusion, mode, q, got, want)
					}
				}
			}
			if lx.searches == 0 {
				t.Fatal("the lexical index was never asked")
			}
		}
	}
}

// sameRanking reports whether got has want's scores, in order, and its
// memories wherever want's score is not tied with a neighbour's: where
// many memories tie, the lexical index cuts them by row id, the store's
// text by the other signal (see Engine.Search).
// beyond is want with one more hit, if there is one.
func sameRanking(got, want, beyond []search.Result[string]) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range want {
		if got[i].Score != want[i].Score {
			return false
		}
		tied := (i > 0 && want[i-1].Score == want[i].Score) || (i+1 < len(beyond) && beyond[i+1].Score == want[i].Score)
		if !tied && got[i].Memory != want[i].Memory {
			return false
		}
	}
	return true
}

// unitEmbedder embeds every text as the first unit vector of 3.
type unitEmbedder struct{}

func (unitEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{1, 0, 0}
	}
	return out, nil
}
func (unitEmbedder) Dimension() int { return 3 }
func (unitEmbedder) Model() string  { return "unit" }

// tableLexical is a search.Lexical with given scores.
type tableLexical map[int64]float64

func (tl tableLexical) SearchText(_ context.Context, _ search.Filter, _ []string, k int, least float64) ([]lexical.Hit, error) {
	var hs []lexical.Hit
	for id, s := range tl {
		if s >= least && s > 0 {
			hs = append(hs, lexical.Hit{ID: id, Score: s})
		}
	}
	slices.SortFunc(hs, func(a, b lexical.Hit) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.ID, a.ID)) })
	return hs[:min(k, len(hs))], nil
}

func (tl tableLexical) ScoreText(_ context.Context, _ search.Filter, _ []string, ids []int64) ([]float64, error) {
	out := make([]float64, len(ids))
	for i, id := range ids {
		out[i] = tl[id]
	}
	return out, nil
}

// TestEngineHybridExact: a memory in neither candidate list that the
// fusion of the lists' last scores says could win makes the search take
// more candidates, and it wins.
func TestEngineHybridExact(t *testing.T) {
	// Lexical scores, and cosines with the query (the first unit vector).
	kw := tableLexical{1: 0.62, 2: 0.61, 3: 0.6, 4: 0.6, 9: 0.59}
	cos := map[int64]float64{1: 0, 2: 0, 3: 0, 4: 0, 5: 0.61, 6: 0.6, 7: 0.6, 8: 0.6, 9: 0.59}
	s := &memStore{rows: map[int64]memRow{}, deleted: map[int64]bool{}}
	var near []vector.Neighbor
	for id, c := range cos {
		s.rows[id] = memRow{account: "a", created: id, text: fmt.Sprint("memory ", id),
			vec: []float32{float32(c), float32(math.Sqrt(1 - c*c)), 0}}
		if c > 0 && id != 9 {
			near = append(near, vector.Neighbor{ID: id, Score: float32(c)})
		}
	}
	slices.SortFunc(near, func(a, b vector.Neighbor) int { return cmp.Compare(b.Score, a.Score) })
	near = append(near, vector.Neighbor{ID: 9, Score: 0.59})
	e := newEngine(t, s, search.Options{Embedder: unitEmbedder{}, Fusion: search.FusionBlend})
	e.SetIndex(&fixedIndex{ns: near})
	e.SetLexical(kw)
	got := run(t, e, search.Query{Text: "q", Limit: 1})
	if len(got) != 1 || got[0].Memory != "memory 9" || math.Abs(got[0].Score-0.59) > 1e-6 {
		t.Fatalf("hybrid: %+v, want memory 9 at 0.59", got)
	}
}

// TestEngineHybridExactLexicalFirst: under FusionLexicalFirst a memory
// that shares no term with the query scores half its cosine, which can
// beat weak lexical matches although the fusion of the lists' last scores
// (a lexical match's) does not: the search takes more candidates, and it
// wins: the vector side asks the index for 4·Limit neighbours, then
// 16·Limit.
func TestEngineHybridExactLexicalFirst(t *testing.T) {
	kw := tableLexical{1: 0.12, 2: 0.11, 3: 0.10, 4: 0.10}
	cos := map[int64]float64{1: 0.7, 2: 0.69, 3: 0.68, 4: 0.67, 5: 0.6}
	s := &memStore{rows: map[int64]memRow{}, deleted: map[int64]bool{}}
	var near []vector.Neighbor
	for id, c := range cos {
		s.rows[id] = memRow{account: "a", created: id, text: fmt.Sprint("memory ", id),
			vec: []float32{float32(c), float32(math.Sqrt(1 - c*c)), 0}}
		near = append(near, vector.Neighbor{ID: id, Score: float32(c)})
	}
	slices.SortFunc(near, func(a, b vector.Neighbor) int { return cmp.Compare(b.Score, a.Score) })
	e := newEngine(t, s, search.Options{Embedder: unitEmbedder{}, Fusion: search.FusionLexicalFirst})
	ix := &fixedIndex{ns: near}
	e.SetIndex(ix)
	e.SetLexical(kw)
	got := run(t, e, search.Query{Text: "q", Limit: 1})
	if len(got) != 1 || got[0].Memory != "memory 5" || math.Abs(got[0].Score-0.3) > 1e-6 {
		t.Fatalf("hybrid: %+v, want memory 5 at 0.3", got)
	}
	if !slices.Equal(ix.ks, []int{4, 16}) {
		t.Fatalf("the vector index was asked for %v neighbours, want [4 16]", ix.ks)
	}
}
