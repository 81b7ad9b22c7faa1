package search_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// meaningStub stands for an embedder whose vectors carry meaning (a neural
// model); it says nothing of itself.
type meaningStub struct{}

func (meaningStub) Embed(context.Context, []string) ([][]float32, error) { return nil, nil }
func (meaningStub) Dimension() int                                       { return 3 }
func (meaningStub) Model() string                                        { return "stub" }

// hidden wraps an embedder without forwarding embed.Lexical.
type hidden struct{ embed.Embedder }

// forwarding wraps an embedder and forwards embed.Lexical.
type forwarding struct{ embed.Embedder }

func (f forwarding) Lexical() bool { return embed.IsLexical(f.Embedder) }

func TestFuse(t *testing.T) {
	lf, bl := search.FusionLexicalFirst, search.FusionBlend
	tests := []struct {
		name              string
		f                 search.Fusion
		semantic, lexical float64
		want              float64
	}{
		{"lexical-first: verbatim", lf, 1, 1, 1},
		{"lexical-first: a lexical match keeps its lexical score", lf, 0.9, 0.35, 0.35},
		{"lexical-first: a weak lexical match ignores a high cosine", lf, 0.8, 0.02, 0.02},
		{"lexical-first: no shared term, half the cosine", lf, 0.6, 0, 0.3},
		{"lexical-first: unrelated", lf, 0.1, 0, 0.05},
		{"lexical-first: negative cosine", lf, -0.4, 0, 0},
		{"lexical-first: out of range", lf, 3, 7, 1},
		{"lexical-first: NaN lexical", lf, 0.4, math.NaN(), 0.2},
		{"blend", bl, 0.8, 0, 0.56},
		{"blend: verbatim", bl, 1, 1, 1},
		{"blend: lexical stronger", bl, 0.2, 0.9, 0.69},
		{"blend: out of range", bl, -1, 2, 0.7},
		{"auto, unresolved, fuses as blend", search.FusionAuto, 0.8, 0, 0.56},
		{"an unknown policy fuses as blend", search.Fusion(42), 0.2, 0.9, 0.69},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.f.Fuse(tt.semantic, tt.lexical)
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("%v.Fuse(%v, %v) = %v, want %v", tt.f, tt.semantic, tt.lexical, got, tt.want)
			}
			if tt.f == bl {
				if b := search.Blend(tt.semantic, tt.lexical); b != got {
					t.Errorf("FusionBlend.Fuse = %v, Blend = %v", got, b)
				}
			}
		})
	}
}

func TestFusionResolve(t *testing.T) {
	h := embed.NewHashing(0)
	tests := []struct {
		name string
		f    search.Fusion
		e    embed.Embedder
		want search.Fusion
	}{
		{"auto, hashing", search.FusionAuto, h, search.FusionLexicalFirst},
		{"auto, zero Hashing", search.FusionAuto, new(embed.Hashing), search.FusionLexicalFirst},
		{"auto, a wrapper that forwards Lexical", search.FusionAuto, forwarding{h}, search.FusionLexicalFirst},
		{"auto, wrappers that forward, twice", search.FusionAuto, forwarding{forwarding{h}}, search.FusionLexicalFirst},
		{"auto, a wrapper that does not forward: the default", search.FusionAuto, hidden{h}, search.FusionBlend},
		{"auto, an embedder of meaning", search.FusionAuto, meaningStub{}, search.FusionBlend},
		{"auto, a forwarding wrapper of an embedder of meaning", search.FusionAuto, forwarding{meaningStub{}}, search.FusionBlend},
		{"explicit blend wins over hashing", search.FusionBlend, h, search.FusionBlend},
		{"explicit lexical-first wins over a hidden hashing", search.FusionLexicalFirst, hidden{h}, search.FusionLexicalFirst},
		{"explicit lexical-first wins over meaning", search.FusionLexicalFirst, meaningStub{}, search.FusionLexicalFirst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Resolve(tt.e); got != tt.want {
				t.Errorf("%v.Resolve = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func TestFusionString(t *testing.T) {
	for f, want := range map[search.Fusion]string{
		search.FusionAuto: "auto", search.FusionLexicalFirst: "lexical-first", search.FusionBlend: "blend", search.Fusion(9): "Fusion(9)",
	} {
		if got := f.String(); got != want {
			t.Errorf("Fusion(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}

// TestFuseCalibration checks API.md §7 for the hybrid score with the
// built-in embedder: a verbatim match scores at least 0.8, a memory sharing
// no word with the query below 0.3, and one that merely contains the query
// (three times as long) at most 0.9.
func TestFuseCalibration(t *testing.T) {
	ctx := context.Background()
	h := embed.NewHashing(0)
	fusion := search.FusionAuto.Resolve(h)
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
		sem := search.SemanticScore(1 - float64(vector.Cosine(vecs[0], vecs[1])))
		lex := lexicalScoreOf(c.query, c.text)
		got := fusion.Fuse(sem, lex)
		t.Logf("%q: semantic %.3f lexical %.3f hybrid %.3f", c.query, sem, lex, got)
		if got < c.min || got > c.max {
			t.Errorf("%q: hybrid %.3f, want in [%v, %v]", c.query, got, c.min, c.max)
		}
	}
}

// lexicalScoreOf is lexical.Score for a table holding text and a few
// unrelated rows, counted as SQLite's matchinfo would count them.
func lexicalScoreOf(query, text string) float64 {
	rows := [][]string{
		lexical.Terms(text),
		lexical.Terms("Deployments run every Friday at 5pm from the release branch."),
		lexical.Terms("The user's dog is called Biscuit and loves long walks."),
		lexical.Terms("Our PostgreSQL database is backed up nightly to cold storage."),
	}
	seen := map[string]bool{}
	var q []string
	for _, t := range lexical.Terms(query) {
		if !seen[t] {
			seen[t] = true
			q = append(q, t)
		}
	}
	st := lexical.Stats{Rows: len(rows), AvgLength: 8, Length: len(rows[0])}
	matched := false
	for _, term := range q {
		var ts lexical.TermStats
		for i, r := range rows {
			n := 0
			for _, x := range r {
				if x == term {
					n++
				}
			}
			if n > 0 {
				ts.Docs++
				ts.AllHits += n
			}
			if i == 0 {
				ts.Hits = n
			}
		}
		matched = matched || ts.Hits > 0
		st.Terms = append(st.Terms, ts)
	}
	if !matched {
		return 0
	}
	return lexical.Score(st)
}

func ExampleFusion() {
	h := embed.NewHashing(0)
	fmt.Println(search.FusionAuto.Resolve(h))
	fmt.Println(search.FusionAuto.Resolve(forwarding{h})) // forwards Lexical
	fmt.Println(search.FusionAuto.Resolve(hidden{h}))     // does not
	fmt.Println(search.FusionBlend.Resolve(h))            // a program's choice wins

	f := search.FusionLexicalFirst
	fmt.Printf("%.2f %.2f\n", f.Fuse(0.9, 0.35), f.Fuse(0.6, 0))
	f = search.FusionBlend
	fmt.Printf("%.2f %.2f\n", f.Fuse(0.9, 0.35), f.Fuse(0.6, 0))
	// Output:
	// lexical-first
	// lexical-first
	// blend
	// blend
	// 0.35 0.30
	// 0.73 0.42
}
