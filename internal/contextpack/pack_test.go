package contextpack_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/contextpack"
)

// rules are memoryrelay's: 4 characters a token, 1 token a separator,
// duplicates from cosine 0.95.
var rules = contextpack.Rules{CharsPerToken: 4, SeparatorTokens: 1, DuplicateCosine: 0.95}

func TestTokens(t *testing.T) {
	for _, c := range []struct {
		rules contextpack.Rules
		in    string
		want  int
	}{
		{rules, "", 0},
		{rules, "a", 1},
		{rules, "abcd", 1},
		{rules, "abcde", 2},
		{rules, "abcdefgh", 2},
		{rules, "ééééé", 2}, // characters, not bytes
		{rules, strings.Repeat("x", 401), 101},
		{contextpack.Rules{CharsPerToken: 1}, "abc", 3},
		{contextpack.Rules{CharsPerToken: 3}, "abcd", 2},
		{contextpack.Rules{}, "abc", 0},
	} {
		if got := c.rules.Tokens(c.in); got != c.want {
			t.Errorf("%+v.Tokens(%q) = %d, want %d", c.rules, c.in, got, c.want)
		}
	}
}

// text is n characters of distinct content (so no two are duplicates).
func text(tag string, n int) string {
	return (tag + " " + strings.Repeat("x", n))[:n]
}

func TestPack(t *testing.T) {
	unit := func(i int) []float32 { v := make([]float32, 4); v[i] = 1; return v }
	for _, c := range []struct {
		name      string
		cands     []contextpack.Candidate
		maxItems  int
		maxTokens int
		want      []int // indexes kept
	}{
		{"all fit", []contextpack.Candidate{{Text: text("a", 8)}, {Text: text("b", 4)}}, 10, 0, []int{0, 1}},
		{"empty", nil, 10, 100, nil},
		{"max items", []contextpack.Candidate{{Text: "a"}, {Text: "b"}, {Text: "c"}}, 2, 0, []int{0, 1}},
		// 400 characters cost 101 tokens: skipped whole, the next ones fit.
		{"too big is skipped, packing goes on", []contextpack.Candidate{{Text: text("big", 400)}, {Text: text("s1", 40)}, {Text: text("s2", 40)}}, 10, 100, []int{1, 2}},
		{"exactly the budget", []contextpack.Candidate{{Text: text("a", 36)}, {Text: text("b", 36)}}, 10, 20, []int{0, 1}},
		{"one token over", []contextpack.Candidate{{Text: text("a", 36)}, {Text: text("b", 37)}}, 10, 20, []int{0}},
		{"same text after case and spaces", []contextpack.Candidate{{Text: "Deploy on  Friday"}, {Text: "deploy on friday"}, {Text: "other"}}, 10, 0, []int{0, 2}},
		{"a skipped duplicate does not count", []contextpack.Candidate{{Text: "a"}, {Text: "A"}, {Text: "b"}}, 2, 0, []int{0, 2}},
		{"near-duplicate vectors", []contextpack.Candidate{
			{Text: "one", Vector: []float32{1, 0, 0, 0}},
			{Text: "two", Vector: []float32{0.99, 0.1, 0, 0}}, // cosine 0.995
			{Text: "three", Vector: unit(1)},
			{Text: "four", Vector: []float32{0.9, 0.44, 0, 0}}, // cosine 0.898 with one
		}, 10, 0, []int{0, 2, 3}},
		{"no vector: only texts compare", []contextpack.Candidate{{Text: "one", Vector: unit(0)}, {Text: "two"}, {Text: "three", Vector: unit(0)}}, 10, 0, []int{0, 1}},
		{"other dimension never a duplicate", []contextpack.Candidate{{Text: "one", Vector: unit(0)}, {Text: "two", Vector: []float32{1, 0}}}, 10, 0, []int{0, 1}},
		{"a skipped candidate's vector is not kept", []contextpack.Candidate{
			{Text: text("big", 400), Vector: unit(0)},
			{Text: "small", Vector: unit(0)},
		}, 10, 100, []int{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			kept, tokens := rules.Pack(c.cands, c.maxItems, c.maxTokens)
			var got []int
			sum := 0
			for _, k := range kept {
				got = append(got, k.Index)
				if want := rules.Tokens(c.cands[k.Index].Text) + rules.SeparatorTokens; k.Tokens != want {
					t.Errorf("candidate %d costs %d, want %d", k.Index, k.Tokens, want)
				}
				sum += k.Tokens
			}
			if !slices.Equal(got, c.want) || tokens != sum || (c.maxTokens > 0 && tokens > c.maxTokens) {
				t.Errorf("kept %v (%d tokens), want %v", got, tokens, c.want)
			}
			if kept == nil {
				t.Error("nil, want an empty list")
			}
		})
	}
}

