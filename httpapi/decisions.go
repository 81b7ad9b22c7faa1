package httpapi

// Decisions: see the API contract §5.7.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// The literal /v1/decisions/check wins over /v1/decisions/{id} (ServeMux
// precedence). GET /v1/decisions/{id} is our extension (the Go client's
// Decisions.Get).
func (h *handler) decisionRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/decisions", true, scopes.Write, named(decisionNames, h.createDecision)},
		{http.MethodGet, "/v1/decisions", true, scopes.Read, h.listDecisions},
		{http.MethodGet, "/v1/decisions/check", true, scopes.Read, h.checkDecisions},
		{http.MethodGet, "/v1/decisions/{id}", true, scopes.Read, h.getDecision},
		{http.MethodPost, "/v1/decisions/{id}/supersede", true, scopes.Write, h.supersedeDecision},
	}
}

// decisionJSON is the Decision object (§4.5), with ISO instants. project
// repeats project_slug.
type decisionJSON struct {
	ID           string          `json:"id"`
	AgentID      *string         `json:"agent_id"`
	SessionID    *string         `json:"session_id"`
	ProjectSlug  *string         `json:"project_slug"`
	Project      *string         `json:"project"`
	Title        string          `json:"title"`
	Rationale    string          `json:"rationale"`
	Alternatives *string         `json:"alternatives"`
	Status       string          `json:"status"`
	SupersededBy *string         `json:"superseded_by"`
	Tags         []string        `json:"tags"`
	Metadata     json.RawMessage `json:"metadata"`
	CreatedAt    string          `json:"created_at"`
	UpdatedAt    string          `json:"updated_at"`
}

func toDecision(d memory.Decision) decisionJSON {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return decisionJSON{
		ID: d.ID, AgentID: d.AgentID, SessionID: d.SessionID, ProjectSlug: d.ProjectSlug, Project: d.ProjectSlug,
		Title: d.Title, Rationale: d.Rationale, Alternatives: d.Alternatives, Status: d.Status, SupersededBy: d.SupersededBy,
		Tags: tags, Metadata: objectOrEmpty(d.Metadata), CreatedAt: isoTime(d.CreatedAt), UpdatedAt: isoTime(d.UpdatedAt),
	}
}

// textOrList is a string, or an array of strings that is read as its
// items one per line (some clients send alternatives as a list).
type textOrList struct {
	set bool
	v   string
}

func (t *textOrList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		t.set, t.v = true, s
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return &fieldErr{"alternatives", "alternatives must be a string or an array of strings"}
	}
	t.set, t.v = true, strings.Join(list, "\n")
	return nil
}

func (t textOrList) ptr() *string {
	if !t.set {
		return nil
	}
	return &t.v
}

// tagList is an optional array of strings (decisions and patterns): null
// leaves it nil, [] makes it empty, anything else is a 400 on tags.
type tagList []string

func (l *tagList) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return &fieldErr{"tags", "tags must be an array of strings"}
	}
	if v == nil {
		v = []string{}
	}
	*l = v
	return nil
}

type decisionReq struct {
	Title        *string         `json:"title"`
	Rationale    *string         `json:"rationale"`
	Alternatives textOrList      `json:"alternatives"`
	ProjectSlug  *string         `json:"project_slug"`
	Project      *string         `json:"project"`
	Tags         tagList         `json:"tags"`
	Status       *string         `json:"status"`
	Metadata     json.RawMessage `json:"metadata"`
	AgentID      *string         `json:"agent_id"`
	SessionID    *string         `json:"session_id"`
}

// required reports the first of title and rationale that is missing.
func (req *decisionReq) required() error {
	if req.Title == nil {
		return badField("title", "title is required")
	}
	if req.Rationale == nil {
		return badField("rationale", "rationale is required")
	}
	return nil
}

