package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

// memories implements memory.Memories: /v1/memories, /v2/memories and
// /v1/embed (API contract §5.2, §5.3, §5.10).
type memories struct{ c *Client }

// newMemoryJSON is the body of a memory create (#2), of a batch item (#8)
// and, with webhook_url, of a v2 create (#11).
type newMemoryJSON struct {
	Content        string          `json:"content"`
	AgentID        string          `json:"agent_id,omitempty"`
	UserID         *string         `json:"user_id,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	MemoryType     *string         `json:"memory_type,omitempty"`
	Visibility     string          `json:"visibility,omitempty"`
	Importance     *float64        `json:"importance,omitempty"`
	Tier           string          `json:"tier,omitempty"`
	Scope          string          `json:"scope,omitempty"`
	SessionID      *string         `json:"session_id,omitempty"`
	Project        *string         `json:"project,omitempty"`
	ProjectID      *string         `json:"project_id,omitempty"`
	Deduplicate    bool            `json:"deduplicate,omitempty"`
	DedupThreshold *float64        `json:"dedup_threshold,omitempty"`
	WebhookURL     *string         `json:"webhook_url,omitempty"`
	AutoExtract    *bool           `json:"auto_extract_entities,omitempty"`
}

func newMemoryBody(in memory.NewMemory) newMemoryJSON {
	return newMemoryJSON{
		Content: in.Content, AgentID: in.AgentID, UserID: in.UserID, Metadata: in.Metadata, MemoryType: in.MemoryType,
		Visibility: in.Visibility, Importance: in.Importance, Tier: in.Tier, Scope: in.Scope, SessionID: in.SessionID,
		Project: in.Project, ProjectID: in.ProjectID, Deduplicate: in.Deduplicate, AutoExtract: in.AutoExtractEntities, DedupThreshold: in.DedupThreshold,
	}
}

func (s memories) Create(ctx context.Context, in memory.NewMemory) (memory.CreateResult, error) {
	var w memoryJSON
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v1/memories", body: newMemoryBody(in), kind: "memory"}, &w); err != nil {
		return memory.CreateResult{}, err
	}
	return memory.CreateResult{Memory: toMemory(w), IsDuplicate: w.IsDuplicate}, nil
}

type batchJSON struct {
	Results []struct {
		Status     string  `json:"status"`
		MemoryID   *string `json:"memory_id"`
		Error      *string `json:"error"`
		ErrorCode  *string `json:"error_code"`
		ErrorField *string `json:"error_field"`
	} `json:"results"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	Timing    struct {
		TotalMS     float64 `json:"total_ms"`
		EmbeddingMS float64 `json:"embedding_ms"`
		DatabaseMS  float64 `json:"database_ms"`
	} `json:"timing"`
}

func fromMS(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func (s memories) CreateBatch(ctx context.Context, p memory.BatchParams) (memory.BatchResult, error) {
	body := struct {
		Memories []newMemoryJSON `json:"memories"`
		AgentID  string          `json:"agent_id,omitempty"`
	}{Memories: convert(p.Memories, newMemoryBody), AgentID: p.AgentID}
	var w batchJSON
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v1/memories/batch", body: body, kind: "memory"}, &w); err != nil {
		return memory.BatchResult{}, err
	}
	out := memory.BatchResult{
		Items:     make([]memory.BatchItemResult, len(w.Results)),
		Succeeded: w.Succeeded, Failed: w.Failed, Skipped: w.Skipped,
		Timing: memory.BatchTiming{Total: fromMS(w.Timing.TotalMS), Embedding: fromMS(w.Timing.EmbeddingMS), Database: fromMS(w.Timing.DatabaseMS)},
	}
	for i, r := range w.Results {
		it := memory.BatchItemResult{Status: r.Status}
		if r.Status == memory.BatchFailed {
			msg := "failed"
			if r.Error != nil {
				msg = *r.Error
			}
			if r.ErrorCode != nil && *r.ErrorCode == "validation_error" {
				field := ""
				if r.ErrorField != nil {
					field = goField(*r.ErrorField)
				}
				it.Err = memory.Invalid(field, msg)
			} else {
				e := &Error{Type: "api_error", Message: msg}
				if r.ErrorCode != nil {
					e.Type = *r.ErrorCode
				}
				it.Err = e
			}
		} else if r.MemoryID != nil {
			it.MemoryID = *r.MemoryID
		}
		out.Items[i] = it
	}
	return out, nil
}

func (s memories) CreateAsync(ctx context.Context, in memory.NewMemory, o memory.AsyncOptions) (memory.Job, error) {
	body := newMemoryBody(in)
	body.WebhookURL = o.WebhookURL
	var w jobJSON
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v2/memories", body: body, kind: "memory"}, &w); err != nil {
		return memory.Job{}, err
	}
	return w.job(), nil
}

func (s memories) Job(ctx context.Context, id string) (memory.Job, error) {
	var w jobJSON
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v2/memories/" + pathEscape(id) + "/status", kind: "memory"}, &w); err != nil {
		return memory.Job{}, err
	}
	return w.job(), nil
}

func (s memories) Get(ctx context.Context, id string) (memory.Memory, error) {
	return s.one(ctx, request{method: http.MethodGet, path: "/v1/memories/" + pathEscape(id), kind: "memory"})
}

