package lexical_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/lexical"
)

func TestBM25(t *testing.T) {
	// One row of 10 tokens in a table of 100 rows averaging 5 tokens; the
	// query's first term occurs twice here and in 9 rows in all, the
	// second not here.
	mi := lexical.Stats{Rows: 100, AvgLength: 5, Length: 10,
		Terms: []lexical.TermStats{{Hits: 2, AllHits: 12, Docs: 9}, {Hits: 0, AllHits: 3, Docs: 3}}}
	idf := math.Log(1 + (100-9+0.5)/(9+0.5))
	tests := []struct {
		name  string
		k1, b float64
		want  float64
	}{
		{"defaults", 1.2, 0.75, idf * 2 * 2.2 / (2 + 1.2*(1-0.75+0.75*10.0/5))},
		{"b=0", 1.2, 0, idf * 2 * 2.2 / (2 + 1.2)},
		{"b=1", 2, 1, idf * 2 * 3 / (2 + 2*2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lexical.BM25(mi, tt.k1, tt.b); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("BM25 = %v, want %v", got, tt.want)
			}
		})
	}
	// Robust to counts no real table has.
	odd := lexical.Stats{Rows: 0, AvgLength: 0, Length: -3, Terms: []lexical.TermStats{{Hits: 5, Docs: 9}, {Hits: -1}}}
	if got := lexical.BM25(odd, 1.2, 0.75); math.IsNaN(got) || got <= 0 {
		t.Errorf("BM25 of inconsistent counts = %v, want a positive number", got)
	}
}

// termStats builds query term stats: hits[i] in this row, docs[i] rows in all.
func termStats(hits, docs []int) []lexical.TermStats {
	ps := make([]lexical.TermStats, len(hits))
	for i := range hits {
		ps[i] = lexical.TermStats{Hits: hits[i], AllHits: max(docs[i], hits[i]), Docs: docs[i]}
	}
	return ps
}

// TestScoreCalibration checks Score against API.md §7 with
// hand-built Stats for a table of 1,000 memories averaging 10 terms.
// The query has 8 terms (a sentence of about a dozen words); docs are how
// many memories contain each term.
func TestScoreCalibration(t *testing.T) {
	docs := []int{3, 12, 40, 7, 150, 25, 2, 60}
	all := []int{1, 1, 1, 1, 1, 1, 1, 1}
	changed := func(i, newDocs int) []int { d := slices.Clone(docs); d[i] = newDocs; return d }
	without := func(i int) []int { h := slices.Clone(all); h[i] = 0; return h }
	const N, avg = 1000, 10
	tests := []struct {
		name     string
		length   int
		hits     []int
		docs     []int
		min, max float64
	}{
		{"verbatim", 8, all, docs, 0.999, 1},
		{"one word changed to an unseen word", 8, without(2), changed(2, 0), 0.8, 0.9},
		{"one word changed, common word missing", 8, without(4), docs, 0.85, 0.9},
		{"rarest word changed to an unseen word", 8, without(6), changed(6, 0), 0.75, 0.85},
		{"one word missing from the row", 7, without(5), docs, 0.8, 0.9},
		{"one extra word in the row", 9, all, docs, 0.9, 0.95},
		{"query contained in a row 1.25 times as long", 10, all, docs, 0.85, 0.9},
		{"query contained in a row 1.75 times as long", 14, all, docs, 0.85, 0.9},
		{"query contained in a row twice as long", 16, all, docs, 0.85, 0.9},
		{"half the terms", 8, []int{1, 1, 1, 1, 0, 0, 0, 0}, docs, 0.45, 0.7},
		{"a quarter of the terms", 8, []int{0, 0, 1, 0, 1, 0, 0, 0}, docs, 0.1, 0.3},
		{"no term", 8, make([]int, 8), docs, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mi := lexical.Stats{Rows: N, AvgLength: avg, Length: tt.length, Terms: termStats(tt.hits, tt.docs)}
			s := lexical.Score(mi)
			t.Logf("score %.3f", s)
			if s < tt.min || s > tt.max {
				t.Errorf("Score = %.3f, want in [%v, %v]", s, tt.min, tt.max)
			}
		})
	}
}

