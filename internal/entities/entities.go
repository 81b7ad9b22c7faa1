package entities

import (
	"context"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// MaxNeighborhoodLinks is the most entity–memory links one neighbourhood
// walk reads; past it the walk stops and returns what it found
// (memory.Neighborhood.Truncated).
const MaxNeighborhoodLinks = 50_000

// Store is the storage of entities and their links.
type Store interface {
	DeleteEntity(ctx context.Context, accountID, id string) error
	GetEntity(ctx context.Context, accountID, id string) (store.Entity, error)
	InsertEntity(ctx context.Context, e *store.Entity) error
	LinkEntity(ctx context.Context, accountID string, l *store.EntityLink) (created bool, err error)
	ListEntities(ctx context.Context, f store.EntityFilter, limit, offset int, after *store.Position) ([]store.Entity, int, error)
	Neighborhood(ctx context.Context, accountID, id string, depth, maxNeighbors, budget int) (store.Entity, []store.Neighbor, store.NeighborhoodStats, error)
}

// Service serves the entities of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct {
	st   Store
	gate guard.Gate
	now  func() time.Time
}

// New returns the entities kept in st; gate admits each call, now is the
// clock in the stored precision (UTC milliseconds).
func New(st Store, gate guard.Gate, now func() time.Time) *Service {
	return &Service{st: st, gate: gate, now: now}
}

// For returns the entity API of the account.
func (s *Service) For(accountID string) memory.Entities { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Entities = account{}

func (a account) Create(ctx context.Context, in memory.NewEntity) (memory.Entity, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Entity, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) Get(ctx context.Context, id string) (memory.Entity, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Entity, error) { return a.s.get(ctx, a.id, id) })
}

func (a account) List(ctx context.Context, p memory.EntityListParams) (memory.Page[memory.Entity], error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Page[memory.Entity], error) { return a.s.list(ctx, a.id, p) })
}

func (a account) Delete(ctx context.Context, id string) error {
	return guard.Call0(ctx, a.s.gate, a.id, func() error { return a.s.delete(ctx, a.id, id) })
}

func (a account) Link(ctx context.Context, in memory.NewEntityLink) (memory.EntityLink, bool, error) {
	return guard.Call2(ctx, a.s.gate, a.id, func() (memory.EntityLink, bool, error) { return a.s.link(ctx, a.id, in) })
}

func (a account) Neighborhood(ctx context.Context, id string, p memory.NeighborhoodParams) (memory.Neighborhood, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Neighborhood, error) { return a.s.neighborhood(ctx, a.id, id, p) })
}

// create validates and stores an entity.
func (s *Service) create(ctx context.Context, accountID string, in memory.NewEntity) (memory.Entity, error) {
	var p valid.Problems
	p.Text("Name", in.Name, memory.MaxEntityName)
	typ := memory.DefaultEntityType
	if in.Type != nil {
		p.Text("Type", *in.Type, memory.MaxEntityType)
		typ = memory.StoredEntityType(*in.Type) // API.md §10.6: place is location
	}
	meta := p.Metadata(in.Metadata)
	if in.AgentID != "" {
		p.AgentID(in.AgentID)
	}
	if err := p.Err(); err != nil {
		return memory.Entity{}, err
	}
	now := s.now()
	e := store.Entity{ID: uuid.New(), AccountID: accountID, Name: in.Name, Type: typ, Metadata: meta, CreatedAt: now, UpdatedAt: now}
	if in.AgentID != "" {
		e.AgentRef = &in.AgentID
	}
	if err := s.st.InsertEntity(ctx, &e); err != nil {
		return memory.Entity{}, err
	}
	return convert.Entity(e), nil
}

// get returns the account's entity with the id. An id that is not a UUID,
// or names no entity of the account, is a *memory.NotFoundError.
func (s *Service) get(ctx context.Context, accountID, id string) (memory.Entity, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Entity{}, apierr.NotFound(apierr.Entity)
	}
	e, err := s.st.GetEntity(ctx, accountID, id)
	if err != nil {
		return memory.Entity{}, apierr.FromStore(err, apierr.Entity)
	}
	return convert.Entity(e), nil
}

