// Package wire holds the JSON forms of the API's objects that are written
// outside the HTTP handler too: the Memory (API.md §4.1) and the v2 job
// status (§4.5), which webhook events carry as their data (§10.3), so that
// an event's data is exactly what the API returns.
package wire

import (
	"encoding/json"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

// Memory is the Memory object. Every field is always present.
type Memory struct {
	ID               string          `json:"id"`
	Object           string          `json:"object"`
	Content          string          `json:"content"`
	AgentID          string          `json:"agent_id"`
	UserID           *string         `json:"user_id"`
	Metadata         json.RawMessage `json:"metadata"`
	Entities         []EntityRef     `json:"entities"`
	MemoryType       *string         `json:"memory_type"`
	Visibility       string          `json:"visibility"`
	Importance       float64         `json:"importance"`
	SalienceScore    *float64        `json:"salience_score"`
	Tier             string          `json:"tier"`
	Scope            string          `json:"scope"`
	IsDuplicate      bool            `json:"is_duplicate"`
	SessionID        *string         `json:"session_id"`
	ProjectID        *string         `json:"project_id"`
	Project          *string         `json:"project"`
	ExtractionModel  *string         `json:"extraction_model"`
	ExtractionMethod *string         `json:"extraction_method"`
	ExtractionStatus *string         `json:"extraction_status"`
	ArchivedAt       *int64          `json:"archived_at"`
	CreatedAt        int64           `json:"created_at"`
	UpdatedAt        int64           `json:"updated_at"`
}

// EntityRef is an entity as a memory lists it.
type EntityRef struct {
	Type       string  `json:"type"`
	Value      string  `json:"value"`
	Confidence float64 `json:"confidence"`
}

// EntityRefsOf is the list of a memory's entities.
func EntityRefsOf(refs []memory.EntityRef) []EntityRef {
	out := make([]EntityRef, len(refs))
	for i, r := range refs {
		out[i] = EntityRef{Type: r.Type, Value: r.Value, Confidence: r.Confidence}
	}
	return out
}

// MemoryOf is m's JSON form.
func MemoryOf(m memory.Memory) Memory {
	return Memory{
		ID:         m.ID,
		Object:     "memory",
		Content:    m.Content,
		AgentID:    m.AgentID,
		UserID:     m.UserID,
		Metadata:   object(m.Metadata),
		Entities:   EntityRefsOf(m.Entities),
		MemoryType: m.MemoryType,
		Visibility: m.Visibility,
		Importance: m.Importance,
		Tier:       m.Tier,
		Scope:      m.Scope,
		SessionID:  m.SessionID,
		ProjectID:  m.ProjectID,
		Project:    m.Project,
		ArchivedAt: msPtr(m.ArchivedAt),

		ExtractionStatus: m.ExtractionStatus,
		ExtractionMethod: m.ExtractionMethod,
		ExtractionModel:  m.ExtractionModel,
		CreatedAt:        m.CreatedAt.UnixMilli(),
		UpdatedAt:        m.UpdatedAt.UnixMilli(),
	}
}

// JobStatus is the v2 status object (§4.5 #12): epoch milliseconds.
type JobStatus struct {
	ID        string  `json:"id"`
	Status    string  `json:"status"`
	JobID     *string `json:"job_id"`
	CreatedAt int64   `json:"created_at"`
	UpdatedAt int64   `json:"updated_at"`
	Error     *string `json:"error"`
}

// JobStatusOf is st's JSON form.
func JobStatusOf(st memory.Job) JobStatus {
	out := JobStatus{ID: st.ID, Status: st.Status, CreatedAt: st.CreatedAt.UnixMilli(), UpdatedAt: st.UpdatedAt.UnixMilli(), Error: st.Error}
	if st.JobID != "" {
		out.JobID = &st.JobID
	}
	return out
}

func object(b []byte) json.RawMessage {
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
