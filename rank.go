package memoryrelay

// The scoring shared by decision check, pattern search and suggestions,
// and impact analysis: candidates scored by embedding and terms, the best
// kept in a bounded, ordered list.

import (
	"math"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

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

// top keeps the best limit rankings offered to it, in ranking order: a
// candidate list of any length is ranked in O(limit) memory.
type top struct {
	limit int
	items []ranking
}

func newTop(limit int) *top { return &top{limit: limit, items: make([]ranking, 0, limit)} }

// add offers r, which is kept if its score is positive, at least
// threshold, and among the best limit so far.
func (t *top) add(threshold float64, r ranking) {
	if r.score < threshold || r.score <= 0 || t.limit <= 0 {
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

func (t *top) ids() []string {
	ids := make([]string, len(t.items))
	for i, r := range t.items {
		ids[i] = r.id
	}
	return ids
}

// hits returns the ranked items as hits, best first: rows are the items
// read by id (in any order), id gives a row's id and hit makes the hit of
// a row and its score. An item whose row is missing (deleted in between)
// is left out.
func hits[R, H any](t *top, rows []R, id func(R) string, hit func(R, float64) H) []H {
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

// scoredParams validates the common inputs of decision check and pattern
// search: a non-blank query of at most memory.MaxContentChars, a limit (0: def;
// above max: clamped) and a threshold in [0,1] (nil: defThreshold).
func scoredParams(query string, limit, def, max int, threshold *float64, defThreshold float64) (int, float64, error) {
	if strings.TrimFunc(query, unicode.IsSpace) == "" {
		return 0, 0, invalid("Query", "Query is required")
	}
	if !utf8.ValidString(query) || utf8.RuneCountInString(query) > memory.MaxContentChars {
		return 0, 0, invalid("Query", "Query must be 1-%d characters", memory.MaxContentChars)
	}
	limit, err := pageLimit(limit, def, max)
	if err != nil {
		return 0, 0, err
	}
	t, err := scoreThreshold(threshold, defThreshold)
	return limit, t, err
}

// scoreThreshold returns *threshold, which must be in [0,1], or def.
func scoreThreshold(threshold *float64, def float64) (float64, error) {
	if threshold == nil {
		return def, nil
	}
	if t := *threshold; math.IsNaN(t) || t < 0 || t > 1 {
		return 0, invalid("Threshold", "Threshold must be between 0 and 1")
	}
	return *threshold, nil
}

// queryTerms scores short records (a title and a body) against a query.
type queryTerms struct {
	set map[string]struct{} // the query's distinct terms
}

func newQueryTerms(query string) queryTerms {
	qt := queryTerms{set: map[string]struct{}{}}
	for _, t := range lexical.Terms(query) {
		qt.set[t] = struct{}{}
	}
	return qt
}

// score is a record's score in [0,1] (API contract §7) from the cosine
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
func (qt queryTerms) score(distance float64, title, body string) float64 {
	sem := 0.0
	if !math.IsNaN(distance) {
		sem = search.SemanticScore(distance)
	}
	var lex, titleLex float64
	if n := len(qt.set); n > 0 {
		titleTerms := distinctTerms(title)
		all := distinctTerms(title + "\n" + body)
		shared := 0
		for t := range qt.set {
			if _, ok := all[t]; ok {
				shared++
			}
		}
		lex = float64(shared) / float64(n)
		if len(all) > n {
			lex *= math.Pow(float64(n)/float64(len(all)), 0.2)
		}
		inTitle := 0
		for t := range qt.set {
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
