package memorytest

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/memory"
)

func testContexts(t *testing.T, open Opener) {
	t.Run("Text", func(t *testing.T) { contextText(t, open(t)) })
	t.Run("TextBudget", func(t *testing.T) { contextTextBudget(t, open(t)) })
	t.Run("TextInvalid", func(t *testing.T) { contextTextInvalid(t, open(t)) })
	t.Run("Build", func(t *testing.T) { contextBuild(t, open(t)) })
	t.Run("BuildBudget", func(t *testing.T) { contextBuildBudget(t, open(t)) })
	t.Run("BuildInvalid", func(t *testing.T) { contextBuildInvalid(t, open(t)) })
}

// apricots stores memories that all match "apricot", of agents a and b.
func apricots(t *testing.T, e Env) []memory.Memory {
	var ms []memory.Memory
	for i, s := range []string{
		"Apricot orchard yields doubled this spring",
		"The apricot jam recipe needs less sugar than the plum one",
		"Dried apricot snacks are packed for the hiking trip next weekend in the mountains",
		"Apricot trees need pruning in late winter before the buds open",
	} {
		agent := "a"
		if i%2 == 1 {
			agent = "b"
		}
		ms = append(ms, create(t, e.Account, memory.NewMemory{Content: s, AgentID: agent, Project: ptr("orchard-" + agent)}))
	}
	create(t, e.Account, memory.NewMemory{Content: "Quarterly tax forms are due in April"})
	return ms
}

func contextText(t *testing.T, e Env) {
	ctx, cx := t.Context(), e.Account.Contexts()
	ms := apricots(t, e)
	tc := try(cx.Text(ctx, memory.TextContextParams{Query: "apricot"})).must(t)
	checkTextContext(t, "Text", tc, 0)
	if !slices.ContainsFunc(tc.Hits, func(h memory.Hit) bool { return h.Memory.ID == ms[0].ID }) {
		t.Errorf("Text misses a matching memory")
	}
	for _, h := range tc.Hits {
		for _, m := range ms {
			if m.ID == h.Memory.ID {
				wantEqual(t, "a hit's memory", h.Memory, m)
			}
		}
	}
	exact := try(cx.Text(ctx, memory.TextContextParams{Query: ms[2].Content})).must(t)
	if len(exact.Hits) == 0 || exact.Hits[0].Memory.ID != ms[2].ID || !strings.HasPrefix(exact.Text, ms[2].Content) {
		t.Errorf("Text of a memory's own words does not start with it: %q", exact.Text)
	}
	for _, c := range []struct {
		name string
		p    memory.TextContextParams
		want []memory.Memory
	}{
		{"agent", memory.TextContextParams{Query: "apricot", AgentID: ptr("a")}, []memory.Memory{ms[0], ms[2]}},
		{"project", memory.TextContextParams{Query: "apricot", Project: ptr("orchard-b")}, []memory.Memory{ms[1], ms[3]}},
		{"unknown agent", memory.TextContextParams{Query: "apricot", AgentID: ptr("nobody")}, nil},
	} {
		got := try(cx.Text(ctx, c.p)).must(t)
		checkTextContext(t, "Text "+c.name, got, 0)
		ids := hitIDs(got.Hits)
		slices.Sort(ids)
		want := memoryIDs(c.want)
		slices.Sort(want)
		wantEqual(t, "Text "+c.name+": the memories used", ids, want)
	}
	th := try(cx.Text(ctx, memory.TextContextParams{Query: "apricot", Threshold: 0.5})).must(t)
	checkTextContext(t, "Text with threshold 0.5", th, 0.5)
	if one := try(cx.Text(ctx, memory.TextContextParams{Query: "apricot", Limit: 1})).must(t); len(one.Hits) != 1 {
		t.Errorf("Text limit 1: %d hits", len(one.Hits))
	}
}

// checkTextContext checks the shape of a TextContext: TotalChars counts
// Text, the hits are best first within [threshold,1], and each hit's
// content is in Text, in hit order (the last may be cut).
func checkTextContext(t *testing.T, what string, tc memory.TextContext, threshold float64) {
	t.Helper()
	if n := utf8.RuneCountInString(tc.Text); tc.TotalChars != n {
		t.Errorf("%s: TotalChars %d, but Text has %d code points", what, tc.TotalChars, n)
	}
	checkHits(t, what, tc.Hits, threshold)
	if len(tc.Hits) == 0 && tc.Text != "" {
		t.Errorf("%s: Text %q without hits", what, tc.Text)
	}
	at := 0
	for i, h := range tc.Hits {
		content := h.Memory.Content
		if i == len(tc.Hits)-1 && !strings.Contains(tc.Text[at:], content) {
			// The last hit may be cut to the budget: its start is there.
			content = strings.Fields(content)[0]
		}
		j := strings.Index(tc.Text[at:], content)
		if j < 0 {
			t.Errorf("%s: hit %d's content %q is not in Text after the earlier hits", what, i, content)
			return
		}
		at += j + len(content)
	}
}

