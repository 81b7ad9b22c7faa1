package httpapi

// Context building: see the API contract §5.2 #10 and §5.3 #13.

import (
	"net/http"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func (h *handler) contextRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/memories/context", true, scopes.Read, h.textContext},
		{http.MethodPost, "/v2/context/build", true, scopes.Read, h.buildContext},
		{http.MethodPost, "/v2/context", true, scopes.Read, h.buildContext},
	}
}

// textContextReq is the body of POST /v1/memories/context.
type textContextReq struct {
	Query     *string  `json:"query"`
	AgentID   *string  `json:"agent_id"`
	Limit     optInt   `json:"limit"`
	Threshold *float64 `json:"threshold"`
	MinScore  *float64 `json:"min_score"` // alias of threshold (§6)
	MaxTokens optInt   `json:"max_tokens"`
	Project   *string  `json:"project"`
}

type textContextJSON struct {
	Context      string           `json:"context"`
	MemoriesUsed int              `json:"memories_used"`
	TotalChars   int              `json:"total_chars"`
	Memories     []searchItemJSON `json:"memories"`
}

func (h *handler) textContext(w http.ResponseWriter, r *http.Request) {
	var req textContextReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Query == nil {
		h.writeError(w, r, badField("query", "query is required"))
		return
	}
	limit, err := limitParam(req.Limit, memory.MaxContextLimit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.MaxTokens.set && req.MaxTokens.v < 1 {
		h.writeError(w, r, badField("max_tokens", "max_tokens must be a positive integer"))
		return
	}
	p := memory.TextContextParams{Query: *req.Query, AgentID: req.AgentID, Limit: limit, MaxTokens: req.MaxTokens.v, Project: req.Project}
	if p.AgentID != nil && *p.AgentID == "" {
		p.AgentID = nil
	}
	if t := req.Threshold; t != nil {
		p.Threshold = *t
	} else if t := req.MinScore; t != nil {
		p.Threshold = *t
	}
	began := time.Now()
	tc, err := h.account(r).Contexts().Text(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	noteSearch(r.Context(), memory.ModeHybrid, time.Since(began))
	out := textContextJSON{Context: tc.Text, MemoriesUsed: len(tc.Hits), TotalChars: tc.TotalChars, Memories: make([]searchItemJSON, len(tc.Hits))}
	for i, hit := range tc.Hits {
		out.Memories[i] = toSearchItem(hit)
	}
	writeJSON(w, http.StatusOK, out)
}

// buildContextReq is the body of POST /v2/context/build and /v2/context.
type buildContextReq struct {
	Query            *string  `json:"query"`
	AgentID          *string  `json:"agent_id"`
	MaxMemories      optInt   `json:"max_memories"`
	MaxTokens        optInt   `json:"max_tokens"`
	SearchMode       *string  `json:"search_mode"`
	ExcludeMemoryIDs []string `json:"exclude_memory_ids"`
	RankingVersion   *string  `json:"ranking_version"`
	// Accepted and ignored: no LLM is ever called.
	AIEnhanced *bool   `json:"ai_enhanced"`
	LLMAPIURL  *string `json:"llm_api_url"`
	LLMModel   *string `json:"llm_model"`
}

// defaultRankingVersion is the ranking_version a context build reports
// when the request names none (#13).
const defaultRankingVersion = "v1"

// contextItemJSON is an item of a built context: the contract's four
// fields, plus the whole Memory and the item's estimated tokens (our
// extension).
type contextItemJSON struct {
	MemoryID   string     `json:"memory_id"`
	Content    string     `json:"content"`
	Score      float64    `json:"score"`
	MemoryType *string    `json:"memory_type"`
	Tokens     int        `json:"tokens"`
	Memory     memoryJSON `json:"memory"`
}

type builtContextJSON struct {
	Context        []contextItemJSON `json:"context"`
	Memories       []contextItemJSON `json:"memories"`
	Summary        *string           `json:"summary"`
	TokenCount     int               `json:"token_count"`
	RankingVersion string            `json:"ranking_version"`
	AIEnhanced     bool              `json:"ai_enhanced"`
	LatencyMS      int64             `json:"latency_ms"`
}

func (h *handler) buildContext(w http.ResponseWriter, r *http.Request) {
	var req buildContextReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Query == nil {
		h.writeError(w, r, badField("query", "query is required"))
		return
	}
	if req.MaxMemories.set && (req.MaxMemories.v < 1 || req.MaxMemories.v > memory.MaxContextMemories) {
		h.writeError(w, r, badField("max_memories", "max_memories must be between 1 and 100"))
		return
	}
	if req.MaxTokens.set && (req.MaxTokens.v < memory.MinContextTokens || req.MaxTokens.v > memory.MaxContextTokens) {
		h.writeError(w, r, badField("max_tokens", "max_tokens must be between 100 and 128000"))
		return
	}
	p := memory.BuildContextParams{
		Query: *req.Query, AgentID: req.AgentID, MaxMemories: req.MaxMemories.v, MaxTokens: req.MaxTokens.v,
		Mode: deref(req.SearchMode), ExcludeIDs: req.ExcludeMemoryIDs,
	}
	if p.AgentID != nil && *p.AgentID == "" {
		p.AgentID = nil
	}
	began := time.Now()
	bc, err := h.account(r).Contexts().Build(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	noteSearch(r.Context(), p.Mode, time.Since(began))
	items := make([]contextItemJSON, len(bc.Items))
	for i, it := range bc.Items {
		items[i] = contextItemJSON{MemoryID: it.Memory.ID, Content: it.Memory.Content, Score: it.Score, MemoryType: it.Memory.MemoryType,
			Tokens: it.Tokens, Memory: toMemory(it.Memory)}
	}
	version := defaultRankingVersion
	if req.RankingVersion != nil && *req.RankingVersion != "" {
		version = *req.RankingVersion
	}
	writeJSON(w, http.StatusOK, builtContextJSON{
		Context: items, Memories: items, TokenCount: bc.TokenCount, RankingVersion: version,
		LatencyMS: bc.Latency.Milliseconds(),
	})
}
