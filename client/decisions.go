package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/memoryrelay/memoryrelay/memory"
)

// decisions implements memory.Decisions: /v1/decisions (API contract
// §5.7).
type decisions struct{ c *Client }

func (s decisions) one(ctx context.Context, r request) (memory.Decision, error) {
	r.kind = "decision"
	var w decisionJSON
	if _, err := s.c.call(ctx, r, &w); err != nil {
		return memory.Decision{}, err
	}
	return toDecision(w), nil
}

func (s decisions) Create(ctx context.Context, in memory.NewDecision) (memory.Decision, error) {
	body := struct {
		Title        string          `json:"title"`
		Rationale    string          `json:"rationale"`
		Alternatives *string         `json:"alternatives,omitempty"`
		Project      *string         `json:"project_slug,omitempty"`
		Tags         []string        `json:"tags"` // null: none; [] stays []
		Status       string          `json:"status,omitempty"`
		Metadata     json.RawMessage `json:"metadata,omitempty"`
		AgentID      string          `json:"agent_id,omitempty"`
		SessionID    *string         `json:"session_id,omitempty"`
	}{in.Title, in.Rationale, in.Alternatives, in.Project, in.Tags, in.Status, in.Metadata, in.AgentID, in.SessionID}
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/decisions", body: body})
}

// Get calls GET /v1/decisions/{id}, an extension of memoryrelay's server.
func (s decisions) Get(ctx context.Context, id string) (memory.Decision, error) {
	return s.one(ctx, request{method: http.MethodGet, path: "/v1/decisions/" + pathEscape(id)})
}

func (s decisions) List(ctx context.Context, p memory.DecisionListParams) (memory.Page[memory.Decision], error) {
	q := query{}.page(p.Limit, p.Offset, p.Cursor).ptr("project", p.Project).ptr("status", p.Status).str("tags", strings.Join(p.Tags, ","))
	var w listJSON[decisionJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/decisions", query: q.values(), kind: "decision"}, &w); err != nil {
		return memory.Page[memory.Decision]{}, err
	}
	return toPage(w, toDecision), nil
}

func (s decisions) Supersede(ctx context.Context, id string, p memory.SupersedeParams) (memory.Decision, error) {
	body := struct {
		Title        string          `json:"title"`
		Rationale    string          `json:"rationale"`
		Alternatives *string         `json:"alternatives,omitempty"`
		Tags         []string        `json:"tags"` // null: the old decision's
		Status       string          `json:"status,omitempty"`
		Metadata     json.RawMessage `json:"metadata,omitempty"`
	}{p.Title, p.Rationale, p.Alternatives, p.Tags, p.Status, p.Metadata}
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/decisions/" + pathEscape(id) + "/supersede", body: body})
}

func (s decisions) Check(ctx context.Context, p memory.DecisionCheckParams) ([]memory.DecisionHit, error) {
	q := query{"query": {p.Query}}.ptr("project", p.Project).int("limit", p.Limit).float("threshold", p.Threshold).bool("include_superseded", p.IncludeSuperseded)
	var w dataJSON[decisionHitJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/decisions/check", query: q.values(), kind: "decision"}, &w); err != nil {
		return nil, err
	}
	return convert(w.Data, toDecisionHit), nil
}
