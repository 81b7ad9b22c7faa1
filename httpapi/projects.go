package httpapi

// Projects: see the API contract §5.9.

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// projectRoutes: the literal impact-analysis and shared-patterns beat
// {slug} by ServeMux precedence (contract §6).
func (h *handler) projectRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/projects", true, scopes.Write, h.createProject},
		{http.MethodGet, "/v1/projects", true, scopes.Read, h.listProjects},
		{http.MethodPost, "/v1/projects/impact-analysis", true, scopes.Read, named(impactNames, h.impactAnalysis)},
		{http.MethodGet, "/v1/projects/shared-patterns", true, scopes.Read, h.sharedPatterns},
		{http.MethodGet, "/v1/projects/{slug}", true, scopes.Read, h.getProject},
		{http.MethodGet, "/v1/projects/{slug}/context", true, scopes.Read, h.projectContext},
		{http.MethodPost, "/v1/projects/{slug}/relationships", true, scopes.Write, named(relationshipNames, h.relateProjects)},
		{http.MethodGet, "/v1/projects/{slug}/dependencies", true, scopes.Read, h.projectLinks(memory.Projects.Dependencies)},
		{http.MethodGet, "/v1/projects/{slug}/dependents", true, scopes.Read, h.projectLinks(memory.Projects.Dependents)},
		{http.MethodGet, "/v1/projects/{slug}/related", true, scopes.Read, h.projectLinks(memory.Projects.Related)},
	}
}

type projectJSON struct {
	ID          string          `json:"id"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Stack       json.RawMessage `json:"stack"` // object or null
	RepoURL     *string         `json:"repo_url"`
	Metadata    json.RawMessage `json:"metadata"`
	MemoryCount int             `json:"memory_count"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
}

func toProject(p memory.Project) projectJSON {
	out := projectJSON{
		ID: p.ID, Slug: p.Slug, Name: p.Name, Description: p.Description, RepoURL: p.RepoURL,
		Metadata: objectOrEmpty(p.Metadata), MemoryCount: p.MemoryCount,
		CreatedAt: isoTime(p.CreatedAt), UpdatedAt: isoTime(p.UpdatedAt),
	}
	if len(p.Stack) > 0 {
		out.Stack = json.RawMessage(p.Stack)
	} else {
		out.Stack = json.RawMessage("null")
	}
	return out
}

type projectReq struct {
	Slug        *string         `json:"slug"`
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Stack       json.RawMessage `json:"stack"`
	RepoURL     *string         `json:"repo_url"`
	Metadata    json.RawMessage `json:"metadata"`
}

func (h *handler) createProject(w http.ResponseWriter, r *http.Request) {
	var req projectReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Slug == nil {
		h.writeError(w, r, badField("slug", "slug is required"))
		return
	}
	if req.Name == nil {
		h.writeError(w, r, badField("name", "name is required"))
		return
	}
	p, err := h.account(r).Projects().Create(r.Context(), memory.NewProject{
		Slug: *req.Slug, Name: *req.Name, Description: req.Description, Stack: req.Stack, RepoURL: req.RepoURL, Metadata: req.Metadata,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toProject(p))
}

func (h *handler) listProjects(w http.ResponseWriter, r *http.Request) {
	var p memory.ProjectListParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.account(r).Projects().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toProject))
}

