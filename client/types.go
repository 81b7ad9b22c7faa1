package client

import (
	"encoding/json"
	"time"
)

// Millis is an instant as the API sends it for memories, entities, agents
// and jobs: integer milliseconds since the Unix epoch.
type Millis int64

// Time converts m to a time.Time in UTC.
func (m Millis) Time() time.Time { return time.UnixMilli(int64(m)).UTC() }

// Page selects a page of a list.
type Page struct {
	Limit  int    // 0: the server default (20)
	Offset int    // ignored when Cursor is set
	Cursor string // from List.NextCursor
}

// List is the API's list envelope.
type List[T any] struct {
	Data       []T     `json:"data"`
	HasMore    bool    `json:"has_more"`
	Total      int     `json:"total"`
	Limit      int     `json:"limit"`
	Offset     int     `json:"offset"`
	NextCursor *string `json:"next_cursor"`
}

// Memory is a stored memory.
type Memory struct {
	ID          string          `json:"id"`
	Content     string          `json:"content"`
	AgentID     string          `json:"agent_id"`
	UserID      *string         `json:"user_id"`
	Metadata    json.RawMessage `json:"metadata"`
	Entities    []EntityRef     `json:"entities"`
	MemoryType  *string         `json:"memory_type"`
	Visibility  string          `json:"visibility"`
	Importance  float64         `json:"importance"`
	Tier        string          `json:"tier"`
	Scope       string          `json:"scope"`
	IsDuplicate bool            `json:"is_duplicate"`
	SessionID   *string         `json:"session_id"`
	ProjectID   *string         `json:"project_id"`
	Project     *string         `json:"project"`
	ArchivedAt  *Millis         `json:"archived_at"`
	CreatedAt   Millis          `json:"created_at"`
	UpdatedAt   Millis          `json:"updated_at"`
}

// EntityRef is an entity linked to a memory.
type EntityRef struct {
	Type       string  `json:"type"`
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
}

// MemoryCreate is the body of a memory create (and of a v2 ingest and a
// batch item). Nil and empty fields take the server's defaults.
type MemoryCreate struct {
	Content        string          `json:"content"`
	AgentID        string          `json:"agent_id,omitempty"`
	UserID         *string         `json:"user_id,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	MemoryType     string          `json:"memory_type,omitempty"`
	Visibility     string          `json:"visibility,omitempty"`
	Importance     *float64        `json:"importance,omitempty"`
	Tier           string          `json:"tier,omitempty"`
	Scope          string          `json:"scope,omitempty"`
	SessionID      string          `json:"session_id,omitempty"`
	Project        string          `json:"project,omitempty"`
	Deduplicate    bool            `json:"deduplicate,omitempty"`
	DedupThreshold *float64        `json:"dedup_threshold,omitempty"`
	WebhookURL     string          `json:"webhook_url,omitempty"` // v2 only
}

// MemoryUpdate is a partial update; nil fields stay unchanged. Metadata is
// merged: a key set to null is deleted.
type MemoryUpdate struct {
	Content    *string         `json:"content,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Importance *float64        `json:"importance,omitempty"`
	Tier       *string         `json:"tier,omitempty"`
	Visibility *string         `json:"visibility,omitempty"`
	MemoryType *string         `json:"memory_type,omitempty"`
}

// MemoryListOptions filters a memory list.
type MemoryListOptions struct {
	Page
	AgentID string
	UserID  string
	Scope   string
}

// SearchRequest is the body of a memory search.
type SearchRequest struct {
	Query          string                     `json:"query"`
	Limit          int                        `json:"limit,omitempty"`
	Threshold      *float64                   `json:"threshold,omitempty"`
	AgentID        string                     `json:"agent_id,omitempty"`
	UserID         string                     `json:"user_id,omitempty"`
	Tier           string                     `json:"tier,omitempty"`
	MinImportance  *float64                   `json:"min_importance,omitempty"`
	Project        string                     `json:"project,omitempty"`
	MetadataFilter map[string]json.RawMessage `json:"metadata_filter,omitempty"`
	SearchMode     string                     `json:"search_mode,omitempty"`
	Scope          string                     `json:"scope,omitempty"`
	SessionID      string                     `json:"session_id,omitempty"`
}

// SearchResult is one search hit.
type SearchResult struct {
	Memory   Memory  `json:"memory"`
	Score    float64 `json:"score"`
	Category *string `json:"category"`
}

// SearchResponse is the answer to a search.
type SearchResponse struct {
	Data  []SearchResult `json:"data"`
	Total int            `json:"total"`
	Query string         `json:"query"`
}

