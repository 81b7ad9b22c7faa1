package memory

import (
	"context"
	"encoding/json"
	"time"
)

// Limits of sessions (API contract §5.6, §10.6).
const (
	MaxSessionTitle   = 500    // characters
	MaxSessionProject = 255    // characters, of NewSession.Project
	MaxExternalID     = 500    // characters
	MaxSessionSummary = 50_000 // characters
	// MaxSessionMemories is how many memories GetWithMemories returns at
	// most (the newest); Session.MemoryCount counts them all.
	MaxSessionMemories = 100
)

// Session statuses.
const (
	SessionActive = "active"
	SessionEnded  = "ended"
)

// Session is a conversation or work session of an agent (API contract
// §4.5).
type Session struct {
	ID         string
	AgentID    string // the agent's id (§5.5)
	ExternalID *string
	Project    *string // the project slug as supplied
	Status     string  // SessionActive or SessionEnded
	Title      *string
	Summary    *string
	// Metadata is a JSON object; nil means {}.
	Metadata    json.RawMessage
	MemoryCount int // memories whose SessionID is this session
	StartedAt   time.Time
	EndedAt     *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewSession is the input of [Sessions.Create] and [Sessions.GetOrCreate].
type NewSession struct {
	AgentID  string          // agent id or name; default "default"; an unknown one is created with that id and name
	Title    *string         // at most 500 characters
	Project  *string         // project slug; a valid unknown slug creates the project
	Metadata json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// SessionListParams selects a page of sessions, newest StartedAt first.
type SessionListParams struct {
	Limit   int     // 1–100 (larger is clamped); 0: 20
	Offset  int     // ≥ 0; ignored when Cursor is set
	Cursor  string  // opaque, from Page.NextCursor; wins over Offset
	AgentID *string // agent id or name; unknown: an empty page
	Project *string // project slug
	Status  string  // SessionActive, SessionEnded, or "" for both
}

// Sessions is the session API of an account.
type Sessions interface {
	Create(ctx context.Context, in NewSession) (Session, error)
	// GetOrCreate returns the account's session with the external id
	// (1–500 characters), whatever its status, or creates it from in;
	// created reports which. Concurrent calls make one session.
	GetOrCreate(ctx context.Context, externalID string, in NewSession) (s Session, created bool, err error)
	Get(ctx context.Context, id string) (Session, error)
	// GetWithMemories returns a session and its newest memories (at most
	// 100), oldest first (as the HTTP API lists them, API.md #29).
	GetWithMemories(ctx context.Context, id string) (Session, []Memory, error)
	// End ends a session, with an optional summary.
	End(ctx context.Context, id string, summary *string) (Session, error)
	List(ctx context.Context, p SessionListParams) (Page[Session], error)
}
