package memoryrelay

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// Defaults and limits of entities (API contract §5.4); the limits of the
// stored fields are in limits.go.
const (
	DefaultEntityType    = "other"
	DefaultRelationship  = "mentioned_in"
	DefaultNeighborDepth = 1
	MaxNeighborDepth     = 5
	DefaultMaxNeighbors  = 50
	MaxNeighbors         = 100
	// MaxNeighborhoodLinks is the most entity–memory links one
	// neighbourhood walk reads; past it the walk stops and returns what
	// it found (Neighborhood.Truncated).
	MaxNeighborhoodLinks = 50_000
)

// EntityTypes are the entity types every client knows. Other non-empty
// types of up to MaxEntityType characters are stored verbatim.
var EntityTypes = []string{"person", "place", "organization", "project", "concept", "other"}

// Type aliases for entities.
type (
	// Entity is a named thing memories can be linked to. MemoryCount and
	// RelationshipCount count its links.
	Entity = store.Entity
	// EntityLink is a link between an entity and a memory.
	EntityLink = store.EntityLink
	// Neighbor is an entity reached over shared memories.
	Neighbor = store.Neighbor
)

// NewEntity is the input of [Relay.CreateEntity].
type NewEntity struct {
	Name     string          // required, 1–255 characters, not blank
	Type     *string         // 1–50 characters; default "other"
	Metadata json.RawMessage // JSON object ≤ 10 KiB; default {}
	AgentID  string          // agent id or name; optional; an unknown one is created with that id and name
}

// CreateEntity validates and stores an entity.
func (r *Relay) CreateEntity(ctx context.Context, accountID string, in NewEntity) (Entity, error) {
	if err := textField("name", in.Name, MaxEntityName); err != nil {
		return Entity{}, err
	}
	typ := DefaultEntityType
	if in.Type != nil {
		if err := textField("type", *in.Type, MaxEntityType); err != nil {
			return Entity{}, err
		}
		typ = *in.Type
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return Entity{}, err
	}
	now := r.now()
	e := Entity{ID: uuid.New(), AccountID: accountID, Name: in.Name, Type: typ, Metadata: meta, CreatedAt: now, UpdatedAt: now}
	if in.AgentID != "" {
		if err := checkAgentRef(in.AgentID); err != nil {
			return Entity{}, err
		}
		e.AgentRef = &in.AgentID
	}
	if err := r.store.InsertEntity(ctx, &e); err != nil {
		return Entity{}, err
	}
	return e, nil
}

// GetEntity returns the account's entity with the id. An id that is not a
// UUID, or names no entity of the account, is a *NotFoundError.
func (r *Relay) GetEntity(ctx context.Context, accountID, id string) (Entity, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Entity{}, &NotFoundError{Kind: "Entity"}
	}
	e, err := r.store.GetEntity(ctx, accountID, id)
	return e, storeErr(err, "Entity")
}

// EntityListParams selects a page of entities, newest first.
type EntityListParams struct {
	Limit   int     // 1–100 (larger is clamped); default 20
	Offset  int     // ≥ 0
	AgentID *string // agent id or name; unknown: empty page
	Type    *string // exact type
}

// ListEntities returns a page of the account's entities, newest first.
func (r *Relay) ListEntities(ctx context.Context, accountID string, p EntityListParams) (Page[Entity], error) {
	limit, err := pageLimit(p.Limit, DefaultPage, MaxPage)
	if err != nil {
		return Page[Entity]{}, err
	}
	if err := checkOffset(p.Offset); err != nil {
		return Page[Entity]{}, err
	}
	es, total, err := r.store.ListEntities(ctx, store.EntityFilter{AccountID: accountID, AgentRef: p.AgentID, Type: p.Type}, limit, p.Offset)
	if err != nil {
		return Page[Entity]{}, err
	}
	if es == nil {
		es = []Entity{}
	}
	return Page[Entity]{Data: es, Total: total, Limit: limit, Offset: p.Offset, HasMore: p.Offset+len(es) < total}, nil
}

