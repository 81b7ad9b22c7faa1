package lexical_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// raceEnabled is set under -race (race_test.go), which makes the
// property tests take fewer seeds.
var raceEnabled bool

// model is the brute-force reference of an Index: each document's terms
// and partition, scored by lexical.Score and a BM25 written out here.
type model struct {
	docs map[int64]modelDoc
}

type modelDoc struct {
	part  uint32
	terms []string
}

func newModel() *model { return &model{docs: map[int64]modelDoc{}} }

func (m *model) upsert(id int64, part uint32, text string) {
	m.docs[id] = modelDoc{part: part, terms: lexical.Terms(text)}
}

func (m *model) delete(id int64) { delete(m.docs, id) }

// score returns every document of part that shares a term with terms
// (distinct), scored by rank with the statistics of the whole model or,
// with local, of the partition, sorted best first (score, then larger
// id).
func (m *model) score(part uint32, terms []string, rank lexical.Ranking, local bool) []lexical.Hit {
	n, total := 0, 0
	df := map[string]int{}
	for _, d := range m.docs {
		if local && d.part != part {
			continue
		}
		n++
		total += len(d.terms)
		seen := map[string]bool{}
		for _, t := range d.terms {
			if !seen[t] {
				seen[t] = true
				df[t]++
			}
		}
	}
	var out []lexical.Hit
	for id, d := range m.docs {
		if d.part != part {
			continue
		}
		tf := map[string]int{}
		for _, t := range d.terms {
			tf[t]++
		}
		st := lexical.Stats{Rows: n, Length: len(d.terms)}
		matched := false
		for _, t := range terms {
			st.Terms = append(st.Terms, lexical.TermStats{Hits: tf[t], Docs: df[t]})
			matched = matched || tf[t] > 0
		}
		if !matched {
			continue
		}
		var s float64
		if rank == lexical.RankScore {
			s = lexical.Score(st)
		} else {
			// Okapi BM25 with the exact average length, written out.
			avg := float64(total) / float64(n)
			for _, ts := range st.Terms {
				if ts.Hits == 0 {
					continue
				}
				idf := math.Log(1 + (float64(n-ts.Docs)+0.5)/(float64(ts.Docs)+0.5))
				tf := float64(ts.Hits)
				s += idf * tf * (lexical.DefaultK1 + 1) / (tf + lexical.DefaultK1*(1-lexical.DefaultB+lexical.DefaultB*float64(len(d.terms))/avg))
			}
		}
		out = append(out, lexical.Hit{ID: id, Score: s})
	}
	slices.SortFunc(out, func(a, b lexical.Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.ID, a.ID))
	})
	return out
}

// topK is the reference answer of q: the first q.K of the sorted matches
// that q.Allow selects with a score of at least q.Min, above 0.
func (m *model) topK(part uint32, q lexical.Query) []lexical.Hit {
	var out []lexical.Hit
	for _, h := range m.score(part, distinct(q.Terms), q.Rank, q.PartitionStats) {
		if len(out) == q.K {
			break
		}
		if h.Score > 0 && h.Score >= q.Min && (q.Allow == nil || q.Allow(h.ID)) {
			out = append(out, h)
		}
	}
	return out
}

