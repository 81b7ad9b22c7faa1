package memorytest_test

// A temporary adapter: memory.Account over today's *memoryrelay.Relay,
// whose methods take an account id. It converts types and errors and adds
// no behaviour of its own, so that what the suite finds is the library's.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/memory/memorytest"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestRelayAdapter runs the suite against the adapter below. Today's
// library breaks parts of the contract (see the report of issue 9's
// suite), so the test runs only when MEMORYTEST_RELAY_ADAPTER is set:
//
//	MEMORYTEST_RELAY_ADAPTER=1 go test -run TestRelayAdapter ./memory/memorytest
func TestRelayAdapter(t *testing.T) {
	if os.Getenv("MEMORYTEST_RELAY_ADAPTER") == "" {
		t.Skip("set MEMORYTEST_RELAY_ADAPTER=1 to run the suite against today's library")
	}
	r, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: filepath.Join(t.TempDir(), "relay.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	t.Run("ForAKey", func(t *testing.T) {
		memorytest.Run(t, func(t *testing.T) memorytest.Env {
			a, b := newAccount(t, r, true), newAccount(t, r, true)
			return memorytest.Env{Account: a, Other: b, KeyID: a.key.ID}
		})
	})
	t.Run("ForNoKey", func(t *testing.T) {
		memorytest.Run(t, func(t *testing.T) memorytest.Env {
			return memorytest.Env{Account: newAccount(t, r, false), Other: newAccount(t, r, false)}
		})
	})
}

