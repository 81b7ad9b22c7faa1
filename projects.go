package memoryrelay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/contextpack"
	"github.com/memoryrelay/memoryrelay/internal/rank"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// projectStore is the storage of projects and what they link to, as
// projects.go uses it.
type projectStore interface {
	Dependents(ctx context.Context, accountID, slug string, types []string, maxDepth, limit int) ([]store.Dependent, error)
	GetProject(ctx context.Context, accountID, slug string) (store.Project, error)
	InsertProject(ctx context.Context, p *store.Project) error
	InsertProjectRelationship(ctx context.Context, rel *store.ProjectRelationship) (created bool, err error)
	ListDecisions(ctx context.Context, f store.DecisionFilter, limit, offset int, after *store.Position) ([]store.Decision, int, error)
	ListProjects(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Project, int, error)
	ProjectLinks(ctx context.Context, accountID, slug string, out, in bool, types []string, limit int) ([]store.ProjectLink, error)
	ProjectMemories(ctx context.Context, accountID, projectID, tier string, limit int) ([]store.Memory, error)
	SharedPatterns(ctx context.Context, accountID, projectA, projectB string, limit int) ([]store.Pattern, error)
	TopPatterns(ctx context.Context, f store.PatternFilter, limit int) ([]store.Pattern, error)
}

// Limits and defaults of project reads (API contract §5.9); the limits of
// the inputs are package memory's.
const (
	// MaxImpactDepth is how many edges impact analysis follows back from
	// the changed project.
	MaxImpactDepth = 10
	// ImpactMatches is how many decisions and how many memories impact
	// analysis reports per affected project, at most.
	ImpactMatches = 5
	// ImpactThreshold is the lowest score of a decision or memory that
	// impact analysis reports (contract §7: below 0.3 shares no
	// meaningful term with the change).
	ImpactThreshold = 0.3
	// Project context sizes (#42).
	ContextHotMemories = 20
	ContextDecisions   = 10
	ContextPatterns    = 10
)

// dependencyTypes are the relationship types that make the source project
// depend on the target (#44–#47).
var dependencyTypes = []string{"depends_on", "api_consumer"}

