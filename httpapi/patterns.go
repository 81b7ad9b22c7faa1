package httpapi

// Patterns: see the API contract §5.8.

import (
	"encoding/json"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// The literals /v1/patterns/search and /v1/patterns/suggest win over
// /v1/patterns/{id} (ServeMux precedence). GET /v1/patterns/{id} is our
// extension (the Go client's Patterns.Get).
func (h *handler) patternRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/patterns", true, scopes.Write, h.createPattern},
		{http.MethodGet, "/v1/patterns/search", true, scopes.Read, h.searchPatterns},
		{http.MethodGet, "/v1/patterns/suggest", true, scopes.Read, h.suggestPatterns},
		{http.MethodGet, "/v1/patterns/{id}", true, scopes.Read, h.getPattern},
		{http.MethodPost, "/v1/patterns/{id}/adopt", true, scopes.Write, h.adoptPattern},
	}
}

// patternJSON is the Pattern object (§4.5), with ISO instants; name
// repeats title.
type patternJSON struct {
	ID                string          `json:"id"`
	Title             string          `json:"title"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	Scope             string          `json:"scope"`
	Category          *string         `json:"category"`
	Tags              []string        `json:"tags"`
	ExampleCode       *string         `json:"example_code"`
	SourceProjectID   *string         `json:"source_project_id"`
	SourceProjectSlug *string         `json:"source_project_slug"`
	Metadata          json.RawMessage `json:"metadata"`
	AdoptionCount     int             `json:"adoption_count"`
	CreatedAt         string          `json:"created_at"`
	UpdatedAt         string          `json:"updated_at"`
}

func toPattern(p memory.Pattern) patternJSON {
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	return patternJSON{
		ID: p.ID, Title: p.Title, Name: p.Title, Description: p.Description, Scope: p.Scope, Category: p.Category,
		Tags: tags, ExampleCode: p.ExampleCode, SourceProjectID: p.SourceProjectID, SourceProjectSlug: p.SourceProjectSlug,
		Metadata: objectOrEmpty(p.Metadata), AdoptionCount: p.AdoptionCount,
		CreatedAt: isoTime(p.CreatedAt), UpdatedAt: isoTime(p.UpdatedAt),
	}
}

type patternReq struct {
	Title         *string         `json:"title"`
	Name          *string         `json:"name"` // alias of title
	Description   *string         `json:"description"`
	Category      *string         `json:"category"`
	ExampleCode   *string         `json:"example_code"`
	Scope         *string         `json:"scope"`
	Tags          tagList         `json:"tags"`
	SourceProject *string         `json:"source_project"`
	SourceSlug    *string         `json:"source_project_slug"` // alias of source_project
	Metadata      json.RawMessage `json:"metadata"`
}

func (h *handler) createPattern(w http.ResponseWriter, r *http.Request) {
	var req patternReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Title == nil {
		req.Title = req.Name
	}
	if req.Title == nil {
		h.writeError(w, r, badField("title", "title is required"))
		return
	}
	if req.Description == nil {
		h.writeError(w, r, badField("description", "description is required"))
		return
	}
	if req.SourceProject == nil {
		req.SourceProject = req.SourceSlug
	}
	p, err := h.account(r).Patterns().Create(r.Context(), memory.NewPattern{
		Title: *req.Title, Description: *req.Description, Category: req.Category, ExampleCode: req.ExampleCode,
		Scope: deref(req.Scope), Tags: req.Tags, SourceProject: req.SourceProject, Metadata: req.Metadata,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toPattern(p))
}

func (h *handler) getPattern(w http.ResponseWriter, r *http.Request) {
	p, err := h.account(r).Patterns().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPattern(p))
}

type patternHitJSON struct {
	Pattern     patternJSON `json:"pattern"`
	Score       float64     `json:"score"`
	ID          string      `json:"id"`
	Title       string      `json:"title"`
	Name        string      `json:"name"`
	Category    *string     `json:"category"`
	Description string      `json:"description"`
}

type patternSearchJSON struct {
	Data  []patternHitJSON `json:"data"`
	Query string           `json:"query"`
	Total int              `json:"total"`
}

func (h *handler) searchPatterns(w http.ResponseWriter, r *http.Request) {
	query := queryString(r, "query")
	if query == nil {
		query = queryString(r, "q")
	}
	p := memory.PatternSearchParams{Query: deref(query), Category: queryString(r, "category"), Project: queryString(r, "project")}
	l, err := queryInt(r, "limit")
	if err == nil {
		p.Limit, err = limitParam(l, memory.MaxPatternHits)
	}
	if err == nil {
		p.Threshold, err = thresholdParam(r)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	hits, err := h.account(r).Patterns().Search(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := patternSearchJSON{Data: make([]patternHitJSON, len(hits)), Query: p.Query, Total: len(hits)}
	for i, hit := range hits {
		pj := toPattern(hit.Pattern)
		out.Data[i] = patternHitJSON{Pattern: pj, Score: hit.Score, ID: pj.ID, Title: pj.Title, Name: pj.Name,
			Category: pj.Category, Description: pj.Description}
	}
	writeJSON(w, http.StatusOK, out)
}

type adoptReq struct {
	Project     *string `json:"project"`
	ProjectSlug *string `json:"project_slug"` // alias of project
}

func (h *handler) adoptPattern(w http.ResponseWriter, r *http.Request) {
	var req adoptReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Project == nil {
		req.Project = req.ProjectSlug
	}
	if req.Project == nil {
		h.writeError(w, r, badField("project", "project is required"))
		return
	}
	p, err := h.account(r).Patterns().Adopt(r.Context(), r.PathValue("id"), *req.Project)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPattern(p))
}

type patternSuggestJSON struct {
	Data    []patternJSON `json:"data"`
	Project string        `json:"project"`
	Total   int           `json:"total"`
}

func (h *handler) suggestPatterns(w http.ResponseWriter, r *http.Request) {
	project := queryString(r, "project")
	if project == nil {
		h.writeError(w, r, badField("project", "project is required"))
		return
	}
	l, err := queryInt(r, "limit")
	var limit int
	if err == nil {
		limit, err = limitParam(l, memory.MaxPatternHits)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ps, err := h.account(r).Patterns().Suggest(r.Context(), *project, limit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := patternSuggestJSON{Data: make([]patternJSON, len(ps)), Project: *project, Total: len(ps)}
	for i, p := range ps {
		out.Data[i] = toPattern(p)
	}
	writeJSON(w, http.StatusOK, out)
}