func TestJoin(t *testing.T) {
	texts := []string{"Deploys happen on Friday.", "The review checks rollbacks.", "Freezes start in December."}
	full := strings.Join(texts, "\n\n")
	for _, c := range []struct {
		max   int
		text  string
		n     int
		chars int
	}{
		{0, full, 3, utf8.RuneCountInString(full)},
		{1000, full, 3, utf8.RuneCountInString(full)},
		{len(texts[0]), texts[0], 1, len(texts[0])},
		{len(texts[0]) + 2, texts[0], 1, len(texts[0])},              // the separator fits, no word of the next
		{len(texts[0]) + 2 + 3, texts[0] + "\n\nThe", 2, 25 + 2 + 3}, // one word of the next
		{7, "Deploys", 1, 7},
		{6, "", 0, 0}, // not even the first word
		{12, "Deploys", 1, 7},
	} {
		text, n, chars := contextpack.Join(texts, "\n\n", c.max)
		if text != c.text || n != c.n || chars != c.chars {
			t.Errorf("Join(%d) = %q, %d, %d; want %q, %d, %d", c.max, text, n, chars, c.text, c.n, c.chars)
		}
	}
	if text, n, chars := contextpack.Join(nil, "\n\n", 10); text != "" || n != 0 || chars != 0 {
		t.Errorf("Join(nil) = %q %d %d", text, n, chars)
	}
}

func TestCutAtWord(t *testing.T) {
	for _, c := range []struct {
		in    string
		limit int
		want  string
	}{
		{"hello world", 11, "hello world"},
		{"hello world", 20, "hello world"},
		{"hello world", 10, "hello"},
		{"hello world", 6, "hello"},
		{"hello world", 5, "hello"},
		{"hello world", 4, ""},
		{"hello world", 0, ""},
		{"héllo wörld", 8, "héllo"}, // characters, not bytes
		{"a\tb\nc", 3, "a\tb"},
		{"trailing   ", 9, "trailing"},
	} {
		if got := contextpack.CutAtWord(c.in, c.limit); got != c.want {
			t.Errorf("CutAtWord(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
		}
	}
}

// FuzzJoin checks Join's promises on any texts and budget: at most
// maxChars characters, counted right, a prefix of the unlimited join that
// ends at a word boundary of it.
func FuzzJoin(f *testing.F) {
	f.Add("Deploys happen on Friday.", "The review checks rollbacks.", 30)
	f.Add("héllo wörld", "ünïcode  spaces\there", 7)
	f.Add("", "x", 1)
	f.Fuzz(func(t *testing.T, a, b string, maxChars int) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) || maxChars < 0 || maxChars > 1<<16 {
			t.Skip()
		}
		texts := []string{a, b}
		full, _, fullChars := contextpack.Join(texts, "\n\n", 0)
		if full != a+"\n\n"+b || fullChars != utf8.RuneCountInString(full) {
			t.Fatalf("unlimited: %q, %d", full, fullChars)
		}
		text, n, chars := contextpack.Join(texts, "\n\n", maxChars)
		if chars != utf8.RuneCountInString(text) || (maxChars > 0 && chars > maxChars) || n < 0 || n > 2 {
			t.Fatalf("Join(%d) = %q, %d, %d", maxChars, text, n, chars)
		}
		if !strings.HasPrefix(full, text) {
			t.Fatalf("%q is not a prefix of %q", text, full)
		}
		if rest := full[len(text):]; text != "" && rest != "" {
			if next, _ := utf8.DecodeRuneInString(rest); !unicode.IsSpace(next) {
				t.Fatalf("cut inside a word: %q|%q", text, rest)
			}
		}
	})
}
