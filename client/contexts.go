package client

import (
	"context"
	"net/http"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

// contexts implements memory.Contexts: POST /v1/memories/context and
// POST /v2/context/build (API contract §5.2 #10, §5.3 #13).
type contexts struct{ c *Client }

func (s contexts) Text(ctx context.Context, p memory.TextContextParams) (memory.TextContext, error) {
	body := struct {
		Query     string  `json:"query"`
		AgentID   *string `json:"agent_id,omitempty"`
		Limit     int     `json:"limit,omitempty"`
		Threshold float64 `json:"threshold,omitempty"`
		MaxTokens int     `json:"max_tokens,omitempty"`
		Project   *string `json:"project,omitempty"`
	}{p.Query, p.AgentID, p.Limit, p.Threshold, p.MaxTokens, p.Project}
	var w struct {
		Context    string           `json:"context"`
		TotalChars int              `json:"total_chars"`
		Memories   []searchItemJSON `json:"memories"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v1/memories/context", body: body, kind: "memory"}, &w); err != nil {
		return memory.TextContext{}, err
	}
	return memory.TextContext{Text: w.Context, Hits: convert(w.Memories, toHit), TotalChars: w.TotalChars}, nil
}

// Build reads each item's Memory and tokens, which memoryrelay's server
// adds to the contract's item; from a server without them an item's
// Memory holds only ID, Content and MemoryType, and Tokens is 0.
func (s contexts) Build(ctx context.Context, p memory.BuildContextParams) (memory.BuiltContext, error) {
	body := struct {
		Query       string   `json:"query"`
		AgentID     *string  `json:"agent_id,omitempty"`
		MaxMemories int      `json:"max_memories,omitempty"`
		MaxTokens   int      `json:"max_tokens,omitempty"`
		Mode        string   `json:"search_mode,omitempty"`
		ExcludeIDs  []string `json:"exclude_memory_ids,omitempty"`
	}{p.Query, p.AgentID, p.MaxMemories, p.MaxTokens, p.Mode, p.ExcludeIDs}
	var w struct {
		Context []struct {
			MemoryID   string      `json:"memory_id"`
			Content    string      `json:"content"`
			Score      float64     `json:"score"`
			MemoryType *string     `json:"memory_type"`
			Tokens     int         `json:"tokens"`
			Memory     *memoryJSON `json:"memory"`
		} `json:"context"`
		TokenCount int   `json:"token_count"`
		LatencyMS  int64 `json:"latency_ms"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v2/context/build", body: body, kind: "memory"}, &w); err != nil {
		return memory.BuiltContext{}, err
	}
	out := memory.BuiltContext{Items: make([]memory.ContextItem, len(w.Context)), TokenCount: w.TokenCount,
		Latency: time.Duration(w.LatencyMS) * time.Millisecond}
	for i, it := range w.Context {
		m := memory.Memory{ID: it.MemoryID, Content: it.Content, MemoryType: it.MemoryType}
		if it.Memory != nil {
			m = toMemory(*it.Memory)
		}
		out.Items[i] = memory.ContextItem{Memory: m, Score: it.Score, Tokens: it.Tokens}
	}
	return out, nil
}
