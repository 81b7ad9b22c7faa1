package store

import (
	"time"
)

// Session is a conversation or work session of an agent. Field meanings
// follow the API contract §4.5.
type Session struct {
	ID          string
	AccountID   string
	AgentID     string // the agent's id (§5.5), whatever reference created it
	AgentRef    string // the agent reference as supplied at creation
	ExternalID  *string
	Project     *string // project slug as supplied
	Status      string  // "active" or "ended"
	Title       *string
	Summary     *string
	Metadata    []byte // JSON object; nil means {}
	MemoryCount int    // memories whose session_id is this session
	StartedAt   time.Time
	EndedAt     *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Session statuses.
const (
	SessionActive = "active"
	SessionEnded  = "ended"
)

// SessionFilter selects sessions of one account. Nil fields filter nothing.
type SessionFilter struct {
	AccountID string
	AgentRef  *string // agent id or name; an unknown agent matches nothing
	Project   *string // slug, exact
	Status    *string // active or ended
}
