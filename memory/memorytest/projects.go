package memorytest

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

func testProjects(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { projectCreate(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { projectInvalid(t, open(t)) })
	t.Run("SlugTaken", func(t *testing.T) { projectSlugTaken(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { projectPaging(t, open(t)) })
	t.Run("Relate", func(t *testing.T) { projectRelate(t, open(t)) })
	t.Run("Links", func(t *testing.T) { projectLinks(t, open(t)) })
	t.Run("Context", func(t *testing.T) { projectContext(t, open(t)) })
	t.Run("Impact", func(t *testing.T) { projectImpact(t, open(t)) })
	t.Run("SharedPatterns", func(t *testing.T) { projectSharedPatterns(t, open(t)) })
}

func projectCreate(t *testing.T, e Env) {
	ctx, c, pr := t.Context(), newClock(), e.Account.Projects()
	in := memory.NewProject{Slug: "web-app", Name: "Web App", Description: ptr("The customer site"),
		Stack: json.RawMessage(`{"lang":"go","db":"sqlite"}`), RepoURL: ptr("https://example.com/web-app.git"),
		Metadata: json.RawMessage(`{"owner":"team-a"}`)}
	p := try(pr.Create(ctx, in)).must(t)
	wantUUID(t, "ID", p.ID)
	c.instant(t, "CreatedAt", p.CreatedAt)
	wantEqual(t, "Create", p, memory.Project{ID: p.ID, Slug: "web-app", Name: "Web App", Description: in.Description,
		Stack: in.Stack, RepoURL: in.RepoURL, Metadata: in.Metadata, CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt})
	wantEqual(t, "Get", try(pr.Get(ctx, "web-app")).must(t), p)

	bare := try(pr.Create(ctx, memory.NewProject{Slug: "bare", Name: "Bare"})).must(t)
	if bare.Stack != nil && string(bare.Stack) != "null" {
		t.Errorf("a project without a stack has Stack %s, want none", bare.Stack)
	}
	create(t, e.Account, memory.NewMemory{Content: "in the project", Project: ptr("bare")})
	create(t, e.Account, memory.NewMemory{Content: "in it too", Project: ptr("bare")})
	if got := try(pr.Get(ctx, "bare")).must(t); got.MemoryCount != 2 {
		t.Errorf("MemoryCount = %d, want 2", got.MemoryCount)
	}
	if _, err := pr.Create(ctx, memory.NewProject{Slug: strings.Repeat("a", 100), Name: strings.Repeat("n", 255)}); err != nil {
		t.Errorf("a 100-character slug and a 255-character name: %v", err)
	}
}

func projectInvalid(t *testing.T, e Env) {
	ctx, pr := t.Context(), e.Account.Projects()
	base := memory.NewProject{Slug: "ok", Name: "OK"}
	with := func(f func(*memory.NewProject)) memory.NewProject { in := base; f(&in); return in }
	for i, tc := range []struct {
		name  string
		in    memory.NewProject
		field string
	}{
		{"no slug", with(func(p *memory.NewProject) { p.Slug = "" }), "Slug"},
		{"slug with capitals", with(func(p *memory.NewProject) { p.Slug = "Web" }), "Slug"},
		{"slug with an underscore", with(func(p *memory.NewProject) { p.Slug = "web_app" }), "Slug"},
		{"slug starting with a dash", with(func(p *memory.NewProject) { p.Slug = "-web" }), "Slug"},
		{"slug over 100 characters", with(func(p *memory.NewProject) { p.Slug = strings.Repeat("a", 101) }), "Slug"},
		{"reserved slug impact-analysis", with(func(p *memory.NewProject) { p.Slug = "impact-analysis" }), "Slug"},
		{"reserved slug shared-patterns", with(func(p *memory.NewProject) { p.Slug = "shared-patterns" }), "Slug"},
		{"no name", with(func(p *memory.NewProject) { p.Name = "" }), "Name"},
		{"name over 255 characters", with(func(p *memory.NewProject) { p.Name = strings.Repeat("n", 256) }), "Name"},
		{"description over 5,000 characters", with(func(p *memory.NewProject) { p.Description = ptr(strings.Repeat("d", 5001)) }), "Description"},
		{"stack an array", with(func(p *memory.NewProject) { p.Stack = json.RawMessage(`["go"]`) }), "Stack"},
		{"stack over 10 KiB", with(func(p *memory.NewProject) { p.Stack = metadataOfSize(10<<10 + 1) }), "Stack"},
		{"repo URL over 500 characters", with(func(p *memory.NewProject) { p.RepoURL = ptr("https://x/" + strings.Repeat("r", 491)) }), "RepoURL"},
		{"metadata an array", with(func(p *memory.NewProject) { p.Metadata = json.RawMessage(`[]`) }), "Metadata"},
	} {
		// A case the implementation wrongly accepts must not turn the next
		// into a conflict.
		if tc.in.Slug == base.Slug {
			tc.in.Slug = "ok-" + strconv.Itoa(i)
		}
		_, err := pr.Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.field)
	}
	if pg := try(pr.List(ctx, memory.ProjectListParams{})).must(t); pg.Total != 0 {
		t.Errorf("invalid creates made %d projects", pg.Total)
	}
}

func projectSlugTaken(t *testing.T, e Env) {
	ctx, pr := t.Context(), e.Account.Projects()
	p := try(pr.Create(ctx, memory.NewProject{Slug: "taken", Name: "First"})).must(t)
	_, err := pr.Create(ctx, memory.NewProject{Slug: "taken", Name: "Second"})
	wantConflict(t, "Create with a taken slug", err)
	wantEqual(t, "the project a conflict left alone", try(pr.Get(ctx, "taken")).must(t), p)
	create(t, e.Account, memory.NewMemory{Content: "auto-creates a project", Project: ptr("auto-made")})
	_, err = pr.Create(ctx, memory.NewProject{Slug: "auto-made", Name: "Late"})
	wantConflict(t, "Create with an auto-created project's slug", err)
}

func projectPaging(t *testing.T, e Env) {
	var ps []memory.Project
	for _, s := range []string{"pa", "pb", "pc", "pd", "pe", "pf"} {
		ps = append(ps, try(e.Account.Projects().Create(t.Context(), memory.NewProject{Slug: s, Name: s})).must(t))
	}
	checkPaging(t, paging[memory.Project]{
		list: func(ctx context.Context, limit, offset int, cursor string) (memory.Page[memory.Project], error) {
			return e.Account.Projects().List(ctx, memory.ProjectListParams{Limit: limit, Offset: offset, Cursor: cursor})
		},
		id:   func(p memory.Project) string { return p.ID },
		want: newestFirst(ps, func(p memory.Project) time.Time { return p.CreatedAt }, func(p memory.Project) string { return p.ID }),
		add: func(t *testing.T) {
			try(e.Account.Projects().Create(t.Context(), memory.NewProject{Slug: "newer", Name: "Newer"})).must(t)
		},
	})
}

func projectRelate(t *testing.T, e Env) {
	ctx, c, pr := t.Context(), newClock(), e.Account.Projects()
	try(pr.Create(ctx, memory.NewProject{Slug: "frontend", Name: "Frontend"})).must(t)
	rel, created := try2(pr.Relate(ctx, "frontend", memory.NewProjectRelationship{Target: "backend", Type: "depends_on",
		Metadata: json.RawMessage(`{"via":"rest"}`)})).must(t)
	if !created {
		t.Errorf("the first Relate reports created false")
	}
	wantUUID(t, "the relationship's ID", rel.ID)
	c.instant(t, "the relationship's CreatedAt", rel.CreatedAt)
	wantEqual(t, "Relate", rel, memory.ProjectRelationship{ID: rel.ID, Source: "frontend", Target: "backend", Type: "depends_on",
		Metadata: json.RawMessage(`{"via":"rest"}`), CreatedAt: rel.CreatedAt})
	b := try(pr.Get(ctx, "backend")).must(t)
	if b.Name != "backend" {
		t.Errorf("the auto-created target is named %q, want its slug", b.Name)
	}
	again, created := try2(pr.Relate(ctx, "frontend", memory.NewProjectRelationship{Target: "backend", Type: "depends_on"})).must(t)
	if created {
		t.Errorf("relating the same pair with the same type again reports created true")
	}
	wantEqual(t, "Relate again (the existing edge)", again, rel)
	if _, created := try2(pr.Relate(ctx, "frontend", memory.NewProjectRelationship{Target: "backend", Type: "shares_schema"})).must(t); !created {
		t.Errorf("an edge of another type reports created false")
	}

	_, _, err := pr.Relate(ctx, "frontend", memory.NewProjectRelationship{Target: "frontend", Type: "depends_on"})
	wantInvalid(t, "Relate to itself", err, "Target")
	_, _, err = pr.Relate(ctx, "frontend", memory.NewProjectRelationship{Target: "", Type: "depends_on"})
	wantInvalid(t, "Relate to no target", err, "Target")
	_, _, err = pr.Relate(ctx, "frontend", memory.NewProjectRelationship{Target: "backend", Type: ""})
	wantInvalid(t, "Relate with no type", err, "Type")
	_, _, err = pr.Relate(ctx, "frontend", memory.NewProjectRelationship{Target: "backend", Type: strings.Repeat("t", 101)})
	wantInvalid(t, "Relate with a type over 100 characters", err, "Type")
	_, _, err = pr.Relate(ctx, "frontend", memory.NewProjectRelationship{Target: "backend", Type: "x", Metadata: json.RawMessage(`[]`)})
	wantInvalid(t, "Relate with metadata an array", err, "Metadata")
	_, _, err = pr.Relate(ctx, "no-such-project", memory.NewProjectRelationship{Target: "backend", Type: "depends_on"})
	wantNotFound(t, "Relate from an unknown project", err)
}

func projectLinks(t *testing.T, e Env) {
	ctx, pr := t.Context(), e.Account.Projects()
	for _, s := range []string{"hub", "lib", "schema", "client"} {
		try(pr.Create(ctx, memory.NewProject{Slug: s, Name: strings.ToUpper(s)})).must(t)
	}
	relate := func(from, to, typ string) memory.ProjectRelationship {
		r, _ := try2(pr.Relate(ctx, from, memory.NewProjectRelationship{Target: to, Type: typ})).must(t)
		return r
	}
	dep := relate("hub", "lib", "depends_on")
	shared := relate("hub", "schema", "shares_schema")
	consumer := relate("client", "hub", "api_consumer")

	link := func(slug, name, typ, dir string, r memory.ProjectRelationship) memory.ProjectLink {
		return memory.ProjectLink{Slug: slug, Name: name, RelationshipType: typ, Direction: dir, Metadata: r.Metadata, CreatedAt: r.CreatedAt}
	}
	wantEqual(t, "Dependencies(hub)", try(pr.Dependencies(ctx, "hub")).must(t),
		[]memory.ProjectLink{link("lib", "LIB", "depends_on", memory.Outgoing, dep)})
	wantEqual(t, "Dependents(hub)", try(pr.Dependents(ctx, "hub")).must(t),
		[]memory.ProjectLink{link("client", "CLIENT", "api_consumer", memory.Incoming, consumer)})
	wantEqual(t, "Dependents(lib)", try(pr.Dependents(ctx, "lib")).must(t),
		[]memory.ProjectLink{link("hub", "HUB", "depends_on", memory.Incoming, dep)})
	related := try(pr.Related(ctx, "hub")).must(t)
	slices.SortFunc(related, func(a, b memory.ProjectLink) int { return strings.Compare(a.Slug, b.Slug) })
	wantEqual(t, "Related(hub)", related, []memory.ProjectLink{
		link("client", "CLIENT", "api_consumer", memory.Incoming, consumer),
		link("lib", "LIB", "depends_on", memory.Outgoing, dep),
		link("schema", "SCHEMA", "shares_schema", memory.Outgoing, shared),
	})
	if got := try(pr.Dependencies(ctx, "schema")).must(t); got == nil || len(got) != 0 {
		t.Errorf("Dependencies of a project without any: %#v, want an empty slice", got)
	}
}

func projectContext(t *testing.T, e Env) {
	ctx, pr := t.Context(), e.Account.Projects()
	p := try(pr.Create(ctx, memory.NewProject{Slug: "ctx", Name: "Context Project", Description: ptr("Where things are")})).must(t)
	hot1 := create(t, e.Account, memory.NewMemory{Content: "Hot fact one", Project: ptr("ctx"), Importance: ptr(0.9)})
	hot2 := create(t, e.Account, memory.NewMemory{Content: "Hot fact two", Project: ptr("ctx"), Tier: "hot"})
	create(t, e.Account, memory.NewMemory{Content: "Warm fact", Project: ptr("ctx")})
	create(t, e.Account, memory.NewMemory{Content: "Another project's hot fact", Project: ptr("elsewhere"), Importance: ptr(0.9)})
	ds := e.Account.Decisions()
	d1 := try(ds.Create(ctx, memory.NewDecision{Title: "Active decision", Rationale: "Because", Project: ptr("ctx")})).must(t)
	old := try(ds.Create(ctx, memory.NewDecision{Title: "Old decision", Rationale: "Was", Project: ptr("ctx")})).must(t)
	d2 := try(ds.Supersede(ctx, old.ID, memory.SupersedeParams{Title: "New decision", Rationale: "Is"})).must(t)
	try(ds.Create(ctx, memory.NewDecision{Title: "Experimental decision", Rationale: "Maybe", Project: ptr("ctx"), Status: memory.DecisionExperimental})).must(t)
	pt := try(e.Account.Patterns().Create(ctx, memory.NewPattern{Title: "Adopted pattern", Description: "Used here"})).must(t)
	try(e.Account.Patterns().Create(ctx, memory.NewPattern{Title: "Unrelated pattern", Description: "Not here"})).must(t)
	pt = try(e.Account.Patterns().Adopt(ctx, pt.ID, "ctx")).must(t)

	pc := try(pr.Context(ctx, "ctx")).must(t)
	p.MemoryCount = 3
	wantEqual(t, "the context's project", pc.Project, p)
	wantEqual(t, "hot memories, newest first", memoryIDs(pc.HotMemories), newestFirst([]memory.Memory{hot1, hot2}, memCreated, memID))
	decIDs := make([]string, len(pc.Decisions))
	for i, d := range pc.Decisions {
		decIDs[i] = d.ID
	}
	wantEqual(t, "active decisions, newest first", decIDs, newestFirst([]memory.Decision{d1, d2}, decisionCreated, decisionID))
	patIDs := make([]string, len(pc.Patterns))
	for i, x := range pc.Patterns {
		patIDs[i] = x.ID
	}
	wantEqual(t, "adopted patterns", patIDs, []string{pt.ID})
	for _, s := range []string{hot1.Content, hot2.Content, d1.Title, d2.Title, pt.Title} {
		if !strings.Contains(pc.Markdown, s) {
			t.Errorf("the Markdown digest lacks %q:\n%s", s, pc.Markdown)
		}
	}
	bullets := 0
	for _, line := range strings.Split(pc.Markdown, "\n") {
		if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") {
			bullets++
		}
	}
	if bullets != 5 {
		t.Errorf("the Markdown digest has %d bullets, want one per item (5):\n%s", bullets, pc.Markdown)
	}
}

func projectImpact(t *testing.T, e Env) {
	ctx, pr := t.Context(), e.Account.Projects()
	for _, s := range []string{"auth", "api", "mobile", "docs"} {
		try(pr.Create(ctx, memory.NewProject{Slug: s, Name: strings.ToUpper(s)})).must(t)
	}
	try2(pr.Relate(ctx, "api", memory.NewProjectRelationship{Target: "auth", Type: "depends_on"})).must(t)
	try2(pr.Relate(ctx, "mobile", memory.NewProjectRelationship{Target: "api", Type: "api_consumer"})).must(t)
	try2(pr.Relate(ctx, "docs", memory.NewProjectRelationship{Target: "auth", Type: "shares_schema"})).must(t)
	change := "Rotate the token signing keys every week"
	dec := try(e.Account.Decisions().Create(ctx, memory.NewDecision{Title: change, Rationale: "Security review asked for it", Project: ptr("api")})).must(t)
	mem := create(t, e.Account, memory.NewMemory{Content: change, Project: ptr("api")})
	create(t, e.Account, memory.NewMemory{Content: "Cafeteria menu lists soup", Project: ptr("api")})

	im := try(pr.Impact(ctx, "auth", change)).must(t)
	if im.Project != "auth" || im.ChangeDescription != change {
		t.Errorf("Impact: Project %q, ChangeDescription %q", im.Project, im.ChangeDescription)
	}
	if len(im.Affected) != 2 {
		t.Fatalf("Impact: %d affected projects, want api (depth 1) and mobile (depth 2): %+v", len(im.Affected), im.Affected)
	}
	api, mobile := im.Affected[0], im.Affected[1]
	if api.Slug != "api" || api.Name != "API" || api.Depth != 1 || api.RelationshipType != "depends_on" {
		t.Errorf("the first affected project: %+v", api)
	}
	if mobile.Slug != "mobile" || mobile.Depth != 2 || mobile.RelationshipType != "api_consumer" {
		t.Errorf("the second affected project: %+v", mobile)
	}
	if len(api.Decisions) != 1 || api.Decisions[0].Decision.ID != dec.ID {
		t.Errorf("api's decisions matching the change: %+v", api.Decisions)
	} else {
		wantEqual(t, "the matching decision", api.Decisions[0].Decision, dec)
	}
	if len(api.Memories) != 1 || api.Memories[0].Memory.ID != mem.ID {
		t.Errorf("api's memories matching the change: %d (want only the matching one)", len(api.Memories))
	}
	if len(mobile.Decisions) != 0 || len(mobile.Memories) != 0 {
		t.Errorf("mobile has matches: %+v", mobile)
	}
	if im := try(pr.Impact(ctx, "docs", change)).must(t); im.Affected == nil || len(im.Affected) != 0 {
		t.Errorf("Impact on a project nothing depends on: %+v, want no affected projects", im.Affected)
	}
	_, err := pr.Impact(ctx, "auth", "  ")
	wantInvalid(t, "Impact with a blank change", err, "change", "ChangeDescription")
	_, err = pr.Impact(ctx, "auth", strings.Repeat("c", 5001))
	wantInvalid(t, "Impact with a change over 5,000 characters", err, "change", "ChangeDescription")
	_, err = pr.Impact(ctx, "", change)
	wantInvalid(t, "Impact of no project", err, "slug", "project")
}

func projectSharedPatterns(t *testing.T, e Env) {
	ctx, pr, ps := t.Context(), e.Account.Projects(), e.Account.Patterns()
	try(pr.Create(ctx, memory.NewProject{Slug: "left", Name: "Left"})).must(t)
	try(pr.Create(ctx, memory.NewProject{Slug: "right", Name: "Right"})).must(t)
	both := try(ps.Create(ctx, memory.NewPattern{Title: "Shared", Description: "d"})).must(t)
	one := try(ps.Create(ctx, memory.NewPattern{Title: "Left only", Description: "d"})).must(t)
	try(ps.Adopt(ctx, both.ID, "left")).must(t)
	both = try(ps.Adopt(ctx, both.ID, "right")).must(t)
	try(ps.Adopt(ctx, one.ID, "left")).must(t)
	wantEqual(t, "SharedPatterns", try(pr.SharedPatterns(ctx, "left", "right")).must(t), []memory.Pattern{both})
	_, err := pr.SharedPatterns(ctx, "", "right")
	wantInvalid(t, "SharedPatterns with no first project", err, "a")
	_, err = pr.SharedPatterns(ctx, "left", "")
	wantInvalid(t, "SharedPatterns with no second project", err, "b")
}
