package projects

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/contextpack"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/decisions"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/internal/memories"
	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/rank"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Limits on the work of one request, whatever is stored. They are not
// errors: past them a read returns less, as documented on each.
const (
	// MaxLinks is how many edges Dependencies, Dependents and Related
	// return at most (the newest).
	MaxLinks = 100
	// MaxSharedPatterns is how many patterns SharedPatterns returns at
	// most (the most adopted).
	MaxSharedPatterns = 100
	// MaxImpactDepth is how many edges impact analysis follows back from
	// the changed project.
	MaxImpactDepth = 10
	// MaxImpactProjects is how many dependent projects impact analysis
	// examines at most (the nearest, by depth then slug); each costs a
	// decision ranking and a memory search.
	MaxImpactProjects = 20
	// MaxImpactCandidates is how many of each affected project's active
	// decisions impact analysis ranks (the nearest the change), so that
	// the whole analysis ranks at most 20 × 50 decisions.
	MaxImpactCandidates = 50
	// ImpactMatches is how many decisions and how many memories impact
	// analysis reports per affected project, at most.
	ImpactMatches = 5
	// ImpactThreshold is the lowest score of a decision or memory that
	// impact analysis reports (contract §7: below 0.3 shares no
	// meaningful term with the change).
	ImpactThreshold = 0.3
	// The sizes of a project's context (#42): hot memories, active
	// decisions and patterns.
	ContextHotMemories = 20
	ContextDecisions   = 10
	ContextPatterns    = 10
)

// Store is the storage of projects and of what they link to.
type Store interface {
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

// dependencyTypes are the relationship types that make the source project
// depend on the target (#44–#47).
var dependencyTypes = []string{"depends_on", "api_consumer"}

// Config is what a Service needs.
type Config struct {
	Store     Store
	Gate      guard.Gate       // admits each call and classifies its error
	Now       func() time.Time // the clock, in the stored precision (UTC milliseconds)
	Index     indexing.Indexer
	Decisions *decisions.Service // ranks an affected project's decisions
	Memories  *memories.Service  // searches an affected project's memories
}

// Service serves the projects of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct{ c Config }

// New returns the projects of c.Store.
func New(c Config) *Service { return &Service{c: c} }

// For returns the project API of the account.
func (s *Service) For(accountID string) memory.Projects { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Projects = account{}

func (a account) Create(ctx context.Context, in memory.NewProject) (memory.Project, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Project, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) Get(ctx context.Context, slug string) (memory.Project, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Project, error) {
		p, err := a.s.get(ctx, a.id, slug)
		return convert.Project(p), err
	})
}

func (a account) List(ctx context.Context, p memory.ProjectListParams) (memory.Page[memory.Project], error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Page[memory.Project], error) { return a.s.list(ctx, a.id, p) })
}

func (a account) Relate(ctx context.Context, slug string, in memory.NewProjectRelationship) (memory.ProjectRelationship, bool, error) {
	return guard.Call2(ctx, a.s.c.Gate, a.id, func() (memory.ProjectRelationship, bool, error) { return a.s.relate(ctx, a.id, slug, in) })
}

func (a account) Dependencies(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() ([]memory.ProjectLink, error) {
		return a.s.links(ctx, a.id, slug, true, false, dependencyTypes)
	})
}

func (a account) Dependents(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() ([]memory.ProjectLink, error) {
		return a.s.links(ctx, a.id, slug, false, true, dependencyTypes)
	})
}

func (a account) Related(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() ([]memory.ProjectLink, error) {
		return a.s.links(ctx, a.id, slug, true, true, nil)
	})
}

func (a account) Context(ctx context.Context, slug string) (memory.ProjectContext, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.ProjectContext, error) { return a.s.context(ctx, a.id, slug) })
}

func (a account) Impact(ctx context.Context, slug, change string) (memory.Impact, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Impact, error) { return a.s.impact(ctx, a.id, slug, change) })
}

func (a account) SharedPatterns(ctx context.Context, slugA, slugB string) ([]memory.Pattern, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() ([]memory.Pattern, error) { return a.s.sharedPatterns(ctx, a.id, slugA, slugB) })
}

