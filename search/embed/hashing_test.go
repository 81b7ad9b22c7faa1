package embed_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// Compile-time check that Hashing is an Embedder.
var (
	_ embed.Embedder = (*embed.Hashing)(nil)
	_ embed.Lexical  = (*embed.Hashing)(nil)
)

// embedPair returns the cosine similarity of a and b under h.
func embedPair(t testing.TB, h embed.Embedder, a, b string) float64 {
	t.Helper()
	vs, err := h.Embed(context.Background(), []string{a, b})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	return float64(vector.Dot(vs[0], vs[1]))
}

func TestHashingModelAndDimension(t *testing.T) {
	tests := []struct {
		name      string
		h         *embed.Hashing
		wantDim   int
		wantModel string
	}{
		{"default", embed.NewHashing(0), 384, "memoryrelay-hash-v1-384"},
		{"negative is default", embed.NewHashing(-5), 384, "memoryrelay-hash-v1-384"},
		{"zero value", &embed.Hashing{}, 384, "memoryrelay-hash-v1-384"},
		{"768", embed.NewHashing(768), 768, "memoryrelay-hash-v1-768"},
		{"tiny", embed.NewHashing(2), 2, "memoryrelay-hash-v1-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Dimension(); got != tt.wantDim {
				t.Errorf("Dimension() = %d, want %d", got, tt.wantDim)
			}
			if got := tt.h.Model(); got != tt.wantModel {
				t.Errorf("Model() = %q, want %q", got, tt.wantModel)
			}
			vs, err := tt.h.Embed(context.Background(), []string{"hello world"})
			if err != nil {
				t.Fatal(err)
			}
			if err := vector.Check(vs[0], tt.wantDim); err != nil {
				t.Errorf("vector.Check: %v", err)
			}
		})
	}
}

func TestHashingVectors(t *testing.T) {
	h := embed.NewHashing(0)
	texts := []string{
		"The user prefers TypeScript over JavaScript for new projects.",
		"", "   ", "???", "the of and is it", "a", "我喜欢机器学习",
		"word word word word word word word word",
		string(make([]byte, 10000)),
	}
	vs, err := h.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(texts) {
		t.Fatalf("Embed returned %d vectors for %d texts", len(vs), len(texts))
	}
	for i, v := range vs {
		if err := vector.Check(v, h.Dimension()); err != nil {
			t.Errorf("text %q: %v", texts[i], err)
		}
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Errorf("text %q: squared norm %v, want 1", texts[i], norm)
		}
	}
	// Texts without letters or digits share one vector; stopword-only
	// texts fall back to their stopwords.
	if c := vector.Dot(vs[1], vs[3]); c < 0.999 {
		t.Errorf(`cos("", "???") = %v, want 1`, c)
	}
	if c := vector.Dot(vs[0], vs[1]); math.Abs(float64(c)) > 0.2 {
		t.Errorf(`cos(sentence, "") = %v, want about 0`, c)
	}
	if c := embedPair(t, h, "What is it?", "it is what it is"); c < 0.8 {
		t.Errorf("stopword-only texts with the same words: cos = %v, want >= 0.8", c)
	}

	empty, err := h.Embed(context.Background(), nil)
	if err != nil || len(empty) != 0 {
		t.Errorf("Embed(nil) = %v, %v; want empty, nil", empty, err)
	}
}

