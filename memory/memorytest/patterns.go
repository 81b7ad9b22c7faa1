package memorytest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/memory"
)

func testPatterns(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { patternCreate(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { patternInvalid(t, open(t)) })
	t.Run("Adopt", func(t *testing.T) { patternAdopt(t, open(t)) })
	t.Run("Search", func(t *testing.T) { patternSearch(t, open(t)) })
	t.Run("Suggest", func(t *testing.T) { patternSuggest(t, open(t)) })
}

func patternCreate(t *testing.T, e Env) {
	ctx, c, ps := t.Context(), newClock(), e.Account.Patterns()
	in := memory.NewPattern{Title: "Retry with exponential backoff", Description: "Double the wait after each failure",
		Category: ptr("resilience"), ExampleCode: ptr("for d := time.Second; ; d *= 2 {}"), Scope: "project",
		Tags: []string{"retry", "network"}, SourceProject: ptr("payments"), Metadata: json.RawMessage(`{"level":"senior"}`)}
	p := try(ps.Create(ctx, in)).must(t)
	wantUUID(t, "ID", p.ID)
	c.instant(t, "CreatedAt", p.CreatedAt)
	src := try(e.Account.Projects().Get(ctx, "payments")).must(t)
	wantEqual(t, "Create", p, memory.Pattern{ID: p.ID, Title: in.Title, Description: in.Description, Category: in.Category,
		ExampleCode: in.ExampleCode, Scope: "project", Tags: in.Tags, SourceProjectID: &src.ID, SourceProjectSlug: ptr("payments"),
		Metadata: in.Metadata, CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt})
	wantEqual(t, "Get", try(ps.Get(ctx, p.ID)).must(t), p)

	g := try(ps.Create(ctx, memory.NewPattern{Title: "Small functions", Description: "Keep them short"})).must(t)
	if g.Scope != "global" || g.Tags == nil || len(g.Tags) != 0 || g.AdoptionCount != 0 || g.SourceProjectID != nil {
		t.Errorf("Create with defaults: Scope %q, Tags %#v, AdoptionCount %d", g.Scope, g.Tags, g.AdoptionCount)
	}
}

func patternInvalid(t *testing.T, e Env) {
	ctx, ps := t.Context(), e.Account.Patterns()
	tags21 := make([]string, 21)
	for i := range tags21 {
		tags21[i] = "t" + strings.Repeat("x", i)
	}
	base := memory.NewPattern{Title: "t", Description: "d"}
	with := func(f func(*memory.NewPattern)) memory.NewPattern { in := base; f(&in); return in }
	for _, tc := range []struct {
		name  string
		in    memory.NewPattern
		field string
	}{
		{"no title", with(func(p *memory.NewPattern) { p.Title = "" }), "Title"},
		{"title over 500 characters", with(func(p *memory.NewPattern) { p.Title = strings.Repeat("t", 501) }), "Title"},
		{"no description", with(func(p *memory.NewPattern) { p.Description = " " }), "Description"},
		{"description over 50,000 characters", with(func(p *memory.NewPattern) { p.Description = strings.Repeat("d", 50_001) }), "Description"},
		{"category over 100 characters", with(func(p *memory.NewPattern) { p.Category = ptr(strings.Repeat("c", 101)) }), "Category"},
		{"example code over 50,000 characters", with(func(p *memory.NewPattern) { p.ExampleCode = ptr(strings.Repeat("x", 50_001)) }), "ExampleCode"},
		{"unknown scope", with(func(p *memory.NewPattern) { p.Scope = "team" }), "Scope"},
		{"project scope without a source project", with(func(p *memory.NewPattern) { p.Scope = "project" }), "SourceProject"},
		{"21 tags", with(func(p *memory.NewPattern) { p.Tags = tags21 }), "Tags"},
		{"a tag over 100 characters", with(func(p *memory.NewPattern) { p.Tags = []string{strings.Repeat("t", 101)} }), "Tags"},
		{"source project over 100 characters", with(func(p *memory.NewPattern) { p.SourceProject = ptr(strings.Repeat("p", 101)) }), "SourceProject"},
		{"metadata an array", with(func(p *memory.NewPattern) { p.Metadata = json.RawMessage(`[]`) }), "Metadata"},
	} {
		_, err := ps.Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.field)
	}
	if hits := try(ps.Search(ctx, memory.PatternSearchParams{})).must(t); len(hits) != 0 {
		t.Errorf("invalid creates made %d patterns", len(hits))
	}
}