// newAccount makes an account and, withKey, an admin key it acts for.
func newAccount(t *testing.T, r *memoryrelay.Relay, withKey bool) relayAccount {
	t.Helper()
	ctx := context.Background()
	acct, err := r.CreateAccount(ctx, "suite")
	if err != nil {
		t.Fatal(err)
	}
	a := relayAccount{r: r, id: acct.ID}
	if withKey {
		k, _, err := r.CreateKey(ctx, acct.ID, memoryrelay.NewKey{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
		if err != nil {
			t.Fatal(err)
		}
		a.key = &k
	}
	return a
}

type relayAccount struct {
	r   *memoryrelay.Relay
	id  string
	key *keys.Key // the key it acts for; nil: none
}

func (a relayAccount) Memories() memory.Memories   { return memories(a) }
func (a relayAccount) Agents() memory.Agents       { return agents(a) }
func (a relayAccount) Entities() memory.Entities   { return entities(a) }
func (a relayAccount) Sessions() memory.Sessions   { return sessions(a) }
func (a relayAccount) Decisions() memory.Decisions { return decisions(a) }
func (a relayAccount) Patterns() memory.Patterns   { return patterns(a) }
func (a relayAccount) Projects() memory.Projects   { return projects(a) }
func (a relayAccount) Contexts() memory.Contexts   { return contexts(a) }
func (a relayAccount) Keys() memory.Keys           { return keyring(a) }
func (a relayAccount) Usage() memory.Usage         { return usage(a) }

var _ memory.Account = relayAccount{}

// Errors.

// wireFields maps the wire names the library's errors use today to the Go
// names package memory wants, where they are not the same words.
var wireFields = map[string]string{
	"search_mode":        "Mode",
	"target_project":     "Target",
	"relationship_type":  "Type",
	"change_description": "change",
	"grace_seconds":      "grace",
	"project_slug":       "Project",
	"entity_type":        "Type",
	"exclude_memory_ids": "ExcludeIDs",
}

func goField(wire string) string {
	if f, ok := wireFields[wire]; ok {
		return f
	}
	parts := strings.Split(wire, "_")
	for i, p := range parts {
		switch p {
		case "id", "url":
			parts[i] = strings.ToUpper(p)
		default:
			if p != "" {
				parts[i] = strings.ToUpper(p[:1]) + p[1:]
			}
		}
	}
	return strings.Join(parts, "")
}

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var (
		ve *memoryrelay.ValidationError
		nf *memoryrelay.NotFoundError
		ce *memoryrelay.ConflictError
		ue *memoryrelay.UnavailableError
		ki *keys.InvalidError
	)
	switch {
	case errors.As(err, &ve):
		return memory.Invalid(goField(ve.Field), ve.Message)
	case errors.As(err, &nf):
		return &memory.NotFoundError{Kind: strings.ToLower(nf.Kind)}
	case errors.As(err, &ce):
		return &memory.ConflictError{Message: ce.Message}
	case errors.As(err, &ue):
		return &memory.UnavailableError{Reason: ue.Reason, Err: ue.Err}
	case errors.Is(err, keys.ErrNotFound):
		return &memory.NotFoundError{Kind: "key", Err: err}
	case errors.Is(err, keys.ErrLastAdmin):
		return memory.Invalid("id", "the account's last admin key cannot be revoked")
	case errors.As(err, &ki):
		return memory.Invalid(goField(ki.Field), ki.Message)
	}
	return err
}

// Types.

func toMemory(m memoryrelay.Memory) memory.Memory {
	out := memory.Memory{
		ID: m.ID, AgentID: m.AgentID, UserID: m.UserID, Content: m.Content, Metadata: m.Metadata,
		MemoryType: m.MemoryType, Visibility: m.Visibility, Importance: m.Importance, Tier: m.Tier, Scope: m.Scope,
		SessionID: m.SessionID, Project: m.Project, ProjectID: m.ProjectID, ArchivedAt: m.ArchivedAt,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
	for _, e := range m.Entities {
		out.Entities = append(out.Entities, memory.EntityRef(e))
	}
	return out
}

func toMemories(ms []memoryrelay.Memory) []memory.Memory {
	out := make([]memory.Memory, len(ms))
	for i, m := range ms {
		out[i] = toMemory(m)
	}
	return out
}

func toHits(hs []memoryrelay.Hit) []memory.Hit {
	out := make([]memory.Hit, len(hs))
	for i, h := range hs {
		out[i] = memory.Hit{Memory: toMemory(h.Memory), Score: h.Score}
	}
	return out
}

func toPage[T, U any](p memoryrelay.Page[T], conv func(T) U) memory.Page[U] {
	out := memory.Page[U]{Data: make([]U, len(p.Data)), HasMore: p.HasMore, Total: p.Total, Limit: p.Limit,
		Offset: p.Offset, NextCursor: p.NextCursor}
	for i, v := range p.Data {
		out.Data[i] = conv(v)
	}
	return out
}

func toAgent(a memoryrelay.Agent) memory.Agent {
	return memory.Agent{ID: a.ID, Name: a.Name, Description: a.Description, Metadata: a.Metadata,
		MemoryCount: a.MemoryCount, SessionCount: a.SessionCount, ProjectCount: a.ProjectCount,
		LastActiveAt: a.LastActiveAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func toEntity(e memoryrelay.Entity) memory.Entity {
	return memory.Entity{ID: e.ID, AgentID: e.AgentID, Name: e.Name, Type: e.Type, Metadata: e.Metadata,
		MemoryCount: e.MemoryCount, RelationshipCount: e.RelationshipCount, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

func toSession(s memoryrelay.Session) memory.Session {
	return memory.Session{ID: s.ID, AgentID: s.AgentID, ExternalID: s.ExternalID, Project: s.Project, Status: s.Status,
		Title: s.Title, Summary: s.Summary, Metadata: s.Metadata, MemoryCount: s.MemoryCount, StartedAt: s.StartedAt,
		EndedAt: s.EndedAt, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func toDecision(d memoryrelay.Decision) memory.Decision {
	return memory.Decision{ID: d.ID, AgentID: d.AgentID, SessionID: d.SessionID, ProjectSlug: d.ProjectSlug, Title: d.Title,
		Rationale: d.Rationale, Alternatives: d.Alternatives, Status: d.Status, SupersededBy: d.SupersededBy, Tags: d.Tags,
		Metadata: d.Metadata, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func toDecisionHits(hs []memoryrelay.DecisionHit) []memory.DecisionHit {
	out := make([]memory.DecisionHit, len(hs))
	for i, h := range hs {
		out[i] = memory.DecisionHit{Decision: toDecision(h.Decision), Score: h.Score}
	}
	return out
}

func toPattern(p memoryrelay.Pattern) memory.Pattern {
	return memory.Pattern{ID: p.ID, Title: p.Title, Description: p.Description, Category: p.Category,
		ExampleCode: p.ExampleCode, Scope: p.Scope, Tags: p.Tags, SourceProjectID: p.SourceProjectID,
		SourceProjectSlug: p.SourceProjectSlug, Metadata: p.Metadata, AdoptionCount: p.AdoptionCount,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func toPatterns(ps []memoryrelay.Pattern) []memory.Pattern {
	out := make([]memory.Pattern, len(ps))
	for i, p := range ps {
		out[i] = toPattern(p)
	}
	return out
}

func toProject(p memoryrelay.Project) memory.Project {
	return memory.Project{ID: p.ID, Slug: p.Slug, Name: p.Name, Description: p.Description, Stack: p.Stack,
		RepoURL: p.RepoURL, Metadata: p.Metadata, MemoryCount: p.MemoryCount, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func toLinks(ls []memoryrelay.ProjectLink) []memory.ProjectLink {
	out := make([]memory.ProjectLink, len(ls))
	for i, l := range ls {
		out[i] = memory.ProjectLink{Slug: l.Slug, Name: l.Name, RelationshipType: l.RelationshipType,
			Direction: l.Direction, Metadata: l.Metadata, CreatedAt: l.CreatedAt}
	}
	return out
}

func newMemory(in memory.NewMemory) memoryrelay.NewMemory { return memoryrelay.NewMemory(in) }

// Memories.

type memories relayAccount

func (m memories) Create(ctx context.Context, in memory.NewMemory) (memory.CreateResult, error) {
	res, err := m.r.AddMemory(ctx, m.id, newMemory(in))
	return memory.CreateResult{Memory: toMemory(res.Memory), IsDuplicate: res.IsDuplicate}, mapErr(err)
}

func (m memories) CreateBatch(ctx context.Context, p memory.BatchParams) (memory.BatchResult, error) {
	in := memoryrelay.BatchParams{AgentID: p.AgentID}
	for _, x := range p.Memories {
		in.Memories = append(in.Memories, newMemory(x))
	}
	res, err := m.r.CreateMemories(ctx, m.id, in)
	if err != nil {
		return memory.BatchResult{}, mapErr(err)
	}
	out := memory.BatchResult{Succeeded: res.Succeeded, Failed: res.Failed, Skipped: res.Skipped, Timing: memory.BatchTiming(res.Timing)}
	for _, it := range res.Items {
		out.Items = append(out.Items, memory.BatchItemResult{Status: it.Status, MemoryID: it.MemoryID, Err: mapErr(it.Err)})
	}
	return out, nil
}

func (m memories) CreateAsync(ctx context.Context, in memory.NewMemory, o memory.AsyncOptions) (memory.Job, error) {
	j, err := m.r.CreateMemoryAsync(ctx, m.id, newMemory(in), o.WebhookURL)
	return memory.Job(j), mapErr(err)
}

func (m memories) Job(ctx context.Context, id string) (memory.Job, error) {
	j, err := m.r.MemoryStatus(ctx, m.id, id)
	return memory.Job(j), mapErr(err)
}

func (m memories) Get(ctx context.Context, id string) (memory.Memory, error) {
	x, err := m.r.GetMemory(ctx, m.id, id)
	return toMemory(x), mapErr(err)
}

func (m memories) List(ctx context.Context, p memory.ListParams) (memory.Page[memory.Memory], error) {
	pg, err := m.r.ListMemories(ctx, m.id, memoryrelay.ListParams(p))
	return toPage(pg, toMemory), mapErr(err)
}

func (m memories) Update(ctx context.Context, id string, p memory.MemoryPatch) (memory.Memory, error) {
	x, err := m.r.UpdateMemory(ctx, m.id, id, memoryrelay.MemoryPatch(p))
	return toMemory(x), mapErr(err)
}

func (m memories) SetImportance(ctx context.Context, id string, importance float64, tier *string) (memory.Memory, error) {
	x, err := m.r.SetImportance(ctx, m.id, id, importance, tier)
	return toMemory(x), mapErr(err)
}

func (m memories) Delete(ctx context.Context, id string) error {
	return mapErr(m.r.DeleteMemory(ctx, m.id, id))
}

func (m memories) DeleteUser(ctx context.Context, userID string) (int, error) {
	n, err := m.r.DeleteUserMemories(ctx, m.id, userID)
	return n, mapErr(err)
}

func (m memories) Search(ctx context.Context, p memory.SearchParams) ([]memory.Hit, error) {
	hs, err := m.r.SearchMemories(ctx, m.id, memoryrelay.SearchParams{
		Query: p.Query, Limit: p.Limit, Threshold: p.Threshold, Mode: p.Mode, AgentID: p.AgentID, UserID: p.UserID,
		SessionID: p.SessionID, Tier: p.Tier, MinImportance: p.MinImportance, Project: p.Project, Scope: p.Scope,
		Namespace: p.Namespace, MetadataFilter: p.MetadataFilter, IncludeConfidential: p.IncludeConfidential,
		IncludeArchived: p.IncludeArchived,
	})
	return toHits(hs), mapErr(err)
}

func (m memories) Embed(ctx context.Context, text, prefix string) (memory.Embedding, error) {
	e, err := m.r.Embed(ctx, text, prefix)
	return memory.Embedding(e), mapErr(err)
}

// Agents.

type agents relayAccount

func (a agents) Create(ctx context.Context, in memory.NewAgent) (memory.Agent, bool, error) {
	x, created, err := a.r.CreateAgent(ctx, a.id, memoryrelay.NewAgent(in))
	return toAgent(x), created, mapErr(err)
}

func (a agents) Get(ctx context.Context, ref string) (memory.Agent, error) {
	x, err := a.r.GetAgent(ctx, a.id, ref)
	return toAgent(x), mapErr(err)
}

func (a agents) List(ctx context.Context, p memory.PageParams) (memory.Page[memory.Agent], error) {
	if p.Cursor != "" {
		return memory.Page[memory.Agent]{}, memory.Invalid("Cursor", "the library lists agents by offset only")
	}
	pg, err := a.r.ListAgents(ctx, a.id, p.Limit, p.Offset)
	return toPage(pg, toAgent), mapErr(err)
}

func (a agents) Update(ctx context.Context, ref string, p memory.AgentPatch) (memory.Agent, error) {
	x, err := a.r.UpdateAgent(ctx, a.id, ref, memoryrelay.AgentPatch(p))
	return toAgent(x), mapErr(err)
}

func (a agents) Delete(ctx context.Context, ref string) (memory.AgentDeletion, error) {
	d, err := a.r.DeleteAgent(ctx, a.id, ref)
	return memory.AgentDeletion(d), mapErr(err)
}

func (a agents) Stats(ctx context.Context, ref string) (memory.AgentStats, error) {
	s, err := a.r.AgentStats(ctx, a.id, ref)
	return memory.AgentStats(s), mapErr(err)
}

// Entities.

type entities relayAccount

func (e entities) Create(ctx context.Context, in memory.NewEntity) (memory.Entity, error) {
	x, err := e.r.CreateEntity(ctx, e.id, memoryrelay.NewEntity(in))
	return toEntity(x), mapErr(err)
}

func (e entities) Get(ctx context.Context, id string) (memory.Entity, error) {
	x, err := e.r.GetEntity(ctx, e.id, id)
	return toEntity(x), mapErr(err)
}

func (e entities) List(ctx context.Context, p memory.EntityListParams) (memory.Page[memory.Entity], error) {
	pg, err := e.r.ListEntities(ctx, e.id, memoryrelay.EntityListParams(p))
	return toPage(pg, toEntity), mapErr(err)
}

func (e entities) Delete(ctx context.Context, id string) error {
	return mapErr(e.r.DeleteEntity(ctx, e.id, id))
}

func (e entities) Link(ctx context.Context, in memory.NewEntityLink) (memory.EntityLink, bool, error) {
	l, created, err := e.r.LinkEntity(ctx, e.id, memoryrelay.NewEntityLink(in))
	return memory.EntityLink(l), created, mapErr(err)
}

func (e entities) Neighborhood(ctx context.Context, id string, p memory.NeighborhoodParams) (memory.Neighborhood, error) {
	n, err := e.r.EntityNeighborhood(ctx, e.id, id, memoryrelay.NeighborhoodParams(p))
	out := memory.Neighborhood{Entity: toEntity(n.Entity)}
	for _, x := range n.Neighbors {
		out.Neighbors = append(out.Neighbors, memory.Neighbor(x))
	}
	if n.Neighbors != nil && out.Neighbors == nil {
		out.Neighbors = []memory.Neighbor{}
	}
	return out, mapErr(err)
}

// Sessions.

type sessions relayAccount

func (s sessions) Create(ctx context.Context, in memory.NewSession) (memory.Session, error) {
	x, err := s.r.CreateSession(ctx, s.id, memoryrelay.NewSession(in))
	return toSession(x), mapErr(err)
}

func (s sessions) GetOrCreate(ctx context.Context, externalID string, in memory.NewSession) (memory.Session, bool, error) {
	x, created, err := s.r.GetOrCreateSession(ctx, s.id, externalID, memoryrelay.NewSession(in))
	return toSession(x), created, mapErr(err)
}

func (s sessions) Get(ctx context.Context, id string) (memory.Session, error) {
	x, err := s.r.GetSession(ctx, s.id, id)
	return toSession(x), mapErr(err)
}

func (s sessions) GetWithMemories(ctx context.Context, id string) (memory.Session, []memory.Memory, error) {
	x, ms, err := s.r.SessionWithMemories(ctx, s.id, id)
	return toSession(x), toMemories(ms), mapErr(err)
}

func (s sessions) End(ctx context.Context, id string, summary *string) (memory.Session, error) {
	x, err := s.r.EndSession(ctx, s.id, id, summary)
	return toSession(x), mapErr(err)
}

func (s sessions) List(ctx context.Context, p memory.SessionListParams) (memory.Page[memory.Session], error) {
	pg, err := s.r.ListSessions(ctx, s.id, memoryrelay.SessionListParams(p))
	return toPage(pg, toSession), mapErr(err)
}

// Decisions.

type decisions relayAccount

func (d decisions) Create(ctx context.Context, in memory.NewDecision) (memory.Decision, error) {
	x, err := d.r.CreateDecision(ctx, d.id, memoryrelay.NewDecision(in))
	return toDecision(x), mapErr(err)
}

func (d decisions) Get(ctx context.Context, id string) (memory.Decision, error) {
	x, err := d.r.GetDecision(ctx, d.id, id)
	return toDecision(x), mapErr(err)
}

func (d decisions) List(ctx context.Context, p memory.DecisionListParams) (memory.Page[memory.Decision], error) {
	pg, err := d.r.ListDecisions(ctx, d.id, memoryrelay.DecisionListParams(p))
	return toPage(pg, toDecision), mapErr(err)
}

func (d decisions) Supersede(ctx context.Context, id string, p memory.SupersedeParams) (memory.Decision, error) {
	x, err := d.r.SupersedeDecision(ctx, d.id, id, memoryrelay.SupersedeParams(p))
	return toDecision(x), mapErr(err)
}

func (d decisions) Check(ctx context.Context, p memory.DecisionCheckParams) ([]memory.DecisionHit, error) {
	hs, err := d.r.CheckDecisions(ctx, d.id, memoryrelay.DecisionCheckParams(p))
	return toDecisionHits(hs), mapErr(err)
}

// Patterns.

type patterns relayAccount

func (p patterns) Create(ctx context.Context, in memory.NewPattern) (memory.Pattern, error) {
	x, err := p.r.CreatePattern(ctx, p.id, memoryrelay.NewPattern(in))
	return toPattern(x), mapErr(err)
}

func (p patterns) Get(ctx context.Context, id string) (memory.Pattern, error) {
	x, err := p.r.GetPattern(ctx, p.id, id)
	return toPattern(x), mapErr(err)
}

func (p patterns) Search(ctx context.Context, in memory.PatternSearchParams) ([]memory.PatternHit, error) {
	hs, err := p.r.SearchPatterns(ctx, p.id, memoryrelay.PatternSearchParams(in))
	out := make([]memory.PatternHit, len(hs))
	for i, h := range hs {
		out[i] = memory.PatternHit{Pattern: toPattern(h.Pattern), Score: h.Score}
	}
	return out, mapErr(err)
}

func (p patterns) Adopt(ctx context.Context, id, project string) (memory.Pattern, error) {
	x, err := p.r.AdoptPattern(ctx, p.id, id, project)
	return toPattern(x), mapErr(err)
}

func (p patterns) Suggest(ctx context.Context, project string, limit int) ([]memory.Pattern, error) {
	ps, err := p.r.SuggestPatterns(ctx, p.id, project, limit)
	return toPatterns(ps), mapErr(err)
}

// Projects.

type projects relayAccount

func (p projects) Create(ctx context.Context, in memory.NewProject) (memory.Project, error) {
	x, err := p.r.CreateProject(ctx, p.id, memoryrelay.NewProject(in))
	return toProject(x), mapErr(err)
}

func (p projects) Get(ctx context.Context, slug string) (memory.Project, error) {
	x, err := p.r.GetProject(ctx, p.id, slug)
	return toProject(x), mapErr(err)
}

func (p projects) List(ctx context.Context, in memory.ProjectListParams) (memory.Page[memory.Project], error) {
	pg, err := p.r.ListProjects(ctx, p.id, memoryrelay.ProjectListParams(in))
	return toPage(pg, toProject), mapErr(err)
}

func (p projects) Relate(ctx context.Context, slug string, in memory.NewProjectRelationship) (memory.ProjectRelationship, bool, error) {
	x, created, err := p.r.RelateProjects(ctx, p.id, slug, memoryrelay.NewProjectRelationship(in))
	return memory.ProjectRelationship{ID: x.ID, Source: x.Source, Target: x.Target, Type: x.Type, Metadata: x.Metadata,
		CreatedAt: x.CreatedAt}, created, mapErr(err)
}

func (p projects) Dependencies(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	ls, err := p.r.ProjectDependencies(ctx, p.id, slug)
	return toLinks(ls), mapErr(err)
}

func (p projects) Dependents(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	ls, err := p.r.ProjectDependents(ctx, p.id, slug)
	return toLinks(ls), mapErr(err)
}

func (p projects) Related(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	ls, err := p.r.RelatedProjects(ctx, p.id, slug)
	return toLinks(ls), mapErr(err)
}

func (p projects) Context(ctx context.Context, slug string) (memory.ProjectContext, error) {
	pc, err := p.r.ProjectContext(ctx, p.id, slug)
	out := memory.ProjectContext{Project: toProject(pc.Project), HotMemories: toMemories(pc.HotMemories),
		Patterns: toPatterns(pc.Patterns), Markdown: pc.Markdown}
	for _, d := range pc.Decisions {
		out.Decisions = append(out.Decisions, toDecision(d))
	}
	return out, mapErr(err)
}

func (p projects) Impact(ctx context.Context, slug, change string) (memory.Impact, error) {
	im, err := p.r.ImpactAnalysis(ctx, p.id, slug, change)
	out := memory.Impact{Project: im.Project, ChangeDescription: im.ChangeDescription}
	if im.Affected != nil {
		out.Affected = []memory.AffectedProject{}
	}
	for _, a := range im.Affected {
		out.Affected = append(out.Affected, memory.AffectedProject{Slug: a.Slug, Name: a.Name,
			RelationshipType: a.RelationshipType, Depth: a.Depth, Decisions: toDecisionHits(a.Decisions), Memories: toHits(a.Memories)})
	}
	return out, mapErr(err)
}

func (p projects) SharedPatterns(ctx context.Context, a, b string) ([]memory.Pattern, error) {
	ps, err := p.r.SharedPatterns(ctx, p.id, a, b)
	return toPatterns(ps), mapErr(err)
}

// Contexts.

type contexts relayAccount

func (c contexts) Text(ctx context.Context, p memory.TextContextParams) (memory.TextContext, error) {
	tc, err := c.r.TextContext(ctx, c.id, memoryrelay.TextContextParams(p))
	return memory.TextContext{Text: tc.Text, Hits: toHits(tc.Hits), TotalChars: tc.TotalChars}, mapErr(err)
}

func (c contexts) Build(ctx context.Context, p memory.BuildContextParams) (memory.BuiltContext, error) {
	bc, err := c.r.BuildContext(ctx, c.id, memoryrelay.BuildContextParams(p))
	out := memory.BuiltContext{TokenCount: bc.TokenCount, Latency: bc.Latency}
	for _, it := range bc.Items {
		out.Items = append(out.Items, memory.ContextItem{Memory: toMemory(it.Memory), Score: it.Score, Tokens: it.Tokens})
	}
	return out, mapErr(err)
}

// Keys.

type keyring relayAccount

func (k keyring) Create(ctx context.Context, in memory.NewKey) (keys.Key, keys.Token, error) {
	x, tok, err := k.r.CreateKey(ctx, k.id, memoryrelay.NewKey(in))
	return x, tok, mapErr(err)
}

func (k keyring) List(ctx context.Context, p memory.PageParams) (memory.Page[keys.Key], error) {
	if p.Cursor != "" {
		return memory.Page[keys.Key]{}, memory.Invalid("Cursor", "the library lists keys by offset only")
	}
	pg, err := k.r.ListKeys(ctx, k.id, p.Limit, p.Offset)
	return toPage(pg, func(x keys.Key) keys.Key { return x }), mapErr(err)
}

func (k keyring) Get(ctx context.Context, id string) (keys.Key, error) {
	x, err := k.r.GetKey(ctx, k.id, id)
	return x, mapErr(err)
}

func (k keyring) Revoke(ctx context.Context, id string) (keys.Key, error) {
	x, err := k.r.RevokeKey(ctx, k.id, id)
	return x, mapErr(err)
}

func (k keyring) Rotate(ctx context.Context, id string, grace time.Duration) (keys.Key, keys.Token, error) {
	x, tok, err := k.r.RotateKey(ctx, k.id, id, grace)
	return x, tok, mapErr(err)
}

// Usage.

type usage relayAccount

func (u usage) Quota(ctx context.Context) (memory.Quota, error) {
	if u.key == nil {
		return memory.Quota{}, memory.Invalid("key", "this account acts for no key")
	}
	q, err := u.r.Quota(ctx, *u.key)
	return memory.Quota(q), mapErr(err)
}
