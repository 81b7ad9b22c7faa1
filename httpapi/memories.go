package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func (h *handler) healthRoutes() []route {
	return []route{
		{http.MethodGet, "/health", false, 0, h.health},
		{http.MethodGet, "/v1/health", false, 0, h.health},
	}
}

func (h *handler) memoryRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/memories", true, scopes.Write, h.createMemory},
		{http.MethodGet, "/v1/memories", true, scopes.Read, h.listMemories},
		{http.MethodPost, "/v1/memories/search", true, scopes.Read, h.searchMemories},
		{http.MethodGet, "/v1/memories/{id}", true, scopes.Read, h.getMemory},
		{http.MethodPut, "/v1/memories/{id}", true, scopes.Write, h.updateMemory},
		{http.MethodPatch, "/v1/memories/{id}", true, scopes.Write, h.updateMemory},
		{http.MethodDelete, "/v1/memories/{id}", true, scopes.Delete, h.deleteMemory},
		// Our extension (the Go client's Memories.DeleteUser).
		{http.MethodDelete, "/v1/users/{user_id}/memories", true, scopes.Delete, h.deleteUserMemories},
	}
}

// account returns the API of the account of the key that authenticated r.
func (h *handler) account(r *http.Request) memory.Account {
	k, _ := KeyFromContext(r.Context())
	return h.svc.AccountFor(k)
}

func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	hs := h.svc.Health(r.Context())
	status := http.StatusOK
	if hs.Status == "unhealthy" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, healthJSON{
		Status:        hs.Status,
		Version:       memoryrelay.Version,
		APIVersion:    "v1",
		Environment:   h.opts.Environment,
		Timestamp:     h.opts.Now().UnixMilli(),
		UptimeSeconds: int64(hs.Uptime.Seconds()),
		Services:      hs.Services,
		EmbeddingInfo: embeddingInfoJSON{Provider: hs.Provider, Model: hs.Model, Dimension: hs.Dimension},
	})
}

// memoryReq is the body of memory create and update (agent_id and
// session_id apply to create only).
type memoryReq struct {
	AgentID    *string         `json:"agent_id"`
	SessionID  *string         `json:"session_id"`
	Content    *string         `json:"content"`
	UserID     *string         `json:"user_id"`
	Metadata   json.RawMessage `json:"metadata"`
	MemoryType *string         `json:"memory_type"`
	Visibility *string         `json:"visibility"`
	Importance *float64        `json:"importance"`
	Tier       *string         `json:"tier"`
	Scope      *string         `json:"scope"`
	Project    *string         `json:"project"`
	ProjectID  *string         `json:"project_id"` // API.md §10.6: wins over project
	// Create only (API.md §10.6): true extracts, false never, null the
	// server's default.
	AutoExtractEntities *bool `json:"auto_extract_entities"`
	// Create only (#2): see jobs.go.
	Deduplicate    *bool    `json:"deduplicate"`
	DedupThreshold *float64 `json:"dedup_threshold"`
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (h *handler) createMemory(w http.ResponseWriter, r *http.Request) {
	var req memoryReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Content == nil {
		h.writeError(w, r, badField("content", "content is required"))
		return
	}
	if req.AgentID != nil && *req.AgentID == "" {
		req.AgentID = nil
	}
	res, err := h.account(r).Memories().Create(r.Context(), memory.NewMemory{
		Content:    *req.Content,
		AgentID:    deref(req.AgentID),
		UserID:     req.UserID,
		Metadata:   req.Metadata,
		MemoryType: req.MemoryType,
		Visibility: deref(req.Visibility),
		Importance: req.Importance,
		Tier:       deref(req.Tier),
		Scope:      deref(req.Scope),
		SessionID:  req.SessionID,
		Project:    req.Project,
		ProjectID:  req.ProjectID,

		AutoExtractEntities: req.AutoExtractEntities,
		Deduplicate:         req.Deduplicate != nil && *req.Deduplicate,
		DedupThreshold:      req.DedupThreshold,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeCreated(w, res)
}

func (h *handler) getMemory(w http.ResponseWriter, r *http.Request) {
	m, err := h.account(r).Memories().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMemory(m))
}

func (h *handler) updateMemory(w http.ResponseWriter, r *http.Request) {
	var req memoryReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	m, err := h.account(r).Memories().Update(r.Context(), r.PathValue("id"), memory.MemoryPatch{
		Content:    req.Content,
		Metadata:   req.Metadata,
		UserID:     req.UserID,
		MemoryType: req.MemoryType,
		Visibility: req.Visibility,
		Importance: req.Importance,
		Tier:       req.Tier,
		Scope:      req.Scope,
		Project:    req.Project,
		ProjectID:  req.ProjectID,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMemory(m))
}

func (h *handler) deleteMemory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.account(r).Memories().Delete(r.Context(), id); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ackJSON{Success: true, Deleted: true, ID: id})
}

// userAckJSON answers the erasure of a user's memories.
type userAckJSON struct {
	Success         bool   `json:"success"`
	Deleted         bool   `json:"deleted"`
	UserID          string `json:"user_id"`
	DeletedMemories int    `json:"deleted_memories"`
}

// deleteUserMemories removes every memory of the account's user (our
// extension, delete scope).
func (h *handler) deleteUserMemories(w http.ResponseWriter, r *http.Request) {
	user := r.PathValue("user_id")
	n, err := h.account(r).Memories().DeleteUser(r.Context(), user)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userAckJSON{Success: true, Deleted: true, UserID: user, DeletedMemories: n})
}

