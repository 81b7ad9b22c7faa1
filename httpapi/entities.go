package httpapi

// Entities and links: see the API contract §5.4.

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// The literal /v1/entities/links beats /v1/entities/{id} (ServeMux
// precedence: the more specific pattern wins).
func (h *handler) entityRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/entities", true, scopes.Write, h.createEntity},
		{http.MethodGet, "/v1/entities", true, scopes.Read, h.listEntities},
		{http.MethodPost, "/v1/entities/links", true, scopes.Write, h.linkEntity},
		{http.MethodGet, "/v1/entities/{id}", true, scopes.Read, h.getEntity},
		{http.MethodDelete, "/v1/entities/{id}", true, scopes.Delete, h.deleteEntity},
		{http.MethodPost, "/v1/entities/{id}/link", true, scopes.Write, h.linkEntity},
		{http.MethodGet, "/v1/entities/{id}/neighborhood", true, scopes.Read, h.entityNeighborhood},
	}
}

// entityJSON is the Entity object (§4.5): type and entity_type are equal;
// instants are epoch ms.
type entityJSON struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"` // "entity" (API.md §10.6)
	Name              string          `json:"name"`
	Type              string          `json:"type"`
	EntityType        string          `json:"entity_type"`
	AgentID           *string         `json:"agent_id"`
	Metadata          json.RawMessage `json:"metadata"`
	MemoryCount       int             `json:"memory_count"`
	RelationshipCount int             `json:"relationship_count"`
	CreatedAt         int64           `json:"created_at"`
	UpdatedAt         int64           `json:"updated_at"`
}

func toEntity(e memory.Entity) entityJSON {
	return entityJSON{
		Object: "entity", ID: e.ID, Name: e.Name, Type: e.Type, EntityType: e.Type, AgentID: e.AgentID,
		Metadata: objectOrEmpty(e.Metadata), MemoryCount: e.MemoryCount, RelationshipCount: e.RelationshipCount,
		CreatedAt: e.CreatedAt.UnixMilli(), UpdatedAt: e.UpdatedAt.UnixMilli(),
	}
}

type entityReq struct {
	Name       *string         `json:"name"`
	Type       *string         `json:"type"`
	EntityType *string         `json:"entity_type"`
	Metadata   json.RawMessage `json:"metadata"`
	AgentID    *string         `json:"agent_id"`
}

func (h *handler) createEntity(w http.ResponseWriter, r *http.Request) {
	var req entityReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Name == nil {
		h.writeError(w, r, badField("name", "name is required"))
		return
	}
	typ := req.Type
	if typ == nil {
		typ = req.EntityType
	}
	e, err := h.account(r).Entities().Create(r.Context(), memory.NewEntity{
		Name: *req.Name, Type: typ, Metadata: req.Metadata, AgentID: deref(req.AgentID),
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toEntity(e))
}

func (h *handler) listEntities(w http.ResponseWriter, r *http.Request) {
	var p memory.EntityListParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	p.AgentID = queryString(r, "agent_id")
	if p.Type = queryString(r, "entity_type"); p.Type == nil {
		p.Type = queryString(r, "type")
	}
	page, err := h.account(r).Entities().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toEntity))
}

func (h *handler) getEntity(w http.ResponseWriter, r *http.Request) {
	e, err := h.account(r).Entities().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toEntity(e))
}

func (h *handler) deleteEntity(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.account(r).Entities().Delete(r.Context(), id); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ackJSON{Success: true, Deleted: true, ID: strings.ToLower(id)})
}

type linkReq struct {
	EntityID     *string `json:"entity_id"`
	MemoryID     *string `json:"memory_id"`
	Relationship *string `json:"relationship"`
}

type linkJSON struct {
	Success      bool   `json:"success"`
	EntityID     string `json:"entity_id"`
	MemoryID     string `json:"memory_id"`
	Relationship string `json:"relationship"`
	CreatedAt    int64  `json:"created_at"`
}

// linkEntity serves both link paths: the entity id comes from the path
// when there is one, else from the body.
func (h *handler) linkEntity(w http.ResponseWriter, r *http.Request) {
	var req linkReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if id := r.PathValue("id"); id != "" {
		req.EntityID = &id
	}
	if req.EntityID == nil {
		h.writeError(w, r, badField("entity_id", "entity_id is required"))
		return
	}
	if req.MemoryID == nil {
		h.writeError(w, r, badField("memory_id", "memory_id is required"))
		return
	}
	l, created, err := h.account(r).Entities().Link(r.Context(), memory.NewEntityLink{
		EntityID: *req.EntityID, MemoryID: *req.MemoryID, Relationship: req.Relationship,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, linkJSON{Success: true, EntityID: l.EntityID, MemoryID: l.MemoryID, Relationship: l.Relationship, CreatedAt: l.CreatedAt.UnixMilli()})
}

type neighborJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	EntityType   string `json:"entity_type"`
	Relationship string `json:"relationship"`
	Depth        int    `json:"depth"`
}

// neighborhoodJSON is the neighbourhood answer; its entity is the whole
// Entity object, a superset of the contract's {id, name, type}.
type neighborhoodJSON struct {
	Entity         entityJSON     `json:"entity"`
	Neighbors      []neighborJSON `json:"neighbors"`
	TotalNeighbors int            `json:"total_neighbors"`
}

// entityNeighborhood reads depth (1–5) and max_neighbors (1–100); values
// out of range are clamped, non-integers get 400.
func (h *handler) entityNeighborhood(w http.ResponseWriter, r *http.Request) {
	var p memory.NeighborhoodParams
	for _, q := range []struct {
		name string
		dst  *int
	}{{"depth", &p.Depth}, {"max_neighbors", &p.MaxNeighbors}} {
		v, err := queryInt(r, q.name)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if v.set {
			*q.dst = max(v.v, 1) // 0 would mean the default
		}
	}
	n, err := h.account(r).Entities().Neighborhood(r.Context(), r.PathValue("id"), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := neighborhoodJSON{
		Entity:         toEntity(n.Entity),
		Neighbors:      make([]neighborJSON, len(n.Neighbors)),
		TotalNeighbors: len(n.Neighbors),
	}
	for i, nb := range n.Neighbors {
		out.Neighbors[i] = neighborJSON{ID: nb.ID, Name: nb.Name, Type: nb.Type, EntityType: nb.Type, Relationship: nb.Relationship, Depth: nb.Depth}
	}
	writeJSON(w, http.StatusOK, out)
}
