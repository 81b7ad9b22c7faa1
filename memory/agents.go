package memory

import (
	"context"
	"encoding/json"
	"time"
)

// Limits of agents (API contract §5.5). An agent's ID, like every agent
// reference, is 1 to MaxAgentRef bytes.
const (
	MaxAgentName        = 255   // characters
	MaxAgentDescription = 1_000 // characters
)

// Agent is an owner of memories within an account (API contract §5.5).
type Agent struct {
	// ID is the agent's id: the one the client chose, the reference a
	// write auto-created it by, or a server-made UUID. Unique within the
	// account; never changes.
	ID string
	// Name is a display label, unique within the account; default the ID.
	Name        string
	Description *string
	// Config is a JSON object of settings for clients (API contract
	// §4.5); no call of this API sets it (it reads {} unless the store
	// holds one); nil means {}.
	Config json.RawMessage
	// Metadata is a JSON object; nil means {}.
	Metadata     json.RawMessage
	MemoryCount  int
	SessionCount int
	ProjectCount int        // distinct projects of its memories and sessions
	LastActiveAt *time.Time // the newest memory's UpdatedAt; nil without memories
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NewAgent is the input of [Agents.Create]. One of ID and Name is required.
type NewAgent struct {
	// ID is the id the caller chooses: 1–255 bytes of UTF-8, not only
	// whitespace, kept as given. Empty: a new agent gets a UUID.
	ID string
	// Name is the display label: 1–255 characters, not blank; default the
	// ID. A name another agent has is a *ConflictError.
	Name        string
	Description *string         // at most 1,000 characters
	Metadata    json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// AgentPatch is the input of [Agents.Update]. Nil fields are left
// unchanged; the rules are NewAgent's.
type AgentPatch struct {
	Name        *string
	Description *string
	Metadata    json.RawMessage // unless nil or JSON null, replaces the stored object
}

// AgentStats summarises an agent.
type AgentStats struct {
	MemoryCount int
	EntityCount int
	LastUpdated *time.Time // the newest memory's UpdatedAt; nil without memories
}

// AgentDeletion reports what [Agents.Delete] removed.
type AgentDeletion struct {
	ID              string // the agent's id
	DeletedMemories int    // memories removed with it
}

// Agents is the agent API of an account. Every ref is an agent id or,
// failing that, a name (§5.5).
type Agents interface {
	// Create makes an agent, or returns the existing one with that ID (or,
	// without an ID, that Name) unchanged; created reports which.
	Create(ctx context.Context, in NewAgent) (a Agent, created bool, err error)
	Get(ctx context.Context, ref string) (Agent, error)
	List(ctx context.Context, p PageParams) (Page[Agent], error)
	Update(ctx context.Context, ref string, p AgentPatch) (Agent, error)
	// Delete removes the agent with its memories and sessions.
	Delete(ctx context.Context, ref string) (AgentDeletion, error)
	Stats(ctx context.Context, ref string) (AgentStats, error)
}
