package memorytest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

func testEntities(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { entityCreate(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { entityInvalid(t, open(t)) })
	t.Run("ListFilters", func(t *testing.T) { entityList(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { entityPaging(t, open(t)) })
	t.Run("Link", func(t *testing.T) { entityLink(t, open(t)) })
	t.Run("Neighborhood", func(t *testing.T) { entityNeighborhood(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { entityDelete(t, open(t)) })
}

func entityCreate(t *testing.T, e Env) {
	ctx, c, en := t.Context(), newClock(), e.Account.Entities()
	x := try(en.Create(ctx, memory.NewEntity{Name: "Ada Lovelace", Type: ptr("person"), AgentID: "historian",
		Metadata: json.RawMessage(`{"born":1815}`)})).must(t)
	wantUUID(t, "ID", x.ID)
	c.instant(t, "CreatedAt", x.CreatedAt)
	wantEqual(t, "Create", x, memory.Entity{ID: x.ID, AgentID: ptr("historian"), Name: "Ada Lovelace", Type: "person",
		Metadata: json.RawMessage(`{"born":1815}`), CreatedAt: x.CreatedAt, UpdatedAt: x.CreatedAt})
	wantEqual(t, "Get", try(en.Get(ctx, x.ID)).must(t), x)

	d := try(en.Create(ctx, memory.NewEntity{Name: "Something"})).must(t)
	if d.Type != "other" || d.AgentID != nil {
		t.Errorf("Create with defaults: Type %q, AgentID %v; want other, nil", d.Type, showPtr(d.AgentID))
	}
	// Names and types at their limits.
	if _, err := en.Create(ctx, memory.NewEntity{Name: strings.Repeat("n", 255), Type: ptr(strings.Repeat("t", 50))}); err != nil {
		t.Errorf("Create with a 255-character name and a 50-character type: %v", err)
	}
	// An agent given by name is stored by id.
	try2(e.Account.Agents().Create(ctx, memory.NewAgent{ID: "e-agent", Name: "Entity Agent"})).must(t)
	if y := try(en.Create(ctx, memory.NewEntity{Name: "Y", AgentID: "Entity Agent"})).must(t); y.AgentID == nil || *y.AgentID != "e-agent" {
		t.Errorf("an entity created with an agent's name has AgentID %v, want e-agent", showPtr(y.AgentID))
	}
}

func entityInvalid(t *testing.T, e Env) {
	ctx, en := t.Context(), e.Account.Entities()
	for _, tc := range []struct {
		name  string
		in    memory.NewEntity
		field string
	}{
		{"no name", memory.NewEntity{}, "Name"},
		{"blank name", memory.NewEntity{Name: "  "}, "Name"},
		{"name over 255 characters", memory.NewEntity{Name: strings.Repeat("n", 256)}, "Name"},
		{"type over 50 characters", memory.NewEntity{Name: "x", Type: ptr(strings.Repeat("t", 51))}, "Type"},
		{"metadata an array", memory.NewEntity{Name: "x", Metadata: json.RawMessage(`[]`)}, "Metadata"},
		{"blank agent", memory.NewEntity{Name: "x", AgentID: " "}, "AgentID"},
	} {
		_, err := en.Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.field)
	}
	if pg := try(en.List(ctx, memory.EntityListParams{})).must(t); pg.Total != 0 {
		t.Errorf("invalid creates made %d entities", pg.Total)
	}
}

func entityID(x memory.Entity) string         { return x.ID }
func entityCreated(x memory.Entity) time.Time { return x.CreatedAt }

func entityList(t *testing.T, e Env) {
	ctx, en := t.Context(), e.Account.Entities()
	p1 := try(en.Create(ctx, memory.NewEntity{Name: "Paris", Type: ptr("location"), AgentID: "geo"})).must(t)
	p2 := try(en.Create(ctx, memory.NewEntity{Name: "Grace Hopper", Type: ptr("person"), AgentID: "geo"})).must(t)
	p3 := try(en.Create(ctx, memory.NewEntity{Name: "Linus", Type: ptr("person"), AgentID: "kernel"})).must(t)
	for _, tc := range []struct {
		name string
		p    memory.EntityListParams
		want []memory.Entity
	}{
		{"all", memory.EntityListParams{}, []memory.Entity{p1, p2, p3}},
		{"type", memory.EntityListParams{Type: ptr("person")}, []memory.Entity{p2, p3}},
		{"agent", memory.EntityListParams{AgentID: ptr("geo")}, []memory.Entity{p1, p2}},
		{"agent and type", memory.EntityListParams{AgentID: ptr("geo"), Type: ptr("person")}, []memory.Entity{p2}},
		{"unknown agent", memory.EntityListParams{AgentID: ptr("nobody")}, nil},
		{"unknown type", memory.EntityListParams{Type: ptr("galaxy")}, nil},
	} {
		pg, err := en.List(ctx, tc.p)
		if err != nil {
			t.Errorf("List %s: %v", tc.name, err)
			continue
		}
		wantEqual(t, "List "+tc.name, pg.Data, sortedEntities(tc.want))
		if pg.Total != len(tc.want) {
			t.Errorf("List %s: Total %d, want %d", tc.name, pg.Total, len(tc.want))
		}
	}
}

// sortedEntities returns entities in list order, never nil.
func sortedEntities(xs []memory.Entity) []memory.Entity {
	ids := newestFirst(xs, entityCreated, entityID)
	out := []memory.Entity{}
	for _, id := range ids {
		i := slices.IndexFunc(xs, func(x memory.Entity) bool { return x.ID == id })
		out = append(out, xs[i])
	}
	return out
}

func entityPaging(t *testing.T, e Env) {
	var xs []memory.Entity
	for i := range 6 {
		xs = append(xs, try(e.Account.Entities().Create(t.Context(), memory.NewEntity{Name: "paged " + strings.Repeat("e", i+1)})).must(t))
	}
	checkPaging(t, paging[memory.Entity]{
		list: func(ctx context.Context, limit, offset int, cursor string) (memory.Page[memory.Entity], error) {
			return e.Account.Entities().List(ctx, memory.EntityListParams{Limit: limit, Offset: offset, Cursor: cursor})
		},
		id:   entityID,
		want: newestFirst(xs, entityCreated, entityID),
		add: func(t *testing.T) {
			try(e.Account.Entities().Create(t.Context(), memory.NewEntity{Name: "a newer entity"})).must(t)
		},
	})
}

func entityLink(t *testing.T, e Env) {
	ctx, c, en := t.Context(), newClock(), e.Account.Entities()
	x := try(en.Create(ctx, memory.NewEntity{Name: "Rust", Type: ptr("technology")})).must(t)
	m := create(t, e.Account, memory.NewMemory{Content: "The team rewrote the parser in Rust"})
	l, created := try2(en.Link(ctx, memory.NewEntityLink{EntityID: x.ID, MemoryID: m.ID})).must(t)
	if !created {
		t.Errorf("the first Link reports created false")
	}
	c.instant(t, "the link's CreatedAt", l.CreatedAt)
	wantEqual(t, "Link", l, memory.EntityLink{EntityID: x.ID, MemoryID: m.ID, Relationship: "mentioned_in", CreatedAt: l.CreatedAt})
	again, created := try2(en.Link(ctx, memory.NewEntityLink{EntityID: x.ID, MemoryID: m.ID})).must(t)
	if created {
		t.Errorf("linking a linked pair again reports created true")
	}
	wantEqual(t, "Link again (the existing link)", again, l)

	got := try(en.Get(ctx, x.ID)).must(t)
	if got.MemoryCount != 1 || got.RelationshipCount != 1 {
		t.Errorf("the linked entity: MemoryCount %d, RelationshipCount %d; want 1, 1", got.MemoryCount, got.RelationshipCount)
	}
	mm := try(e.Account.Memories().Get(ctx, m.ID)).must(t)
	wantEqual(t, "the memory's Entities", mm.Entities, []memory.EntityRef{{Type: "technology", Value: "Rust", Confidence: 1}})

	y := try(en.Create(ctx, memory.NewEntity{Name: "Parser"})).must(t)
	l2, _ := try2(en.Link(ctx, memory.NewEntityLink{EntityID: y.ID, MemoryID: m.ID, Relationship: ptr("about")})).must(t)
	if l2.Relationship != "about" {
		t.Errorf("Link with a relationship: %q", l2.Relationship)
	}

	_, _, err := en.Link(ctx, memory.NewEntityLink{EntityID: unknownID, MemoryID: m.ID})
	wantNotFound(t, "Link of an unknown entity", err)
	_, _, err = en.Link(ctx, memory.NewEntityLink{EntityID: x.ID, MemoryID: unknownID})
	wantNotFound(t, "Link to an unknown memory", err)
	_, _, err = en.Link(ctx, memory.NewEntityLink{EntityID: malformedID, MemoryID: m.ID})
	wantNotFound(t, "Link of a malformed entity id", err)
	_, _, err = en.Link(ctx, memory.NewEntityLink{EntityID: x.ID, MemoryID: m.ID, Relationship: ptr(strings.Repeat("r", 101))})
	wantInvalid(t, "Link with a relationship over 100 characters", err, "Relationship")
}

func entityNeighborhood(t *testing.T, e Env) {
	ctx, en := t.Context(), e.Account.Entities()
	mk := func(name string) memory.Entity {
		return try(en.Create(ctx, memory.NewEntity{Name: name, Type: ptr("concept")})).must(t)
	}
	link := func(x memory.Entity, m memory.Memory, rel string) {
		try2(en.Link(ctx, memory.NewEntityLink{EntityID: x.ID, MemoryID: m.ID, Relationship: ptr(rel)})).must(t)
	}
	a, b, cc, lone := mk("A"), mk("B"), mk("C"), mk("Lone")
	m1 := create(t, e.Account, memory.NewMemory{Content: "A and B"})
	m2 := create(t, e.Account, memory.NewMemory{Content: "B and C"})
	link(a, m1, "mentioned_in")
	link(b, m1, "about")
	link(b, m2, "mentioned_in")
	link(cc, m2, "cites")

	n := try(en.Neighborhood(ctx, a.ID, memory.NeighborhoodParams{})).must(t)
	wantEqual(t, "the start", n.Entity, try(en.Get(ctx, a.ID)).must(t))
	wantEqual(t, "depth 1 (the default)", n.Neighbors, []memory.Neighbor{{ID: b.ID, Name: "B", Type: "concept", Relationship: "about", Depth: 1}})
	n = try(en.Neighborhood(ctx, a.ID, memory.NeighborhoodParams{Depth: 2})).must(t)
	wantEqual(t, "depth 2", n.Neighbors, []memory.Neighbor{
		{ID: b.ID, Name: "B", Type: "concept", Relationship: "about", Depth: 1},
		{ID: cc.ID, Name: "C", Type: "concept", Relationship: "cites", Depth: 2},
	})
	n = try(en.Neighborhood(ctx, a.ID, memory.NeighborhoodParams{Depth: 99, MaxNeighbors: 1})).must(t)
	if len(n.Neighbors) != 1 || n.Neighbors[0].ID != b.ID {
		t.Errorf("depth 99 (clamped), at most 1 neighbour: %+v", n.Neighbors)
	}
	n = try(en.Neighborhood(ctx, lone.ID, memory.NeighborhoodParams{})).must(t)
	if n.Neighbors == nil || len(n.Neighbors) != 0 {
		t.Errorf("an entity without links: Neighbors %#v, want an empty slice (never nil)", n.Neighbors)
	}
}

func entityDelete(t *testing.T, e Env) {
	ctx, en := t.Context(), e.Account.Entities()
	x := try(en.Create(ctx, memory.NewEntity{Name: "Temporary", Type: ptr("concept")})).must(t)
	kept := try(en.Create(ctx, memory.NewEntity{Name: "Kept", Type: ptr("concept")})).must(t)
	m := create(t, e.Account, memory.NewMemory{Content: "mentions both"})
	try2(en.Link(ctx, memory.NewEntityLink{EntityID: x.ID, MemoryID: m.ID})).must(t)
	try2(en.Link(ctx, memory.NewEntityLink{EntityID: kept.ID, MemoryID: m.ID})).must(t)
	ok(t, en.Delete(ctx, x.ID))
	_, err := en.Get(ctx, x.ID)
	wantNotFound(t, "Get after Delete", err)
	wantNotFound(t, "a second Delete", en.Delete(ctx, x.ID))
	mm := try(e.Account.Memories().Get(ctx, m.ID)).must(t)
	wantEqual(t, "the memory's Entities after Delete", mm.Entities, []memory.EntityRef{{Type: "concept", Value: "Kept", Confidence: 1}})
	if k := try(en.Get(ctx, kept.ID)).must(t); k.MemoryCount != 1 {
		t.Errorf("the other entity's MemoryCount is %d, want 1", k.MemoryCount)
	}
}
