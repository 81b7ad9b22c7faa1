package memoryrelay

import (
	"context"
	"errors"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// entityStore is the storage of entities and their links, as entities.go uses it.
type entityStore interface {
	DeleteEntity(ctx context.Context, accountID, id string) error
	GetEntity(ctx context.Context, accountID, id string) (store.Entity, error)
	InsertEntity(ctx context.Context, e *store.Entity) error
	LinkEntity(ctx context.Context, accountID string, l *store.EntityLink) (created bool, err error)
	ListEntities(ctx context.Context, f store.EntityFilter, limit, offset int, after *store.Position) ([]store.Entity, int, error)
	Neighborhood(ctx context.Context, accountID, id string, depth, maxNeighbors, budget int) (store.Entity, []store.Neighbor, store.NeighborhoodStats, error)
}

// MaxNeighborhoodLinks is the most entity–memory links one neighbourhood
// walk reads; past it the walk stops and returns what it found
// (memory.Neighborhood.Truncated).
const MaxNeighborhoodLinks = 50_000

// createEntity validates and stores an entity.
func (r *Relay) createEntity(ctx context.Context, accountID string, in memory.NewEntity) (memory.Entity, error) {
	if err := textField("Name", in.Name, memory.MaxEntityName); err != nil {
		return memory.Entity{}, err
	}
	typ := memory.DefaultEntityType
	if in.Type != nil {
		if err := textField("Type", *in.Type, memory.MaxEntityType); err != nil {
			return memory.Entity{}, err
		}
		typ = *in.Type
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return memory.Entity{}, err
	}
	now := r.now()
	e := store.Entity{ID: uuid.New(), AccountID: accountID, Name: in.Name, Type: typ, Metadata: meta, CreatedAt: now, UpdatedAt: now}
	if in.AgentID != "" {
		if err := checkAgentRef(in.AgentID); err != nil {
			return memory.Entity{}, err
		}
		e.AgentRef = &in.AgentID
	}
	if err := r.store.InsertEntity(ctx, &e); err != nil {
		return memory.Entity{}, err
	}
	return entityOf(e), nil
}

// getEntity returns the account's entity with the id. An id that is not a
// UUID, or names no entity of the account, is a *memory.NotFoundError.
func (r *Relay) getEntity(ctx context.Context, accountID, id string) (memory.Entity, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Entity{}, notFound(kindEntity)
	}
	e, err := r.store.GetEntity(ctx, accountID, id)
	if err != nil {
		return memory.Entity{}, storeErr(err, kindEntity)
	}
	return entityOf(e), nil
}

// listEntities returns a page of the account's entities, newest first.
func (r *Relay) listEntities(ctx context.Context, accountID string, p memory.EntityListParams) (memory.Page[memory.Entity], error) {
	limit, offset, after, err := keysetParams(entitiesList, p.Limit, p.Offset, p.Cursor)
	if err != nil {
		return memory.Page[memory.Entity]{}, err
	}
	es, total, err := r.store.ListEntities(ctx, store.EntityFilter{AccountID: accountID, AgentRef: p.AgentID, Type: p.Type}, limit+1, offset, after)
	if err != nil {
		return memory.Page[memory.Entity]{}, err
	}
	return keysetPage(entitiesList, es, entityOf, total, limit, offset, func(e store.Entity) store.Position {
		return store.Position{CreatedAt: e.CreatedAt.UnixMilli(), ID: e.ID}
	}), nil
}

// deleteEntity removes the account's entity and its links.
func (r *Relay) deleteEntity(ctx context.Context, accountID, id string) error {
	id, ok := uuid.Canonical(id)
	if !ok {
		return notFound(kindEntity)
	}
	return storeErr(r.store.DeleteEntity(ctx, accountID, id), kindEntity)
}

// linkEntity links the account's entity to its memory. Linking a linked
// pair again is idempotent: it returns the existing link with created
// false. An unknown or malformed entity or memory id is a
// *memory.NotFoundError of kind "entity" or "memory".
func (r *Relay) linkEntity(ctx context.Context, accountID string, in memory.NewEntityLink) (memory.EntityLink, bool, error) {
	rel := memory.DefaultRelationship
	if in.Relationship != nil {
		if err := textField("Relationship", *in.Relationship, memory.MaxRelationship); err != nil {
			return memory.EntityLink{}, false, err
		}
		rel = *in.Relationship
	}
	entityID, ok := uuid.Canonical(in.EntityID)
	if !ok {
		return memory.EntityLink{}, false, notFound(kindEntity)
	}
	memoryID, ok := uuid.Canonical(in.MemoryID)
	if !ok {
		return memory.EntityLink{}, false, notFound(kindMemory)
	}
	link := store.EntityLink{EntityID: entityID, MemoryID: memoryID, Relationship: rel, CreatedAt: r.now()}
	created, err := r.store.LinkEntity(ctx, accountID, &link)
	if errors.Is(err, store.ErrMemoryNotFound) {
		return memory.EntityLink{}, false, &memory.NotFoundError{Kind: kindMemory, Err: err}
	}
	if err != nil {
		return memory.EntityLink{}, false, storeErr(err, kindEntity)
	}
	return entityLinkOf(link), created, nil
}

// entityNeighborhood returns the account's entity and the entities that
// share memories with it, breadth first up to p.Depth hops, at most
// p.MaxNeighbors of them, nearest first; where a level holds more than
// fit, those sharing the most memories with the level before are kept.
// Each entity and each memory is visited once, and the walk reads at most
// MaxNeighborhoodLinks links, so its cost is bounded on any graph (a
// complete graph of 220 entities and 220 memories answers in milliseconds,
// see BENCHMARKS.md).
func (r *Relay) entityNeighborhood(ctx context.Context, accountID, id string, p memory.NeighborhoodParams) (memory.Neighborhood, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Neighborhood{}, notFound(kindEntity)
	}
	depth := clampRange(p.Depth, memory.DefaultNeighborDepth, 1, memory.MaxNeighborDepth)
	fanout := clampRange(p.MaxNeighbors, memory.DefaultMaxNeighbors, 1, memory.MaxNeighbors)
	e, ns, st, err := r.store.Neighborhood(ctx, accountID, id, depth, fanout, MaxNeighborhoodLinks)
	if err != nil {
		return memory.Neighborhood{}, storeErr(err, kindEntity)
	}
	return memory.Neighborhood{Entity: entityOf(e), Neighbors: convertAll(ns, neighborOf), LinksRead: st.LinksRead, Truncated: st.Truncated}, nil
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