func contextTextBudget(t *testing.T, e Env) {
	ctx, cx := t.Context(), e.Account.Contexts()
	apricots(t, e)
	full := try(cx.Text(ctx, memory.TextContextParams{Query: "apricot"})).must(t)
	for _, budget := range []int{1, 5, 12, 25, 1000} {
		tc := try(cx.Text(ctx, memory.TextContextParams{Query: "apricot", MaxTokens: budget})).must(t)
		checkTextContext(t, "Text with a budget", tc, 0)
		if tc.TotalChars > 4*budget {
			t.Errorf("MaxTokens %d: %d characters, more than 4 a token", budget, tc.TotalChars)
		}
		if !strings.HasPrefix(full.Text, tc.Text) {
			t.Errorf("MaxTokens %d: %q is not the unlimited text cut to the budget", budget, tc.Text)
		}
		if budget == 1000 && tc.Text != full.Text {
			t.Errorf("MaxTokens 1000: the text differs from the unlimited one")
		}
		if budget >= 12 && tc.Text == "" {
			t.Errorf("MaxTokens %d: no text at all", budget)
		}
	}
}

func contextTextInvalid(t *testing.T, e Env) {
	ctx, cx := t.Context(), e.Account.Contexts()
	for _, tc := range []struct {
		name  string
		p     memory.TextContextParams
		field string
	}{
		{"no query", memory.TextContextParams{}, "Query"},
		{"query over 51,200 code points", memory.TextContextParams{Query: strings.Repeat("é", 51_201)}, "Query"},
		{"negative budget", memory.TextContextParams{Query: "x", MaxTokens: -1}, "MaxTokens"},
		{"threshold above 1", memory.TextContextParams{Query: "x", Threshold: 1.5}, "Threshold"},
		{"negative limit", memory.TextContextParams{Query: "x", Limit: -1}, "Limit"},
	} {
		_, err := cx.Text(ctx, tc.p)
		wantInvalid(t, tc.name, err, tc.field)
	}
}

func checkBuilt(t *testing.T, what string, bc memory.BuiltContext) {
	t.Helper()
	sum := 0
	for i, it := range bc.Items {
		sum += it.Tokens
		if it.Tokens <= 0 {
			t.Errorf("%s: item %d costs %d tokens", what, i, it.Tokens)
		}
		if it.Score < 0 || it.Score > 1 || i > 0 && it.Score > bc.Items[i-1].Score {
			t.Errorf("%s: item %d scores %v: outside [0,1] or not best first", what, i, it.Score)
		}
	}
	if bc.TokenCount != sum {
		t.Errorf("%s: TokenCount %d, but the items cost %d", what, bc.TokenCount, sum)
	}
	if bc.Latency < 0 {
		t.Errorf("%s: Latency %v", what, bc.Latency)
	}
}

func builtIDs(bc memory.BuiltContext) []string {
	out := make([]string, len(bc.Items))
	for i, it := range bc.Items {
		out[i] = it.Memory.ID
	}
	return out
}

