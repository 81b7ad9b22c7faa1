package memoryrelay_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/projects"
	"github.com/memoryrelay/memoryrelay/memory"
)

func TestProjectErrorsMatch(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	if _, err := r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: "app", Name: "App"}); err != nil {
		t.Fatal(err)
	}
	_, err := r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: "app", Name: "Again"})
	var cerr *memory.ConflictError
	if !errors.Is(err, memoryrelay.ErrConflict) || !errors.As(err, &cerr) || cerr.Message != "Project slug already exists" {
		t.Errorf("duplicate: %v", err)
	}
	for _, slug := range []string{"nope", "Not-A-Slug", ""} {
		_, err = r.Account(acct).Projects().Get(ctx, slug)
		var nf *memory.NotFoundError
		if !errors.Is(err, memoryrelay.ErrNotFound) || !errors.As(err, &nf) || nf.Kind != "project" {
			t.Errorf("get %q: %v", slug, err)
		}
	}
	_, err = r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: "impact-analysis", Name: "x"})
	var verr *memory.ValidationError
	if !errors.Is(err, memoryrelay.ErrInvalid) || !errors.As(err, &verr) || verr.Field() != "Slug" {
		t.Errorf("reserved: %v", err)
	}
	// A repeated edge is not stored twice.
	rel, created, err := r.Account(acct).Projects().Relate(ctx, "app", memory.NewProjectRelationship{Target: "lib", Type: "depends_on"})
	if err != nil || !created {
		t.Fatalf("first edge: %v %v", created, err)
	}
	again, created, err := r.Account(acct).Projects().Relate(ctx, "app", memory.NewProjectRelationship{Target: "lib", Type: "depends_on"})
	if err != nil || created || again.ID != rel.ID {
		t.Fatalf("repeat edge: %v %v %v", again.ID, created, err)
	}
	deps, err := r.Account(acct).Projects().Dependencies(ctx, "app")
	if err != nil || len(deps) != 1 || deps[0].Slug != "lib" || deps[0].Direction != memory.Outgoing {
		t.Fatalf("dependencies: %v %v", deps, err)
	}
}

func TestImpactAnalysisDepthIsBounded(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	// A chain p1 → p0, p2 → p1, …: p(i) depends on p0 through i edges.
	const n = projects.MaxImpactDepth + 3
	for i := 1; i <= n; i++ {
		if _, err := r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: projectSlug(i), Name: projectSlug(i)}); err != nil {
			t.Fatal(err)
		}
		// p0, the first target, is auto-created.
		if _, _, err := r.Account(acct).Projects().Relate(ctx, projectSlug(i), memory.NewProjectRelationship{Target: projectSlug(i - 1), Type: "depends_on"}); err != nil {
			t.Fatal(err)
		}
	}
	im, err := r.Account(acct).Projects().Impact(ctx, "p0", "rename the main table")
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Affected) != projects.MaxImpactDepth {
		t.Fatalf("%d affected, want %d", len(im.Affected), projects.MaxImpactDepth)
	}
	for i, a := range im.Affected {
		if a.Depth != i+1 || a.Slug != projectSlug(i+1) || a.RelationshipType != "depends_on" {
			t.Errorf("affected[%d] = %s at depth %d", i, a.Slug, a.Depth)
		}
	}
}

func projectSlug(i int) string { return "p" + strconv.Itoa(i) }

func TestProjectContextDigestLines(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	slug := "digest"
	long := strings.Repeat("lorem ipsum ", 60) + "\nsecond line"
	if _, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: long, Tier: "hot", Project: &slug}); err != nil {
		t.Fatal(err)
	}
	pc, err := r.Account(acct).Projects().Context(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	if pc.Project.Name != slug || len(pc.HotMemories) != 1 {
		t.Fatalf("auto-created project context: %+v", pc.Project)
	}
	var line string
	for _, l := range strings.Split(pc.Markdown, "\n") {
		if strings.HasPrefix(l, "- lorem") {
			line = l
		}
	}
	body := strings.TrimPrefix(line, "- ")
	if n := utf8.RuneCountInString(body); n == 0 || n > 300 || !strings.HasSuffix(body, "ipsum…") {
		t.Errorf("digest line of %d characters: %q", n, body)
	}
}

