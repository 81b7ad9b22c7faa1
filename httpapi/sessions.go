package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Sessions: see the API contract §5.6.

func (h *handler) sessionRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/sessions", true, scopes.Write, h.createSession},
		{http.MethodGet, "/v1/sessions", true, scopes.Read, h.listSessions},
		{http.MethodPost, "/v1/sessions/get-or-create", true, scopes.Write, h.getOrCreateSession},
		{http.MethodGet, "/v1/sessions/{id}", true, scopes.Read, h.getSession},
		{http.MethodPut, "/v1/sessions/{id}/end", true, scopes.Write, h.endSession},
		{http.MethodPost, "/v1/sessions/{id}/end", true, scopes.Write, h.endSession},
	}
}

// sessionJSON is the Session object (§4.5); its instants are ISO strings.
type sessionJSON struct {
	ID          string          `json:"id"`
	AgentID     string          `json:"agent_id"`
	ExternalID  *string         `json:"external_id"`
	Project     *string         `json:"project"`
	Status      string          `json:"status"`
	Title       *string         `json:"title"`
	Summary     *string         `json:"summary"`
	Metadata    json.RawMessage `json:"metadata"`
	MemoryCount int             `json:"memory_count"`
	StartedAt   string          `json:"started_at"`
	EndedAt     *string         `json:"ended_at"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
}

func toSession(x memory.Session) sessionJSON {
	return sessionJSON{
		ID:          x.ID,
		AgentID:     x.AgentID,
		ExternalID:  x.ExternalID,
		Project:     x.Project,
		Status:      x.Status,
		Title:       x.Title,
		Summary:     x.Summary,
		Metadata:    objectOrEmpty(x.Metadata),
		MemoryCount: x.MemoryCount,
		StartedAt:   isoTime(x.StartedAt),
		EndedAt:     isoPtr(x.EndedAt),
		CreatedAt:   isoTime(x.CreatedAt),
		UpdatedAt:   isoTime(x.UpdatedAt),
	}
}

// sessionReq is the body of both session creates.
type sessionReq struct {
	AgentID    *string         `json:"agent_id"`
	ExternalID *string         `json:"external_id"`
	Title      *string         `json:"title"`
	Project    *string         `json:"project"`
	Metadata   json.RawMessage `json:"metadata"`
}

func (q sessionReq) newSession() memory.NewSession {
	return memory.NewSession{AgentID: deref(q.AgentID), Title: q.Title, Project: q.Project, Metadata: q.Metadata}
}

func (h *handler) createSession(w http.ResponseWriter, r *http.Request) {
	var req sessionReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.ExternalID != nil {
		// §10.6: with an external_id the create is a get-or-create: the
		// session already under that id comes back with 200.
		x, created, err := h.account(r).Sessions().GetOrCreate(r.Context(), *req.ExternalID, req.newSession())
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		writeJSON(w, status, toSession(x))
		return
	}
	x, err := h.account(r).Sessions().Create(r.Context(), req.newSession())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toSession(x))
}

// sessionCreatedJSON is the get-or-create answer: the Session plus created.
type sessionCreatedJSON struct {
	sessionJSON
	Created bool `json:"created"`
}

func (h *handler) getOrCreateSession(w http.ResponseWriter, r *http.Request) {
	var req sessionReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.ExternalID == nil {
		h.writeError(w, r, badField("external_id", "external_id is required"))
		return
	}
	x, created, err := h.account(r).Sessions().GetOrCreate(r.Context(), *req.ExternalID, req.newSession())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, sessionCreatedJSON{toSession(x), created})
}

// sessionMemoriesJSON is the get answer: the Session plus its memories.
type sessionMemoriesJSON struct {
	sessionJSON
	Memories []memoryJSON `json:"memories"`
}

func (h *handler) getSession(w http.ResponseWriter, r *http.Request) {
	include := true
	if v := r.URL.Query().Get("include_memories"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			h.writeError(w, r, badField("include_memories", "include_memories must be true or false"))
			return
		}
		include = b
	}
	id := r.PathValue("id")
	if !include {
		x, err := h.account(r).Sessions().Get(r.Context(), id)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toSession(x))
		return
	}
	x, ms, err := h.account(r).Sessions().GetWithMemories(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := sessionMemoriesJSON{toSession(x), make([]memoryJSON, len(ms))}
	for i, m := range ms {
		out.Memories[i] = toMemory(m)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) endSession(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Summary *string `json:"summary"`
	}
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	x, err := h.account(r).Sessions().End(r.Context(), r.PathValue("id"), req.Summary)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSession(x))
}

func (h *handler) listSessions(w http.ResponseWriter, r *http.Request) {
	var p memory.SessionListParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	p.AgentID = queryString(r, "agent_id")
	p.Project = queryString(r, "project")
	p.Status = r.URL.Query().Get("status")
	page, err := h.account(r).Sessions().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toSession))
}
