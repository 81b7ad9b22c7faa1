package memoryrelay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// Limits and defaults of project reads (API contract §5.9); the limits of
// the stored fields are in limits.go.
const (
	// MaxChangeDescription bounds impact analysis's change_description.
	MaxChangeDescription = 5_000 // characters
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

// Type aliases for projects and their edges.
type (
	Project             = store.Project
	ProjectRelationship = store.ProjectRelationship
	ProjectLink         = store.ProjectLink
)

// Directions of a [ProjectLink].
const (
	Outgoing = store.Outgoing
	Incoming = store.Incoming
)

// NewProject is the input of [Relay.CreateProject].
type NewProject struct {
	Slug        string          // required: ^[a-z0-9][a-z0-9-]*$, ≤ 100, not reserved
	Name        string          // required, 1–255 characters
	Description *string         // optional, ≤ 5,000 characters
	Stack       json.RawMessage // JSON object (≤ 10 KiB serialized) or null
	RepoURL     *string         // ≤ 500 characters
	Metadata    json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// CreateProject stores a new project. A slug the account already has,
// even from auto-creation (§5.9), is a *ConflictError.
func (r *Relay) CreateProject(ctx context.Context, accountID string, in NewProject) (Project, error) {
	if err := checkNewSlug("slug", in.Slug); err != nil {
		return Project{}, err
	}
	if err := textField("name", in.Name, MaxProjectName); err != nil {
		return Project{}, err
	}
	if err := optTextField("description", in.Description, MaxProjectDescription); err != nil {
		return Project{}, err
	}
	if err := optTextField("repo_url", in.RepoURL, MaxRepoURL); err != nil {
		return Project{}, err
	}
	stack, err := checkObject("stack", in.Stack)
	if err != nil {
		return Project{}, err
	}
	if len(stack) > MaxProjectStack {
		return Project{}, invalid("stack", "stack must be at most %d bytes when serialized", MaxProjectStack)
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return Project{}, err
	}
	now := r.now()
	p := Project{
		ID: uuid.New(), AccountID: accountID, Slug: in.Slug, Name: in.Name, Description: in.Description,
		Stack: stack, RepoURL: in.RepoURL, Metadata: meta, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.store.InsertProject(ctx, &p); err != nil {
		if errors.Is(err, store.ErrSlugTaken) {
			return Project{}, &ConflictError{Message: "Project slug already exists"}
		}
		return Project{}, err
	}
	return p, nil
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
var errNoProject = &NotFoundError{Kind: "Project"}

// GetProject returns the account's project with the slug. A slug the
// account does not have, or that is not a valid slug, is a *NotFoundError.
func (r *Relay) GetProject(ctx context.Context, accountID, slug string) (Project, error) {
	if !store.ValidSlug(slug) {
		return Project{}, errNoProject
	}
	p, err := r.store.GetProject(ctx, accountID, slug)
	return p, storeErr(err, "Project")
}

// ProjectListParams selects a page of projects, newest first.
type ProjectListParams struct {
	Limit  int    // 1–100 (larger is clamped); default 20
	Offset int    // ≥ 0
	Cursor string // opaque, from Page.NextCursor; wins over Offset
}

// ListProjects returns a page of the account's projects, newest first.
func (r *Relay) ListProjects(ctx context.Context, accountID string, p ProjectListParams) (Page[Project], error) {
	limit, err := pageLimit(p.Limit, DefaultPage, MaxPage)
	if err != nil {
		return Page[Project]{}, err
	}
	if err := checkOffset(p.Offset); err != nil {
		return Page[Project]{}, err
	}
	var after *store.Position
	offset := p.Offset
	if p.Cursor != "" {
		pos, off, err := decodeCursor(p.Cursor)
		if err != nil {
			return Page[Project]{}, err
		}
		after, offset = &pos, off
	}
	ps, total, err := r.store.ListProjects(ctx, accountID, limit+1, offset, after)
	if err != nil {
		return Page[Project]{}, err
	}
	page := Page[Project]{Data: ps, Total: total, Limit: limit, Offset: offset}
	if len(ps) > limit {
		page.Data, page.HasMore = ps[:limit], true
		last := page.Data[limit-1]
		c := encodeCursor(store.Position{CreatedAt: last.CreatedAt.UnixMilli(), ID: last.ID}, offset+limit)
		page.NextCursor = &c
	}
	if page.Data == nil {
		page.Data = []Project{}
	}
	return page, nil
}

// NewProjectRelationship is the input of [Relay.RelateProjects].
type NewProjectRelationship struct {
	Target   string          // required: the target project's slug; created if unknown
	Type     string          // required, free-form, 1–100 characters, e.g. depends_on
	Metadata json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// RelateProjects adds the edge slug → in.Target of type in.Type. The
// source project must exist (else a *NotFoundError); the target is created,
// named after its slug, if the account has none. The target must differ
// from the source. An edge with the same source, target and type already
// stored is returned as is with created false.
func (r *Relay) RelateProjects(ctx context.Context, accountID, slug string, in NewProjectRelationship) (rel ProjectRelationship, created bool, err error) {
	if !store.ValidSlug(slug) {
		return ProjectRelationship{}, false, errNoProject
	}
	if err := checkNewSlug("target_project", in.Target); err != nil {
		return ProjectRelationship{}, false, err
	}
	if in.Target == slug {
		return ProjectRelationship{}, false, invalid("target_project", "target_project must differ from the source project")
	}
	if strings.TrimFunc(in.Type, unicode.IsSpace) == "" || utf8.RuneCountInString(in.Type) > MaxRelationshipType {
		return ProjectRelationship{}, false, invalid("relationship_type", "relationship_type must be 1-%d characters and not blank", MaxRelationshipType)
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return ProjectRelationship{}, false, err
	}
	rel = ProjectRelationship{AccountID: accountID, Source: slug, Target: in.Target, Type: in.Type, Metadata: meta, CreatedAt: r.now()}
	created, err = r.store.InsertProjectRelationship(ctx, &rel)
	if err != nil {
		return ProjectRelationship{}, false, storeErr(err, "Project")
	}
	return rel, created, nil
}

// ProjectDependencies returns the project's outgoing depends_on and
// api_consumer edges (#44), newest first. This and the two below return
// at most MaxProjectLinks edges.
func (r *Relay) ProjectDependencies(ctx context.Context, accountID, slug string) ([]ProjectLink, error) {
	return r.projectLinks(ctx, accountID, slug, true, false, dependencyTypes)
}

// ProjectDependents returns the project's incoming depends_on and
// api_consumer edges (#45), newest first.
func (r *Relay) ProjectDependents(ctx context.Context, accountID, slug string) ([]ProjectLink, error) {
	return r.projectLinks(ctx, accountID, slug, false, true, dependencyTypes)
}

// RelatedProjects returns every edge of the project, of any type, in both
// directions (#46), newest first.
func (r *Relay) RelatedProjects(ctx context.Context, accountID, slug string) ([]ProjectLink, error) {
	return r.projectLinks(ctx, accountID, slug, true, true, nil)
}

func (r *Relay) projectLinks(ctx context.Context, accountID, slug string, out, in bool, types []string) ([]ProjectLink, error) {
	if !store.ValidSlug(slug) {
		return nil, errNoProject
	}
	links, err := r.store.ProjectLinks(ctx, accountID, slug, out, in, types, MaxProjectLinks)
	if err != nil {
		return nil, storeErr(err, "Project")
	}
	if links == nil {
		links = []ProjectLink{}
	}
	return links, nil
}

// ProjectContext is what an agent loads about a project when it starts
// (#42).
type ProjectContext struct {
	Project     Project
	HotMemories []Memory   // the project's hot, unarchived memories, newest first, ≤ 20
	Decisions   []Decision // its active decisions, newest first, ≤ 10
	Patterns    []Pattern  // patterns it adopted or is the source of, most adopted first, ≤ 10
	// Markdown is a digest of the three lists, one bullet per item.
	Markdown string
}

// ProjectContext gathers the project's hot memories, active decisions and
// patterns with a Markdown digest of them. An unknown project is a
// *NotFoundError.
func (r *Relay) ProjectContext(ctx context.Context, accountID, slug string) (ProjectContext, error) {
	p, err := r.GetProject(ctx, accountID, slug)
	if err != nil {
		return ProjectContext{}, err
	}
	out := ProjectContext{Project: p}
	if out.HotMemories, err = r.store.ProjectMemories(ctx, accountID, p.ID, "hot", ContextHotMemories); err != nil {
		return ProjectContext{}, err
	}
	active := decisionActive
	if out.Decisions, _, err = r.store.ListDecisions(ctx, store.DecisionFilter{AccountID: accountID, Project: &p.Slug, Status: &active}, ContextDecisions, 0); err != nil {
		return ProjectContext{}, err
	}
	if out.Patterns, err = r.store.TopPatterns(ctx, store.PatternFilter{AccountID: accountID, Project: &p.Slug}, ContextPatterns); err != nil {
		return ProjectContext{}, err
	}
	if out.HotMemories == nil {
		out.HotMemories = []Memory{}
	}
	if out.Decisions == nil {
		out.Decisions = []Decision{}
	}
	if out.Patterns == nil {
		out.Patterns = []Pattern{}
	}
	out.Markdown = projectDigest(out)
	return out, nil
}

// Digest line lengths, in characters, before an ellipsis.
const (
	digestMemoryChars = 300
	digestDetailChars = 200
)

// projectDigest renders the Markdown digest of a project context.
func projectDigest(pc ProjectContext) string {
	var b strings.Builder
	p := pc.Project
	b.WriteString("# Project: " + oneLine(p.Name, digestDetailChars) + " (" + p.Slug + ")\n")
	if p.Description != nil && strings.TrimSpace(*p.Description) != "" {
		b.WriteString("\n" + oneLine(*p.Description, digestMemoryChars) + "\n")
	}
	if p.RepoURL != nil && *p.RepoURL != "" {
		b.WriteString("\nRepository: " + oneLine(*p.RepoURL, MaxRepoURL) + "\n")
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
			s += " (" + oneLine(*pt.Category, MaxPatternCategory) + ")"
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
	cut := cutAtWord(s, limit-1)
	if cut == "" { // one long word: cut it
		cut = string([]rune(s)[:limit-1])
	}
	return cut + "…"
}

// Impact is the result of [Relay.ImpactAnalysis] (#47).
type Impact struct {
	Project           string // the changed project's slug
	ChangeDescription string
	Affected          []AffectedProject // by depth, then slug
}

// AffectedProject is a project that depends, directly (Depth 1) or
// through others, on a changed project, with what of it the change may
// touch.
type AffectedProject struct {
	Slug             string
	Name             string
	RelationshipType string // of the edge by which it was first reached
	Depth            int
	Decisions        []DecisionHit // its active decisions matching the change, best first
	Memories         []Hit         // its memories matching the change, best first
}

// ImpactAnalysis finds the projects that depend on the project (incoming
// depends_on and api_consumer edges, followed transitively up to
// MaxImpactDepth edges; the MaxImpactProjects nearest, by depth then slug)
// and, in each, the active decisions and memories
// that match the change description: at most ImpactMatches of each, with
// scores of at least ImpactThreshold. Decisions are scored as by
// [Relay.CheckDecisions], memories as by [Relay.SearchMemories] (hybrid).
// An unknown project is a *NotFoundError.
func (r *Relay) ImpactAnalysis(ctx context.Context, accountID, project, change string) (Impact, error) {
	if project == "" {
		return Impact{}, invalid("project", "project is required")
	}
	if strings.TrimFunc(change, unicode.IsSpace) == "" || utf8.RuneCountInString(change) > MaxChangeDescription || !utf8.ValidString(change) {
		return Impact{}, invalid("change_description", "change_description must be 1-%d characters and not blank", MaxChangeDescription)
	}
	if !store.ValidSlug(project) {
		return Impact{}, errNoProject
	}
	deps, err := r.store.Dependents(ctx, accountID, project, dependencyTypes, MaxImpactDepth, MaxImpactProjects)
	if err != nil {
		return Impact{}, storeErr(err, "Project")
	}
	out := Impact{Project: project, ChangeDescription: change, Affected: make([]AffectedProject, 0, len(deps))}
	if len(deps) == 0 {
		return out, nil
	}
	q, err := r.index(ctx, change)
	if err != nil {
		return Impact{}, err
	}
	qt := newQueryTerms(change)
	active := decisionActive
	for _, d := range deps {
		ap := AffectedProject{Slug: d.Slug, Name: d.Name, RelationshipType: d.RelationshipType, Depth: d.Depth, Decisions: []DecisionHit{}}
		if ap.Decisions, err = r.rankDecisions(ctx, store.DecisionFilter{AccountID: accountID, Project: &d.Slug, Status: &active},
			q.Vector, qt, MaxImpactCandidates, ImpactThreshold, ImpactMatches); err != nil {
			return Impact{}, err
		}
		slug := d.Slug
		if ap.Memories, err = r.SearchMemories(ctx, accountID, SearchParams{Query: change, Project: &slug, Limit: ImpactMatches, Threshold: ImpactThreshold}); err != nil {
			return Impact{}, err
		}
		if ap.Memories == nil {
			ap.Memories = []Hit{}
		}
		out.Affected = append(out.Affected, ap)
	}
	return out, nil
}

// SharedPatterns returns the patterns adopted by both projects (#48), most
// adopted first, at most MaxSharedPatterns. Both are required; an unknown one is a *NotFoundError.
func (r *Relay) SharedPatterns(ctx context.Context, accountID, a, b string) ([]Pattern, error) {
	if a == "" {
		return nil, invalid("a", "a is required")
	}
	if b == "" {
		return nil, invalid("b", "b is required")
	}
	pa, err := r.GetProject(ctx, accountID, a)
	if err != nil {
		return nil, err
	}
	pb, err := r.GetProject(ctx, accountID, b)
	if err != nil {
		return nil, err
	}
	ps, err := r.store.SharedPatterns(ctx, accountID, pa.ID, pb.ID, MaxSharedPatterns)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = []Pattern{}
	}
	return ps, nil
}
