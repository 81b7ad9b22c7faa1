package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
)

// agents implements memory.Agents: /v1/agents (API contract §5.5).
type agents struct{ c *Client }

func agentPath(ref string) string { return "/v1/agents/" + pathEscape(ref) }

// one sends r and reads an Agent; it returns the status too.
func (s agents) one(ctx context.Context, r request) (memory.Agent, int, error) {
	r.kind = "agent"
	var w agentJSON
	status, err := s.c.call(ctx, r, &w)
	if err != nil {
		return memory.Agent{}, status, err
	}
	return toAgent(w), status, nil
}

func (s agents) Create(ctx context.Context, in memory.NewAgent) (memory.Agent, bool, error) {
	body := struct {
		ID          string          `json:"id,omitempty"`
		Name        string          `json:"name,omitempty"`
		Description *string         `json:"description,omitempty"`
		Metadata    json.RawMessage `json:"metadata,omitempty"`
	}{in.ID, in.Name, in.Description, in.Metadata}
	a, status, err := s.one(ctx, request{method: http.MethodPost, path: "/v1/agents", body: body})
	return a, status == http.StatusCreated, err
}

func (s agents) Get(ctx context.Context, ref string) (memory.Agent, error) {
	a, _, err := s.one(ctx, request{method: http.MethodGet, path: agentPath(ref)})
	return a, err
}

func (s agents) List(ctx context.Context, p memory.PageParams) (memory.Page[memory.Agent], error) {
	var w listJSON[agentJSON]
	q := query{}.page(p.Limit, p.Offset, p.Cursor)
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/agents", query: q.values(), kind: "agent"}, &w); err != nil {
		return memory.Page[memory.Agent]{}, err
	}
	return toPage(w, toAgent), nil
}

func (s agents) Update(ctx context.Context, ref string, p memory.AgentPatch) (memory.Agent, error) {
	body := struct {
		Name        *string         `json:"name,omitempty"`
		Description *string         `json:"description,omitempty"`
		Metadata    json.RawMessage `json:"metadata,omitempty"`
	}{p.Name, p.Description, p.Metadata}
	a, _, err := s.one(ctx, request{method: http.MethodPatch, path: agentPath(ref), body: body})
	return a, err
}

func (s agents) Delete(ctx context.Context, ref string) (memory.AgentDeletion, error) {
	var w struct {
		ID              string `json:"id"`
		DeletedMemories int    `json:"deleted_memories"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodDelete, path: agentPath(ref), kind: "agent"}, &w); err != nil {
		return memory.AgentDeletion{}, err
	}
	return memory.AgentDeletion{ID: w.ID, DeletedMemories: w.DeletedMemories}, nil
}

func (s agents) Stats(ctx context.Context, ref string) (memory.AgentStats, error) {
	var w struct {
		MemoryCount int     `json:"memory_count"`
		EntityCount int     `json:"entity_count"`
		LastUpdated *msTime `json:"last_updated"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: agentPath(ref) + "/stats", kind: "agent"}, &w); err != nil {
		return memory.AgentStats{}, err
	}
	return memory.AgentStats{MemoryCount: w.MemoryCount, EntityCount: w.EntityCount, LastUpdated: msPtr(w.LastUpdated)}, nil
}
