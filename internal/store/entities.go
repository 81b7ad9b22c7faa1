package store

import (
	"time"
)

// EntityRef is an entity linked to a memory, as a memory lists it.
type EntityRef struct {
	Type       string
	Value      string // the entity's name
	Confidence float64
}

// Entity is a named thing (person, place, concept, …) that memories can be
// linked to. Field meanings follow the API contract §4.5.
type Entity struct {
	ID        string
	AccountID string
	AgentID   *string // the agent's id (§5.5), when an agent was given
	AgentRef  *string // the agent reference as supplied at creation
	Name      string
	Type      string
	Metadata  []byte // JSON object, verbatim; nil means {}
	// MemoryCount is the number of memories linked to the entity and
	// RelationshipCount the number of its links; filled by reads.
	MemoryCount       int
	RelationshipCount int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// EntityLink links an entity to a memory.
type EntityLink struct {
	EntityID     string
	MemoryID     string
	Relationship string
	CreatedAt    time.Time
}

// Neighbor is an entity reached from another over shared memories.
type Neighbor struct {
	ID           string
	Name         string
	Type         string
	Relationship string // the neighbour's link to the memory it was reached by
	Depth        int    // 1 for entities sharing a memory with the start
}

// EntityFilter selects entities of one account. Nil fields filter nothing.
type EntityFilter struct {
	AccountID string
	AgentRef  *string // agent id or name; an unknown agent matches nothing
	Type      *string
}

// NeighborhoodStats says how much work a walk of the storage's Neighborhood did.
type NeighborhoodStats struct {
	// LinksRead is the number of entity–memory link rows the walk read;
	// it never exceeds the walk's budget.
	LinksRead int
	// Truncated is set when the budget ran out before the walk was
	// complete: the neighbours returned are then a subset, each still at
	// its true (shortest) depth.
	Truncated bool
}

// MaxMemoryEntities is how many linked entities a read of a memory lists
// at most (the first linked, then by name): a memory linked to thousands
// of entities would otherwise make every page that holds it that large.
const MaxMemoryEntities = 100
