package memoryrelay_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/contexts"
	"github.com/memoryrelay/memoryrelay/memory"
)

func TestEstimateTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"abcd", 1},
		{"abcde", 2},
		{"abcdefgh", 2},
		{"ééééé", 2}, // characters, not bytes
		{strings.Repeat("x", 401), 101},
	} {
		if got := contexts.EstimateTokens(c.in); got != c.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// seed stores memories for one agent and returns their ids in order.
func seed(t testing.TB, r *memoryrelay.Relay, acct string, contents ...string) []string {
	t.Helper()
	ids := make([]string, len(contents))
	for i, c := range contents {
		m, err := r.Account(acct).Memories().Create(context.Background(), memory.NewMemory{Content: c, AgentID: "bot"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = m.Memory.ID
	}
	return ids
}

func TestBuildContextPacksWholeMemoriesIntoBudget(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	// The verbatim match is the best ranked and far too large for small
	// budgets; the others are short and share the query's terms.
	var big strings.Builder
	big.WriteString("deploy pipeline release friday")
	for i := 0; big.Len() < 2000; i++ {
		big.WriteString(" word" + strings.Repeat("x", i%7))
	}
	contents := []string{
		big.String(),
		"The deploy pipeline runs on Friday.",
		"Release notes are written after every deploy.",
		"The pipeline has a manual approval step before release.",
		"Friday deploys need a second reviewer.",
	}
	seed(t, r, acct, contents...)
	stored := map[string]string{}
	for _, c := range contents {
		stored[c] = c
	}

	unlimited, err := r.Account(acct).Contexts().Build(ctx, memory.BuildContextParams{Query: big.String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(unlimited.Items) != len(contents) || unlimited.Items[0].Memory.Content != big.String() {
		t.Fatalf("no budget: %d items, first %.30q", len(unlimited.Items), unlimited.Items[0].Memory.Content)
	}

	for _, budget := range []int{100, 120, 150, 200, 400, 520, 600, 1000} {
		t.Run("max_tokens="+strconv.Itoa(budget), func(t *testing.T) {
			bc, err := r.Account(acct).Contexts().Build(ctx, memory.BuildContextParams{Query: big.String(), MaxTokens: budget})
			if err != nil {
				t.Fatal(err)
			}
			if bc.TokenCount > budget {
				t.Fatalf("token_count %d over max_tokens %d", bc.TokenCount, budget)
			}
			sum := 0
			for _, it := range bc.Items {
				if stored[it.Memory.Content] == "" {
					t.Errorf("packed content %.40q is not a whole stored memory", it.Memory.Content)
				}
				want := (utf8.RuneCountInString(it.Memory.Content)+3)/4 + memory.SeparatorTokens
				if it.Tokens != want {
					t.Errorf("item tokens %d, want ceil(runes/4)+%d = %d", it.Tokens, memory.SeparatorTokens, want)
				}
				sum += it.Tokens
			}
			if sum != bc.TokenCount {
				t.Errorf("token_count %d, items sum to %d", bc.TokenCount, sum)
			}
			bigCost := contexts.EstimateTokens(big.String()) + memory.SeparatorTokens
			hasBig := len(bc.Items) > 0 && bc.Items[0].Memory.Content == big.String()
			if hasBig != (bigCost <= budget) {
				t.Errorf("big memory (%d tokens) packed = %v with budget %d", bigCost, hasBig, budget)
			}
			// Skipping the big one does not stop packing: the short ones
			// that fit come after it.
			if !hasBig && len(bc.Items) != len(contents)-1 {
				t.Errorf("%d items packed without the big memory, want %d", len(bc.Items), len(contents)-1)
			}
		})
	}
}

func TestBuildContextDropsDuplicatesAndExclusions(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	ids := seed(t, r, acct,
		"The deploy pipeline runs every Friday at 5pm.",
		"the deploy   pipeline runs every FRIDAY at 5pm.", // same after normalising case and spaces
		"The deploy pipeline runs every Friday at 5pm!",   // same terms: cosine 1
		"Deploys on Friday need a second reviewer.",
		"The staging deploy pipeline is separate.",
	)
	bc, err := r.Account(acct).Contexts().Build(ctx, memory.BuildContextParams{Query: "deploy pipeline friday"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, it := range bc.Items {
		got[it.Memory.ID] = true
	}
	dups := 0
	for _, id := range ids[:3] {
		if got[id] {
			dups++
		}
	}
	if dups != 1 || !got[ids[3]] || !got[ids[4]] || len(bc.Items) != 3 {
		t.Fatalf("want one of the three duplicates and both others, got %d items: %v", len(bc.Items), got)
	}
	for i := 1; i < len(bc.Items); i++ {
		if bc.Items[i].Score > bc.Items[i-1].Score {
			t.Errorf("items not best first: %v then %v", bc.Items[i-1].Score, bc.Items[i].Score)
		}
	}

	// Excluded ids are never packed (in any case); non-UUIDs are ignored.
	bc, err = r.Account(acct).Contexts().Build(ctx, memory.BuildContextParams{
		Query: "deploy pipeline friday", ExcludeIDs: []string{ids[0], ids[1], ids[2], "not-a-uuid", strings.ToUpper(ids[3])},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bc.Items) != 1 || bc.Items[0].Memory.ID != ids[4] {
		t.Fatalf("after exclusions: %+v", bc.Items)
	}

	// max_memories caps the count.
	bc, err = r.Account(acct).Contexts().Build(ctx, memory.BuildContextParams{Query: "deploy pipeline friday", MaxMemories: 1})
	if err != nil || len(bc.Items) != 1 {
		t.Fatalf("max_memories 1: %v, %d items", err, len(bc.Items))
	}
}

func TestBuildContextValidation(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	for _, c := range []struct {
		name  string
		p     memory.BuildContextParams
		field string
	}{
		{"no query", memory.BuildContextParams{}, "Query"},
		{"max_memories too big", memory.BuildContextParams{Query: "x", MaxMemories: 101}, "MaxMemories"},
		{"max_memories negative", memory.BuildContextParams{Query: "x", MaxMemories: -1}, "MaxMemories"},
		{"max_tokens too small", memory.BuildContextParams{Query: "x", MaxTokens: 99}, "MaxTokens"},
		{"max_tokens too big", memory.BuildContextParams{Query: "x", MaxTokens: 128_001}, "MaxTokens"},
		{"bad mode", memory.BuildContextParams{Query: "x", Mode: "magic"}, "Mode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.Account(acct).Contexts().Build(ctx, c.p)
			var verr *memory.ValidationError
			if !errors.As(err, &verr) || verr.Field() != c.field || !errors.Is(err, memoryrelay.ErrInvalid) {
				t.Fatalf("err %v, want a ValidationError on %s", err, c.field)
			}
		})
	}
}

func TestTextContextCutsAtWordBoundary(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	seed(t, r, acct,
		"Deploys happen on Friday afternoons after the release review.",
		"The release review checks every deploy for rollback plans.",
		"Friday deploy freezes start during the holiday season.",
	)
	full, err := r.Account(acct).Contexts().Text(ctx, memory.TextContextParams{Query: "friday deploy release review"})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Hits) != 3 || full.TotalChars != utf8.RuneCountInString(full.Text) {
		t.Fatalf("unlimited: %d hits, %d chars: %q", len(full.Hits), full.TotalChars, full.Text)
	}
	parts := make([]string, len(full.Hits))
	for i, h := range full.Hits {
		parts[i] = h.Memory.Content
	}
	if full.Text != strings.Join(parts, memory.TextContextSeparator) {
		t.Fatalf("text is not the matches joined best first: %q", full.Text)
	}
	for tokens := 1; tokens <= 50; tokens++ {
		tc, err := r.Account(acct).Contexts().Text(ctx, memory.TextContextParams{Query: "friday deploy release review", MaxTokens: tokens})
		if err != nil {
			t.Fatal(err)
		}
		if tc.TotalChars > tokens*memory.CharsPerToken || tc.TotalChars != utf8.RuneCountInString(tc.Text) {
			t.Fatalf("max_tokens %d: %d chars: %q", tokens, tc.TotalChars, tc.Text)
		}
		if !strings.HasPrefix(full.Text, tc.Text) {
			t.Fatalf("max_tokens %d: %q is not a prefix of the full text", tokens, tc.Text)
		}
		// The cut is at a word boundary: the next character of the full
		// text is whitespace, or there is none.
		if rest := full.Text[len(tc.Text):]; tc.Text != "" && rest != "" {
			if next, _ := utf8.DecodeRuneInString(rest); !unicode.IsSpace(next) {
				t.Fatalf("max_tokens %d: cut inside a word: %q|%q", tokens, tc.Text, rest[:min(10, len(rest))])
			}
		}
		if tc.Text == "" && len(tc.Hits) != 0 || tc.Text != "" && len(tc.Hits) == 0 {
			t.Fatalf("max_tokens %d: %d hits for %q", tokens, len(tc.Hits), tc.Text)
		}
	}
	// limit clamps to 50; threshold filters.
	tc, err := r.Account(acct).Contexts().Text(ctx, memory.TextContextParams{Query: "friday deploy", Limit: 500, Threshold: 0.99})
	if err != nil || len(tc.Hits) != 0 || tc.Text != "" {
		t.Fatalf("threshold 0.99: %v %+v", err, tc)
	}
}
