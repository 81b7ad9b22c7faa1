package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
)

// entities implements memory.Entities: /v1/entities (API contract §5.4).
type entities struct{ c *Client }

func entityPath(id string) string { return "/v1/entities/" + pathEscape(id) }

func (s entities) Create(ctx context.Context, in memory.NewEntity) (memory.Entity, error) {
	body := struct {
		Name     string          `json:"name"`
		Type     *string         `json:"type,omitempty"`
		Metadata json.RawMessage `json:"metadata,omitempty"`
		AgentID  string          `json:"agent_id,omitempty"`
	}{in.Name, in.Type, in.Metadata, in.AgentID}
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/entities", body: body})
}

// one sends r and reads an Entity.
func (s entities) one(ctx context.Context, r request) (memory.Entity, error) {
	r.kind = "entity"
	var w entityJSON
	if _, err := s.c.call(ctx, r, &w); err != nil {
		return memory.Entity{}, err
	}
	return toEntity(w), nil
}

func (s entities) Get(ctx context.Context, id string) (memory.Entity, error) {
	return s.one(ctx, request{method: http.MethodGet, path: entityPath(id)})
}

func (s entities) List(ctx context.Context, p memory.EntityListParams) (memory.Page[memory.Entity], error) {
	q := query{}.page(p.Limit, p.Offset, p.Cursor).ptr("agent_id", p.AgentID).ptr("entity_type", p.Type)
	var w listJSON[entityJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/entities", query: q.values(), kind: "entity"}, &w); err != nil {
		return memory.Page[memory.Entity]{}, err
	}
	return toPage(w, toEntity), nil
}

func (s entities) Delete(ctx context.Context, id string) error {
	_, err := s.c.call(ctx, request{method: http.MethodDelete, path: entityPath(id), kind: "entity"}, nil)
	return err
}

func (s entities) Link(ctx context.Context, in memory.NewEntityLink) (memory.EntityLink, bool, error) {
	body := struct {
		EntityID     string  `json:"entity_id"`
		MemoryID     string  `json:"memory_id"`
		Relationship *string `json:"relationship,omitempty"`
	}{in.EntityID, in.MemoryID, in.Relationship}
	var w struct {
		EntityID     string `json:"entity_id"`
		MemoryID     string `json:"memory_id"`
		Relationship string `json:"relationship"`
		CreatedAt    msTime `json:"created_at"`
	}
	status, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v1/entities/links", body: body, kind: "entity"}, &w)
	if err != nil {
		return memory.EntityLink{}, false, err
	}
	l := memory.EntityLink{EntityID: w.EntityID, MemoryID: w.MemoryID, Relationship: w.Relationship, CreatedAt: w.CreatedAt.time()}
	return l, status == http.StatusCreated, nil
}

func (s entities) Neighborhood(ctx context.Context, id string, p memory.NeighborhoodParams) (memory.Neighborhood, error) {
	q := query{}.int("depth", p.Depth).int("max_neighbors", p.MaxNeighbors)
	var w struct {
		Entity    entityJSON `json:"entity"`
		Neighbors []struct {
			ID           string `json:"id"`
			Name         string `json:"name"`
			Type         string `json:"type"`
			Relationship string `json:"relationship"`
			Depth        int    `json:"depth"`
		} `json:"neighbors"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: entityPath(id) + "/neighborhood", query: q.values(), kind: "entity"}, &w); err != nil {
		return memory.Neighborhood{}, err
	}
	out := memory.Neighborhood{Entity: toEntity(w.Entity), Neighbors: make([]memory.Neighbor, len(w.Neighbors))}
	for i, n := range w.Neighbors {
		out.Neighbors[i] = memory.Neighbor{ID: n.ID, Name: n.Name, Type: n.Type, Relationship: n.Relationship, Depth: n.Depth}
	}
	return out, nil
}