func (h *handler) listMemories(w http.ResponseWriter, r *http.Request) {
	var p memory.ListParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	p.AgentID = queryString(r, "agent_id")
	p.UserID = queryString(r, "user_id")
	p.Scope = r.URL.Query().Get("scope")
	page, err := h.account(r).Memories().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toMemory))
}

// pageParams reads limit, offset and cursor from the query string (the
// cursor is checked by the list, API.md §1.6).
func pageParams(r *http.Request, max int, limit, offset *int, cursor *string) error {
	l, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	if *limit, err = limitParam(l, max); err != nil {
		return err
	}
	o, err := queryInt(r, "offset")
	if err != nil {
		return err
	}
	if *offset, err = offsetParam(o); err != nil {
		return err
	}
	*cursor = r.URL.Query().Get("cursor")
	return nil
}

type searchReq struct {
	Query               *string                    `json:"query"`
	Limit               optInt                     `json:"limit"`
	Threshold           *float64                   `json:"threshold"`
	MinScore            *float64                   `json:"min_score"`
	AgentID             *string                    `json:"agent_id"`
	UserID              *string                    `json:"user_id"`
	Tier                *string                    `json:"tier"`
	MinImportance       *float64                   `json:"min_importance"`
	Project             *string                    `json:"project"`
	MetadataFilter      map[string]json.RawMessage `json:"metadata_filter"`
	SearchMode          *string                    `json:"search_mode"`
	IncludeConfidential *bool                      `json:"include_confidential"`
	IncludeArchived     *bool                      `json:"include_archived"`
	Scope               *string                    `json:"scope"`
	SessionID           *string                    `json:"session_id"`
	Namespace           *string                    `json:"namespace"`
}

type searchJSON struct {
	Data  []searchItemJSON `json:"data"`
	Total int              `json:"total"`
	Query string           `json:"query"`
}

func (h *handler) searchMemories(w http.ResponseWriter, r *http.Request) {
	var req searchReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	// The body wins; some clients send these only in the query string.
	or := func(body *string, name string) *string {
		if body != nil {
			return body
		}
		return queryString(r, name)
	}
	query := or(req.Query, "q")
	if query == nil {
		h.writeError(w, r, badField("query", "query is required"))
		return
	}
	if !req.Limit.set {
		var err error
		if req.Limit, err = queryInt(r, "limit"); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	limit, err := limitParam(req.Limit, memory.MaxHits)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	threshold := req.Threshold
	if threshold == nil {
		threshold = req.MinScore
	}
	if threshold == nil && q.Get("threshold") != "" {
		v, err := strconv.ParseFloat(q.Get("threshold"), 64)
		if err != nil {
			h.writeError(w, r, badField("threshold", "threshold must be a number between 0 and 1"))
			return
		}
		threshold = &v
	}
	p := memory.SearchParams{
		Query:               *query,
		Limit:               limit,
		Mode:                deref(req.SearchMode),
		AgentID:             req.AgentID,
		UserID:              req.UserID,
		Tier:                req.Tier,
		MinImportance:       req.MinImportance,
		Project:             req.Project,
		MetadataFilter:      req.MetadataFilter,
		Scope:               deref(or(req.Scope, "scope")),
		SessionID:           or(req.SessionID, "session_id"),
		Namespace:           or(req.Namespace, "namespace"),
		IncludeConfidential: req.IncludeConfidential != nil && *req.IncludeConfidential,
		IncludeArchived:     req.IncludeArchived != nil && *req.IncludeArchived,
	}
	if threshold != nil {
		p.Threshold = *threshold
	}
	if p.AgentID != nil && *p.AgentID == "" {
		p.AgentID = nil
	}
	began := time.Now()
	hits, err := h.account(r).Memories().Search(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	noteSearch(r.Context(), p.Mode, time.Since(began))
	out := searchJSON{Data: make([]searchItemJSON, len(hits)), Total: len(hits), Query: *query}
	for i, hit := range hits {
		out.Data[i] = toSearchItem(hit)
	}
	writeJSON(w, http.StatusOK, out)
}
