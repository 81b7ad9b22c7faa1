package memoryrelay_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// patNew creates a pattern or fails the test.
func patNew(t testing.TB, r *memoryrelay.Relay, acct string, in memory.NewPattern) memory.Pattern {
	t.Helper()
	p, err := r.Account(acct).Patterns().Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// patAdopt adopts a pattern or fails the test.
func patAdopt(t testing.TB, r *memoryrelay.Relay, acct, id, project string) memory.Pattern {
	t.Helper()
	p, err := r.Account(acct).Patterns().Adopt(context.Background(), id, project)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCreatePattern(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct := account(t, r)
	ok := memory.NewPattern{Title: "Retry with backoff", Description: "Retry idempotent calls with exponential backoff and jitter."}
	with := func(f func(*memory.NewPattern)) memory.NewPattern {
		in := ok
		f(&in)
		return in
	}
	tags := func(n int) []string { return strings.Split(strings.Repeat("t,", n)[:2*n-1], ",") }
	cases := []struct {
		name  string
		in    memory.NewPattern
		field string
	}{
		{"minimal", ok, ""},
		{"title of 500", with(func(p *memory.NewPattern) { p.Title = strings.Repeat("t", 500) }), ""},
		{"description of 50000", with(func(p *memory.NewPattern) { p.Description = strings.Repeat("d", 50_000) }), ""},
		{"category of 100", with(func(p *memory.NewPattern) { p.Category = strp(strings.Repeat("c", 100)) }), ""},
		{"20 tags", with(func(p *memory.NewPattern) { p.Tags = tags(20) }), ""},
		{"global with source", with(func(p *memory.NewPattern) { p.SourceProject = strp("lib") }), ""},
		{"project scope", with(func(p *memory.NewPattern) { p.Scope = "project"; p.SourceProject = strp("payments") }), ""},
		{"no title", with(func(p *memory.NewPattern) { p.Title = "" }), "Title"},
		{"title of 501", with(func(p *memory.NewPattern) { p.Title = strings.Repeat("t", 501) }), "Title"},
		{"no description", with(func(p *memory.NewPattern) { p.Description = " " }), "Description"},
		{"description of 50001", with(func(p *memory.NewPattern) { p.Description = strings.Repeat("d", 50_001) }), "Description"},
		{"category of 101", with(func(p *memory.NewPattern) { p.Category = strp(strings.Repeat("c", 101)) }), "Category"},
		{"21 tags", with(func(p *memory.NewPattern) { p.Tags = tags(21) }), "Tags"},
		{"bad scope", with(func(p *memory.NewPattern) { p.Scope = "team" }), "Scope"},
		{"project scope without source", with(func(p *memory.NewPattern) { p.Scope = "project" }), "SourceProject"},
		{"source of 101", with(func(p *memory.NewPattern) { p.SourceProject = strp(strings.Repeat("s", 101)) }), "SourceProject"},
		{"metadata not an object", with(func(p *memory.NewPattern) { p.Metadata = []byte(`[]`) }), "Metadata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := r.Account(acct).Patterns().Create(ctx, c.in)
			if c.field != "" {
				var verr *memory.ValidationError
				if !errors.As(err, &verr) || verr.Field() != c.field {
					t.Fatalf("err %v, want a validation error on %s", err, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantScope := c.in.Scope
			if wantScope == "" {
				wantScope = "global"
			}
			if p.Scope != wantScope || p.Tags == nil || p.AdoptionCount != 0 || (c.in.SourceProject != nil) != (p.SourceProjectID != nil) {
				t.Errorf("got %+v", p)
			}
			got, err := r.Account(acct).Patterns().Get(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Title != p.Title || !got.CreatedAt.Equal(p.CreatedAt) || !sameStrPtr(got.SourceProjectID, p.SourceProjectID) {
				t.Errorf("get %+v, created %+v", got, p)
			}
		})
	}
	if pr, err := r.Account(acct).Projects().Get(ctx, "payments"); err != nil || pr.Slug != "payments" {
		t.Errorf("source project not created: %+v %v", pr, err)
	}
}

func sameStrPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func TestAdoptAndSuggestPatterns(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	mk := func(title, scope string) memory.Pattern {
		in := memory.NewPattern{Title: title, Description: "d " + title, Scope: scope}
		if scope == "project" {
			in.SourceProject = strp("origin")
		}
		return patNew(t, r, acct, in)
	}
	g1, g2 := mk("g1", "global"), mk("g2", "global")
	mk("p1", "project")
	p2 := mk("p2", "project")
	theirs := patNew(t, r, other, memory.NewPattern{Title: "theirs", Description: "d"})

	// Adoption counts rise once per project.
	if p := patAdopt(t, r, acct, g2.ID, "web"); p.AdoptionCount != 1 || !p.UpdatedAt.After(g2.UpdatedAt) {
		t.Fatalf("first adoption: %+v", p)
	}
	if p := patAdopt(t, r, acct, g2.ID, "web"); p.AdoptionCount != 1 {
		t.Fatalf("second adoption by the same project: %+v", p)
	}
	if p := patAdopt(t, r, acct, strings.ToUpper(g2.ID), "api"); p.AdoptionCount != 2 {
		t.Fatalf("adoption by another project: %+v", p)
	}
	patAdopt(t, r, acct, p2.ID, "api")
	patAdopt(t, r, acct, p2.ID, "cli")
	patAdopt(t, r, acct, p2.ID, "batch")
	if _, err := r.Account(acct).Projects().Get(ctx, "cli"); err != nil {
		t.Errorf("adopting project not created: %v", err)
	}

	bad := []struct {
		name, id, project string
		field, kind       string
	}{
		{"unknown pattern", "00000000-0000-0000-0000-000000000000", "web", "", "pattern"},
		{"malformed pattern", "p", "web", "", "pattern"},
		{"other account's pattern", theirs.ID, "web", "", "pattern"},
		{"empty project", g1.ID, "", "project", ""},
		{"invalid slug", g1.ID, "Web App", "project", ""},
	}
	for _, c := range bad {
		t.Run("adopt "+c.name, func(t *testing.T) {
			_, err := r.Account(acct).Patterns().Adopt(ctx, c.id, c.project)
			var verr *memory.ValidationError
			var nf *memory.NotFoundError
			if c.field != "" && (!errors.As(err, &verr) || verr.Field() != c.field) || c.kind != "" && (!errors.As(err, &nf) || nf.Kind != c.kind) {
				t.Fatalf("err %v", err)
			}
		})
	}

	suggest := []struct {
		name, project string
		limit         int
		want          string
	}{
		// Global first, then by adoption count, then newest.
		{"new project", "fresh", 0, "g2,g1,p2,p1"},
		{"adopted excluded", "api", 0, "g1,p1"},
		{"web", "web", 0, "g1,p2,p1"},
		{"limit", "fresh", 2, "g2,g1"},
		{"limit clamped", "fresh", 500, "g2,g1,p2,p1"},
	}
	if _, err := r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: "fresh", Name: "Fresh"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range suggest {
		t.Run("suggest "+c.name, func(t *testing.T) {
			ps, err := r.Account(acct).Patterns().Suggest(ctx, c.project, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Title)
			}
			if strings.Join(got, ",") != c.want {
				t.Errorf("got %v, want %s", got, c.want)
			}
		})
	}
	var nf *memory.NotFoundError
	if _, err := r.Account(acct).Patterns().Suggest(ctx, "nope", 0); !errors.As(err, &nf) || nf.Kind != "project" {
		t.Errorf("unknown project: %v", err)
	}
	if _, err := r.Account(other).Patterns().Suggest(ctx, "web", 0); !errors.As(err, &nf) {
		t.Errorf("another account's project: %v", err)
	}
	var verr *memory.ValidationError
	if _, err := r.Account(acct).Patterns().Suggest(ctx, "", 0); !errors.As(err, &verr) || verr.Field() != "project" {
		t.Errorf("no project: %v", err)
	}
	if _, err := r.Account(acct).Patterns().Suggest(ctx, "web", -1); !errors.As(err, &verr) || verr.Field() != "Limit" {
		t.Errorf("negative limit: %v", err)
	}
}

func TestSearchPatterns(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	retry := patNew(t, r, acct, memory.NewPattern{Title: "Retry with exponential backoff", Category: strp("resilience"),
		Description: "Retry idempotent network calls with exponential backoff and jitter, capped at a few attempts."})
	breaker := patNew(t, r, acct, memory.NewPattern{Title: "Circuit breaker around flaky dependencies", Category: strp("resilience"),
		Description: "Stop calling a failing dependency for a while, then probe it with a single request."})
	table := patNew(t, r, acct, memory.NewPattern{Title: "Table-driven tests", Category: strp("testing"), Scope: "project", SourceProject: strp("core"),
		Description: "Write Go tests as a table of cases run with t.Run."})
	theirs := patNew(t, r, other, memory.NewPattern{Title: "Retry with exponential backoff", Description: "theirs"})
	patAdopt(t, r, acct, breaker.ID, "web")
	patAdopt(t, r, acct, breaker.ID, "api")
	patAdopt(t, r, acct, retry.ID, "web")

	search := func(t *testing.T, p memory.PatternSearchParams) []memory.PatternHit {
		t.Helper()
		hits, err := r.Account(acct).Patterns().Search(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hits {
			if h.Score < 0 || h.Score > 1 || h.Pattern.ID == theirs.ID || (i > 0 && h.Score > hits[i-1].Score) {
				t.Fatalf("hits %+v", hits)
			}
		}
		return hits
	}
	titles := func(hits []memory.PatternHit) string {
		var out []string
		for _, h := range hits {
			out = append(out, h.Pattern.Title)
		}
		return strings.Join(out, "|")
	}

	cases := []struct {
		name string
		p    memory.PatternSearchParams
		want string
	}{
		{"no query lists by adoption", memory.PatternSearchParams{}, "Circuit breaker around flaky dependencies|Retry with exponential backoff|Table-driven tests"},
		{"blank query lists by adoption", memory.PatternSearchParams{Query: "  ", Limit: 1}, "Circuit breaker around flaky dependencies"},
		{"no query, category", memory.PatternSearchParams{Category: strp("testing")}, "Table-driven tests"},
		{"no query, adopted by project", memory.PatternSearchParams{Project: strp("web")}, "Circuit breaker around flaky dependencies|Retry with exponential backoff"},
		{"no query, sourced from project", memory.PatternSearchParams{Project: strp("core")}, "Table-driven tests"},
		{"no query, unknown project", memory.PatternSearchParams{Project: strp("nope")}, ""},
		{"verbatim title", memory.PatternSearchParams{Query: "Retry with exponential backoff"}, "Retry with exponential backoff"},
		{"category filter", memory.PatternSearchParams{Query: "Retry with exponential backoff", Category: strp("testing")}, ""},
		{"unrelated", memory.PatternSearchParams{Query: "chocolate cake recipe"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hits := search(t, c.p)
			if got := titles(hits); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			if strings.TrimSpace(c.p.Query) == "" {
				for _, h := range hits {
					if h.Score != 0 {
						t.Errorf("listing scored %v", h.Score)
					}
				}
			}
		})
	}

	t.Run("calibration", func(t *testing.T) {
		hits := search(t, memory.PatternSearchParams{Query: "Retry with exponential backoff", Threshold: fp(0)})
		if len(hits) == 0 || hits[0].Pattern.ID != retry.ID || hits[0].Score < 0.8 {
			t.Fatalf("hits %+v", hits)
		}
		for _, h := range hits[1:] {
			if h.Score >= 0.3 {
				t.Errorf("%q scored %.3f", h.Pattern.Title, h.Score)
			}
		}
		hits = search(t, memory.PatternSearchParams{Query: "chocolate cake recipe", Threshold: fp(0)})
		for _, h := range hits {
			if h.Score >= 0.3 {
				t.Errorf("unrelated %q scored %.3f", h.Pattern.Title, h.Score)
			}
		}
		if hits := search(t, memory.PatternSearchParams{Query: "go tests table", Threshold: fp(0), Limit: 1}); len(hits) != 1 || hits[0].Pattern.ID != table.ID {
			t.Errorf("keyword hits %+v", hits)
		}
	})

	bad := []memory.PatternSearchParams{{Limit: -1}, {Query: "x", Limit: -1}, {Threshold: fp(2)}, {Query: "x", Threshold: fp(-1)},
		{Query: strings.Repeat("q", memory.MaxContentChars+1)}}
	for _, p := range bad {
		if _, err := r.Account(acct).Patterns().Search(ctx, p); !errors.Is(err, memoryrelay.ErrInvalid) {
			t.Errorf("%+v: %v", p.Limit, err)
		}
	}
}