// createProject stores a new project. A slug the account already has,
// even from auto-creation (§5.9), is a *memory.ConflictError.
func (r *Relay) createProject(ctx context.Context, accountID string, in memory.NewProject) (memory.Project, error) {
	if err := checkNewSlug("Slug", in.Slug); err != nil {
		return memory.Project{}, err
	}
	if err := textField("Name", in.Name, memory.MaxProjectName); err != nil {
		return memory.Project{}, err
	}
	if err := optTextField("Description", in.Description, memory.MaxProjectDescription); err != nil {
		return memory.Project{}, err
	}
	if err := optTextField("RepoURL", in.RepoURL, memory.MaxRepoURL); err != nil {
		return memory.Project{}, err
	}
	stack, err := checkObject("Stack", in.Stack)
	if err != nil {
		return memory.Project{}, err
	}
	if len(stack) > memory.MaxProjectStack {
		return memory.Project{}, invalid("Stack", "Stack must be at most %d bytes when serialized", memory.MaxProjectStack)
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return memory.Project{}, err
	}
	now := r.now()
	p := store.Project{
		ID: uuid.New(), AccountID: accountID, Slug: in.Slug, Name: in.Name, Description: in.Description,
		Stack: stack, RepoURL: in.RepoURL, Metadata: meta, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.store.InsertProject(ctx, &p); err != nil {
		if errors.Is(err, store.ErrSlugTaken) {
			return memory.Project{}, &memory.ConflictError{Message: "Project slug already exists"}
		}
		return memory.Project{}, err
	}
	return projectOf(p), nil
}

// checkNewSlug validates a slug that is about to name a project.
func checkNewSlug(field, slug string) error {
	if slug == "" {
		return invalid(field, "%s is required", field)
	}
	if !store.ValidSlug(slug) {
		return invalid(field, "%s must match ^[a-z0-9][a-z0-9-]*$ and be at most %d characters", field, store.MaxSlug)
	}
	if store.ReservedSlug(slug) {
		return invalid(field, "%s %q is reserved", field, slug)
	}
	return nil
}

// checkObject accepts nil/null (none) or a JSON object, returned compacted,
// under the rule of every stored JSON object (checkStored) but with no
// size limit of its own.
func checkObject(field string, raw json.RawMessage) ([]byte, error) {
	b, err := storedjson.Object(raw, 0)
	switch {
	case errors.Is(err, storedjson.ErrNotObject):
		return nil, invalid(field, "%s must be a JSON object or null", field)
	case err != nil:
		return nil, invalid(field, "%s %v", field, err)
	}
	return b, nil
}

// errNoProject is the error of every read of an unknown project.
var errNoProject = notFound(kindProject)

// getProject returns the account's project with the slug. A slug the
// account does not have, or that is not a valid slug, is a
// *memory.NotFoundError.
func (r *Relay) getProject(ctx context.Context, accountID, slug string) (store.Project, error) {
	if !store.ValidSlug(slug) {
		return store.Project{}, errNoProject
	}
	p, err := r.store.GetProject(ctx, accountID, slug)
	return p, storeErr(err, kindProject)
}

// listProjects returns a page of the account's projects, newest first.
func (r *Relay) listProjects(ctx context.Context, accountID string, p memory.ProjectListParams) (memory.Page[memory.Project], error) {
	limit, offset, after, err := keysetParams(projectsList, p.Limit, p.Offset, p.Cursor)
	if err != nil {
		return memory.Page[memory.Project]{}, err
	}
	ps, total, err := r.store.ListProjects(ctx, accountID, limit+1, offset, after)
	if err != nil {
		return memory.Page[memory.Project]{}, err
	}
	return keysetPage(projectsList, ps, projectOf, total, limit, offset, func(p store.Project) store.Position {
		return store.Position{CreatedAt: p.CreatedAt.UnixMilli(), ID: p.ID}
	}), nil
}

// relateProjects adds the edge slug → in.Target of type in.Type. The
// source project must exist (else a *memory.NotFoundError); the target is
// created, named after its slug, if the account has none. The target must
// differ from the source. An edge with the same source, target and type
// already stored is returned as is with created false.
func (r *Relay) relateProjects(ctx context.Context, accountID, slug string, in memory.NewProjectRelationship) (memory.ProjectRelationship, bool, error) {
	if !store.ValidSlug(slug) {
		return memory.ProjectRelationship{}, false, errNoProject
	}
	if err := checkNewSlug("Target", in.Target); err != nil {
		return memory.ProjectRelationship{}, false, err
	}
	if in.Target == slug {
		return memory.ProjectRelationship{}, false, invalid("Target", "Target must differ from the source project")
	}
	if strings.TrimFunc(in.Type, unicode.IsSpace) == "" || utf8.RuneCountInString(in.Type) > memory.MaxRelationshipType {
		return memory.ProjectRelationship{}, false, invalid("Type", "Type must be 1-%d characters and not blank", memory.MaxRelationshipType)
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return memory.ProjectRelationship{}, false, err
	}
	rel := store.ProjectRelationship{AccountID: accountID, Source: slug, Target: in.Target, Type: in.Type, Metadata: meta, CreatedAt: r.now()}
	created, err := r.store.InsertProjectRelationship(ctx, &rel)
	if err != nil {
		return memory.ProjectRelationship{}, false, storeErr(err, kindProject)
	}
	return relationshipOf(rel), created, nil
}

// Directions and types of the project links: dependencies are outgoing
// dependencyTypes edges (#44), dependents incoming ones (#45), related
// projects every edge both ways (#46); each newest first, at most
// MaxProjectLinks.
func (r *Relay) projectLinks(ctx context.Context, accountID, slug string, out, in bool, types []string) ([]memory.ProjectLink, error) {
	if !store.ValidSlug(slug) {
		return nil, errNoProject
	}
	links, err := r.store.ProjectLinks(ctx, accountID, slug, out, in, types, MaxProjectLinks)
	if err != nil {
		return nil, storeErr(err, kindProject)
	}
	return convertAll(links, projectLinkOf), nil
}

// projectContext gathers the project's hot memories, active decisions and
// patterns with a Markdown digest of them. An unknown project is a
// *memory.NotFoundError.
func (r *Relay) projectContext(ctx context.Context, accountID, slug string) (memory.ProjectContext, error) {
	p, err := r.getProject(ctx, accountID, slug)
	if err != nil {
		return memory.ProjectContext{}, err
	}
	ms, err := r.store.ProjectMemories(ctx, accountID, p.ID, "hot", ContextHotMemories)
	if err != nil {
		return memory.ProjectContext{}, err
	}
	active := memory.DecisionActive
	ds, _, err := r.store.ListDecisions(ctx, store.DecisionFilter{AccountID: accountID, Project: &p.Slug, Status: &active}, ContextDecisions, 0, nil)
	if err != nil {
		return memory.ProjectContext{}, err
	}
	ps, err := r.store.TopPatterns(ctx, store.PatternFilter{AccountID: accountID, Project: &p.Slug}, ContextPatterns)
	if err != nil {
		return memory.ProjectContext{}, err
	}
	out := memory.ProjectContext{Project: projectOf(p), HotMemories: convertAll(ms, memoryOf),
		Decisions: convertAll(ds, decisionOf), Patterns: convertAll(ps, patternOf)}
	out.Markdown = projectDigest(out)
	return out, nil
}

// Digest line lengths, in characters, before an ellipsis.
const (
	digestMemoryChars = 300
	digestDetailChars = 200
)

// projectDigest renders the Markdown digest of a project context.
func projectDigest(pc memory.ProjectContext) string {
	var b strings.Builder
	p := pc.Project
	b.WriteString("# Project: " + oneLine(p.Name, digestDetailChars) + " (" + p.Slug + ")\n")
	if p.Description != nil && strings.TrimSpace(*p.Description) != "" {
		b.WriteString("\n" + oneLine(*p.Description, digestMemoryChars) + "\n")
	}
	if p.RepoURL != nil && *p.RepoURL != "" {
		b.WriteString("\nRepository: " + oneLine(*p.RepoURL, memory.MaxRepoURL) + "\n")
	}
	section := func(title string, n int, item func(i int) string) {
		fmt.Fprintf(&b, "\n## %s (%d)\n\n", title, n)
		if n == 0 {
			b.WriteString("_None._\n")
		}
		for i := 0; i < n; i++ {
			b.WriteString("- " + item(i) + "\n")
		}
	}
	section("Hot memories", len(pc.HotMemories), func(i int) string {
		return oneLine(pc.HotMemories[i].Content, digestMemoryChars)
	})
	section("Recent decisions", len(pc.Decisions), func(i int) string {
		d := pc.Decisions[i]
		return "**" + oneLine(d.Title, digestDetailChars) + "**: " + oneLine(d.Rationale, digestDetailChars)
	})
	section("Active patterns", len(pc.Patterns), func(i int) string {
		pt := pc.Patterns[i]
		s := "**" + oneLine(pt.Title, digestDetailChars) + "**"
		if pt.Category != nil && *pt.Category != "" {
			s += " (" + oneLine(*pt.Category, memory.MaxPatternCategory) + ")"
		}
		return s + ": " + oneLine(pt.Description, digestDetailChars)
	})
	return b.String()
}

// oneLine collapses s's whitespace (newlines included) to single spaces
// and shortens it to at most limit characters at a word boundary, marking a
// cut with "…".
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	cut := contextpack.CutAtWord(s, limit-1)
	if cut == "" { // one long word: cut it
		cut = string([]rune(s)[:limit-1])
	}
	return cut + "…"
}

