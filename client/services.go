package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MemoriesService calls the /v1/memories and /v2/memories endpoints.
type MemoriesService struct{ c *Client }

// Create stores a memory.
func (s *MemoriesService) Create(ctx context.Context, m MemoryCreate) (Memory, error) {
	var out Memory
	return out, s.c.do(ctx, http.MethodPost, "/v1/memories", nil, m, &out)
}

// Get returns a memory by id.
func (s *MemoriesService) Get(ctx context.Context, id string) (Memory, error) {
	var out Memory
	return out, s.c.do(ctx, http.MethodGet, "/v1/memories/"+pathEscape(id), nil, nil, &out)
}

// List returns a page of memories, newest first.
func (s *MemoriesService) List(ctx context.Context, o MemoryListOptions) (List[Memory], error) {
	q := pageQuery(o.Page)
	setIf(q, "agent_id", o.AgentID)
	setIf(q, "user_id", o.UserID)
	setIf(q, "scope", o.Scope)
	var out List[Memory]
	return out, s.c.do(ctx, http.MethodGet, "/v1/memories", q, nil, &out)
}

// Update changes a memory (PATCH).
func (s *MemoriesService) Update(ctx context.Context, id string, u MemoryUpdate) (Memory, error) {
	var out Memory
	return out, s.c.do(ctx, http.MethodPatch, "/v1/memories/"+pathEscape(id), nil, u, &out)
}

// SetImportance sets a memory's importance (and its tier, when not empty).
func (s *MemoriesService) SetImportance(ctx context.Context, id string, importance float64, tier string) (Memory, error) {
	body := map[string]any{"importance": importance}
	if tier != "" {
		body["tier"] = tier
	}
	var out Memory
	return out, s.c.do(ctx, http.MethodPut, "/v1/memories/"+pathEscape(id)+"/importance", nil, body, &out)
}

// Delete removes a memory.
func (s *MemoriesService) Delete(ctx context.Context, id string) (Ack, error) {
	var out Ack
	return out, s.c.do(ctx, http.MethodDelete, "/v1/memories/"+pathEscape(id), nil, nil, &out)
}

// Search ranks memories against a query.
func (s *MemoriesService) Search(ctx context.Context, r SearchRequest) (SearchResponse, error) {
	var out SearchResponse
	return out, s.c.do(ctx, http.MethodPost, "/v1/memories/search", nil, r, &out)
}

// Batch stores many memories; each item succeeds or fails alone.
func (s *MemoriesService) Batch(ctx context.Context, r BatchRequest) (BatchResponse, error) {
	var out BatchResponse
	return out, s.c.do(ctx, http.MethodPost, "/v1/memories/batch", nil, r, &out)
}

// Ingest queues a memory for asynchronous storage (POST /v2/memories).
func (s *MemoriesService) Ingest(ctx context.Context, m MemoryCreate) (Job, error) {
	var out Job
	return out, s.c.do(ctx, http.MethodPost, "/v2/memories", nil, m, &out)
}

// Status returns the state of an asynchronous ingest.
func (s *MemoriesService) Status(ctx context.Context, id string) (Job, error) {
	var out Job
	return out, s.c.do(ctx, http.MethodGet, "/v2/memories/"+pathEscape(id)+"/status", nil, nil, &out)
}

// AgentsService calls the /v1/agents endpoints.
type AgentsService struct{ c *Client }

// List returns a page of agents.
func (s *AgentsService) List(ctx context.Context, p Page) (List[Agent], error) {
	var out List[Agent]
	return out, s.c.do(ctx, http.MethodGet, "/v1/agents", pageQuery(p), nil, &out)
}

// Create creates an agent (POST /v1/agents). With an ID it is idempotent
// by that id: when the account has an agent with the id, that agent is
// returned unchanged. With only a Name, the agent of that name is
// returned if there is one, else a new agent with a server-made UUID id.
// A new agent with a name another agent has is an *Error matching
// ErrConflict.
func (s *AgentsService) Create(ctx context.Context, a AgentCreate) (Agent, error) {
	var out Agent
	return out, s.c.do(ctx, http.MethodPost, "/v1/agents", nil, a, &out)
}

// Get returns an agent by id or, failing that, by name.
func (s *AgentsService) Get(ctx context.Context, idOrName string) (Agent, error) {
	var out Agent
	return out, s.c.do(ctx, http.MethodGet, "/v1/agents/"+pathEscape(idOrName), nil, nil, &out)
}

// Stats returns an agent's counts.
func (s *AgentsService) Stats(ctx context.Context, idOrName string) (AgentStats, error) {
	var out AgentStats
	return out, s.c.do(ctx, http.MethodGet, "/v1/agents/"+pathEscape(idOrName)+"/stats", nil, nil, &out)
}

// Update changes an agent's name, description or metadata (PATCH); its
// id never changes. A name another agent has is an *Error matching
// ErrConflict.
func (s *AgentsService) Update(ctx context.Context, idOrName string, u AgentUpdate) (Agent, error) {
	var out Agent
	return out, s.c.do(ctx, http.MethodPatch, "/v1/agents/"+pathEscape(idOrName), nil, u, &out)
}

