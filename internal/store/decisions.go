package store

import (
	"time"
)

// Decision is a recorded architectural or product decision. Field meanings
// follow the API contract §4.5.
type Decision struct {
	ID           string
	AccountID    string
	AgentID      *string // the agent's id (§5.5), when an agent was given and still exists
	AgentRef     *string // the agent reference as supplied
	SessionID    *string
	ProjectSlug  *string
	Title        string
	Rationale    string
	Alternatives *string
	Status       string // active, experimental, superseded, reverted
	SupersededBy *string
	Tags         []string // never nil on reads
	Metadata     []byte   // JSON object, verbatim; nil means {}
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// DecisionFilter selects decisions of one account. Zero fields filter
// nothing.
type DecisionFilter struct {
	AccountID string
	Project   *string  // project_slug equal to it
	Status    *string  // status equal to it
	Tags      []string // every one of them among the decision's tags; one SQL condition each: the caller bounds them
	// ExcludeSuperseded drops decisions whose status is superseded.
	ExcludeSuperseded bool
}

// RankCandidate is what ranking needs of a decision or a pattern: its
// title and body (rationale or description), its age, and the cosine
// distance of its embedding to the query's (NaN when it has none). The
// other columns, example_code and alternatives included, are not read.
type RankCandidate struct {
	ID        string
	Title     string
	Body      string
	CreatedAt time.Time
	Distance  float64
}
