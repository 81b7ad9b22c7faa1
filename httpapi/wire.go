package httpapi

import (
	"encoding/json"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/wire"
	"github.com/memoryrelay/memoryrelay/memory"
)

// The JSON objects of the API contract §4. Every field is always present.

// memoryJSON is the Memory object (§4.1), as package wire writes it for
// the API and the webhook events alike.
type memoryJSON = wire.Memory

// isoTime formats an instant as the contract's ISO-8601 UTC string with
// milliseconds, e.g. 2025-03-17T09:30:00.000Z.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// isoPtr is isoTime for optional instants.
func isoPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := isoTime(*t)
	return &s
}

func objectOrEmpty(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return json.RawMessage(b)
}

func msPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func toMemory(m memory.Memory) memoryJSON { return wire.MemoryOf(m) }

// listJSON is the list envelope (§4.2).
type listJSON[T any] struct {
	Object     string  `json:"object"` // "list" (API.md §10.6)
	Data       []T     `json:"data"`
	HasMore    bool    `json:"has_more"`
	Total      int     `json:"total"`
	TotalCount int     `json:"total_count"`
	Limit      int     `json:"limit"`
	Offset     int     `json:"offset"`
	NextCursor *string `json:"next_cursor"`
}

// toList is the envelope of a list: next_cursor, set exactly when
// has_more, continues it (API.md §1.6).
func toList[S, T any](p memory.Page[S], conv func(S) T) listJSON[T] {
	out := listJSON[T]{Object: "list", Data: make([]T, len(p.Data)), HasMore: p.HasMore, Total: p.Total, TotalCount: p.Total,
		Limit: p.Limit, Offset: p.Offset, NextCursor: p.NextCursor}
	for i, v := range p.Data {
		out.Data[i] = conv(v)
	}
	return out
}

// searchItemJSON is a search result (§4.3): the nested memory, the score
// under three names, and flat copies of the memory's main fields.
type searchItemJSON struct {
	Memory     memoryJSON      `json:"memory"`
	Score      float64         `json:"score"`
	Similarity float64         `json:"similarity"`
	Distance   float64         `json:"distance"`
	ID         string          `json:"id"`
	Content    string          `json:"content"`
	AgentID    string          `json:"agent_id"`
	UserID     *string         `json:"user_id"`
	Metadata   json.RawMessage `json:"metadata"`
	Category   *string         `json:"category"`
	CreatedAt  int64           `json:"created_at"`
	UpdatedAt  int64           `json:"updated_at"`
}

func toSearchItem(h memory.Hit) searchItemJSON {
	m := toMemory(h.Memory)
	return searchItemJSON{
		Memory: m, Score: h.Score, Similarity: h.Score, Distance: 1 - h.Score,
		ID: m.ID, Content: m.Content, AgentID: m.AgentID, UserID: m.UserID, Metadata: m.Metadata,
		Category: category(h.Memory), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
	}
}

// category is metadata.category when it is a string, else memory_type.
func category(m memory.Memory) *string {
	if len(m.Metadata) > 0 {
		var meta struct {
			Category any `json:"category"`
		}
		if json.Unmarshal(m.Metadata, &meta) == nil {
			if s, ok := meta.Category.(string); ok {
				return &s
			}
		}
	}
	return m.MemoryType
}

type agentJSON struct {
	Object       string          `json:"object"` // "agent" (API.md §10.6)
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Description  *string         `json:"description"`
	Config       json.RawMessage `json:"config"`
	Metadata     json.RawMessage `json:"metadata"`
	MemoryCount  int             `json:"memory_count"`
	SessionCount int             `json:"session_count"`
	ProjectCount int             `json:"project_count"`
	LastActiveAt *int64          `json:"last_active_at"`
	CreatedAt    int64           `json:"created_at"`
	UpdatedAt    int64           `json:"updated_at"`
}

func toAgent(a memory.Agent) agentJSON {
	return agentJSON{
		Object: "agent", ID: a.ID, Name: a.Name, Description: a.Description,
		Config: objectOrEmpty(a.Config), Metadata: objectOrEmpty(a.Metadata),
		MemoryCount: a.MemoryCount, LastActiveAt: msPtr(a.LastActiveAt),
		SessionCount: a.SessionCount, ProjectCount: a.ProjectCount,
		CreatedAt: a.CreatedAt.UnixMilli(), UpdatedAt: a.UpdatedAt.UnixMilli(),
	}
}

type ackJSON struct {
	Success bool   `json:"success"`
	Deleted bool   `json:"deleted"`
	ID      string `json:"id"`
}

type healthJSON struct {
	Status        string            `json:"status"`
	Version       string            `json:"version"`
	APIVersion    string            `json:"api_version"`
	Environment   string            `json:"environment"`
	Timestamp     int64             `json:"timestamp"`
	UptimeSeconds int64             `json:"uptime_seconds"`
	Services      map[string]string `json:"services"`
	EmbeddingInfo embeddingInfoJSON `json:"embedding_info"`
}

type embeddingInfoJSON struct {
	Provider  string `json:"provider"`
	Model     string `json:"model"`
	Dimension int    `json:"dimension"`
}