// list returns a page of the account's entities, newest first.
func (s *Service) list(ctx context.Context, accountID string, p memory.EntityListParams) (memory.Page[memory.Entity], error) {
	var v valid.Problems
	q := page.Keyset(&v, page.Entities, p.Limit, p.Offset, p.Cursor)
	if err := v.Err(); err != nil {
		return memory.Page[memory.Entity]{}, err
	}
	typ := p.Type
	if typ != nil {
		t := memory.StoredEntityType(*typ)
		typ = &t
	}
	es, total, err := s.st.ListEntities(ctx, store.EntityFilter{AccountID: accountID, AgentRef: p.AgentID, Type: typ}, q.Limit+1, q.Offset, q.After)
	if err != nil {
		return memory.Page[memory.Entity]{}, err
	}
	return page.KeysetPage(page.Entities, es, convert.Entity, total, q, func(e store.Entity) store.Position {
		return store.Position{CreatedAt: e.CreatedAt.UnixMilli(), ID: e.ID}
	}), nil
}

// delete removes the account's entity and its links.
func (s *Service) delete(ctx context.Context, accountID, id string) error {
	id, ok := uuid.Canonical(id)
	if !ok {
		return apierr.NotFound(apierr.Entity)
	}
	return apierr.FromStore(s.st.DeleteEntity(ctx, accountID, id), apierr.Entity)
}

// link links the account's entity to its memory. Linking a linked pair
// again is idempotent: it returns the existing link with created false. An
// unknown or malformed entity or memory id is a *memory.NotFoundError of
// kind "entity" or "memory".
func (s *Service) link(ctx context.Context, accountID string, in memory.NewEntityLink) (memory.EntityLink, bool, error) {
	rel := memory.DefaultRelationship
	if in.Relationship != nil {
		var p valid.Problems
		if p.Text("Relationship", *in.Relationship, memory.MaxRelationship); !p.OK() {
			return memory.EntityLink{}, false, p.Err()
		}
		rel = *in.Relationship
	}
	entityID, ok := uuid.Canonical(in.EntityID)
	if !ok {
		return memory.EntityLink{}, false, apierr.NotFound(apierr.Entity)
	}
	memoryID, ok := uuid.Canonical(in.MemoryID)
	if !ok {
		return memory.EntityLink{}, false, apierr.NotFound(apierr.Memory)
	}
	link := store.EntityLink{EntityID: entityID, MemoryID: memoryID, Relationship: rel, CreatedAt: s.now()}
	created, err := s.st.LinkEntity(ctx, accountID, &link)
	if errors.Is(err, store.ErrMemoryNotFound) {
		return memory.EntityLink{}, false, &memory.NotFoundError{Kind: apierr.Memory, Err: err}
	}
	if err != nil {
		return memory.EntityLink{}, false, apierr.FromStore(err, apierr.Entity)
	}
	return convert.EntityLink(link), created, nil
}

// neighborhood returns the account's entity and the entities that share
// memories with it, breadth first up to p.Depth hops, at most
// p.MaxNeighbors of them, nearest first; where a level holds more than
// fit, those sharing the most memories with the level before are kept.
// Each entity and each memory is visited once, and the walk reads at most
// MaxNeighborhoodLinks links, so its cost is bounded on any graph (a
// complete graph of 220 entities and 220 memories answers in
// milliseconds, see BENCHMARKS.md).
func (s *Service) neighborhood(ctx context.Context, accountID, id string, p memory.NeighborhoodParams) (memory.Neighborhood, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Neighborhood{}, apierr.NotFound(apierr.Entity)
	}
	depth := clamp(p.Depth, memory.DefaultNeighborDepth, 1, memory.MaxNeighborDepth)
	fanout := clamp(p.MaxNeighbors, memory.DefaultMaxNeighbors, 1, memory.MaxNeighbors)
	e, ns, st, err := s.st.Neighborhood(ctx, accountID, id, depth, fanout, MaxNeighborhoodLinks)
	if err != nil {
		return memory.Neighborhood{}, apierr.FromStore(err, apierr.Entity)
	}
	return memory.Neighborhood{Entity: convert.Entity(e), Neighbors: convert.All(ns, convert.Neighbor), LinksRead: st.LinksRead, Truncated: st.Truncated}, nil
}

// clamp returns def for 0, else v clamped to [lo, hi].
func clamp(v, def, lo, hi int) int {
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