func patternAdopt(t *testing.T, e Env) {
	ctx, ps := t.Context(), e.Account.Patterns()
	p := try(ps.Create(ctx, memory.NewPattern{Title: "Feature flags", Description: "Ship dark, enable later"})).must(t)
	a := try(ps.Adopt(ctx, p.ID, "checkout")).must(t)
	if a.AdoptionCount != 1 || a.ID != p.ID || a.Title != p.Title {
		t.Errorf("the first Adopt: %+v", a)
	}
	if _, err := e.Account.Projects().Get(ctx, "checkout"); err != nil {
		t.Errorf("Adopt did not create the unknown project: %v", err)
	}
	if a := try(ps.Adopt(ctx, p.ID, "checkout")).must(t); a.AdoptionCount != 1 {
		t.Errorf("a project's second Adopt raised AdoptionCount to %d", a.AdoptionCount)
	}
	if a := try(ps.Adopt(ctx, p.ID, "search")).must(t); a.AdoptionCount != 2 {
		t.Errorf("a second project's Adopt: AdoptionCount %d, want 2", a.AdoptionCount)
	}
	if g := try(ps.Get(ctx, p.ID)).must(t); g.AdoptionCount != 2 {
		t.Errorf("Get after adoptions: AdoptionCount %d, want 2", g.AdoptionCount)
	}
	_, err := ps.Adopt(ctx, p.ID, "")
	wantInvalid(t, "Adopt by no project", err, "project")
}