// Delete removes an agent with its memories and sessions.
func (s *AgentsService) Delete(ctx context.Context, idOrName string) (Ack, error) {
	var out Ack
	return out, s.c.do(ctx, http.MethodDelete, "/v1/agents/"+pathEscape(idOrName), nil, nil, &out)
}

// SessionsService calls the /v1/sessions endpoints.
type SessionsService struct{ c *Client }

// Create starts a session.
func (s *SessionsService) Create(ctx context.Context, r SessionCreate) (Session, error) {
	var out Session
	return out, s.c.do(ctx, http.MethodPost, "/v1/sessions", nil, r, &out)
}

// GetOrCreate returns the session with r.ExternalID, creating it once.
func (s *SessionsService) GetOrCreate(ctx context.Context, r SessionCreate) (Session, error) {
	var out Session
	return out, s.c.do(ctx, http.MethodPost, "/v1/sessions/get-or-create", nil, r, &out)
}

// End ends a session, optionally with a summary.
func (s *SessionsService) End(ctx context.Context, id, summary string) (Session, error) {
	var body map[string]string
	if summary != "" {
		body = map[string]string{"summary": summary}
	}
	var out Session
	return out, s.c.do(ctx, http.MethodPut, "/v1/sessions/"+pathEscape(id)+"/end", nil, body, &out)
}

// Get returns a session with its memories.
func (s *SessionsService) Get(ctx context.Context, id string) (Session, error) {
	var out Session
	return out, s.c.do(ctx, http.MethodGet, "/v1/sessions/"+pathEscape(id), nil, nil, &out)
}

// List returns a page of sessions, newest first.
func (s *SessionsService) List(ctx context.Context, p Page) (List[Session], error) {
	var out List[Session]
	return out, s.c.do(ctx, http.MethodGet, "/v1/sessions", pageQuery(p), nil, &out)
}

// EntitiesService calls the /v1/entities endpoints.
type EntitiesService struct{ c *Client }

// Create creates an entity.
func (s *EntitiesService) Create(ctx context.Context, name, typ string) (Entity, error) {
	var out Entity
	return out, s.c.do(ctx, http.MethodPost, "/v1/entities", nil, map[string]string{"name": name, "type": typ}, &out)
}

// Get returns an entity.
func (s *EntitiesService) Get(ctx context.Context, id string) (Entity, error) {
	var out Entity
	return out, s.c.do(ctx, http.MethodGet, "/v1/entities/"+pathEscape(id), nil, nil, &out)
}

// List returns a page of entities.
func (s *EntitiesService) List(ctx context.Context, p Page) (List[Entity], error) {
	var out List[Entity]
	return out, s.c.do(ctx, http.MethodGet, "/v1/entities", pageQuery(p), nil, &out)
}

// Link links an entity to a memory.
func (s *EntitiesService) Link(ctx context.Context, entityID, memoryID, relationship string) error {
	body := map[string]string{"entity_id": entityID, "memory_id": memoryID}
	if relationship != "" {
		body["relationship"] = relationship
	}
	return s.c.do(ctx, http.MethodPost, "/v1/entities/links", nil, body, nil)
}

// Neighborhood returns the entities reachable from one over shared memories.
func (s *EntitiesService) Neighborhood(ctx context.Context, id string, depth, maxNeighbors int) (Neighborhood, error) {
	q := url.Values{}
	if depth > 0 {
		q.Set("depth", strconv.Itoa(depth))
	}
	if maxNeighbors > 0 {
		q.Set("max_neighbors", strconv.Itoa(maxNeighbors))
	}
	var out Neighborhood
	return out, s.c.do(ctx, http.MethodGet, "/v1/entities/"+pathEscape(id)+"/neighborhood", q, nil, &out)
}

// Delete removes an entity and its links.
func (s *EntitiesService) Delete(ctx context.Context, id string) (Ack, error) {
	var out Ack
	return out, s.c.do(ctx, http.MethodDelete, "/v1/entities/"+pathEscape(id), nil, nil, &out)
}

// DecisionsService calls the /v1/decisions endpoints.
type DecisionsService struct{ c *Client }

// Create records a decision.
func (s *DecisionsService) Create(ctx context.Context, d DecisionCreate) (Decision, error) {
	var out Decision
	return out, s.c.do(ctx, http.MethodPost, "/v1/decisions", nil, d, &out)
}

// List returns a page of decisions.
func (s *DecisionsService) List(ctx context.Context, p Page, project string, tags ...string) (List[Decision], error) {
	q := pageQuery(p)
	setIf(q, "project", project)
	setIf(q, "tags", strings.Join(tags, ","))
	var out List[Decision]
	return out, s.c.do(ctx, http.MethodGet, "/v1/decisions", q, nil, &out)
}

// Supersede replaces a decision with a new one.
func (s *DecisionsService) Supersede(ctx context.Context, id string, d DecisionCreate) (Decision, error) {
	var out Decision
	return out, s.c.do(ctx, http.MethodPost, "/v1/decisions/"+pathEscape(id)+"/supersede", nil, d, &out)
}