// BatchRequest is the body of a batch create.
type BatchRequest struct {
	Memories []MemoryCreate `json:"memories"`
	AgentID  string         `json:"agent_id,omitempty"`
}

// BatchResponse is the answer to a batch create.
type BatchResponse struct {
	Success   bool          `json:"success"`
	Total     int           `json:"total"`
	Succeeded int           `json:"succeeded"`
	Failed    int           `json:"failed"`
	Skipped   int           `json:"skipped"`
	Results   []BatchResult `json:"results"`
	Timing    struct {
		TotalMS        float64 `json:"total_ms"`
		EmbeddingMS    float64 `json:"embedding_ms"`
		DatabaseMS     float64 `json:"database_ms"`
		PerMemoryAvgMS float64 `json:"per_memory_avg_ms"`
	} `json:"timing"`
}

// BatchResult is the outcome of one batch item.
type BatchResult struct {
	Index          int     `json:"index"`
	Status         string  `json:"status"`
	Success        bool    `json:"success"`
	MemoryID       *string `json:"memory_id"`
	Error          *string `json:"error"`
	ErrorCode      *string `json:"error_code"`
	ContentPreview string  `json:"content_preview"`
}

// Job is the state of a v2 ingest.
type Job struct {
	ID                         string  `json:"id"`
	Status                     string  `json:"status"`
	JobID                      string  `json:"job_id,omitempty"`
	EstimatedCompletionSeconds float64 `json:"estimated_completion_seconds,omitempty"`
	CreatedAt                  Millis  `json:"created_at,omitempty"`
	UpdatedAt                  Millis  `json:"updated_at,omitempty"`
	Error                      *string `json:"error,omitempty"`
}

// Agent is an owner of memories. ID is the id the client chose when it
// created the agent (or a server-made UUID); Name is a display label.
type Agent struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Description  *string         `json:"description"`
	Metadata     json.RawMessage `json:"metadata"`
	MemoryCount  int             `json:"memory_count"`
	SessionCount int             `json:"session_count"`
	CreatedAt    Millis          `json:"created_at"`
	UpdatedAt    Millis          `json:"updated_at"`
}

