package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Agents: see the API contract §5.5.

func (h *handler) agentRoutes() []route {
	return []route{
		{http.MethodGet, "/v1/agents", true, scopes.Read, h.listAgents},
		{http.MethodPost, "/v1/agents", true, scopes.Write, h.createAgent},
		{http.MethodGet, "/v1/agents/{id}", true, scopes.Read, h.getAgent},
		{http.MethodPut, "/v1/agents/{id}", true, scopes.Write, h.updateAgent},
		{http.MethodPatch, "/v1/agents/{id}", true, scopes.Write, h.updateAgent},
		{http.MethodDelete, "/v1/agents/{id}", true, scopes.Delete, h.deleteAgent},
		{http.MethodGet, "/v1/agents/{id}/stats", true, scopes.Read, h.agentStats},
	}
}

func (h *handler) listAgents(w http.ResponseWriter, r *http.Request) {
	var p memory.PageParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.account(r).Agents().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toAgent))
}

// agentReq is the body of agent create and update (id applies to create
// only).
type agentReq struct {
	ID          *string         `json:"id"`
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Metadata    json.RawMessage `json:"metadata"`
}

func (h *handler) createAgent(w http.ResponseWriter, r *http.Request) {
	var req agentReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	// An empty string is out of range (§5.5 #21: 1–255), not absent.
	if req.ID != nil && *req.ID == "" {
		h.writeError(w, r, badField("id", "id must be 1-"+strconv.Itoa(memory.MaxAgentRef)+" bytes and not blank"))
		return
	}
	if req.Name != nil && *req.Name == "" {
		h.writeError(w, r, badField("name", "name must be 1-"+strconv.Itoa(memory.MaxAgentName)+" characters and not blank"))
		return
	}
	a, created, err := h.account(r).Agents().Create(r.Context(), memory.NewAgent{
		Name:        deref(req.Name),
		ID:          deref(req.ID),
		Description: req.Description,
		Metadata:    req.Metadata,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, toAgent(a))
}

func (h *handler) getAgent(w http.ResponseWriter, r *http.Request) {
	a, err := h.account(r).Agents().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAgent(a))
}

func (h *handler) updateAgent(w http.ResponseWriter, r *http.Request) {
	var req agentReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := h.account(r).Agents().Update(r.Context(), r.PathValue("id"), memory.AgentPatch{
		Name:        req.Name,
		Description: req.Description,
		Metadata:    req.Metadata,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAgent(a))
}

// agentAckJSON is the delete ack with the number of memories removed.
type agentAckJSON struct {
	ackJSON
	DeletedMemories int `json:"deleted_memories"`
}

func (h *handler) deleteAgent(w http.ResponseWriter, r *http.Request) {
	d, err := h.account(r).Agents().Delete(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, agentAckJSON{ackJSON{Success: true, Deleted: true, ID: d.ID}, d.DeletedMemories})
}

// agentStatsFields are the four figures of agent stats (§4.5).
type agentStatsFields struct {
	MemoryCount   int    `json:"memory_count"`
	EntityCount   int    `json:"entity_count"`
	TotalMemories int    `json:"total_memories"`
	LastUpdated   *int64 `json:"last_updated"`
}

// agentStatsJSON carries the figures both flat and under data, because
// clients read either.
type agentStatsJSON struct {
	agentStatsFields
	Data agentStatsFields `json:"data"`
}

func (h *handler) agentStats(w http.ResponseWriter, r *http.Request) {
	st, err := h.account(r).Agents().Stats(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	f := agentStatsFields{
		MemoryCount:   st.MemoryCount,
		EntityCount:   st.EntityCount,
		TotalMemories: st.MemoryCount,
		LastUpdated:   msPtr(st.LastUpdated),
	}
	writeJSON(w, http.StatusOK, agentStatsJSON{f, f})
}