func (h *handler) createDecision(w http.ResponseWriter, r *http.Request) {
	var req decisionReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := req.required(); err != nil {
		h.writeError(w, r, err)
		return
	}
	project := req.ProjectSlug
	if project == nil {
		project = req.Project
	}
	d, err := h.account(r).Decisions().Create(r.Context(), memory.NewDecision{
		Title: *req.Title, Rationale: *req.Rationale, Alternatives: req.Alternatives.ptr(), Project: project,
		Tags: req.Tags, Status: deref(req.Status), Metadata: req.Metadata, AgentID: deref(req.AgentID), SessionID: req.SessionID,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toDecision(d))
}

func (h *handler) getDecision(w http.ResponseWriter, r *http.Request) {
	d, err := h.account(r).Decisions().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toDecision(d))
}

func (h *handler) listDecisions(w http.ResponseWriter, r *http.Request) {
	var p memory.DecisionListParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	p.Project = decisionProjectParam(r)
	p.Status = queryString(r, "status")
	for _, t := range strings.Split(r.URL.Query().Get("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			p.Tags = append(p.Tags, t)
		}
	}
	page, err := h.account(r).Decisions().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toDecision))
}

// decisionProjectParam reads the project filter, ?project= or its alias
// ?project_slug=.
func decisionProjectParam(r *http.Request) *string {
	if p := queryString(r, "project"); p != nil {
		return p
	}
	return queryString(r, "project_slug")
}

type supersedeReq struct {
	Title        *string         `json:"title"`
	Rationale    *string         `json:"rationale"`
	Alternatives textOrList      `json:"alternatives"`
	Tags         tagList         `json:"tags"`
	Status       *string         `json:"status"`
	Metadata     json.RawMessage `json:"metadata"`
}

func (h *handler) supersedeDecision(w http.ResponseWriter, r *http.Request) {
	var req supersedeReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := (&decisionReq{Title: req.Title, Rationale: req.Rationale}).required(); err != nil {
		h.writeError(w, r, err)
		return
	}
	d, err := h.account(r).Decisions().Supersede(r.Context(), r.PathValue("id"), memory.SupersedeParams{
		Title: *req.Title, Rationale: *req.Rationale, Alternatives: req.Alternatives.ptr(), Tags: req.Tags,
		Status: deref(req.Status), Metadata: req.Metadata,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toDecision(d))
}

type decisionHitJSON struct {
	Decision  decisionJSON `json:"decision"`
	Score     float64      `json:"score"`
	ID        string       `json:"id"`
	Title     string       `json:"title"`
	Rationale string       `json:"rationale"`
	Status    string       `json:"status"`
}

type decisionCheckJSON struct {
	Data  []decisionHitJSON `json:"data"`
	Query string            `json:"query"`
	Total int               `json:"total"`
}

func (h *handler) checkDecisions(w http.ResponseWriter, r *http.Request) {
	query := queryString(r, "query")
	if query == nil {
		query = queryString(r, "q")
	}
	if query == nil {
		h.writeError(w, r, badField("query", "query is required"))
		return
	}
	p := memory.DecisionCheckParams{Query: *query, Project: decisionProjectParam(r)}
	l, err := queryInt(r, "limit")
	if err == nil {
		p.Limit, err = limitParam(l, memory.MaxDecisionCheck)
	}
	if err == nil {
		p.Threshold, err = thresholdParam(r)
	}
	if err == nil {
		p.IncludeSuperseded, err = queryBool(r, "include_superseded")
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	hits, err := h.account(r).Decisions().Check(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := decisionCheckJSON{Data: make([]decisionHitJSON, len(hits)), Query: *query, Total: len(hits)}
	for i, hit := range hits {
		d := toDecision(hit.Decision)
		out.Data[i] = decisionHitJSON{Decision: d, Score: hit.Score, ID: d.ID, Title: d.Title, Rationale: d.Rationale, Status: d.Status}
	}
	writeJSON(w, http.StatusOK, out)
}

// thresholdParam reads ?threshold= or its alias ?min_score=; nil when
// neither is given. Its range is the core's to check.
func thresholdParam(r *http.Request) (*float64, error) {
	for _, name := range []string{"threshold", "min_score"} {
		if s := r.URL.Query().Get(name); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, badField("threshold", "threshold must be a number between 0 and 1")
			}
			return &v, nil
		}
	}
	return nil, nil
}

// queryBool reads an optional boolean query parameter (true/false, 1/0).
func queryBool(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, badField(name, name+" must be true or false")
	}
	return v, nil
}
