package memory

import (
	"context"
	"encoding/json"
	"time"
)

// Limits and defaults of decisions (API contract §5.7, §10.5).
const (
	MaxDecisionTitle        = 500    // characters
	MaxDecisionRationale    = 50_000 // characters
	MaxDecisionAlternatives = 50_000 // characters
	// MaxTagFilter is the most distinct tags DecisionListParams.Tags may
	// name (each is one SQL condition): as many as a decision may carry,
	// so no filter that could match is refused.
	MaxTagFilter = MaxTags
	// DefaultDecisionCheck and MaxDecisionCheck are the default and the
	// largest DecisionCheckParams.Limit; a larger one is clamped.
	DefaultDecisionCheck = 5
	MaxDecisionCheck     = 20
	// DefaultCheckThreshold is DecisionCheckParams.Threshold when nil.
	DefaultCheckThreshold = 0.3
)

// Decision statuses.
const (
	DecisionActive       = "active"
	DecisionExperimental = "experimental"
	DecisionSuperseded   = "superseded"
	DecisionReverted     = "reverted"
)

// Decision is a recorded architectural or product decision (API contract
// §4.5).
type Decision struct {
	ID           string
	AgentID      *string // the agent's id, when an agent was given and still exists
	SessionID    *string
	ProjectSlug  *string
	Title        string
	Rationale    string
	Alternatives *string
	Status       string   // DecisionActive, DecisionExperimental, DecisionSuperseded or DecisionReverted
	SupersededBy *string  // the id of the decision that replaced it
	Tags         []string // never nil
	// Metadata is a JSON object; nil means {}.
	Metadata  json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewDecision is the input of [Decisions.Create].
type NewDecision struct {
	Title        string          // required, 1–500 characters, not blank
	Rationale    string          // required, 1–50,000 characters, not blank
	Alternatives *string         // ≤ 50,000 characters
	Project      *string         // project slug, ≤ 100 characters; created if unknown
	Tags         []string        // at most 20, each at most 100 characters
	Status       string          // DecisionActive (default) or DecisionExperimental
	Metadata     json.RawMessage // JSON object ≤ 10 KiB; default {}
	AgentID      string          // agent id or name; optional; an unknown one is created with that id and name
	SessionID    *string         // must name an existing session of the account
}

// DecisionListParams selects a page of decisions, newest first.
type DecisionListParams struct {
	Limit   int      // 1–100 (larger is clamped); 0: 20
	Offset  int      // ≥ 0; ignored when Cursor is set
	Cursor  string   // opaque, from Page.NextCursor; wins over Offset
	Project *string  // project slug
	Status  *string  // one of the Decision statuses
	Tags    []string // a decision must carry every one; at most 20
}

// SupersedeParams is the input of [Decisions.Supersede]: the decision that
// replaces the old one.
type SupersedeParams struct {
	Title        string          // required, as for a new decision
	Rationale    string          // required, as for a new decision
	Alternatives *string         // as for a new decision
	Tags         []string        // nil: the old decision's tags
	Status       string          // DecisionActive (default) or DecisionExperimental
	Metadata     json.RawMessage // JSON object; default {}
}

// DecisionCheckParams is the input of [Decisions.Check].
type DecisionCheckParams struct {
	Query             string   // required, 1–51,200 characters
	Project           *string  // project slug filter
	Limit             int      // 1–20 (larger is clamped); 0: 5
	Threshold         *float64 // keep hits with score ≥ it; [0,1]; default 0.3
	IncludeSuperseded bool
}

// DecisionHit is a decision and its score in [0,1].
type DecisionHit struct {
	Decision Decision
	Score    float64
}

// Decisions is the decision API of an account.
type Decisions interface {
	Create(ctx context.Context, in NewDecision) (Decision, error)
	Get(ctx context.Context, id string) (Decision, error)
	List(ctx context.Context, p DecisionListParams) (Page[Decision], error)
	// Supersede records a new decision that replaces the one with the id,
	// which becomes DecisionSuperseded, and returns the new one.
	Supersede(ctx context.Context, id string, p SupersedeParams) (Decision, error)
	// Check finds recorded decisions relevant to a question, best first.
	Check(ctx context.Context, p DecisionCheckParams) ([]DecisionHit, error)
}