func patternSearch(t *testing.T, e Env) {
	ctx, ps := t.Context(), e.Account.Patterns()
	p1 := try(ps.Create(ctx, memory.NewPattern{Title: "Circuit breaker for flaky services", Description: "Stop calling a failing dependency", Category: ptr("resilience")})).must(t)
	p2 := try(ps.Create(ctx, memory.NewPattern{Title: "Table-driven tests", Description: "One loop over cases", Category: ptr("testing"), Scope: "project", SourceProject: ptr("core")})).must(t)
	p3 := try(ps.Create(ctx, memory.NewPattern{Title: "Structured logging", Description: "Key-value pairs in every line", Category: ptr("observability")})).must(t)
	try(ps.Adopt(ctx, p3.ID, "a")).must(t)
	try(ps.Adopt(ctx, p3.ID, "b")).must(t)
	try(ps.Adopt(ctx, p1.ID, "a")).must(t)
	p1, p3 = try(ps.Get(ctx, p1.ID)).must(t), try(ps.Get(ctx, p3.ID)).must(t)

	hits := try(ps.Search(ctx, memory.PatternSearchParams{Query: p1.Title})).must(t)
	if len(hits) == 0 || hits[0].Pattern.ID != p1.ID || hits[0].Score < 0.8 {
		t.Fatalf("Search with a pattern's title: %d hits; want it first with a score ≥ 0.8", len(hits))
	}
	wantEqual(t, "the hit's pattern", hits[0].Pattern, p1)
	checkScores(t, "Search", len(hits), func(i int) float64 { return hits[i].Score }, 0.3)

	// No query: every pattern by AdoptionCount, with score 0.
	hits = try(ps.Search(ctx, memory.PatternSearchParams{})).must(t)
	wantEqual(t, "Search with no query, by adoptions", patternHitIDs(hits), []string{p3.ID, p1.ID, p2.ID})
	for i, h := range hits {
		if h.Score != 0 {
			t.Errorf("Search with no query: hit %d has score %v, want 0", i, h.Score)
		}
	}
	if hits := try(ps.Search(ctx, memory.PatternSearchParams{Query: "  "})).must(t); len(hits) != 3 {
		t.Errorf("Search with a blank query: %d hits, want every pattern", len(hits))
	}
	if hits := try(ps.Search(ctx, memory.PatternSearchParams{Limit: 1})).must(t); len(hits) != 1 || hits[0].Pattern.ID != p3.ID {
		t.Errorf("Search limit 1: %v", patternHitIDs(hits))
	}
	hits = try(ps.Search(ctx, memory.PatternSearchParams{Category: ptr("testing")})).must(t)
	wantEqual(t, "Search by category", patternHitIDs(hits), []string{p2.ID})
	hits = try(ps.Search(ctx, memory.PatternSearchParams{Project: ptr("a")})).must(t)
	wantEqual(t, "Search by adopting project", patternHitIDs(hits), []string{p3.ID, p1.ID})
	hits = try(ps.Search(ctx, memory.PatternSearchParams{Project: ptr("core")})).must(t)
	wantEqual(t, "Search by source project", patternHitIDs(hits), []string{p2.ID})

	if hits := try(ps.Search(ctx, memory.PatternSearchParams{Query: "zxqv plorf wibblequark"})).must(t); len(hits) != 0 {
		t.Errorf("Search of an unrelated query: %d hits above the default threshold 0.3", len(hits))
	}
	q := "circuit breaker and structured logging"
	low := try(ps.Search(ctx, memory.PatternSearchParams{Query: q, Threshold: ptr(0.0)})).must(t)
	def := try(ps.Search(ctx, memory.PatternSearchParams{Query: q})).must(t)
	high := try(ps.Search(ctx, memory.PatternSearchParams{Query: q, Threshold: ptr(0.9)})).must(t)
	checkScores(t, "Search threshold 0", len(low), func(i int) float64 { return low[i].Score }, 0)
	checkScores(t, "Search threshold 0.3", len(def), func(i int) float64 { return def[i].Score }, 0.3)
	checkScores(t, "Search threshold 0.9", len(high), func(i int) float64 { return high[i].Score }, 0.9)
	if ids := patternHitIDs(low); !slices.Contains(ids, p1.ID) || !slices.Contains(ids, p3.ID) {
		t.Errorf("Search threshold 0 misses a pattern sharing words with the query: %v", ids)
	}
	wantSubset(t, "Search: threshold 0.3 ⊆ threshold 0", patternHitIDs(def), patternHitIDs(low))
	wantSubset(t, "Search: threshold 0.9 ⊆ threshold 0.3", patternHitIDs(high), patternHitIDs(def))
	_, err := ps.Search(ctx, memory.PatternSearchParams{Query: "x", Threshold: ptr(1.5)})
	wantInvalid(t, "Search with threshold 1.5", err, "Threshold")
}

func patternHitIDs(hits []memory.PatternHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Pattern.ID
	}
	return out
}

func patternSuggest(t *testing.T, e Env) {
	ctx, ps := t.Context(), e.Account.Patterns()
	mk := func(title string) memory.Pattern {
		return try(ps.Create(ctx, memory.NewPattern{Title: title, Description: "d"})).must(t)
	}
	p1, p2, p3 := mk("One"), mk("Two"), mk("Three")
	try(ps.Adopt(ctx, p1.ID, "mine")).must(t)
	try(ps.Adopt(ctx, p2.ID, "x")).must(t)
	try(ps.Adopt(ctx, p2.ID, "y")).must(t)
	got := try(ps.Suggest(ctx, "mine", 0)).must(t)
	ids := make([]string, len(got))
	for i, p := range got {
		ids[i] = p.ID
	}
	wantEqual(t, "Suggest: the patterns not adopted, most adopted first", ids, []string{p2.ID, p3.ID})
	if slices.Contains(ids, p1.ID) {
		t.Errorf("Suggest returns a pattern the project adopted")
	}
	if got := try(ps.Suggest(ctx, "mine", 1)).must(t); len(got) != 1 {
		t.Errorf("Suggest limit 1: %d patterns", len(got))
	}
	_, err := ps.Suggest(ctx, "", 0)
	wantInvalid(t, "Suggest for no project", err, "project")
}
