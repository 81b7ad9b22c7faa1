package memory

import (
	"context"
	"encoding/json"
	"time"
)

// Limits and defaults of entities (API contract §5.4, §10.5).
const (
	MaxEntityName   = 255 // characters (§10.5 raises §5.4's 200)
	MaxEntityType   = 50  // characters
	MaxRelationship = 100 // characters, of an entity link

	// DefaultEntityType is NewEntity.Type when nil.
	DefaultEntityType = "other"
	// DefaultRelationship is NewEntityLink.Relationship when nil.
	DefaultRelationship = "mentioned_in"
	// Ranges of NeighborhoodParams: values outside are clamped into
	// them, zero is the default.
	DefaultNeighborDepth = 1
	MaxNeighborDepth     = 5
	DefaultMaxNeighbors  = 50
	MaxNeighbors         = 100
)

// EntityTypes are the entity types of the hosted service (API.md §10.6).
// "place" (EntityTypePlace) is accepted and stored as "location"; other
// non-empty types of up to MaxEntityType characters are stored verbatim.
var EntityTypes = []string{"person", "organization", "technology", "project", "product", "location",
	"document", "metric", "event", "skill", "concept", "other"}

// EntityTypePlace is the type older clients send for a place; it is
// stored, and filtered on, as "location".
const EntityTypePlace = "place"

// StoredEntityType is the type an entity given typ is stored with:
// "location" for "place", typ otherwise.
func StoredEntityType(typ string) string {
	if typ == EntityTypePlace {
		return "location"
	}
	return typ
}

// Entity is a named thing (person, place, concept, …) that memories can
// be linked to (API contract §4.5).
type Entity struct {
	ID      string
	AgentID *string // the agent's id, when an agent was given
	Name    string
	Type    string
	// Metadata is a JSON object; nil means {}.
	Metadata          json.RawMessage
	MemoryCount       int // memories linked to the entity
	RelationshipCount int // its links
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// NewEntity is the input of [Entities.Create].
type NewEntity struct {
	Name     string          // required, 1–255 characters, not blank
	Type     *string         // 1–50 characters; default "other"
	Metadata json.RawMessage // JSON object ≤ 10 KiB; default {}
	AgentID  string          // agent id or name; optional; an unknown one is created with that id and name
}

// EntityListParams selects a page of entities, newest first.
type EntityListParams struct {
	Limit   int     // 1–100 (larger is clamped); 0: 20
	Offset  int     // ≥ 0; ignored when Cursor is set
	Cursor  string  // opaque, from Page.NextCursor; wins over Offset
	AgentID *string // agent id or name; unknown: an empty page
	Type    *string // exact type
}

// NewEntityLink is the input of [Entities.Link].
type NewEntityLink struct {
	EntityID     string  // the entity's id
	MemoryID     string  // the memory's id
	Relationship *string // free-form, 1–100 characters; default "mentioned_in"
}

// EntityLink links an entity to a memory.
type EntityLink struct {
	EntityID     string
	MemoryID     string
	Relationship string
	CreatedAt    time.Time
}

// NeighborhoodParams bounds [Entities.Neighborhood]. Values outside the
// ranges are clamped into them; zero means the default.
type NeighborhoodParams struct {
	Depth        int // 1–5; default 1
	MaxNeighbors int // 1–100; default 50
}

// Neighborhood is an entity and the entities around it.
type Neighborhood struct {
	Entity    Entity
	Neighbors []Neighbor // nearest first; never nil
	// LinksRead is how many entity–memory links the walk read; a walk
	// reads a bounded number of links (50,000 in process).
	LinksRead int
	// Truncated reports that the walk stopped at that bound before it was
	// complete: Neighbors is then a subset of the answer, each neighbour
	// still at its true depth.
	Truncated bool
}

// Neighbor is an entity reached from another over shared memories.
type Neighbor struct {
	ID           string
	Name         string
	Type         string
	Relationship string // the neighbour's link to the memory it was reached by
	Depth        int    // 1 for entities sharing a memory with the start
}

// Entities is the entity API of an account.
type Entities interface {
	Create(ctx context.Context, in NewEntity) (Entity, error)
	Get(ctx context.Context, id string) (Entity, error)
	List(ctx context.Context, p EntityListParams) (Page[Entity], error)
	// Delete removes the entity and its links.
	Delete(ctx context.Context, id string) error
	// Link links an entity to a memory, or returns the existing link;
	// created reports which.
	Link(ctx context.Context, in NewEntityLink) (l EntityLink, created bool, err error)
	// Neighborhood walks from an entity over shared memories.
	Neighborhood(ctx context.Context, id string, p NeighborhoodParams) (Neighborhood, error)
}