// AgentCreate is the body of an agent create. One of ID and Name is
// required.
type AgentCreate struct {
	// ID is the agent's id, chosen by the client: 1–255 bytes, any
	// characters, kept as given and never changed. Empty: the server makes
	// a UUID.
	ID string `json:"id,omitempty"`
	// Name is a display label, unique in the account; default the ID.
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

// AgentUpdate is a partial agent update; nil fields stay unchanged and
// Metadata, when set, replaces the stored object.
type AgentUpdate struct {
	Name        *string         `json:"name,omitempty"`
	Description *string         `json:"description,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

// AgentStats are an agent's counts.
type AgentStats struct {
	MemoryCount   int     `json:"memory_count"`
	EntityCount   int     `json:"entity_count"`
	TotalMemories int     `json:"total_memories"`
	LastUpdated   *Millis `json:"last_updated"`
}

// Session groups the memories of one conversation or task.
type Session struct {
	ID          string          `json:"id"`
	AgentID     string          `json:"agent_id"`
	ExternalID  *string         `json:"external_id"`
	Project     *string         `json:"project"`
	Status      string          `json:"status"`
	Title       *string         `json:"title"`
	Summary     *string         `json:"summary"`
	Metadata    json.RawMessage `json:"metadata"`
	MemoryCount int             `json:"memory_count"`
	StartedAt   time.Time       `json:"started_at"`
	EndedAt     *time.Time      `json:"ended_at"`
	Created     *bool           `json:"created,omitempty"`  // get-or-create only
	Memories    []Memory        `json:"memories,omitempty"` // get only
}

// SessionCreate is the body of a session create or get-or-create.
type SessionCreate struct {
	ExternalID string          `json:"external_id,omitempty"`
	AgentID    string          `json:"agent_id,omitempty"`
	Title      string          `json:"title,omitempty"`
	Project    string          `json:"project,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

// Entity is a named thing memories mention.
type Entity struct {
	ID                string          `json:"id"`
	Name              string          `json:"name"`
	Type              string          `json:"type"`
	Metadata          json.RawMessage `json:"metadata"`
	MemoryCount       int             `json:"memory_count"`
	RelationshipCount int             `json:"relationship_count"`
	CreatedAt         Millis          `json:"created_at"`
}

// Neighborhood is the answer of an entity neighbourhood query.
type Neighborhood struct {
	Entity struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"entity"`
	Neighbors []struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		Type         string `json:"type"`
		Relationship string `json:"relationship"`
		Depth        int    `json:"depth"`
	} `json:"neighbors"`
	TotalNeighbors int `json:"total_neighbors"`
}

// Decision is a recorded decision.
type Decision struct {
	ID           string          `json:"id"`
	Title        string          `json:"title"`
	Rationale    string          `json:"rationale"`
	Alternatives *string         `json:"alternatives"`
	ProjectSlug  *string         `json:"project_slug"`
	Status       string          `json:"status"`
	SupersededBy *string         `json:"superseded_by"`
	Tags         []string        `json:"tags"`
	Metadata     json.RawMessage `json:"metadata"`
	CreatedAt    time.Time       `json:"created_at"`
}

// DecisionCreate is the body of a decision create or supersede.
type DecisionCreate struct {
	Title        string          `json:"title"`
	Rationale    string          `json:"rationale"`
	Alternatives string          `json:"alternatives,omitempty"`
	ProjectSlug  string          `json:"project_slug,omitempty"`
	Tags         []string        `json:"tags,omitempty"`
	Status       string          `json:"status,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	AgentID      string          `json:"agent_id,omitempty"`
}

// Pattern is a reusable practice.
type Pattern struct {
	ID                string    `json:"id"`
	Title             string    `json:"title"`
	Description       string    `json:"description"`
	Category          *string   `json:"category"`
	Scope             string    `json:"scope"`
	Tags              []string  `json:"tags"`
	SourceProjectSlug *string   `json:"source_project_slug"`
	AdoptionCount     int       `json:"adoption_count"`
	CreatedAt         time.Time `json:"created_at"`
}

// PatternCreate is the body of a pattern create.
type PatternCreate struct {
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Category      string   `json:"category,omitempty"`
	ExampleCode   string   `json:"example_code,omitempty"`
	Scope         string   `json:"scope,omitempty"`
	Tags          []string `json:"tags,omitempty"`
	SourceProject string   `json:"source_project,omitempty"`
}

// Project groups memories, decisions and patterns.
type Project struct {
	ID          string          `json:"id"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Stack       json.RawMessage `json:"stack"`
	RepoURL     *string         `json:"repo_url"`
	MemoryCount int             `json:"memory_count"`
	CreatedAt   time.Time       `json:"created_at"`
}

// ProjectCreate is the body of a project create.
type ProjectCreate struct {
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Stack       json.RawMessage `json:"stack,omitempty"`
	RepoURL     string          `json:"repo_url,omitempty"`
}

// Key is an API key (without its secret).
type Key struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Secret is the raw key: set only in the answers to Create and Rotate.
	Secret string `json:"key,omitempty"`
}

// KeyCreate is the body of a key create.
type KeyCreate struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Ack is the answer to a delete.
type Ack struct {
	Success bool   `json:"success"`
	Deleted bool   `json:"deleted"`
	ID      string `json:"id"`
}

// Health is the server's health.
type Health struct {
	Status        string            `json:"status"`
	Version       string            `json:"version"`
	APIVersion    string            `json:"api_version"`
	Timestamp     Millis            `json:"timestamp"`
	UptimeSeconds int64             `json:"uptime_seconds"`
	Services      map[string]string `json:"services"`
	EmbeddingInfo struct {
		Provider  string `json:"provider"`
		Model     string `json:"model"`
		Dimension int    `json:"dimension"`
	} `json:"embedding_info"`
}

// Quota is the calling key's usage today (UTC).
type Quota struct {
	Used      int       `json:"used"`
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	ResetAt   time.Time `json:"resetAt"`
}

// Embedding is the server's embedding of a text.
type Embedding struct {
	Embedding []float32 `json:"embedding"`
	Dimension int       `json:"dimension"`
	Model     string    `json:"model"`
}

// ContextBuildRequest is the body of POST /v2/context/build.
type ContextBuildRequest struct {
	Query       string `json:"query"`
	AgentID     string `json:"agent_id,omitempty"`
	MaxMemories int    `json:"max_memories,omitempty"`
	MaxTokens   int    `json:"max_tokens,omitempty"`
	SearchMode  string `json:"search_mode,omitempty"`
}

// ContextBuild is the answer of POST /v2/context/build.
type ContextBuild struct {
	Context []struct {
		MemoryID   string  `json:"memory_id"`
		Content    string  `json:"content"`
		Score      float64 `json:"score"`
		MemoryType *string `json:"memory_type"`
	} `json:"context"`
	TokenCount int     `json:"token_count"`
	LatencyMS  float64 `json:"latency_ms"`
}