// TestProjectReadsAreCapped: the project reads that list what the account
// stored return at most their documented number, however much is stored
// (README "Limits" → "Work per request").
func TestProjectReadsAreCapped(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{Synchronous: "OFF"})
	acct := account(t, r)
	for _, slug := range []string{"hub", "core", "a", "b"} {
		if _, err := r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: slug, Name: slug}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i <= projects.MaxLinks; i++ {
		if _, _, err := r.Account(acct).Projects().Relate(ctx, "hub", memory.NewProjectRelationship{Target: fmt.Sprintf("dep-%03d", i), Type: "depends_on"}); err != nil {
			t.Fatal(err)
		}
	}
	for name, f := range map[string]func(context.Context, string) ([]memory.ProjectLink, error){
		"dependencies": r.Account(acct).Projects().Dependencies, "related": r.Account(acct).Projects().Related,
	} {
		if links, err := f(ctx, "hub"); err != nil || len(links) != projects.MaxLinks {
			t.Errorf("%s: %d edges, %v; want %d", name, len(links), err, projects.MaxLinks)
		}
	}

	for i := 0; i <= projects.MaxImpactProjects; i++ {
		slug := fmt.Sprintf("user-%02d", i)
		if _, err := r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: slug, Name: slug}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Account(acct).Projects().Relate(ctx, slug, memory.NewProjectRelationship{Target: "core", Type: "depends_on"}); err != nil {
			t.Fatal(err)
		}
	}
	im, err := r.Account(acct).Projects().Impact(ctx, "core", "rename the main table")
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Affected) != projects.MaxImpactProjects || im.Affected[0].Slug != "user-00" || im.Affected[len(im.Affected)-1].Slug != fmt.Sprintf("user-%02d", projects.MaxImpactProjects-1) {
		t.Errorf("%d affected (%v … ), want the first %d by slug", len(im.Affected), im.Affected[0].Slug, projects.MaxImpactProjects)
	}

	for i := 0; i <= projects.MaxSharedPatterns; i++ {
		p := patNew(t, r, acct, memory.NewPattern{Title: fmt.Sprint("shared ", i), Description: "d"})
		patAdopt(t, r, acct, p.ID, "a")
		patAdopt(t, r, acct, p.ID, "b")
	}
	if ps, err := r.Account(acct).Projects().SharedPatterns(ctx, "a", "b"); err != nil || len(ps) != projects.MaxSharedPatterns {
		t.Errorf("shared patterns: %d, %v; want %d", len(ps), err, projects.MaxSharedPatterns)
	}
}

// TestImpactAnalysisDenseGraph: on a complete graph of 500 projects (every
// one depends on every other: 249,500 edges) the recursive walk of impact
// analysis took 3.3 s; level by level, each project visited once and the
// walk stopped at the level that fills MaxImpactProjects, it reads the
// start's 499 incoming edges. A 1 s statement timeout, which cuts the
// old walk off (3.3 s without -race), lets this one through, with room
// for a loaded machine under -race.
func TestImpactAnalysisDenseGraph(t *testing.T) {
	ctx := context.Background()
	r, path := open(t, memoryrelay.Options{Synchronous: "OFF", StatementTimeout: time.Second})
	acct := account(t, r)
	const n = 500
	for i := range n {
		if _, err := r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: fmt.Sprintf("p%03d", i), Name: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	writeDB(t, path, `INSERT INTO project_relationships(id, account_id, source_project_id, target_project_id, relationship_type, metadata, created_at)
		SELECT lower(hex(randomblob(16))), ?1, a.id, b.id, 'depends_on', '{}', 0 FROM projects a, projects b
		WHERE a.account_id = ?1 AND b.account_id = ?1 AND a.id <> b.id`, acct)
	im, err := r.Account(acct).Projects().Impact(ctx, "p000", "rename the main table")
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Affected) != projects.MaxImpactProjects {
		t.Fatalf("%d affected", len(im.Affected))
	}
	for i, a := range im.Affected {
		if want := fmt.Sprintf("p%03d", i+1); a.Slug != want || a.Depth != 1 || a.RelationshipType != "depends_on" {
			t.Errorf("affected[%d] = %+v, want %s at depth 1", i, a, want)
		}
	}
}