// one sends r and reads a Memory.
func (s memories) one(ctx context.Context, r request) (memory.Memory, error) {
	var w memoryJSON
	if _, err := s.c.call(ctx, r, &w); err != nil {
		return memory.Memory{}, err
	}
	return toMemory(w), nil
}

func (s memories) List(ctx context.Context, p memory.ListParams) (memory.Page[memory.Memory], error) {
	q := query{}.page(p.Limit, p.Offset, p.Cursor).ptr("agent_id", p.AgentID).ptr("user_id", p.UserID).str("scope", p.Scope)
	var w listJSON[memoryJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/memories", query: q.values(), kind: "memory"}, &w); err != nil {
		return memory.Page[memory.Memory]{}, err
	}
	return toPage(w, toMemory), nil
}

func (s memories) Update(ctx context.Context, id string, p memory.MemoryPatch) (memory.Memory, error) {
	body := struct {
		Content    *string         `json:"content,omitempty"`
		Metadata   json.RawMessage `json:"metadata,omitempty"`
		UserID     *string         `json:"user_id,omitempty"`
		MemoryType *string         `json:"memory_type,omitempty"`
		Visibility *string         `json:"visibility,omitempty"`
		Importance *float64        `json:"importance,omitempty"`
		Tier       *string         `json:"tier,omitempty"`
		Scope      *string         `json:"scope,omitempty"`
		Project    *string         `json:"project,omitempty"`
		ProjectID  *string         `json:"project_id,omitempty"`
	}{p.Content, p.Metadata, p.UserID, p.MemoryType, p.Visibility, p.Importance, p.Tier, p.Scope, p.Project, p.ProjectID}
	return s.one(ctx, request{method: http.MethodPatch, path: "/v1/memories/" + pathEscape(id), body: body, kind: "memory"})
}

func (s memories) SetImportance(ctx context.Context, id string, importance float64, tier *string) (memory.Memory, error) {
	body := struct {
		Importance float64 `json:"importance"`
		Tier       *string `json:"tier,omitempty"`
	}{importance, tier}
	return s.one(ctx, request{method: http.MethodPut, path: "/v1/memories/" + pathEscape(id) + "/importance", body: body, kind: "memory"})
}

func (s memories) Delete(ctx context.Context, id string) error {
	_, err := s.c.call(ctx, request{method: http.MethodDelete, path: "/v1/memories/" + pathEscape(id), kind: "memory"}, nil)
	return err
}

// DeleteUser calls DELETE /v1/users/{user_id}/memories, an extension of
// memoryrelay's server. An empty userID cannot be a path segment: it is
// refused here, as the server refuses a blank one.
func (s memories) DeleteUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, memory.Invalid("UserID", "UserID is required")
	}
	var w struct {
		DeletedMemories int `json:"deleted_memories"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodDelete, path: "/v1/users/" + pathEscape(userID) + "/memories", kind: "user"}, &w); err != nil {
		return 0, err
	}
	return w.DeletedMemories, nil
}

func (s memories) Search(ctx context.Context, p memory.SearchParams) ([]memory.Hit, error) {
	body := struct {
		Query               string                     `json:"query"`
		Mode                string                     `json:"search_mode,omitempty"`
		Limit               int                        `json:"limit,omitempty"`
		Threshold           float64                    `json:"threshold,omitempty"`
		AgentID             *string                    `json:"agent_id,omitempty"`
		UserID              *string                    `json:"user_id,omitempty"`
		SessionID           *string                    `json:"session_id,omitempty"`
		Tier                *string                    `json:"tier,omitempty"`
		MinImportance       *float64                   `json:"min_importance,omitempty"`
		Project             *string                    `json:"project,omitempty"`
		Scope               string                     `json:"scope,omitempty"`
		Namespace           *string                    `json:"namespace,omitempty"`
		MetadataFilter      map[string]json.RawMessage `json:"metadata_filter,omitempty"`
		IncludeConfidential bool                       `json:"include_confidential,omitempty"`
		IncludeArchived     bool                       `json:"include_archived,omitempty"`
	}{p.Query, p.Mode, p.Limit, p.Threshold, p.AgentID, p.UserID, p.SessionID, p.Tier, p.MinImportance, p.Project,
		p.Scope, p.Namespace, p.MetadataFilter, p.IncludeConfidential, p.IncludeArchived}
	var w dataJSON[searchItemJSON]
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v1/memories/search", body: body, kind: "memory"}, &w); err != nil {
		return nil, err
	}
	return convert(w.Data, toHit), nil
}

func (s memories) Embed(ctx context.Context, text, prefix string) (memory.Embedding, error) {
	body := struct {
		Text   string `json:"text"`
		Prefix string `json:"prefix,omitempty"`
	}{text, prefix}
	var w struct {
		Embedding []float32 `json:"embedding"`
		Dimension int       `json:"dimension"`
		Model     string    `json:"model"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v1/embed", body: body}, &w); err != nil {
		return memory.Embedding{}, err
	}
	if w.Dimension != len(w.Embedding) {
		return memory.Embedding{}, errors.New("client: the server's embedding has another dimension than it says")
	}
	return memory.Embedding{Vector: w.Embedding, Dimension: w.Dimension, Model: w.Model}, nil
}