func TestHashingDeterministicAndConcurrent(t *testing.T) {
	h := embed.NewHashing(0)
	texts := append([]string{}, calibrationBase...)
	for _, bc := range benchTexts {
		texts = append(texts, bc.text)
	}
	want, err := h.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	// A second embedder of the same model gives the same vectors.
	other, _ := embed.NewHashing(0).Embed(context.Background(), texts)
	for i := range want {
		if !slices.Equal(want[i], other[i]) {
			t.Fatalf("two Hashing(384) disagree on %q", texts[i])
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 20 {
				// Different batch shapes exercise the pooled scratch.
				i := g % len(texts)
				got, err := h.Embed(context.Background(), texts[i:])
				if err != nil {
					t.Error(err)
					return
				}
				for j := range got {
					if !slices.Equal(got[j], want[i+j]) {
						t.Errorf("concurrent Embed(%q) differs", texts[i+j])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestHashingGolden pins the vector of one text. If it fails, the features
// changed: bump the model version in hashing.go (stored vectors of the old
// version are no longer comparable) and update the numbers below.
func TestHashingGolden(t *testing.T) {
	h := embed.NewHashing(0)
	vs, err := h.Embed(context.Background(), []string{"The user prefers TypeScript over JavaScript."})
	if err != nil {
		t.Fatal(err)
	}
	v := vs[0]
	type coord struct {
		i int
		x float32
	}
	var top []coord
	nonzero := 0
	for i, x := range v {
		if x != 0 {
			nonzero++
			top = append(top, coord{i, x})
		}
	}
	slices.SortFunc(top, func(a, b coord) int {
		if d := math.Abs(float64(b.x)) - math.Abs(float64(a.x)); d != 0 {
			return int(math.Copysign(1, d))
		}
		return a.i - b.i
	})
	got := fmt.Sprintf("nonzero %d", nonzero)
	for _, c := range top[:4] {
		got += fmt.Sprintf(" %d:%.4f", c.i, c.x)
	}
	const want = "nonzero 69 336:-0.2966 125:-0.2543 46:0.1825 15:0.1734"
	if got != want {
		t.Errorf("golden vector changed (bump the model version):\n got %s\nwant %s", got, want)
	}
}

func TestHashingContext(t *testing.T) {
	h := embed.NewHashing(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed with cancelled ctx = %v, want context.Canceled", err)
	}
}

// calibrationBase are sentences of about a dozen words.
var calibrationBase = []string{
	"The user prefers TypeScript over JavaScript for all new frontend projects at work.",
	"Never deploy the billing service on Fridays unless a critical security fix is needed.",
	"My daughter's birthday is on March third and she loves chocolate cake with strawberries.",
	"The staging database is reset every Monday morning before the weekly engineering standup.",
}

// TestHashingCalibration checks the Hashing embedder against API.md §7: a
// verbatim or near-verbatim match scores >= 0.8, text with no meaningful
// term in common < 0.3 (we aim for < 0.15), and only near-identical text
// > 0.9.
func TestHashingCalibration(t *testing.T) {
	h := embed.NewHashing(0)
	tests := []struct {
		name     string
		a, b     string
		min, max float64
	}{
		// Identical.
		{"identical", calibrationBase[0], calibrationBase[0], 0.99, 1},
		{"identical long", benchTexts[1].text, benchTexts[1].text, 0.99, 1},
		{"case and punctuation", calibrationBase[0],
			"the user prefers typescript over javascript, for all new frontend projects at work", 0.99, 1},
		// Near-verbatim: one word changed, dropped or misspelt.
		{"one word changed", calibrationBase[0],
			"The user prefers TypeScript over JavaScript for all new backend projects at work.", 0.8, 1},
		{"one word changed 2", calibrationBase[1],
			"Never deploy the billing service on Fridays unless a critical performance fix is needed.", 0.8, 1},
		{"one word changed 3", calibrationBase[2],
			"My daughter's birthday is on March third and she loves vanilla cake with strawberries.", 0.8, 1},
		{"one word dropped", calibrationBase[0],
			"The user prefers TypeScript over JavaScript for all frontend projects at work.", 0.8, 1},
		{"one word dropped 2", calibrationBase[3],
			"The staging database is reset every Monday morning before the engineering standup.", 0.8, 1},
		{"word forms", calibrationBase[3],
			"The staging databases are reset every Monday morning before the weekly engineering standups.", 0.95, 1},
		{"one typo", calibrationBase[0],
			"The user prefers TypeScirpt over JavaScript for all new frontend projects at work.", 0.8, 1},
		{"one word added", calibrationBase[1],
			"Never deploy the billing service on Fridays unless a critical security fix is urgently needed.", 0.8, 1},
		// Related but not near-identical: at most 0.9.
		{"half the words shared", calibrationBase[0],
			"The user prefers TypeScript for work but writes Python scripts for data analysis.", 0.3, 0.75},
		{"same topic, other words", calibrationBase[1],
			"Deploy the billing service to production every Tuesday after the tests pass.", 0.2, 0.75},
		{"contained in a longer text", calibrationBase[0],
			calibrationBase[0] + " They also like strict compiler settings, ESLint and Prettier in every repository.", 0.5, 0.9},
		// Nothing but stopwords in common: near 0.
		{"unrelated", calibrationBase[0], calibrationBase[2], -0.15, 0.15},
		{"unrelated 2", calibrationBase[1], calibrationBase[3], -0.15, 0.15},
		{"unrelated, stopwords shared", "What is the name of the cat that she has?",
			"What is the capital of the country that he visited?", -0.15, 0.15},
		{"synonyms are not matched", "The car needs new tyres.", "The automobile requires fresh tires.", -0.15, 0.3},
		// The realistic example: a question and the memory that answers it.
		{"question vs answer", "The user prefers TypeScript over JavaScript for new projects.",
			"What programming language does the user prefer?", 0.3, 0.7},
		{"question vs unrelated", "The deployment runs every Friday at 5pm.",
			"What programming language does the user prefer?", -0.15, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := embedPair(t, h, tt.a, tt.b)
			t.Logf("cos = %.3f", c)
			if c < tt.min || c > tt.max {
				t.Errorf("cos(%q, %q) = %.3f, want in [%v, %v]", tt.a, tt.b, c, tt.min, tt.max)
			}
		})
	}
}

// TestHashingUnrelatedPairs checks every pair of a set of texts that share
// no term: their cosines stay near 0.
func TestHashingUnrelatedPairs(t *testing.T) {
	texts := []string{
		"The user prefers TypeScript over JavaScript for new projects.",
		"The deployment runs every Friday at 5pm.",
		"My daughter's birthday is on March third.",
		"Alice leads the payments team.",
		"Logs are retained for thirty days in the observability stack.",
		"Bob uses Vim with tabs instead of spaces.",
		"The mobile app is written in Kotlin and Swift.",
		"She is allergic to peanuts and shellfish.",
		"Customer support tickets are triaged each morning.",
		"Our office moved to Berlin last spring.",
		"The API rate limit is one hundred requests per minute.",
		"Remember to water the tomato plants on Sunday.",
		"The quarterly roadmap focuses on hiring and reliability.",
		"His favourite film is a Korean thriller about a family.",
		"我喜欢机器学习和自然语言处理",
		"Le chat dort sur le canapé près de la fenêtre.",
	}
	h := embed.NewHashing(0)
	vs, err := h.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	over := 0
	for i := range texts {
		for j := i + 1; j < len(texts); j++ {
			ti, tj := lexical.Terms(texts[i]), lexical.Terms(texts[j])
			for _, term := range ti {
				if slices.Contains(tj, term) {
					t.Fatalf("test texts %q and %q share %q", texts[i], texts[j], term)
				}
			}
			c := math.Abs(float64(vector.Dot(vs[i], vs[j])))
			worst = max(worst, c)
			if c >= 0.15 {
				over++
			}
			// §7 requires < 0.3; leave a margin.
			if c >= 0.25 {
				t.Errorf("|cos(%q, %q)| = %.3f, want < 0.25", texts[i], texts[j], c)
			}
		}
	}
	// The cosine of unrelated texts is noise with a standard deviation of
	// about 1/√dim (0.05 at 384); we aim for under 0.15 in 99% of pairs.
	pairs := len(texts) * (len(texts) - 1) / 2
	if over*50 > pairs {
		t.Errorf("%d of %d unrelated pairs have |cos| >= 0.15, want at most 2%%", over, pairs)
	}
	t.Logf("unrelated pairs: %d, |cos| >= 0.15: %d, worst: %.3f", pairs, over, worst)
}

func ExampleHashing() {
	h := embed.NewHashing(0)
	vs, err := h.Embed(context.Background(), []string{
		"The user prefers TypeScript over JavaScript for new projects.",
		"The deployment runs every Friday at 5pm.",
		"What programming language does the user prefer?",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Model(), len(vs[0]))
	fmt.Printf("answer:    %.2f\n", vector.Dot(vs[2], vs[0]))
	fmt.Printf("unrelated: %.2f\n", vector.Dot(vs[2], vs[1]))
	// Output:
	// memoryrelay-hash-v1-384 384
	// answer:    0.36
	// unrelated: -0.03
}

func BenchmarkHashingEmbed(b *testing.B) {
	h := embed.NewHashing(0)
	ctx := context.Background()
	for _, bc := range benchTexts {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.text)))
			texts := []string{bc.text}
			for b.Loop() {
				if _, err := h.Embed(ctx, texts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.text)))
			b.RunParallel(func(pb *testing.PB) {
				texts := []string{bc.text}
				for pb.Next() {
					if _, err := h.Embed(ctx, texts); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
		})
	}
}

// benchTexts are a short memory and a ~500-character one.
var benchTexts = []struct{ name, text string }{
	{"short", "The user prefers TypeScript over JavaScript for new projects."},
	{"500B", "Meeting notes from the quarterly planning session: the platform team " +
		"agreed to migrate the billing service from the legacy monolith to Go by " +
		"the end of June. Alice will own the database schema changes and Bob will " +
		"write the data backfill scripts. Deployments stay frozen on Fridays unless " +
		"a critical security fix is needed. The user asked to be reminded two days " +
		"before each milestone and prefers summaries in bullet points rather than " +
		"long paragraphs. Open question: whether to keep PostgreSQL for analytics."},
}