func (h *handler) getProject(w http.ResponseWriter, r *http.Request) {
	p, err := h.account(r).Projects().Get(r.Context(), r.PathValue("slug"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toProject(p))
}

type relationshipReq struct {
	TargetProject    *string         `json:"target_project"`
	RelationshipType *string         `json:"relationship_type"`
	Metadata         json.RawMessage `json:"metadata"`
}

type relationshipJSON struct {
	ID               string          `json:"id"`
	SourceProject    string          `json:"source_project"`
	TargetProject    string          `json:"target_project"`
	RelationshipType string          `json:"relationship_type"`
	Metadata         json.RawMessage `json:"metadata"`
	CreatedAt        string          `json:"created_at"`
}

// relateProjects answers 201 for a new edge and 200 when the same edge
// (source, target, type) already existed.
func (h *handler) relateProjects(w http.ResponseWriter, r *http.Request) {
	var req relationshipReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.TargetProject == nil {
		h.writeError(w, r, badField("target_project", "target_project is required"))
		return
	}
	if req.RelationshipType == nil {
		h.writeError(w, r, badField("relationship_type", "relationship_type is required"))
		return
	}
	rel, created, err := h.account(r).Projects().Relate(r.Context(), r.PathValue("slug"), memory.NewProjectRelationship{
		Target: *req.TargetProject, Type: *req.RelationshipType, Metadata: req.Metadata,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, relationshipJSON{
		ID: rel.ID, SourceProject: rel.Source, TargetProject: rel.Target, RelationshipType: rel.Type,
		Metadata: objectOrEmpty(rel.Metadata), CreatedAt: isoTime(rel.CreatedAt),
	})
}

type projectLinkJSON struct {
	Slug             string          `json:"slug"`
	Name             string          `json:"name"`
	RelationshipType string          `json:"relationship_type"`
	Direction        string          `json:"direction"`
	Metadata         json.RawMessage `json:"metadata"`
	CreatedAt        string          `json:"created_at"`
}

type projectLinksJSON struct {
	Project string            `json:"project"`
	Data    []projectLinkJSON `json:"data"`
	Total   int               `json:"total"`
}

// projectLinks serves #44–#46 from one of the service's edge readers.
func (h *handler) projectLinks(get func(p memory.Projects, ctx context.Context, slug string) ([]memory.ProjectLink, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		slug := r.PathValue("slug")
		links, err := get(h.account(r).Projects(), r.Context(), slug)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		out := projectLinksJSON{Project: slug, Data: make([]projectLinkJSON, len(links)), Total: len(links)}
		for i, l := range links {
			out.Data[i] = projectLinkJSON{
				Slug: l.Slug, Name: l.Name, RelationshipType: l.RelationshipType, Direction: l.Direction,
				Metadata: objectOrEmpty(l.Metadata), CreatedAt: isoTime(l.CreatedAt),
			}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

type projectContextJSON struct {
	Project         projectJSON    `json:"project"`
	HotMemories     []memoryJSON   `json:"hot_memories"`
	RecentDecisions []decisionJSON `json:"recent_decisions"`
	ActivePatterns  []patternJSON  `json:"active_patterns"`
	Context         string         `json:"context"`
	Markdown        string         `json:"markdown"`
}

func (h *handler) projectContext(w http.ResponseWriter, r *http.Request) {
	pc, err := h.account(r).Projects().Context(r.Context(), r.PathValue("slug"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := projectContextJSON{
		Project:         toProject(pc.Project),
		HotMemories:     make([]memoryJSON, len(pc.HotMemories)),
		RecentDecisions: make([]decisionJSON, len(pc.Decisions)),
		ActivePatterns:  make([]patternJSON, len(pc.Patterns)),
		Context:         pc.Markdown,
		Markdown:        pc.Markdown,
	}
	for i, m := range pc.HotMemories {
		out.HotMemories[i] = toMemory(m)
	}
	for i, d := range pc.Decisions {
		out.RecentDecisions[i] = toDecision(d)
	}
	for i, p := range pc.Patterns {
		out.ActivePatterns[i] = toPattern(p)
	}
	writeJSON(w, http.StatusOK, out)
}

type impactReq struct {
	Project           *string `json:"project"`
	ChangeDescription *string `json:"change_description"`
}

type impactJSON struct {
	Project           string                `json:"project"`
	ChangeDescription string                `json:"change_description"`
	AffectedProjects  []affectedProjectJSON `json:"affected_projects"`
	TotalAffected     int                   `json:"total_affected"`
}

type affectedProjectJSON struct {
	Slug             string               `json:"slug"`
	Name             string               `json:"name"`
	RelationshipType string               `json:"relationship_type"`
	Depth            int                  `json:"depth"`
	Decisions        []scoredDecisionJSON `json:"decisions"`
	Memories         []searchItemJSON     `json:"memories"`
}

type scoredDecisionJSON struct {
	Decision decisionJSON `json:"decision"`
	Score    float64      `json:"score"`
}

func (h *handler) impactAnalysis(w http.ResponseWriter, r *http.Request) {
	var req impactReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Project == nil {
		h.writeError(w, r, badField("project", "project is required"))
		return
	}
	if req.ChangeDescription == nil {
		h.writeError(w, r, badField("change_description", "change_description is required"))
		return
	}
	im, err := h.account(r).Projects().Impact(r.Context(), *req.Project, *req.ChangeDescription)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := impactJSON{Project: im.Project, ChangeDescription: im.ChangeDescription,
		AffectedProjects: make([]affectedProjectJSON, len(im.Affected)), TotalAffected: len(im.Affected)}
	for i, a := range im.Affected {
		ap := affectedProjectJSON{Slug: a.Slug, Name: a.Name, RelationshipType: a.RelationshipType, Depth: a.Depth,
			Decisions: make([]scoredDecisionJSON, len(a.Decisions)), Memories: make([]searchItemJSON, len(a.Memories))}
		for j, d := range a.Decisions {
			ap.Decisions[j] = scoredDecisionJSON{Decision: toDecision(d.Decision), Score: d.Score}
		}
		for j, m := range a.Memories {
			ap.Memories[j] = toSearchItem(m)
		}
		out.AffectedProjects[i] = ap
	}
	writeJSON(w, http.StatusOK, out)
}

type sharedPatternsJSON struct {
	Data  []patternJSON `json:"data"`
	A     string        `json:"a"`
	B     string        `json:"b"`
	Total int           `json:"total"`
}

func (h *handler) sharedPatterns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a, b := q.Get("a"), q.Get("b")
	ps, err := h.account(r).Projects().SharedPatterns(r.Context(), a, b)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := sharedPatternsJSON{Data: make([]patternJSON, len(ps)), A: a, B: b, Total: len(ps)}
	for i, p := range ps {
		out.Data[i] = toPattern(p)
	}
	writeJSON(w, http.StatusOK, out)
}