// create stores a new project. A slug the account already has, even from
// auto-creation (§5.9), is a *memory.ConflictError.
func (s *Service) create(ctx context.Context, accountID string, in memory.NewProject) (memory.Project, error) {
	var p valid.Problems
	checkNewSlug(&p, "Slug", in.Slug)
	p.Text("Name", in.Name, memory.MaxProjectName)
	p.OptText("Description", in.Description, memory.MaxProjectDescription)
	p.OptText("RepoURL", in.RepoURL, memory.MaxRepoURL)
	stack := p.Object("Stack", in.Stack)
	if len(stack) > memory.MaxProjectStack {
		p.Add("Stack", "Stack must be at most %d bytes when serialized", memory.MaxProjectStack)
	}
	meta := p.Metadata(in.Metadata)
	if err := p.Err(); err != nil {
		return memory.Project{}, err
	}
	now := s.c.Now()
	pr := store.Project{
		ID: uuid.New(), AccountID: accountID, Slug: in.Slug, Name: in.Name, Description: in.Description,
		Stack: stack, RepoURL: in.RepoURL, Metadata: meta, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.c.Store.InsertProject(ctx, &pr); err != nil {
		if errors.Is(err, store.ErrSlugTaken) {
			return memory.Project{}, &memory.ConflictError{Message: "Project slug already exists"}
		}
		return memory.Project{}, err
	}
	return convert.Project(pr), nil
}

// checkNewSlug checks a slug that is about to name a project.
func checkNewSlug(p *valid.Problems, field, slug string) {
	switch {
	case slug == "":
		p.Add(field, "%s is required", field)
	case !store.ValidSlug(slug):
		p.Add(field, "%s must match ^[a-z0-9][a-z0-9-]*$ and be at most %d characters", field, store.MaxSlug)
	case store.ReservedSlug(slug):
		p.Add(field, "%s %q is reserved", field, slug)
	}
}

// errNoProject is the error of every read of an unknown project.
var errNoProject = apierr.NotFound(apierr.Project)

// get returns the account's project with the slug. A slug the account
// does not have, or that is not a valid slug, is a *memory.NotFoundError.
func (s *Service) get(ctx context.Context, accountID, slug string) (store.Project, error) {
	if !store.ValidSlug(slug) {
		return store.Project{}, errNoProject
	}
	p, err := s.c.Store.GetProject(ctx, accountID, slug)
	return p, apierr.FromStore(err, apierr.Project)
}

// list returns a page of the account's projects, newest first.
func (s *Service) list(ctx context.Context, accountID string, p memory.ProjectListParams) (memory.Page[memory.Project], error) {
	var v valid.Problems
	q := page.Keyset(&v, page.Projects, p.Limit, p.Offset, p.Cursor)
	if err := v.Err(); err != nil {
		return memory.Page[memory.Project]{}, err
	}
	ps, total, err := s.c.Store.ListProjects(ctx, accountID, q.Limit+1, q.Offset, q.After)
	if err != nil {
		return memory.Page[memory.Project]{}, err
	}
	return page.KeysetPage(page.Projects, ps, convert.Project, total, q, func(p store.Project) store.Position {
		return store.Position{CreatedAt: p.CreatedAt.UnixMilli(), ID: p.ID}
	}), nil
}

// relate adds the edge slug → in.Target of type in.Type. The source
// project must exist (else a *memory.NotFoundError); the target is
// created, named after its slug, if the account has none. The target must
// differ from the source. An edge with the same source, target and type
// already stored is returned as is with created false.
func (s *Service) relate(ctx context.Context, accountID, slug string, in memory.NewProjectRelationship) (memory.ProjectRelationship, bool, error) {
	if !store.ValidSlug(slug) {
		return memory.ProjectRelationship{}, false, errNoProject
	}
	var p valid.Problems
	checkNewSlug(&p, "Target", in.Target)
	if in.Target == slug {
		p.Add("Target", "Target must differ from the source project")
	}
	if valid.Blank(in.Type) || utf8.RuneCountInString(in.Type) > memory.MaxRelationshipType {
		p.Add("Type", "Type must be 1-%d characters and not blank", memory.MaxRelationshipType)
	}
	meta := p.Metadata(in.Metadata)
	if err := p.Err(); err != nil {
		return memory.ProjectRelationship{}, false, err
	}
	rel := store.ProjectRelationship{AccountID: accountID, Source: slug, Target: in.Target, Type: in.Type, Metadata: meta, CreatedAt: s.c.Now()}
	created, err := s.c.Store.InsertProjectRelationship(ctx, &rel)
	if err != nil {
		return memory.ProjectRelationship{}, false, apierr.FromStore(err, apierr.Project)
	}
	return convert.Relationship(rel), created, nil
}

// links are the project's edges: dependencies are outgoing dependencyTypes
// edges (#44), dependents incoming ones (#45), related projects every edge
// both ways (#46); each newest first, at most MaxLinks.
func (s *Service) links(ctx context.Context, accountID, slug string, out, in bool, types []string) ([]memory.ProjectLink, error) {
	if !store.ValidSlug(slug) {
		return nil, errNoProject
	}
	links, err := s.c.Store.ProjectLinks(ctx, accountID, slug, out, in, types, MaxLinks)
	if err != nil {
		return nil, apierr.FromStore(err, apierr.Project)
	}
	return convert.All(links, convert.ProjectLink), nil
}

// context gathers the project's hot memories, active decisions and
// patterns with a Markdown digest of them. An unknown project is a
// *memory.NotFoundError.
func (s *Service) context(ctx context.Context, accountID, slug string) (memory.ProjectContext, error) {
	p, err := s.get(ctx, accountID, slug)
	if err != nil {
		return memory.ProjectContext{}, err
	}
	ms, err := s.c.Store.ProjectMemories(ctx, accountID, p.ID, "hot", ContextHotMemories)
	if err != nil {
		return memory.ProjectContext{}, err
	}
	active := memory.DecisionActive
	ds, _, err := s.c.Store.ListDecisions(ctx, store.DecisionFilter{AccountID: accountID, Project: &p.Slug, Status: &active}, ContextDecisions, 0, nil)
	if err != nil {
		return memory.ProjectContext{}, err
	}
	ps, err := s.c.Store.TopPatterns(ctx, store.PatternFilter{AccountID: accountID, Project: &p.Slug}, ContextPatterns)
	if err != nil {
		return memory.ProjectContext{}, err
	}
	out := memory.ProjectContext{Project: convert.Project(p), HotMemories: convert.All(ms, convert.Memory),
		Decisions: convert.All(ds, convert.Decision), Patterns: convert.All(ps, convert.Pattern)}
	out.Markdown = digest(out)
	return out, nil
}

// Digest line lengths, in characters, before an ellipsis.
const (
	digestMemoryChars = 300
	digestDetailChars = 200
)

// digest renders the Markdown digest of a project context.
func digest(pc memory.ProjectContext) string {
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
// and shortens it to at most limit characters at a word boundary, marking
// a cut with "…".
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

// impact finds the projects that depend on the project (incoming
// depends_on and api_consumer edges, followed transitively up to
// MaxImpactDepth edges; the MaxImpactProjects nearest, by depth then slug)
// and, in each, the active decisions and memories that match the change
// description: at most ImpactMatches of each, with scores of at least
// ImpactThreshold. Decisions are scored as by decision check, memories as
// by memory search (hybrid). An unknown project is a
// *memory.NotFoundError.
func (s *Service) impact(ctx context.Context, accountID, project, change string) (memory.Impact, error) {
	var p valid.Problems
	if project == "" {
		p.Add("slug", "slug is required")
	}
	if valid.Blank(change) || utf8.RuneCountInString(change) > memory.MaxChangeDescription || !utf8.ValidString(change) {
		p.Add("change", "change must be 1-%d characters and not blank", memory.MaxChangeDescription)
	}
	if err := p.Err(); err != nil {
		return memory.Impact{}, err
	}
	if !store.ValidSlug(project) {
		return memory.Impact{}, errNoProject
	}
	deps, err := s.c.Store.Dependents(ctx, accountID, project, dependencyTypes, MaxImpactDepth, MaxImpactProjects)
	if err != nil {
		return memory.Impact{}, apierr.FromStore(err, apierr.Project)
	}
	out := memory.Impact{Project: project, ChangeDescription: change, Affected: make([]memory.AffectedProject, 0, len(deps))}
	if len(deps) == 0 {
		return out, nil
	}
	vec, err := s.c.Index.Embed(ctx, change)
	if err != nil {
		return memory.Impact{}, err
	}
	q := rank.NewQuery(change)
	active := memory.DecisionActive
	for _, d := range deps {
		ap := memory.AffectedProject{Slug: d.Slug, Name: d.Name, RelationshipType: d.RelationshipType, Depth: d.Depth}
		if ap.Decisions, err = s.c.Decisions.Rank(ctx, store.DecisionFilter{AccountID: accountID, Project: &d.Slug, Status: &active},
			vec, q, MaxImpactCandidates, ImpactThreshold, ImpactMatches); err != nil {
			return memory.Impact{}, err
		}
		slug := d.Slug
		hits, err := s.c.Memories.Hits(ctx, accountID, memory.SearchParams{Query: change, Project: &slug, Limit: ImpactMatches, Threshold: ImpactThreshold})
		if err != nil {
			return memory.Impact{}, err
		}
		ap.Memories = convert.All(hits, convert.Hit)
		out.Affected = append(out.Affected, ap)
	}
	return out, nil
}

// sharedPatterns returns the patterns adopted by both projects (#48),
// most adopted first, at most MaxSharedPatterns. Both are required; an
// unknown one is a *memory.NotFoundError.
func (s *Service) sharedPatterns(ctx context.Context, accountID, a, b string) ([]memory.Pattern, error) {
	var p valid.Problems
	if a == "" {
		p.Add("a", "a is required")
	}
	if b == "" {
		p.Add("b", "b is required")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	pa, err := s.get(ctx, accountID, a)
	if err != nil {
		return nil, err
	}
	pb, err := s.get(ctx, accountID, b)
	if err != nil {
		return nil, err
	}
	ps, err := s.c.Store.SharedPatterns(ctx, accountID, pa.ID, pb.ID, MaxSharedPatterns)
	if err != nil {
		return nil, err
	}
	return convert.All(ps, convert.Pattern), nil
}
