package rank

import (
	"math"
	"sort"
	"time"

	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// MaxCandidates is how many records (decisions for decision check,
// patterns for pattern search) are ranked per request: those whose
// embeddings are nearest the query's. Only their titles and bodies are
// read for ranking, one row at a time, and only the final hits are read
// whole. Scoring a body of 50,000 characters takes about 1.5 ms, so even
// at the limits a request ranks in about a second.
const MaxCandidates = 500

// ranking orders scored results: score, then newer, then id, descending.
type ranking struct {
	score   float64
	created time.Time
	id      string
}

func (a ranking) before(b ranking) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if !a.created.Equal(b.created) {
		return a.created.After(b.created)
	}
	return a.id > b.id
}

// Top keeps the best limit records offered to it, in ranking order
// (score, then newer, then id, descending): a candidate list of any length
// is ranked in O(limit) memory. It is not safe for concurrent use.
type Top struct {
	limit     int
	threshold float64
	items     []ranking
}

// NewTop keeps the best limit records scoring at least threshold.
func NewTop(limit int, threshold float64) *Top {
	return &Top{limit: limit, threshold: threshold, items: make([]ranking, 0, max(limit, 0))}
}

// Add offers the record with the id, which is kept if its score is
// positive, at least the threshold, and among the best so far.
func (t *Top) Add(score float64, created time.Time, id string) {
	r := ranking{score, created, id}
	if r.score < t.threshold || r.score <= 0 || t.limit <= 0 {
		return
	}
	if len(t.items) == t.limit && !r.before(t.items[len(t.items)-1]) {
		return
	}
	i := sort.Search(len(t.items), func(i int) bool { return r.before(t.items[i]) })
	if len(t.items) < t.limit {
		t.items = append(t.items, ranking{})
	}
	copy(t.items[i+1:], t.items[i:])
	t.items[i] = r
}

// IDs are the ids of the records kept, best first.
func (t *Top) IDs() []string {
	ids := make([]string, len(t.items))
	for i, r := range t.items {
		ids[i] = r.id
	}
	return ids
}

// Hits returns the kept records as hits, best first: rows are the records
// read by id (in any order), id gives a row's id and hit makes the hit of
// a row and its score. A record whose row is missing (deleted in between)
// is left out.
func Hits[R, H any](t *Top, rows []R, id func(R) string, hit func(R, float64) H) []H {
	byID := make(map[string]R, len(rows))
	for _, row := range rows {
		byID[id(row)] = row
	}
	out := make([]H, 0, len(t.items))
	for _, it := range t.items {
		if row, ok := byID[it.id]; ok {
			out = append(out, hit(row, it.score))
		}
	}
	return out
}

// Query scores short records (a title and a body) against a query.
type Query struct {
	set map[string]struct{} // the query's distinct terms
}

// NewQuery prepares the scoring of records against the query text.
func NewQuery(text string) Query {
	q := Query{set: map[string]struct{}{}}
	for _, t := range lexical.Terms(text) {
		q.set[t] = struct{}{}
	}
	return q
}

// Score is a record's score in [0,1] (API contract §7) from the cosine
// distance of its embedding (of title and body; NaN if none) to the
// query's and the terms they share. It is the better of:
//
//   - the whole record: search.Blend of the cosine similarity and the
//     share of the query's terms found in title and body, discounted by
//     (query terms / record terms)^0.2 when the record is longer than the
//     query, so that a record merely containing the query is not taken
//     for it;
//   - the title alone: the Dice overlap of the query's and the title's
//     terms, 1 for a verbatim title and 0 for a title sharing nothing.
//
// A verbatim title or record scores 1, near-verbatim about 0.8 to 0.9,
// and text sharing no term with the query only its (damped) semantic
// similarity.
func (q Query) Score(distance float64, title, body string) float64 {
	sem := 0.0
	if !math.IsNaN(distance) {
		sem = search.SemanticScore(distance)
	}
	var lex, titleLex float64
	if n := len(q.set); n > 0 {
		titleTerms := distinctTerms(title)
		all := distinctTerms(title + "\n" + body)
		shared := 0
		for t := range q.set {
			if _, ok := all[t]; ok {
				shared++
			}
		}
		lex = float64(shared) / float64(n)
		if len(all) > n {
			lex *= math.Pow(float64(n)/float64(len(all)), 0.2)
		}
		inTitle := 0
		for t := range q.set {
			if _, ok := titleTerms[t]; ok {
				inTitle++
			}
		}
		if len(titleTerms) > 0 {
			titleLex = 2 * float64(inTitle) / float64(n+len(titleTerms))
		}
	}
	return math.Max(search.Blend(sem, lex), titleLex)
}

func distinctTerms(s string) map[string]struct{} {
	ts := lexical.Terms(s)
	m := make(map[string]struct{}, len(ts))
	for _, t := range ts {
		m[t] = struct{}{}
	}
	return m
}
