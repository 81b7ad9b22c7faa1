package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
)

// projects implements memory.Projects: /v1/projects (API contract §5.9).
type projects struct{ c *Client }

func projectPath(slug string) string { return "/v1/projects/" + pathEscape(slug) }

func (s projects) one(ctx context.Context, r request) (memory.Project, error) {
	r.kind = "project"
	var w projectJSON
	if _, err := s.c.call(ctx, r, &w); err != nil {
		return memory.Project{}, err
	}
	return toProject(w), nil
}

func (s projects) Create(ctx context.Context, in memory.NewProject) (memory.Project, error) {
	body := struct {
		Slug        string          `json:"slug"`
		Name        string          `json:"name"`
		Description *string         `json:"description,omitempty"`
		Stack       json.RawMessage `json:"stack,omitempty"`
		RepoURL     *string         `json:"repo_url,omitempty"`
		Metadata    json.RawMessage `json:"metadata,omitempty"`
	}{in.Slug, in.Name, in.Description, in.Stack, in.RepoURL, in.Metadata}
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/projects", body: body})
}

func (s projects) Get(ctx context.Context, slug string) (memory.Project, error) {
	return s.one(ctx, request{method: http.MethodGet, path: projectPath(slug)})
}

func (s projects) List(ctx context.Context, p memory.ProjectListParams) (memory.Page[memory.Project], error) {
	var w listJSON[projectJSON]
	q := query{}.page(p.Limit, p.Offset, p.Cursor)
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/projects", query: q.values(), kind: "project"}, &w); err != nil {
		return memory.Page[memory.Project]{}, err
	}
	return toPage(w, toProject), nil
}

func (s projects) Relate(ctx context.Context, slug string, in memory.NewProjectRelationship) (memory.ProjectRelationship, bool, error) {
	body := struct {
		Target   string          `json:"target_project"`
		Type     string          `json:"relationship_type"`
		Metadata json.RawMessage `json:"metadata,omitempty"`
	}{in.Target, in.Type, in.Metadata}
	var w struct {
		ID        string          `json:"id"`
		Source    string          `json:"source_project"`
		Target    string          `json:"target_project"`
		Type      string          `json:"relationship_type"`
		Metadata  json.RawMessage `json:"metadata"`
		CreatedAt isoTime         `json:"created_at"`
	}
	status, err := s.c.call(ctx, request{method: http.MethodPost, path: projectPath(slug) + "/relationships", body: body, kind: "project"}, &w)
	if err != nil {
		return memory.ProjectRelationship{}, false, err
	}
	rel := memory.ProjectRelationship{ID: w.ID, Source: w.Source, Target: w.Target, Type: w.Type, Metadata: object(w.Metadata), CreatedAt: w.CreatedAt.t}
	return rel, status == http.StatusCreated, nil
}

type projectLinkJSON struct {
	Slug             string          `json:"slug"`
	Name             string          `json:"name"`
	RelationshipType string          `json:"relationship_type"`
	Direction        string          `json:"direction"`
	Metadata         json.RawMessage `json:"metadata"`
	CreatedAt        isoTime         `json:"created_at"`
}

func (s projects) links(ctx context.Context, slug, which string) ([]memory.ProjectLink, error) {
	var w dataJSON[projectLinkJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: projectPath(slug) + "/" + which, kind: "project"}, &w); err != nil {
		return nil, err
	}
	return convert(w.Data, func(l projectLinkJSON) memory.ProjectLink {
		return memory.ProjectLink{Slug: l.Slug, Name: l.Name, RelationshipType: l.RelationshipType, Direction: l.Direction,
			Metadata: object(l.Metadata), CreatedAt: l.CreatedAt.t}
	}), nil
}

func (s projects) Dependencies(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return s.links(ctx, slug, "dependencies")
}

func (s projects) Dependents(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return s.links(ctx, slug, "dependents")
}

func (s projects) Related(ctx context.Context, slug string) ([]memory.ProjectLink, error) {
	return s.links(ctx, slug, "related")
}

func (s projects) Context(ctx context.Context, slug string) (memory.ProjectContext, error) {
	var w struct {
		Project         projectJSON    `json:"project"`
		HotMemories     []memoryJSON   `json:"hot_memories"`
		RecentDecisions []decisionJSON `json:"recent_decisions"`
		ActivePatterns  []patternJSON  `json:"active_patterns"`
		Markdown        string         `json:"markdown"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: projectPath(slug) + "/context", kind: "project"}, &w); err != nil {
		return memory.ProjectContext{}, err
	}
	return memory.ProjectContext{
		Project: toProject(w.Project), HotMemories: convert(w.HotMemories, toMemory),
		Decisions: convert(w.RecentDecisions, toDecision), Patterns: convert(w.ActivePatterns, toPattern), Markdown: w.Markdown,
	}, nil
}

func (s projects) Impact(ctx context.Context, slug, change string) (memory.Impact, error) {
	body := struct {
		Project string `json:"project"`
		Change  string `json:"change_description"`
	}{slug, change}
	var w struct {
		Project           string `json:"project"`
		ChangeDescription string `json:"change_description"`
		AffectedProjects  []struct {
			Slug             string            `json:"slug"`
			Name             string            `json:"name"`
			RelationshipType string            `json:"relationship_type"`
			Depth            int               `json:"depth"`
			Decisions        []decisionHitJSON `json:"decisions"`
			Memories         []searchItemJSON  `json:"memories"`
		} `json:"affected_projects"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v1/projects/impact-analysis", body: body, kind: "project"}, &w); err != nil {
		return memory.Impact{}, err
	}
	out := memory.Impact{Project: w.Project, ChangeDescription: w.ChangeDescription, Affected: make([]memory.AffectedProject, len(w.AffectedProjects))}
	for i, a := range w.AffectedProjects {
		out.Affected[i] = memory.AffectedProject{Slug: a.Slug, Name: a.Name, RelationshipType: a.RelationshipType, Depth: a.Depth,
			Decisions: convert(a.Decisions, toDecisionHit), Memories: convert(a.Memories, toHit)}
	}
	return out, nil
}

func (s projects) SharedPatterns(ctx context.Context, a, b string) ([]memory.Pattern, error) {
	q := query{"a": {a}, "b": {b}}
	var w dataJSON[patternJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/projects/shared-patterns", query: q.values(), kind: "project"}, &w); err != nil {
		return nil, err
	}
	return convert(w.Data, toPattern), nil
}
