package search_test

import (
	"context"
	"math"
	"testing"

	"github.com/memoryrelay/memoryrelay/search"
)

// meaningStub stands for an embedder whose vectors carry meaning (a neural
// model); Fuse only looks at its type.
type meaningStub struct{}

func (meaningStub) Embed(context.Context, []string) ([][]float32, error) { return nil, nil }
func (meaningStub) Dimension() int                                       { return 3 }
func (meaningStub) Model() string                                        { return "stub" }

func TestFuse(t *testing.T) {
	hashing := search.NewHashing(0)
	tests := []struct {
		name              string
		e                 search.Embedder
		semantic, lexical float64
		want              float64
	}{
		{"hashing: verbatim", hashing, 1, 1, 1},
		{"hashing: a lexical match keeps its lexical score", hashing, 0.9, 0.35, 0.35},
		{"hashing: a weak lexical match ignores a high cosine", hashing, 0.8, 0.02, 0.02},
		{"hashing: no shared term, half the cosine", hashing, 0.6, 0, 0.3},
		{"hashing: unrelated", hashing, 0.1, 0, 0.05},
		{"hashing: negative cosine", hashing, -0.4, 0, 0},
		{"hashing: out of range", hashing, 3, 7, 1},
		{"hashing: NaN lexical", hashing, 0.4, math.NaN(), 0.2},
		{"zero Hashing", new(search.Hashing), 0.6, 0, 0.3},
		{"other embedder: Blend", meaningStub{}, 0.8, 0, 0.56},
		{"other embedder: verbatim", meaningStub{}, 1, 1, 1},
		{"other embedder: lexical stronger", meaningStub{}, 0.2, 0.9, 0.69},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := search.Fuse(tt.e, tt.semantic, tt.lexical)
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Fuse(%v, %v) = %v, want %v", tt.semantic, tt.lexical, got, tt.want)
			}
		})
	}
}

// TestFuseCalibration checks API.md §7 for the hybrid score with the
// built-in embedder: a verbatim match scores at least 0.8, a memory sharing
// no word with the query below 0.3, and one that merely contains the query
// (three times as long) at most 0.9.
func TestFuseCalibration(t *testing.T) {
	ctx := context.Background()
	h := search.NewHashing(0)
	const memory = "The user prefers TypeScript over JavaScript for new projects."
	cases := []struct {
		query, text string
		min, max    float64
	}{
		{memory, memory, 0.99, 1},
		{"the user prefers typescript over javascirpt for new projects", memory, 0.8, 0.9},
		{"quantum chromodynamics lattice gauge theory", memory, 0, 0.3},
		{"javascirpt", memory, 0, 0.3},
		{"user prefers typescript", memory + " They also like Go for services and Python for data work, and they review every pull request.", 0, 0.9},
	}
	for _, c := range cases {
		vecs, err := h.Embed(ctx, []string{c.query, c.text})
		if err != nil {
			t.Fatal(err)
		}
		sem := search.SemanticScore(1 - float64(search.Cosine(vecs[0], vecs[1])))
		lex := lexicalScoreOf(c.query, c.text)
		got := search.Fuse(h, sem, lex)
		t.Logf("%q: semantic %.3f lexical %.3f hybrid %.3f", c.query, sem, lex, got)
		if got < c.min || got > c.max {
			t.Errorf("%q: hybrid %.3f, want in [%v, %v]", c.query, got, c.min, c.max)
		}
	}
}

// lexicalScoreOf is LexicalScore for a table holding text and a few
// unrelated rows, computed as SQLite's matchinfo would count it.
func lexicalScoreOf(query, text string) float64 {
	rows := [][]string{
		search.Terms(text),
		search.Terms("Deployments run every Friday at 5pm from the release branch."),
		search.Terms("The user's dog is called Biscuit and loves long walks."),
		search.Terms("Our PostgreSQL database is backed up nightly to cold storage."),
	}
	seen := map[string]bool{}
	var q []string
	for _, t := range search.Terms(query) {
		if !seen[t] {
			seen[t] = true
			q = append(q, t)
		}
	}
	mi := search.Matchinfo{Rows: len(rows), AvgLength: 8, Length: len(rows[0])}
	matched := false
	for _, term := range q {
		var ph search.PhraseStats
		for i, r := range rows {
			n := 0
			for _, x := range r {
				if x == term {
					n++
				}
			}
			if n > 0 {
				ph.Docs++
				ph.AllHits += n
			}
			if i == 0 {
				ph.Hits = n
			}
		}
		matched = matched || ph.Hits > 0
		mi.Phrases = append(mi.Phrases, ph)
	}
	if !matched {
		return 0
	}
	return search.LexicalScore(mi)
}