func distinct(terms []string) []string {
	var out []string
	for _, t := range terms {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// checkSame fails unless got is want: the same ids in the same order with
// scores within 1e-9 (RankScore: identical). Where the reference holds
// scores within 1e-9 of each other, BM25's independent arithmetic may
// order them otherwise, so a different id there must score the same.
func checkSame(t *testing.T, what string, got, want []lexical.Hit, exact bool, all map[int64]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d hits, want %d\ngot  %v\nwant %v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if exact {
			if got[i] != want[i] {
				t.Fatalf("%s: hit %d = %v, want %v\ngot  %v\nwant %v", what, i, got[i], want[i], got, want)
			}
			continue
		}
		if math.Abs(got[i].Score-want[i].Score) > 1e-9 {
			t.Fatalf("%s: hit %d scores %v, want %v", what, i, got[i].Score, want[i].Score)
		}
		if got[i].ID != want[i].ID && math.Abs(all[got[i].ID]-want[i].Score) > 1e-9 {
			t.Fatalf("%s: hit %d is %d (reference score %v), want %d (%v)", what, i, got[i].ID, all[got[i].ID], want[i].ID, want[i].Score)
		}
	}
}

// corpusGen makes random texts over a vocabulary with Zipf-like
// frequencies, small enough that ties and shared terms are common.
type corpusGen struct {
	rng   *rand.Rand
	vocab []string
	zipf  *rand.Zipf
}

func newCorpusGen(seed uint64, vocab int) *corpusGen {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := make([]string, vocab)
	for i := range words {
		words[i] = fmt.Sprintf("w%sx", strings.Repeat(string(rune('a'+i%26)), 1+i/26))
	}
	return &corpusGen{rng: rng, vocab: words, zipf: rand.NewZipf(rand.New(rand.NewPCG(seed+1, seed)), 1.1, 1, uint64(vocab-1))}
}

func (g *corpusGen) word() string { return g.vocab[g.zipf.Uint64()] }

func (g *corpusGen) text(minWords, maxWords int) string {
	ws := make([]string, minWords+g.rng.IntN(maxWords-minWords+1))
	for i := range ws {
		ws[i] = g.word()
	}
	return strings.Join(ws, " ")
}

func (g *corpusGen) query() []string {
	ws := make([]string, 1+g.rng.IntN(6))
	for i := range ws {
		ws[i] = g.word()
		if g.rng.IntN(20) == 0 {
			ws[i] = "unseen"
		}
	}
	return lexical.Terms(strings.Join(ws, " "))
}

// TestIndexMatchesBruteForce checks, over many random corpora, that
// Search returns exactly the reference top k (and SearchExhaustive the
// same), for both rankings, with filters and minimum scores, after
// inserts, updates, moves between partitions and deletes.
func TestIndexMatchesBruteForce(t *testing.T) {
	seeds := 300
	if testing.Short() || raceEnabled {
		seeds = 40
	}
	for seed := range uint64(seeds) {
		g := newCorpusGen(seed, 5+int(seed%7)*20)
		x, m := lexical.NewIndex(), newModel()
		nDocs := 1 + g.rng.IntN(1200)
		maxID := int64(nDocs) * int64(1+g.rng.IntN(3))
		if seed%5 == 0 {
			maxID += 1 << 33 // ids past an offset's reach
		}
		randomID := func() int64 {
			if seed%5 == 0 && g.rng.IntN(2) == 0 {
				return 1<<33 + g.rng.Int64N(int64(nDocs))
			}
			return g.rng.Int64N(maxID)
		}
		parts := uint32(1 + g.rng.IntN(3))
		for i := range nDocs {
			id := int64(i)
			if g.rng.IntN(3) == 0 {
				id = randomID()
			}
			text := g.text(0, 12+int(seed%3)*10)
			p := uint32(g.rng.IntN(int(parts)))
			x.Upsert(id, p, text)
			m.upsert(id, p, text)
		}
		check := func(stage string) {
			for qn := range 6 {
				q := lexical.Query{Terms: g.query(), K: 1 + g.rng.IntN(20), Rank: lexical.Ranking(qn % 2), PartitionStats: qn%3 == 0}
				if g.rng.IntN(3) == 0 {
					mod := int64(2 + g.rng.IntN(9))
					q.Allow = func(id int64) bool { return id%mod == 0 }
				}
				if g.rng.IntN(4) == 0 {
					q.Min = g.rng.Float64() * 0.8
					if q.Rank == lexical.RankBM25 {
						q.Min *= 5
					}
				}
				part := uint32(g.rng.IntN(int(parts)))
				what := fmt.Sprintf("seed %d %s query %d %v rank %d k %d min %.3f partition stats %v", seed, stage, qn, q.Terms, q.Rank, q.K, q.Min, q.PartitionStats)
				want := m.topK(part, q)
				all := map[int64]float64{}
				for _, h := range m.score(part, distinct(q.Terms), q.Rank, q.PartitionStats) {
					all[h.ID] = h.Score
				}
				got := x.Search(part, q)
				checkSame(t, what, got, want, q.Rank == lexical.RankScore, all)
				checkSame(t, what+" exhaustive", x.SearchExhaustive(part, q), got, true, nil)
				// The bulk scorer, forced, with windows from one id (a
				// window per id, every posting on a boundary) to more
				// than the ids span, finds the same to the last bit.
				for _, w := range []int{1, 7, 64, 4096} {
					lexical.SetBulk(x, 1, w)
					checkSame(t, fmt.Sprintf("%s bulk window %d", what, w), x.Search(part, q), got, true, nil)
				}
				lexical.SetBulk(x, 0, 0)
				// Score agrees with Search on every hit, and gives 0 to
				// documents of other partitions and unknown ids.
				ids := []int64{-1}
				for _, h := range got {
					ids = append(ids, h.ID)
				}
				scores := x.Score(part, q, ids)
				if scores[0] != 0 {
					t.Fatalf("%s: Score of an unknown id = %v", what, scores[0])
				}
				for i, h := range got {
					if scores[i+1] != h.Score {
						t.Fatalf("%s: Score(%d) = %v, Search scored %v", what, h.ID, scores[i+1], h.Score)
					}
				}
			}
		}
		check("built")
		// Updates (in place and moving partition) and deletes.
		for range 1 + g.rng.IntN(nDocs) {
			id := randomID()
			switch g.rng.IntN(3) {
			case 0:
				x.Delete(id)
				m.delete(id)
			default:
				text := g.text(0, 20)
				p := uint32(g.rng.IntN(int(parts)))
				x.Upsert(id, p, text)
				m.upsert(id, p, text)
			}
		}
		check("changed")
		if x.Len() != len(m.docs) {
			t.Fatalf("seed %d: Len = %d, want %d", seed, x.Len(), len(m.docs))
		}
		// Deleting everything leaves nothing to find.
		for id := range m.docs {
			x.Delete(id)
		}
		m = newModel()
		for p := range parts {
			if hits := x.Search(p, lexical.Query{Terms: g.query(), K: 10}); len(hits) != 0 {
				t.Fatalf("seed %d: empty index found %v", seed, hits)
			}
			if st := x.PartitionStats(p); st != (lexical.PartitionStats{}) {
				t.Fatalf("seed %d: empty partition has stats %+v", seed, st)
			}
		}
		if st := x.Stats(); st != (lexical.PartitionStats{}) {
			t.Fatalf("seed %d: empty index has stats %+v", seed, st)
		}
	}
}

// TestIndexTies: documents of equal score come larger id first, also at
// the k-th place, where a tie is cut.
func TestIndexTies(t *testing.T) {
	x := lexical.NewIndex()
	for id := range int64(50) {
		x.Upsert(id, 1, "apple banana cherry")
	}
	x.Upsert(100, 1, "apple banana cherry date") // longer: lower score
	for _, rank := range []lexical.Ranking{lexical.RankScore, lexical.RankBM25} {
		hits := x.Search(1, lexical.Query{Terms: lexical.Terms("apple banana"), K: 5, Rank: rank})
		var ids []int64
		for _, h := range hits {
			ids = append(ids, h.ID)
		}
		if want := []int64{49, 48, 47, 46, 45}; !slices.Equal(ids, want) {
			t.Errorf("rank %d: ids %v, want %v", rank, ids, want)
		}
	}
	hits := x.Search(1, lexical.Query{Terms: lexical.Terms("date"), K: 5})
	if len(hits) != 1 || hits[0].ID != 100 {
		t.Errorf("date: %v", hits)
	}
}

// TestIndexStats: the partition's BM25 statistics follow writes, and a
// text without terms counts as a document.
func TestIndexStats(t *testing.T) {
	x := lexical.NewIndex()
	x.Upsert(1, 7, "red fish blue fish")
	x.Upsert(2, 7, "the and of") // only stopwords: no terms
	x.Upsert(3, 8, "green eggs")
	want := lexical.PartitionStats{Docs: 2, AvgLength: 2, Terms: 3, TotalLength: 4}
	if got := x.PartitionStats(7); got != want {
		t.Errorf("PartitionStats(7) = %+v, want %+v", got, want)
	}
	if got := x.Stats(); got != (lexical.PartitionStats{Docs: 3, AvgLength: 2, Terms: 5, TotalLength: 6}) {
		t.Errorf("Stats() = %+v", got)
	}
	x.Upsert(1, 8, "fish") // moves to partition 8
	if got := x.PartitionStats(7); got != (lexical.PartitionStats{Docs: 1, Terms: 0}) {
		t.Errorf("PartitionStats(7) after the move = %+v", got)
	}
	if got := x.PartitionStats(8); got != (lexical.PartitionStats{Docs: 2, AvgLength: 1.5, Terms: 3, TotalLength: 3}) {
		t.Errorf("PartitionStats(8) = %+v", got)
	}
	if got := x.Stats(); got != (lexical.PartitionStats{Docs: 3, AvgLength: 1, Terms: 3, TotalLength: 3}) {
		t.Errorf("Stats() after the move = %+v", got)
	}
	if hits := x.Search(7, lexical.Query{Terms: []string{"fish"}, K: 3}); len(hits) != 0 {
		t.Errorf("fish in 7 after the move: %v", hits)
	}
	if hits := x.Search(8, lexical.Query{Terms: []string{"fish"}, K: 3}); len(hits) != 1 || hits[0].ID != 1 {
		t.Errorf("fish in 8: %v", hits)
	}
	x.Clear()
	if x.Len() != 0 || x.PartitionStats(8) != (lexical.PartitionStats{}) || x.Stats() != (lexical.PartitionStats{}) {
		t.Errorf("after Clear: Len %d, Stats %+v", x.Len(), x.Stats())
	}
}

// TestIndexScoreMeaning: RankScore scores are Score's calibration: the
// query's own text scores 1, a text holding part of it less.
func TestIndexScoreMeaning(t *testing.T) {
	x := lexical.NewIndex()
	texts := []string{
		"The user prefers TypeScript over JavaScript for new projects.",
		"Deployments run every Friday at 5pm from the release branch.",
		"TypeScript projects at work use React and Vite.",
		"The user's dog is called Biscuit and loves long walks.",
	}
	for i, s := range texts {
		x.Upsert(int64(i+1), 1, s)
	}
	hits := x.Search(1, lexical.Query{Terms: lexical.Terms(texts[0]), K: 10})
	if len(hits) != 3 || hits[0].ID != 1 || hits[0].Score != 1 {
		t.Fatalf("verbatim query: %v", hits)
	}
	for _, h := range hits[1:] {
		if h.Score >= 0.5 {
			t.Errorf("partial match %d scores %.3f, want < 0.5", h.ID, h.Score)
		}
	}
}

// TestIndexConcurrent: searches, scores and writes from several
// goroutines at once (run with -race), and the index is consistent after.
func TestIndexConcurrent(t *testing.T) {
	x := lexical.NewIndex()
	g := newCorpusGen(1, 200)
	for id := range int64(2000) {
		x.Upsert(id, uint32(id%2), g.text(5, 20))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newCorpusGen(uint64(100+w), 200)
			for i := range 300 {
				id := g.rng.Int64N(3000)
				switch {
				case w < 2 && i%3 == 0:
					x.Delete(id)
				case w < 2:
					x.Upsert(id, uint32(id%2), g.text(5, 20))
				default:
					q := lexical.Query{Terms: g.query(), K: 10, Rank: lexical.Ranking(i % 2)}
					hits := x.Search(uint32(i%2), q)
					if !slices.IsSortedFunc(hits, func(a, b lexical.Hit) int {
						return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.ID, a.ID))
					}) {
						t.Errorf("hits out of order: %v", hits)
					}
					x.Score(uint32(i%2), q, []int64{id})
				}
			}
		}()
	}
	wg.Wait()
	// The index still agrees with a fresh one of the same documents.
	q := lexical.Query{Terms: []string{"wax", "wbx", "wcx"}, K: 20}
	got := x.Search(0, q)
	if exh := x.SearchExhaustive(0, q); !slices.Equal(got, exh) {
		t.Errorf("after concurrent writes: Search %v, SearchExhaustive %v", got, exh)
	}
}