// impactAnalysis finds the projects that depend on the project (incoming
// depends_on and api_consumer edges, followed transitively up to
// MaxImpactDepth edges; the MaxImpactProjects nearest, by depth then slug)
// and, in each, the active decisions and memories
// that match the change description: at most ImpactMatches of each, with
// scores of at least ImpactThreshold. Decisions are scored as by
// checkDecisions, memories as by searchMemories (hybrid). An unknown
// project is a *memory.NotFoundError.
func (r *Relay) impactAnalysis(ctx context.Context, accountID, project, change string) (memory.Impact, error) {
	if project == "" {
		return memory.Impact{}, invalid("slug", "slug is required")
	}
	if strings.TrimFunc(change, unicode.IsSpace) == "" || utf8.RuneCountInString(change) > memory.MaxChangeDescription || !utf8.ValidString(change) {
		return memory.Impact{}, invalid("change", "change must be 1-%d characters and not blank", memory.MaxChangeDescription)
	}
	if !store.ValidSlug(project) {
		return memory.Impact{}, errNoProject
	}
	deps, err := r.store.Dependents(ctx, accountID, project, dependencyTypes, MaxImpactDepth, MaxImpactProjects)
	if err != nil {
		return memory.Impact{}, storeErr(err, kindProject)
	}
	out := memory.Impact{Project: project, ChangeDescription: change, Affected: make([]memory.AffectedProject, 0, len(deps))}
	if len(deps) == 0 {
		return out, nil
	}
	q, err := r.index(ctx, change)
	if err != nil {
		return memory.Impact{}, err
	}
	qt := rank.NewQuery(change)
	active := memory.DecisionActive
	for _, d := range deps {
		ap := memory.AffectedProject{Slug: d.Slug, Name: d.Name, RelationshipType: d.RelationshipType, Depth: d.Depth}
		if ap.Decisions, err = r.decisions.Rank(ctx, store.DecisionFilter{AccountID: accountID, Project: &d.Slug, Status: &active},
			q.Vector, qt, MaxImpactCandidates, ImpactThreshold, ImpactMatches); err != nil {
			return memory.Impact{}, err
		}
		slug := d.Slug
		hits, err := r.searchMemories(ctx, accountID, memory.SearchParams{Query: change, Project: &slug, Limit: ImpactMatches, Threshold: ImpactThreshold})
		if err != nil {
			return memory.Impact{}, err
		}
		ap.Memories = convertAll(hits, hitOf)
		out.Affected = append(out.Affected, ap)
	}
	return out, nil
}

// sharedPatterns returns the patterns adopted by both projects (#48), most
// adopted first, at most MaxSharedPatterns. Both are required; an unknown
// one is a *memory.NotFoundError.
func (r *Relay) sharedPatterns(ctx context.Context, accountID, a, b string) ([]memory.Pattern, error) {
	if a == "" {
		return nil, invalid("a", "a is required")
	}
	if b == "" {
		return nil, invalid("b", "b is required")
	}
	pa, err := r.getProject(ctx, accountID, a)
	if err != nil {
		return nil, err
	}
	pb, err := r.getProject(ctx, accountID, b)
	if err != nil {
		return nil, err
	}
	ps, err := r.store.SharedPatterns(ctx, accountID, pa.ID, pb.ID, MaxSharedPatterns)
	if err != nil {
		return nil, err
	}
	return convertAll(ps, patternOf), nil
}