func TestScoreShortQueries(t *testing.T) {
	tests := []struct {
		name     string
		mi       lexical.Stats
		min, max float64
	}{
		{"one word, verbatim", lexical.Stats{Rows: 50, AvgLength: 10, Length: 1,
			Terms: termStats([]int{1}, []int{3})}, 1, 1},
		{"one word in a 15-term row", lexical.Stats{Rows: 50, AvgLength: 10, Length: 15,
			Terms: termStats([]int{1}, []int{3})}, 0.55, 0.6},
		{"one word in a 60-term row", lexical.Stats{Rows: 50, AvgLength: 10, Length: 60,
			Terms: termStats([]int{1}, []int{3})}, 0.4, 0.45},
		{"one word repeated in a 4-term row", lexical.Stats{Rows: 50, AvgLength: 10, Length: 4,
			Terms: termStats([]int{4}, []int{3})}, 0.7, 0.9},
		{"two words, both in a 7-term row", lexical.Stats{Rows: 50, AvgLength: 10, Length: 7,
			Terms: termStats([]int{1, 1}, []int{3, 10})}, 0.7, 0.8},
		{"two words, one in a 7-term row", lexical.Stats{Rows: 50, AvgLength: 10, Length: 7,
			Terms: termStats([]int{1, 0}, []int{3, 10})}, 0.3, 0.6},
		{"no terms", lexical.Stats{Rows: 50, AvgLength: 10, Length: 7}, 0, 0},
		{"empty table", lexical.Stats{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := lexical.Score(tt.mi)
			t.Logf("score %.3f", s)
			if s < tt.min || s > tt.max {
				t.Errorf("Score = %.3f, want in [%v, %v]", s, tt.min, tt.max)
			}
		})
	}
}

// TestScoreLength checks how a row's length weighs: fully against a
// row that holds all of the query (it is not the query), hardly against a
// row that holds part of it, so that a row up to ten times the query's
// length holding more of the query still beats a short row holding less.
func TestScoreLength(t *testing.T) {
	docs := []int{3, 12, 40, 7}
	score := func(length int, hits ...int) float64 {
		t.Helper()
		return lexical.Score(lexical.Stats{Rows: 1000, AvgLength: 10, Length: length, Terms: termStats(hits, docs)})
	}
	// All of the query: the longer row scores clearly less.
	if short, long := score(4, 1, 1, 1, 1), score(40, 1, 1, 1, 1); long > 0.7*short {
		t.Errorf("whole query: 4-term row %.3f, 40-term row %.3f; want the long row below 0.7 of the short one", short, long)
	}
	// Half of the query (its two rarest terms): length costs little.
	short, long := score(4, 1, 1, 0, 0), score(40, 1, 1, 0, 0)
	if long < 0.85*short || long > short {
		t.Errorf("half the query: 4-term row %.3f, 40-term row %.3f; want the long row within 15%% below the short one", short, long)
	}
	// More of the query beats less of it.
	for _, length := range []int{4, 10, 40} {
		if more, less := score(length, 1, 1, 1, 0), score(4, 1, 1, 0, 0); more <= less {
			t.Errorf("three terms in a %d-term row %.3f <= two terms in a 4-term row %.3f", length, more, less)
		}
	}
}

func ExampleScore() {
	// The row "user prefer typescript javascript new project" in a table
	// of 20 rows of 7 terms on average, and the query "what does the user
	// prefer?" (terms "user" and "prefer"):
	st := lexical.Stats{
		Rows:      20,
		AvgLength: 7,
		Length:    6,
		Terms: []lexical.TermStats{
			{Hits: 1, AllHits: 5, Docs: 5}, // "user": once in this row, 5 times in all, in 5 rows
			{Hits: 1, AllHits: 4, Docs: 4}, // "prefer"
		},
	}
	fmt.Printf("BM25 %.2f, score %.2f\n", lexical.BM25(st, lexical.DefaultK1, lexical.DefaultB), lexical.Score(st))
	// Output:
	// BM25 3.06, score 0.80
}

// TestScoreQuestionAnswer: a memory that answers a short question in the
// question's own words (all of its terms, and the answer besides) scores
// high but below 0.9, which is for near-verbatim text.
func TestScoreQuestionAnswer(t *testing.T) {
	for _, tt := range []struct{ p, length int }{{3, 5}, {4, 6}, {2, 3}, {5, 8}, {3, 4}} {
		st := lexical.Stats{Rows: 100, AvgLength: 8, Length: tt.length, Terms: termStats(slices.Repeat([]int{1}, tt.p), slices.Repeat([]int{10}, tt.p))}
		if s := lexical.Score(st); s >= 0.9 || s < 0.75 {
			t.Errorf("all %d terms of the question in a memory of %d: %.3f, want in [0.75, 0.9)", tt.p, tt.length, s)
		}
	}
}