func ExampleIndex() {
	x := lexical.NewIndex()
	x.Upsert(1, 0, "The user prefers TypeScript over JavaScript.")
	x.Upsert(2, 0, "TypeScript projects at work use React and Vite.")
	x.Upsert(3, 0, "The user's dog is called Biscuit.")
	for _, h := range x.Search(0, lexical.Query{Terms: lexical.Terms("Which language does the user prefer?"), K: 2}) {
		fmt.Printf("%d %.2f\n", h.ID, h.Score)
	}
	// Output:
	// 1 0.58
	// 3 0.19
}

// FuzzIndexSearch: any query text, limit and minimum, against a fixed
// corpus with updates and deletes: no panic, and Search agrees with the
// brute-force reference and with SearchExhaustive.
func FuzzIndexSearch(f *testing.F) {
	f.Add("wax wbx", 10, 0.0, false)
	f.Add("wax wax wax unseen", 1, 0.3, true)
	f.Add("機械学習 café naïve", 3, 0.0, false)
	f.Add("", 0, 0.0, false)
	f.Add("wcx wdx wex wfx wgx whx wix wjx", 50, 2.5, true)
	g := newCorpusGen(7, 40)
	x, m := lexical.NewIndex(), newModel()
	for id := range int64(600) {
		text := g.text(0, 25)
		if id%50 == 0 {
			text += " 機械学習の研究 café"
		}
		x.Upsert(id, uint32(id%2), text)
		m.upsert(id, uint32(id%2), text)
	}
	for id := int64(0); id < 600; id += 7 {
		x.Delete(id)
		m.delete(id)
	}
	for id := int64(3); id < 600; id += 11 {
		text := g.text(1, 10)
		x.Upsert(id, 0, text)
		m.upsert(id, 0, text)
	}
	f.Fuzz(func(t *testing.T, query string, k int, minScore float64, bm25 bool) {
		k = k % 200
		rank := lexical.RankScore
		if bm25 {
			rank = lexical.RankBM25
		}
		q := lexical.Query{Terms: lexical.Terms(query), K: k, Rank: rank, Min: minScore}
		got := x.Search(0, q)
		if k < 1 || math.IsNaN(minScore) {
			if k < 1 && len(got) != 0 {
				t.Fatalf("k %d: %d hits", k, len(got))
			}
			return
		}
		all := map[int64]float64{}
		for _, h := range m.score(0, distinct(q.Terms), rank, false) {
			all[h.ID] = h.Score
		}
		checkSame(t, "search", got, m.topK(0, q), rank == lexical.RankScore, all)
		checkSame(t, "exhaustive", x.SearchExhaustive(0, q), got, true, nil)
	})
}
