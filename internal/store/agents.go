package store

import (
	"time"
)

// Agent is an owner of memories within an account (API contract §5.5).
type Agent struct {
	// ID is the agent's id: the one the client chose, or the reference a
	// write auto-created it by, or a server-made UUID. Unique within the
	// account, never changed.
	ID        string
	AccountID string
	// Name is a display label, unique within the account.
	Name         string
	Description  *string
	Config       []byte // JSON object; nil means {}
	Metadata     []byte // JSON object; nil means {}
	MemoryCount  int
	SessionCount int
	ProjectCount int        // distinct projects of its memories and sessions
	LastActiveAt *time.Time // newest memory's updated_at
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// AgentStats summarises an agent's memories and entities.
type AgentStats struct {
	MemoryCount int
	EntityCount int
	LastUpdated *time.Time // newest memory's updated_at; nil without memories
}