// DeleteEntity removes the account's entity and its links.
func (r *Relay) DeleteEntity(ctx context.Context, accountID, id string) error {
	id, ok := uuid.Canonical(id)
	if !ok {
		return &NotFoundError{Kind: "Entity"}
	}
	return storeErr(r.store.DeleteEntity(ctx, accountID, id), "Entity")
}

// NewEntityLink is the input of [Relay.LinkEntity].
type NewEntityLink struct {
	EntityID     string  // the entity's UUID
	MemoryID     string  // the memory's UUID
	Relationship *string // free-form, 1–100 characters; default "mentioned_in"
}

// LinkEntity links the account's entity to its memory. Linking a linked
// pair again is idempotent: it returns the existing link with created
// false. An unknown or malformed entity or memory id is a *NotFoundError
// of kind "Entity" or "Memory".
func (r *Relay) LinkEntity(ctx context.Context, accountID string, in NewEntityLink) (link EntityLink, created bool, err error) {
	rel := DefaultRelationship
	if in.Relationship != nil {
		if err := textField("relationship", *in.Relationship, MaxRelationship); err != nil {
			return EntityLink{}, false, err
		}
		rel = *in.Relationship
	}
	entityID, ok := uuid.Canonical(in.EntityID)
	if !ok {
		return EntityLink{}, false, &NotFoundError{Kind: "Entity"}
	}
	memoryID, ok := uuid.Canonical(in.MemoryID)
	if !ok {
		return EntityLink{}, false, &NotFoundError{Kind: "Memory"}
	}
	link = EntityLink{EntityID: entityID, MemoryID: memoryID, Relationship: rel, CreatedAt: r.now()}
	created, err = r.store.LinkEntity(ctx, accountID, &link)
	if errors.Is(err, store.ErrMemoryNotFound) {
		return EntityLink{}, false, &NotFoundError{Kind: "Memory"}
	}
	if err != nil {
		return EntityLink{}, false, storeErr(err, "Entity")
	}
	return link, created, nil
}

// NeighborhoodParams bounds [Relay.EntityNeighborhood]. Values outside
// the ranges are clamped into them; zero means the default.
type NeighborhoodParams struct {
	Depth        int // 1–5; default 1
	MaxNeighbors int // 1–100; default 50
}

// Neighborhood is an entity and the entities around it.
type Neighborhood struct {
	Entity    Entity
	Neighbors []Neighbor // nearest first; never nil
	// LinksRead is how many entity–memory links the walk read, at most
	// MaxNeighborhoodLinks.
	LinksRead int
	// Truncated reports that the walk stopped at MaxNeighborhoodLinks
	// before it was complete: Neighbors is then a subset of the answer,
	// each neighbour still at its true depth.
	Truncated bool
}

// EntityNeighborhood returns the account's entity and the entities that
// share memories with it, breadth first up to p.Depth hops, at most
// p.MaxNeighbors of them, nearest first; where a level holds more than
// fit, those sharing the most memories with the level before are kept.
// Each entity and each memory is visited once, and the walk reads at most
// MaxNeighborhoodLinks links, so its cost is bounded on any graph (a
// complete graph of 220 entities and 220 memories answers in milliseconds,
// see BENCHMARKS.md).
func (r *Relay) EntityNeighborhood(ctx context.Context, accountID, id string, p NeighborhoodParams) (Neighborhood, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Neighborhood{}, &NotFoundError{Kind: "Entity"}
	}
	depth := clampRange(p.Depth, DefaultNeighborDepth, 1, MaxNeighborDepth)
	fanout := clampRange(p.MaxNeighbors, DefaultMaxNeighbors, 1, MaxNeighbors)
	e, ns, st, err := r.store.Neighborhood(ctx, accountID, id, depth, fanout, MaxNeighborhoodLinks)
	if err != nil {
		return Neighborhood{}, storeErr(err, "Entity")
	}
	return Neighborhood{Entity: e, Neighbors: ns, LinksRead: st.LinksRead, Truncated: st.Truncated}, nil
}

// clampRange returns def for 0, else v clamped to [lo, hi].
func clampRange(v, def, lo, hi int) int {
	switch {
	case v == 0:
		return def
	case v < lo:
		return lo
	case v > hi:
		return hi
	}
	return v
}
