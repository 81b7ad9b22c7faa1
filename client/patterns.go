package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
)

// patterns implements memory.Patterns: /v1/patterns (API contract §5.8).
type patterns struct{ c *Client }

func (s patterns) one(ctx context.Context, r request) (memory.Pattern, error) {
	r.kind = "pattern"
	var w patternJSON
	if _, err := s.c.call(ctx, r, &w); err != nil {
		return memory.Pattern{}, err
	}
	return toPattern(w), nil
}

func (s patterns) Create(ctx context.Context, in memory.NewPattern) (memory.Pattern, error) {
	body := struct {
		Title         string          `json:"title"`
		Description   string          `json:"description"`
		Category      *string         `json:"category,omitempty"`
		ExampleCode   *string         `json:"example_code,omitempty"`
		Scope         string          `json:"scope,omitempty"`
		Tags          []string        `json:"tags"` // null: none; [] stays []
		SourceProject *string         `json:"source_project,omitempty"`
		Metadata      json.RawMessage `json:"metadata,omitempty"`
	}{in.Title, in.Description, in.Category, in.ExampleCode, in.Scope, in.Tags, in.SourceProject, in.Metadata}
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/patterns", body: body})
}

// Get calls GET /v1/patterns/{id}, an extension of memoryrelay's server.
func (s patterns) Get(ctx context.Context, id string) (memory.Pattern, error) {
	return s.one(ctx, request{method: http.MethodGet, path: "/v1/patterns/" + pathEscape(id)})
}

type patternHitJSON struct {
	Pattern patternJSON `json:"pattern"`
	Score   float64     `json:"score"`
}

func (s patterns) Search(ctx context.Context, p memory.PatternSearchParams) ([]memory.PatternHit, error) {
	q := query{}.str("query", p.Query).ptr("category", p.Category).ptr("project", p.Project).int("limit", p.Limit).float("threshold", p.Threshold)
	var w dataJSON[patternHitJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/patterns/search", query: q.values(), kind: "pattern"}, &w); err != nil {
		return nil, err
	}
	return convert(w.Data, func(h patternHitJSON) memory.PatternHit {
		return memory.PatternHit{Pattern: toPattern(h.Pattern), Score: h.Score}
	}), nil
}

func (s patterns) Adopt(ctx context.Context, id, project string) (memory.Pattern, error) {
	body := struct {
		Project string `json:"project"`
	}{project}
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/patterns/" + pathEscape(id) + "/adopt", body: body})
}

func (s patterns) Suggest(ctx context.Context, project string, limit int) ([]memory.Pattern, error) {
	q := query{"project": {project}}.int("limit", limit)
	var w dataJSON[patternJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/patterns/suggest", query: q.values(), kind: "project"}, &w); err != nil {
		return nil, err
	}
	return convert(w.Data, toPattern), nil
}