// DecisionMatch is a decision found by Check.
type DecisionMatch struct {
	Decision Decision `json:"decision"`
	Score    float64  `json:"score"`
}

// Check finds decisions relevant to a query.
func (s *DecisionsService) Check(ctx context.Context, query, project string, limit int) ([]DecisionMatch, error) {
	q := url.Values{"query": {query}}
	setIf(q, "project", project)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Data []DecisionMatch `json:"data"`
	}
	return out.Data, s.c.do(ctx, http.MethodGet, "/v1/decisions/check", q, nil, &out)
}

// PatternsService calls the /v1/patterns endpoints.
type PatternsService struct{ c *Client }

// Create records a pattern.
func (s *PatternsService) Create(ctx context.Context, p PatternCreate) (Pattern, error) {
	var out Pattern
	return out, s.c.do(ctx, http.MethodPost, "/v1/patterns", nil, p, &out)
}

// PatternMatch is a pattern found by Search.
type PatternMatch struct {
	Pattern Pattern `json:"pattern"`
	Score   float64 `json:"score"`
}

// Search finds patterns; an empty query lists them by adoption.
func (s *PatternsService) Search(ctx context.Context, query string, limit int) ([]PatternMatch, error) {
	q := url.Values{}
	setIf(q, "query", query)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Data []PatternMatch `json:"data"`
	}
	return out.Data, s.c.do(ctx, http.MethodGet, "/v1/patterns/search", q, nil, &out)
}

// Adopt records that a project adopted a pattern.
func (s *PatternsService) Adopt(ctx context.Context, id, project string) (Pattern, error) {
	var out Pattern
	return out, s.c.do(ctx, http.MethodPost, "/v1/patterns/"+pathEscape(id)+"/adopt", nil, map[string]string{"project": project}, &out)
}

// Suggest lists patterns a project has not adopted.
func (s *PatternsService) Suggest(ctx context.Context, project string, limit int) ([]Pattern, error) {
	q := url.Values{"project": {project}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Data []Pattern `json:"data"`
	}
	return out.Data, s.c.do(ctx, http.MethodGet, "/v1/patterns/suggest", q, nil, &out)
}

// ProjectsService calls the /v1/projects endpoints.
type ProjectsService struct{ c *Client }

// Create creates a project.
func (s *ProjectsService) Create(ctx context.Context, p ProjectCreate) (Project, error) {
	var out Project
	return out, s.c.do(ctx, http.MethodPost, "/v1/projects", nil, p, &out)
}

// Get returns a project by slug.
func (s *ProjectsService) Get(ctx context.Context, slug string) (Project, error) {
	var out Project
	return out, s.c.do(ctx, http.MethodGet, "/v1/projects/"+pathEscape(slug), nil, nil, &out)
}

// List returns a page of projects.
func (s *ProjectsService) List(ctx context.Context, p Page) (List[Project], error) {
	var out List[Project]
	return out, s.c.do(ctx, http.MethodGet, "/v1/projects", pageQuery(p), nil, &out)
}

// AddRelationship records an edge from one project to another.
func (s *ProjectsService) AddRelationship(ctx context.Context, slug, target, relationshipType string) error {
	body := map[string]string{"target_project": target, "relationship_type": relationshipType}
	return s.c.do(ctx, http.MethodPost, "/v1/projects/"+pathEscape(slug)+"/relationships", nil, body, nil)
}

// KeysService calls the key management endpoints (admin scope).
type KeysService struct{ c *Client }

// Create creates a key; the answer's Secret is the only copy of it.
func (s *KeysService) Create(ctx context.Context, k KeyCreate) (Key, error) {
	var out Key
	return out, s.c.do(ctx, http.MethodPost, "/v1/keys", nil, k, &out)
}

// List returns a page of keys.
func (s *KeysService) List(ctx context.Context, p Page) (List[Key], error) {
	var out List[Key]
	return out, s.c.do(ctx, http.MethodGet, "/v1/keys", pageQuery(p), nil, &out)
}

// Get returns a key.
func (s *KeysService) Get(ctx context.Context, id string) (Key, error) {
	var out Key
	return out, s.c.do(ctx, http.MethodGet, "/v1/keys/"+pathEscape(id), nil, nil, &out)
}

// Revoke revokes a key at once.
func (s *KeysService) Revoke(ctx context.Context, id string) (Ack, error) {
	var out Ack
	return out, s.c.do(ctx, http.MethodDelete, "/v1/keys/"+pathEscape(id), nil, nil, &out)
}

// Rotate gives a key a new secret; the old one works for graceSeconds.
func (s *KeysService) Rotate(ctx context.Context, id string, graceSeconds int) (Key, error) {
	var out Key
	return out, s.c.do(ctx, http.MethodPost, "/v1/keys/"+pathEscape(id)+"/rotate", nil, map[string]int{"grace_seconds": graceSeconds}, &out)
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}
