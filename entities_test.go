package memoryrelay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/entities"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

func strp(s string) *string { return &s }

// entOpen opens a relay whose clock advances a millisecond on every
// reading, so that creation order is newest-first order.
func entOpen(t testing.TB) *memoryrelay.Relay {
	t.Helper()
	var mu sync.Mutex
	now := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	r, _ := open(t, memoryrelay.Options{Synchronous: "NORMAL", Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}})
	return r
}

// entNew creates an entity or fails the test.
func entNew(t testing.TB, r *memoryrelay.Relay, acct, name string) memory.Entity {
	t.Helper()
	e, err := r.Account(acct).Entities().Create(context.Background(), memory.NewEntity{Name: name, Type: strp("concept")})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// entMemory creates a memory or fails the test.
func entMemory(t testing.TB, r *memoryrelay.Relay, acct, content string) string {
	t.Helper()
	m, err := r.Account(acct).Memories().Create(context.Background(), memory.NewMemory{Content: content})
	if err != nil {
		t.Fatal(err)
	}
	return m.Memory.ID
}

// entLink links an entity to a memory or fails the test.
func entLink(t testing.TB, r *memoryrelay.Relay, acct, entity, mem string) {
	t.Helper()
	if _, _, err := r.Account(acct).Entities().Link(context.Background(), memory.NewEntityLink{EntityID: entity, MemoryID: mem}); err != nil {
		t.Fatal(err)
	}
}

func TestCreateEntity(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct := account(t, r)

	cases := []struct {
		name     string
		in       memory.NewEntity
		wantType string
		field    string // the invalid field, "" for success
	}{
		{"defaults", memory.NewEntity{Name: "Ada"}, "other", ""},
		{"known type", memory.NewEntity{Name: "Ada", Type: strp("person")}, "person", ""},
		{"custom type verbatim", memory.NewEntity{Name: "Go", Type: strp("Programming Language")}, "Programming Language", ""},
		{"type of 50", memory.NewEntity{Name: "x", Type: strp(strings.Repeat("t", 50))}, strings.Repeat("t", 50), ""},
		{"name of 255 runes (API.md §10.5)", memory.NewEntity{Name: strings.Repeat("é", 255)}, "other", ""},
		{"empty name", memory.NewEntity{Name: ""}, "", "Name"},
		{"blank name", memory.NewEntity{Name: " \t"}, "", "Name"},
		{"name of 256", memory.NewEntity{Name: strings.Repeat("n", 256)}, "", "Name"},
		{"empty type", memory.NewEntity{Name: "x", Type: strp("")}, "", "Type"},
		{"type of 51", memory.NewEntity{Name: "x", Type: strp(strings.Repeat("t", 51))}, "", "Type"},
		{"metadata not an object", memory.NewEntity{Name: "x", Metadata: []byte(`[1]`)}, "", "Metadata"},
		{"blank agent", memory.NewEntity{Name: "x", AgentID: "  "}, "", "AgentID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := r.Account(acct).Entities().Create(ctx, c.in)
			if c.field != "" {
				var verr *memory.ValidationError
				if !errors.As(err, &verr) || verr.Field() != c.field || !errors.Is(err, memoryrelay.ErrInvalid) {
					t.Fatalf("err %v, want a validation error on %s", err, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Type != c.wantType || e.Name != c.in.Name || e.MemoryCount != 0 || e.RelationshipCount != 0 {
				t.Errorf("got %+v", e)
			}
			got, err := r.Account(acct).Entities().Get(ctx, strings.ToUpper(e.ID))
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != e.ID || got.Type != e.Type || !got.CreatedAt.Equal(e.CreatedAt) {
				t.Errorf("get %+v, created %+v", got, e)
			}
		})
	}

	t.Run("agent auto-created and kept as supplied", func(t *testing.T) {
		e, err := r.Account(acct).Entities().Create(ctx, memory.NewEntity{Name: "x", AgentID: "scout", Metadata: []byte(`{"k": [1, "v"]}`)})
		if err != nil {
			t.Fatal(err)
		}
		if e.AgentID == nil || *e.AgentID != "scout" || string(e.Metadata) != `{"k":[1,"v"]}` {
			t.Fatalf("got %+v", e)
		}
		page, err := r.Account(acct).Agents().List(ctx, memory.PageParams{Limit: 0, Offset: 0})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range page.Data {
			found = found || (a.Name == "scout" && a.ID == *e.AgentID)
		}
		if !found {
			t.Errorf("agent scout not created: %+v", page.Data)
		}
	})
}

func TestEntityNotFound(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	theirs := entNew(t, r, other, "theirs")
	for _, id := range []string{theirs.ID, "nope", "00000000-0000-0000-0000-000000000000"} {
		var nf *memory.NotFoundError
		if _, err := r.Account(acct).Entities().Get(ctx, id); !errors.As(err, &nf) || nf.Kind != "entity" {
			t.Errorf("get %q: %v", id, err)
		}
		if err := r.Account(acct).Entities().Delete(ctx, id); !errors.Is(err, memoryrelay.ErrNotFound) {
			t.Errorf("delete %q: %v", id, err)
		}
		if _, err := r.Account(acct).Entities().Neighborhood(ctx, id, memory.NeighborhoodParams{}); !errors.Is(err, memoryrelay.ErrNotFound) {
			t.Errorf("neighborhood %q: %v", id, err)
		}
	}
	if _, err := r.Account(other).Entities().Get(ctx, theirs.ID); err != nil {
		t.Errorf("owner cannot read: %v", err)
	}
}

func TestListEntities(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	mk := func(name, typ, agent string) {
		t.Helper()
		if _, err := r.Account(acct).Entities().Create(ctx, memory.NewEntity{Name: name, Type: strp(typ), AgentID: agent}); err != nil {
			t.Fatal(err)
		}
	}
	mk("a", "person", "bot")
	mk("b", "place", "")
	mk("c", "person", "")
	entNew(t, r, other, "not mine")

	cases := []struct {
		name  string
		p     memory.EntityListParams
		want  []string
		total int
		more  bool
	}{
		{"all, newest first", memory.EntityListParams{}, []string{"c", "b", "a"}, 3, false},
		{"page", memory.EntityListParams{Limit: 2}, []string{"c", "b"}, 3, true},
		{"offset", memory.EntityListParams{Limit: 2, Offset: 2}, []string{"a"}, 3, false},
		{"by type", memory.EntityListParams{Type: strp("person")}, []string{"c", "a"}, 2, false},
		{"by agent", memory.EntityListParams{AgentID: strp("bot")}, []string{"a"}, 1, false},
		{"unknown agent", memory.EntityListParams{AgentID: strp("ghost")}, nil, 0, false},
		{"clamped limit", memory.EntityListParams{Limit: 1000}, []string{"c", "b", "a"}, 3, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, err := r.Account(acct).Entities().List(ctx, c.p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range page.Data {
				got = append(got, e.Name)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") || page.Total != c.total || page.HasMore != c.more || page.Data == nil {
				t.Errorf("got %v total %d more %v, want %v %d %v", got, page.Total, page.HasMore, c.want, c.total, c.more)
			}
		})
	}
	for _, p := range []memory.EntityListParams{{Limit: -1}, {Offset: -1}} {
		if _, err := r.Account(acct).Entities().List(ctx, p); !errors.Is(err, memoryrelay.ErrInvalid) {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestLinkEntity(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	e := entNew(t, r, acct, "Postgres")
	mem := entMemory(t, r, acct, "We run Postgres 16 in production.")
	theirEntity := entNew(t, r, other, "theirs")
	theirMemory := entMemory(t, r, other, "their memory")

	l, created, err := r.Account(acct).Entities().Link(ctx, memory.NewEntityLink{EntityID: strings.ToUpper(e.ID), MemoryID: mem})
	if err != nil || !created {
		t.Fatalf("link: %v created %v", err, created)
	}
	if l.EntityID != e.ID || l.MemoryID != mem || l.Relationship != "mentioned_in" || l.CreatedAt.IsZero() {
		t.Errorf("link %+v", l)
	}
	again, created, err := r.Account(acct).Entities().Link(ctx, memory.NewEntityLink{EntityID: e.ID, MemoryID: mem, Relationship: strp("about")})
	if err != nil || created {
		t.Fatalf("relink: %v created %v", err, created)
	}
	if again != l {
		t.Errorf("relink returned %+v, want the existing %+v", again, l)
	}

	got, err := r.Account(acct).Entities().Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MemoryCount != 1 || got.RelationshipCount != 1 {
		t.Errorf("counts after link: %+v", got)
	}
	if !got.UpdatedAt.After(e.UpdatedAt) {
		t.Errorf("updated_at did not advance: %v → %v", e.UpdatedAt, got.UpdatedAt)
	}
	m, err := r.Account(acct).Memories().Get(ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entities) != 1 || m.Entities[0] != (memory.EntityRef{Type: "concept", Value: "Postgres", Confidence: 1}) {
		t.Errorf("memory entities %+v", m.Entities)
	}
	page, err := r.Account(acct).Memories().List(ctx, memory.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || len(page.Data[0].Entities) != 1 {
		t.Errorf("listed memory entities %+v", page.Data)
	}

	cases := []struct {
		name        string
		in          memory.NewEntityLink
		kind, field string
	}{
		{"unknown entity", memory.NewEntityLink{EntityID: "00000000-0000-0000-0000-000000000000", MemoryID: mem}, "entity", ""},
		{"malformed entity", memory.NewEntityLink{EntityID: "x", MemoryID: mem}, "entity", ""},
		{"other account's entity", memory.NewEntityLink{EntityID: theirEntity.ID, MemoryID: mem}, "entity", ""},
		{"unknown memory", memory.NewEntityLink{EntityID: e.ID, MemoryID: "00000000-0000-0000-0000-000000000000"}, "memory", ""},
		{"malformed memory", memory.NewEntityLink{EntityID: e.ID, MemoryID: "m1"}, "memory", ""},
		{"other account's memory", memory.NewEntityLink{EntityID: e.ID, MemoryID: theirMemory}, "memory", ""},
		{"relationship of 101", memory.NewEntityLink{EntityID: e.ID, MemoryID: mem, Relationship: strp(strings.Repeat("r", 101))}, "", "Relationship"},
		{"empty relationship", memory.NewEntityLink{EntityID: e.ID, MemoryID: mem, Relationship: strp("")}, "", "Relationship"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := r.Account(acct).Entities().Link(ctx, c.in)
			var nf *memory.NotFoundError
			var verr *memory.ValidationError
			switch {
			case c.kind != "" && (!errors.As(err, &nf) || nf.Kind != c.kind):
				t.Errorf("err %v, want %s not found", err, c.kind)
			case c.field != "" && (!errors.As(err, &verr) || verr.Field() != c.field):
				t.Errorf("err %v, want invalid %s", err, c.field)
			}
		})
	}

	t.Run("free-form relationship", func(t *testing.T) {
		m2 := entMemory(t, r, acct, "second")
		rel := strings.Repeat("r", 100)
		l, created, err := r.Account(acct).Entities().Link(ctx, memory.NewEntityLink{EntityID: e.ID, MemoryID: m2, Relationship: &rel})
		if err != nil || !created || l.Relationship != rel {
			t.Fatalf("%+v %v %v", l, created, err)
		}
	})

	t.Run("delete removes links", func(t *testing.T) {
		if err := r.Account(acct).Entities().Delete(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		m, err := r.Account(acct).Memories().Get(ctx, mem)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Entities) != 0 || m.Entities == nil {
			t.Errorf("entities after delete: %#v", m.Entities)
		}
		if _, err := r.Account(acct).Entities().Get(ctx, e.ID); !errors.Is(err, memoryrelay.ErrNotFound) {
			t.Errorf("get after delete: %v", err)
		}
	})
}

// TestEntityNeighborhood walks this graph (entities linked to memories):
//
//	A ─m1─ B ─m2─ C ─m3─ D ─m4─ E ─m5─ F ─m6─ G
//	A ─m7─ C        (so C is at depth 1 too)
//	A ─m8─ H, I, J  (a hub memory)
func TestEntityNeighborhood(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	ids := map[string]string{}
	names := map[string]string{}
	for _, n := range strings.Split("A B C D E F G H I J lonely", " ") {
		e := entNew(t, r, acct, n)
		ids[n], names[e.ID] = e.ID, n
	}
	link := func(mem string, ents ...string) {
		for _, n := range ents {
			entLink(t, r, acct, ids[n], mem)
		}
	}
	for _, pair := range [][2]string{{"A", "B"}, {"B", "C"}, {"C", "D"}, {"D", "E"}, {"E", "F"}, {"F", "G"}, {"A", "C"}} {
		link(entMemory(t, r, acct, pair[0]+" and "+pair[1]), pair[0], pair[1])
	}
	link(entMemory(t, r, acct, "hub"), "A", "H", "I", "J")
	// Another account's entity on a memory of its own can never appear.
	theirs := entNew(t, r, other, "Z")
	entLink(t, r, other, theirs.ID, entMemory(t, r, other, "theirs"))

	type nb struct {
		name  string
		depth int
	}
	cases := []struct {
		name string
		from string
		p    memory.NeighborhoodParams
		want []nb
	}{
		{"default depth 1", "A", memory.NeighborhoodParams{}, []nb{{"B", 1}, {"C", 1}, {"H", 1}, {"I", 1}, {"J", 1}}},
		{"depth 2", "A", memory.NeighborhoodParams{Depth: 2}, []nb{{"B", 1}, {"C", 1}, {"H", 1}, {"I", 1}, {"J", 1}, {"D", 2}}},
		{"depth 4", "A", memory.NeighborhoodParams{Depth: 4}, []nb{{"B", 1}, {"C", 1}, {"H", 1}, {"I", 1}, {"J", 1}, {"D", 2}, {"E", 3}, {"F", 4}}},
		{"depth clamped to 5", "A", memory.NeighborhoodParams{Depth: 50}, []nb{{"B", 1}, {"C", 1}, {"H", 1}, {"I", 1}, {"J", 1}, {"D", 2}, {"E", 3}, {"F", 4}, {"G", 5}}},
		{"negative depth clamped to 1", "G", memory.NeighborhoodParams{Depth: -3}, []nb{{"F", 1}}},
		{"from the end", "G", memory.NeighborhoodParams{Depth: 3}, []nb{{"F", 1}, {"E", 2}, {"D", 3}}},
		{"max neighbours caps the answer, nearest first", "A", memory.NeighborhoodParams{Depth: 5, MaxNeighbors: 6}, []nb{{"B", 1}, {"C", 1}, {"H", 1}, {"I", 1}, {"J", 1}, {"D", 2}}},
		{"no links", "lonely", memory.NeighborhoodParams{Depth: 5}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := r.Account(acct).Entities().Neighborhood(ctx, ids[c.from], c.p)
			if err != nil {
				t.Fatal(err)
			}
			if n.Entity.ID != ids[c.from] || n.Neighbors == nil {
				t.Fatalf("entity %+v neighbours %#v", n.Entity, n.Neighbors)
			}
			var got []nb
			for _, x := range n.Neighbors {
				got = append(got, nb{names[x.ID], x.Depth})
				if x.Relationship != "mentioned_in" || x.Type != "concept" || x.Name != names[x.ID] {
					t.Errorf("neighbour %+v", x)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestEntityNeighborhoodFanout(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct := account(t, r)
	hub := entNew(t, r, acct, "hub")
	strong := entNew(t, r, acct, "strong")
	for i := 0; i < 3; i++ {
		mem := entMemory(t, r, acct, "shared "+strings.Repeat("z", i))
		entLink(t, r, acct, hub.ID, mem)
		if i < 2 {
			entLink(t, r, acct, strong.ID, mem)
		}
		entLink(t, r, acct, entNew(t, r, acct, "weak"+strings.Repeat("w", i)).ID, mem)
	}
	// Each level keeps the neighbours sharing the most memories.
	n, err := r.Account(acct).Entities().Neighborhood(ctx, hub.ID, memory.NeighborhoodParams{MaxNeighbors: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Neighbors) != 1 || n.Neighbors[0].ID != strong.ID {
		t.Fatalf("neighbours %+v, want only %s", n.Neighbors, strong.ID)
	}
	n, err = r.Account(acct).Entities().Neighborhood(ctx, hub.ID, memory.NeighborhoodParams{MaxNeighbors: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Neighbors) != 4 {
		t.Fatalf("neighbours %+v, want 4", n.Neighbors)
	}

	// The relationship is the neighbour's own link to the shared memory.
	author := entNew(t, r, acct, "author")
	mem := entMemory(t, r, acct, "written by the author")
	entLink(t, r, acct, strong.ID, mem)
	if _, _, err := r.Account(acct).Entities().Link(ctx, memory.NewEntityLink{EntityID: author.ID, MemoryID: mem, Relationship: strp("author_of")}); err != nil {
		t.Fatal(err)
	}
	n, err = r.Account(acct).Entities().Neighborhood(ctx, strong.ID, memory.NeighborhoodParams{})
	if err != nil {
		t.Fatal(err)
	}
	rels := map[string]string{}
	for _, x := range n.Neighbors {
		rels[x.Name] = x.Relationship
	}
	if rels["author"] != "author_of" || rels["hub"] != "mentioned_in" {
		t.Errorf("relationships %v", rels)
	}
}

// TestEntityNeighborhoodDense checks that a dense graph (every entity
// sharing a memory with every other) stays bounded.
func TestEntityNeighborhoodDense(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct := account(t, r)
	var ents []string
	for i := 0; i < 30; i++ {
		ents = append(ents, entNew(t, r, acct, "e"+strings.Repeat("x", i)).ID)
	}
	for i := 0; i < 4; i++ {
		mem := entMemory(t, r, acct, "dense "+strings.Repeat("y", i))
		for _, e := range ents {
			entLink(t, r, acct, e, mem)
		}
	}
	n, err := r.Account(acct).Entities().Neighborhood(ctx, ents[0], memory.NeighborhoodParams{Depth: 5, MaxNeighbors: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Neighbors) != 29 {
		t.Fatalf("%d neighbours, want 29", len(n.Neighbors))
	}
	for _, x := range n.Neighbors {
		if x.Depth != 1 || x.ID == ents[0] {
			t.Errorf("neighbour %+v", x)
		}
	}
}

// TestEntityNeighborhoodBudget walks the dense graph of issue 8 §4 (220
// entities × 220 memories, all linked) at depth 5: each memory and entity
// is visited once, so the walk reads the start's 220 links and the 48,400
// links of its memories, well within MaxNeighborhoodLinks, and stops there
// with 100 neighbours. On a larger complete graph (250 × 250) the budget
// runs out: the walk stops at exactly MaxNeighborhoodLinks links and says
// so, and what it returns is still at the right depth.
func TestEntityNeighborhoodBudget(t *testing.T) {
	ctx := context.Background()
	r, path := open(t, memoryrelay.Options{Synchronous: "OFF"})
	for _, c := range []struct {
		n         int
		links     int
		truncated bool
	}{
		{220, 220 + 220*220, false},
		{250, entities.MaxNeighborhoodLinks, true},
	} {
		acct := account(t, r)
		ents := denseGraph(t, r, path, acct, c.n)
		n, err := r.Account(acct).Entities().Neighborhood(ctx, ents[0], memory.NeighborhoodParams{Depth: 5, MaxNeighbors: 100})
		if err != nil {
			t.Fatal(err)
		}
		if n.LinksRead != c.links || n.Truncated != c.truncated || n.LinksRead > entities.MaxNeighborhoodLinks {
			t.Errorf("%d×%d: read %d links (truncated %v), want %d (%v)", c.n, c.n, n.LinksRead, n.Truncated, c.links, c.truncated)
		}
		if len(n.Neighbors) != 100 {
			t.Fatalf("%d×%d: %d neighbours", c.n, c.n, len(n.Neighbors))
		}
		for i, x := range n.Neighbors {
			if x.Depth != 1 || x.ID == ents[0] || x.Relationship != "mentioned_in" || x.Name == "" {
				t.Errorf("neighbour %+v", x)
			}
			if i > 0 && x.Name < n.Neighbors[i-1].Name {
				t.Errorf("neighbours out of order at %d", i)
			}
		}
	}
}

// TestMemoryEntitiesCapped: a memory lists at most MaxMemoryEntities of
// its linked entities, the first linked, on every read; the entity side
// still counts every link.
func TestMemoryEntitiesCapped(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct := account(t, r)
	mem := entMemory(t, r, acct, "a memory everything links to")
	n := store.MaxMemoryEntities + 1
	var first memory.Entity
	for i := range n {
		e := entNew(t, r, acct, fmt.Sprintf("linked %03d", n-i)) // names descend: order is by link time
		if i == 0 {
			first = e
		}
		entLink(t, r, acct, e.ID, mem)
	}
	m, err := r.Account(acct).Memories().Get(ctx, mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entities) != store.MaxMemoryEntities || m.Entities[0].Value != first.Name {
		t.Fatalf("%d entities, first %+v; want %d, first %s", len(m.Entities), m.Entities[0], store.MaxMemoryEntities, first.Name)
	}
	page, err := r.Account(acct).Memories().List(ctx, memory.ListParams{})
	if err != nil || len(page.Data) != 1 || len(page.Data[0].Entities) != store.MaxMemoryEntities {
		t.Fatalf("list: %v %v", page.Data, err)
	}
	if e, err := r.Account(acct).Entities().Get(ctx, first.ID); err != nil || e.MemoryCount != 1 {
		t.Errorf("entity %+v %v", e, err)
	}
}