func contextBuild(t *testing.T, e Env) {
	ctx, cx := t.Context(), e.Account.Contexts()
	ms := apricots(t, e)
	bc := try(cx.Build(ctx, memory.BuildContextParams{Query: "apricot", Mode: memory.ModeKeyword})).must(t)
	checkBuilt(t, "Build keyword", bc)
	got := builtIDs(bc)
	slices.Sort(got)
	want := memoryIDs(ms)
	slices.Sort(want)
	wantEqual(t, "Build keyword: the matching memories", got, want)
	for _, it := range bc.Items {
		for _, m := range ms {
			if m.ID == it.Memory.ID {
				wantEqual(t, "an item's memory", it.Memory, m)
			}
		}
	}
	exact := try(cx.Build(ctx, memory.BuildContextParams{Query: ms[1].Content})).must(t)
	checkBuilt(t, "Build", exact)
	if len(exact.Items) == 0 || exact.Items[0].Memory.ID != ms[1].ID {
		t.Errorf("Build of a memory's own words does not put it first")
	}
	if two := try(cx.Build(ctx, memory.BuildContextParams{Query: "apricot", MaxMemories: 2})).must(t); len(two.Items) != 2 {
		t.Errorf("Build MaxMemories 2: %d items", len(two.Items))
	}
	ex := try(cx.Build(ctx, memory.BuildContextParams{Query: "apricot", Mode: memory.ModeKeyword, ExcludeIDs: []string{ms[0].ID, ms[3].ID, malformedID}})).must(t)
	got = builtIDs(ex)
	slices.Sort(got)
	want = []string{ms[1].ID, ms[2].ID}
	slices.Sort(want)
	wantEqual(t, "Build with ExcludeIDs", got, want)
	ag := try(cx.Build(ctx, memory.BuildContextParams{Query: "apricot", Mode: memory.ModeKeyword, AgentID: ptr("b")})).must(t)
	got = builtIDs(ag)
	slices.Sort(got)
	want = []string{ms[1].ID, ms[3].ID}
	slices.Sort(want)
	wantEqual(t, "Build for one agent", got, want)
	if none := try(cx.Build(ctx, memory.BuildContextParams{Query: "apricot", AgentID: ptr("nobody")})).must(t); len(none.Items) != 0 {
		t.Errorf("Build for an unknown agent: %d items", len(none.Items))
	}
}

func contextBuildBudget(t *testing.T, e Env) {
	ctx, cx := t.Context(), e.Account.Contexts()
	for _, s := range []string{
		"Paper lanterns float down the river during the autumn festival every year, lit by children end",
		"Our camping checklist: two lanterns, spare batteries, a stove, matches and the blue tarp end",
		"The museum keeps ship lanterns from the nineteenth century in the basement archive room end",
		"Lanterns in the garden switch on at dusk thanks to a small solar panel by the shed door end",
		"Grandpa repaired brass lanterns as a hobby and sold them at the Saturday flea market end",
		"Stage crew hung forty lanterns above the audience for the final scene of the opera end",
	} {
		create(t, e.Account, memory.NewMemory{Content: s})
	}
	all := try(cx.Build(ctx, memory.BuildContextParams{Query: "lanterns", Mode: memory.ModeKeyword})).must(t)
	if len(all.Items) != 6 {
		t.Fatalf("Build without a budget: %d items, want 6", len(all.Items))
	}
	for _, budget := range []int{100, 150, 128_000} {
		bc := try(cx.Build(ctx, memory.BuildContextParams{Query: "lanterns", Mode: memory.ModeKeyword, MaxTokens: budget})).must(t)
		checkBuilt(t, "Build with a budget", bc)
		if bc.TokenCount > budget {
			t.Errorf("MaxTokens %d: TokenCount %d", budget, bc.TokenCount)
		}
		if len(bc.Items) == 0 {
			t.Errorf("MaxTokens %d: no items, though each memory fits alone", budget)
		}
		if budget < all.TokenCount && len(bc.Items) == len(all.Items) {
			t.Errorf("MaxTokens %d below the whole (%d): every item still packed", budget, all.TokenCount)
		}
		for _, it := range bc.Items {
			if !strings.HasSuffix(it.Memory.Content, " end") {
				t.Errorf("MaxTokens %d: a memory was cut: %q", budget, it.Memory.Content)
			}
		}
	}
}

func contextBuildInvalid(t *testing.T, e Env) {
	ctx, cx := t.Context(), e.Account.Contexts()
	for _, tc := range []struct {
		name  string
		p     memory.BuildContextParams
		field string
	}{
		{"no query", memory.BuildContextParams{}, "Query"},
		{"max memories 101", memory.BuildContextParams{Query: "x", MaxMemories: 101}, "MaxMemories"},
		{"max memories -1", memory.BuildContextParams{Query: "x", MaxMemories: -1}, "MaxMemories"},
		{"max tokens 99", memory.BuildContextParams{Query: "x", MaxTokens: 99}, "MaxTokens"},
		{"max tokens 128,001", memory.BuildContextParams{Query: "x", MaxTokens: 128_001}, "MaxTokens"},
		{"unknown mode", memory.BuildContextParams{Query: "x", Mode: "fuzzy"}, "Mode"},
		{"1,001 excluded ids", memory.BuildContextParams{Query: "x", ExcludeIDs: make([]string, 1001)}, "ExcludeIDs"},
	} {
		_, err := cx.Build(ctx, tc.p)
		wantInvalid(t, tc.name, err, tc.field)
	}
}
