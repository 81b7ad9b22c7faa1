package memorytest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

func testAgents(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { agentCreate(t, open(t)) })
	t.Run("CreateIdempotent", func(t *testing.T) { agentIdempotent(t, open(t)) })
	t.Run("ChosenIDs", func(t *testing.T) { agentChosenIDs(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { agentInvalid(t, open(t)) })
	t.Run("NameTaken", func(t *testing.T) { agentNameTaken(t, open(t)) })
	t.Run("AutoCreated", func(t *testing.T) { agentAutoCreated(t, open(t)) })
	t.Run("NameResolution", func(t *testing.T) { agentNameResolution(t, open(t)) })
	t.Run("Rename", func(t *testing.T) { agentRename(t, open(t)) })
	t.Run("Update", func(t *testing.T) { agentUpdate(t, open(t)) })
	t.Run("Counts", func(t *testing.T) { agentCounts(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { agentDelete(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { agentPaging(t, open(t)) })
}

func agentCreate(t *testing.T, e Env) {
	ctx, c, ag := t.Context(), newClock(), e.Account.Agents()
	in := memory.NewAgent{ID: "my-agent", Name: "My Agent", Description: ptr("Helps with code"),
		Metadata: json.RawMessage(`{"team":"core","v":2.0}`)}
	a, created := try2(ag.Create(ctx, in)).must(t)
	if !created {
		t.Errorf("Create of a new id reports created false")
	}
	c.instant(t, "CreatedAt", a.CreatedAt)
	wantEqual(t, "Create", a, memory.Agent{ID: "my-agent", Name: "My Agent", Description: ptr("Helps with code"),
		Metadata: in.Metadata, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt})
	wantEqual(t, "Get by id", try(ag.Get(ctx, "my-agent")).must(t), a)
	wantEqual(t, "Get by name", try(ag.Get(ctx, "My Agent")).must(t), a)
	_, err := ag.Get(ctx, "my agent")
	wantNotFound(t, "Get by the name in another case (names are case-sensitive)", err)

	// Only a name: a new agent with a UUID.
	b, created := try2(ag.Create(ctx, memory.NewAgent{Name: "Named Only"})).must(t)
	if !created || b.Name != "Named Only" {
		t.Errorf("Create with only a name: created %v, Name %q", created, b.Name)
	}
	wantUUID(t, "the id of an agent created by name", b.ID)
	// Only an id: the name is the id.
	d, _ := try2(ag.Create(ctx, memory.NewAgent{ID: "id-only"})).must(t)
	if d.ID != "id-only" || d.Name != "id-only" {
		t.Errorf("Create with only an id: ID %q, Name %q; want id-only for both", d.ID, d.Name)
	}
}

func agentIdempotent(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	a, _ := try2(ag.Create(ctx, memory.NewAgent{ID: "same", Name: "First Name"})).must(t)
	again, created := try2(ag.Create(ctx, memory.NewAgent{ID: "same", Name: "Second Name", Description: ptr("ignored")})).must(t)
	if created {
		t.Errorf("a second Create with the id reports created true")
	}
	wantEqual(t, "a second Create with the id (unchanged)", again, a)

	n, _ := try2(ag.Create(ctx, memory.NewAgent{Name: "By Name"})).must(t)
	n2, created := try2(ag.Create(ctx, memory.NewAgent{Name: "By Name"})).must(t)
	if created {
		t.Errorf("a second Create with only the name reports created true")
	}
	wantEqual(t, "a second Create with only the name", n2, n)

	if pg := try(ag.List(ctx, memory.PageParams{})).must(t); pg.Total != 2 {
		t.Errorf("%d agents, want 2", pg.Total)
	}
}

func agentChosenIDs(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	for _, id := range []string{
		"with space/slash?and#hash%20&amp",
		"ünïcødé-агент-代理",
		"UPPER.lower_under",
		strings.Repeat("é", 127) + "x", // 255 bytes
		"123e4567-e89b-12d3-a456-426614174000",
	} {
		a, created, err := ag.Create(ctx, memory.NewAgent{ID: id})
		if err != nil {
			t.Errorf("Create(%q): %v", id, err)
			continue
		}
		if !created || a.ID != id || a.Name != id {
			t.Errorf("Create(%q): created %v, ID %q, Name %q; want the id kept as given", id, created, a.ID, a.Name)
		}
		if got, err := ag.Get(ctx, id); err != nil || got.ID != id {
			t.Errorf("Get(%q): %v, %v", id, got.ID, err)
		}
		m := create(t, e.Account, memory.NewMemory{Content: "written by a chosen id", AgentID: id})
		if m.AgentID != id {
			t.Errorf("a memory of agent %q has AgentID %q", id, m.AgentID)
		}
		if st, err := ag.Stats(ctx, id); err != nil || st.MemoryCount != 1 {
			t.Errorf("Stats(%q): %+v, %v; want 1 memory", id, st, err)
		}
	}
}

func agentInvalid(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	for _, tc := range []struct {
		name   string
		in     memory.NewAgent
		fields []string
	}{
		{"neither id nor name", memory.NewAgent{}, []string{"ID", "Name"}},
		{"id over 255 bytes", memory.NewAgent{ID: strings.Repeat("a", 256)}, []string{"ID"}},
		{"blank id", memory.NewAgent{ID: "  "}, []string{"ID"}},
		{"id not UTF-8", memory.NewAgent{ID: "bad\xff"}, []string{"ID"}},
		{"name over 255 characters", memory.NewAgent{ID: "ok", Name: strings.Repeat("n", 256)}, []string{"Name"}},
		{"blank name", memory.NewAgent{Name: " \t"}, []string{"Name"}},
		{"description over 1,000 characters", memory.NewAgent{ID: "ok", Description: ptr(strings.Repeat("d", 1001))}, []string{"Description"}},
		{"metadata an array", memory.NewAgent{ID: "ok", Metadata: json.RawMessage(`[]`)}, []string{"Metadata"}},
	} {
		_, _, err := ag.Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.fields...)
	}
	if pg := try(ag.List(ctx, memory.PageParams{})).must(t); pg.Total != 0 {
		t.Errorf("invalid creates made %d agents", pg.Total)
	}
	// The limits themselves are accepted.
	if _, _, err := ag.Create(ctx, memory.NewAgent{ID: "limits", Name: strings.Repeat("n", 255), Description: ptr(strings.Repeat("d", 1000))}); err != nil {
		t.Errorf("Create at the limits: %v", err)
	}
}

func agentNameTaken(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	try2(ag.Create(ctx, memory.NewAgent{ID: "first", Name: "Taken"})).must(t)
	_, _, err := ag.Create(ctx, memory.NewAgent{ID: "second", Name: "Taken"})
	wantConflict(t, "Create with another agent's name", err)
	_, err = ag.Get(ctx, "second")
	wantNotFound(t, "Get of the agent a conflict refused", err)
	// An auto-created agent's name is its id.
	create(t, e.Account, memory.NewMemory{Content: "auto", AgentID: "auto-made"})
	_, _, err = ag.Create(ctx, memory.NewAgent{ID: "third", Name: "auto-made"})
	wantConflict(t, "Create with an auto-created agent's name", err)
}

func agentAutoCreated(t *testing.T, e Env) {
	ctx, c, ag := t.Context(), newClock(), e.Account.Agents()
	m := create(t, e.Account, memory.NewMemory{Content: "auto-created agent's memory", AgentID: "auto-1"})
	a := try(ag.Get(ctx, "auto-1")).must(t)
	if a.ID != "auto-1" || a.Name != "auto-1" || a.MemoryCount != 1 {
		t.Errorf("the auto-created agent: ID %q, Name %q, MemoryCount %d", a.ID, a.Name, a.MemoryCount)
	}
	c.instant(t, "the auto-created agent's CreatedAt", a.CreatedAt)
	if m.AgentID != "auto-1" {
		t.Errorf("the memory's AgentID is %q", m.AgentID)
	}
	// Creating it afterwards, as an SDK does, finds it.
	got, created := try2(ag.Create(ctx, memory.NewAgent{ID: "auto-1", Name: "Late Name"})).must(t)
	if created || got.Name != "auto-1" {
		t.Errorf("Create of an auto-created id: created %v, Name %q; want false, auto-1", created, got.Name)
	}
	// Every write auto-creates.
	for _, w := range []struct {
		id    string
		write func(id string) error
	}{
		{"by-session", func(id string) error {
			_, err := e.Account.Sessions().Create(ctx, memory.NewSession{AgentID: id})
			return err
		}},
		{"by-get-or-create", func(id string) error {
			_, _, err := e.Account.Sessions().GetOrCreate(ctx, "ext-"+id, memory.NewSession{AgentID: id})
			return err
		}},
		{"by-entity", func(id string) error {
			_, err := e.Account.Entities().Create(ctx, memory.NewEntity{Name: "thing", AgentID: id})
			return err
		}},
		{"by-decision", func(id string) error {
			_, err := e.Account.Decisions().Create(ctx, memory.NewDecision{Title: "t", Rationale: "r", AgentID: id})
			return err
		}},
		{"by-batch", func(id string) error {
			_, err := e.Account.Memories().CreateBatch(ctx, memory.BatchParams{AgentID: id, Memories: []memory.NewMemory{{Content: "b"}}})
			return err
		}},
		{"by-async", func(id string) error {
			// The agent exists once the job is done (at once after issue
			// 11's read-after-accept).
			j, err := e.Account.Memories().CreateAsync(ctx, memory.NewMemory{Content: "a", AgentID: id}, memory.AsyncOptions{})
			if err == nil {
				pollJob(t, ctx, e.Account.Memories(), j.ID)
			}
			return err
		}},
	} {
		if err := w.write(w.id); err != nil {
			t.Errorf("write %s: %v", w.id, err)
			continue
		}
		if a, err := ag.Get(ctx, w.id); err != nil || a.ID != w.id || a.Name != w.id {
			t.Errorf("the agent auto-created %s: %+v, %v", w.id, a, err)
		}
	}
}

func agentNameResolution(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	try2(ag.Create(ctx, memory.NewAgent{ID: "a-id", Name: "Alice"})).must(t)
	m := create(t, e.Account, memory.NewMemory{Content: "written by name", AgentID: "Alice"})
	if m.AgentID != "a-id" {
		t.Errorf("a memory written by the agent's name has AgentID %q, want a-id", m.AgentID)
	}
	if _, err := ag.Get(ctx, "alice"); err == nil {
		t.Errorf("a name in another case resolves")
	}
	// An id wins over a name: an agent whose id is another's name.
	try2(ag.Create(ctx, memory.NewAgent{ID: "Alice", Name: "Not Alice"})).must(t)
	if a := try(ag.Get(ctx, "Alice")).must(t); a.ID != "Alice" {
		t.Errorf("Get(Alice) resolves to the agent named Alice (%q), not the one with that id", a.ID)
	}
	if pg := try(e.Account.Agents().List(ctx, memory.PageParams{})).must(t); pg.Total != 2 {
		t.Errorf("%d agents, want 2 (writing by name auto-creates nothing)", pg.Total)
	}
}

func agentRename(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	a, _ := try2(ag.Create(ctx, memory.NewAgent{ID: "r-id", Name: "Before"})).must(t)
	m := create(t, e.Account, memory.NewMemory{Content: "a memory before the rename", AgentID: "r-id"})
	u := try(ag.Update(ctx, "Before", memory.AgentPatch{Name: ptr("After")})).must(t)
	if u.ID != "r-id" || u.Name != "After" || !u.CreatedAt.Equal(a.CreatedAt) || !u.UpdatedAt.After(a.UpdatedAt) {
		t.Errorf("Update (rename): %+v", u)
	}
	wantEqual(t, "Get by id after the rename", try(ag.Get(ctx, "r-id")).must(t), u)
	wantEqual(t, "Get by the new name", try(ag.Get(ctx, "After")).must(t), u)
	_, err := ag.Get(ctx, "Before")
	wantNotFound(t, "Get by the old name", err)
	if got := try(e.Account.Memories().Get(ctx, m.ID)).must(t); got.AgentID != "r-id" {
		t.Errorf("the memory's AgentID is %q after the rename", got.AgentID)
	}
	pg := try(e.Account.Memories().List(ctx, memory.ListParams{AgentID: ptr("r-id")})).must(t)
	wantEqual(t, "List by id after the rename", memoryIDs(pg.Data), []string{m.ID})
	pg = try(e.Account.Memories().List(ctx, memory.ListParams{AgentID: ptr("After")})).must(t)
	wantEqual(t, "List by the new name", memoryIDs(pg.Data), []string{m.ID})
	// A write by the old name now makes a new agent of that id.
	n := create(t, e.Account, memory.NewMemory{Content: "by the old name", AgentID: "Before"})
	if n.AgentID != "Before" {
		t.Errorf("a write by the freed old name went to agent %q", n.AgentID)
	}

	try2(ag.Create(ctx, memory.NewAgent{ID: "other", Name: "Occupied"})).must(t)
	_, err = ag.Update(ctx, "r-id", memory.AgentPatch{Name: ptr("Occupied")})
	wantConflict(t, "a rename onto a taken name", err)
	if got := try(ag.Get(ctx, "r-id")).must(t); got.Name != "After" {
		t.Errorf("a refused rename changed the name to %q", got.Name)
	}
	// Renaming to its own name is no conflict.
	if _, err := ag.Update(ctx, "r-id", memory.AgentPatch{Name: ptr("After")}); err != nil {
		t.Errorf("renaming an agent to its own name: %v", err)
	}
}

func agentUpdate(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	a, _ := try2(ag.Create(ctx, memory.NewAgent{ID: "u-id", Description: ptr("old"), Metadata: json.RawMessage(`{"x":1}`)})).must(t)
	u := try(ag.Update(ctx, "u-id", memory.AgentPatch{Description: ptr("new"), Metadata: json.RawMessage(`{"y":2}`)})).must(t)
	want := a
	want.Description, want.Metadata, want.UpdatedAt = ptr("new"), json.RawMessage(`{"y":2}`), u.UpdatedAt
	wantEqual(t, "Update description and metadata (replaced, not merged)", u, want)
	if !u.UpdatedAt.After(a.UpdatedAt) {
		t.Errorf("UpdatedAt %v did not advance past %v", u.UpdatedAt, a.UpdatedAt)
	}
	wantEqual(t, "Get after Update", try(ag.Get(ctx, "u-id")).must(t), u)
	// Nil fields and JSON null metadata leave things as they are.
	same := try(ag.Update(ctx, "u-id", memory.AgentPatch{Metadata: json.RawMessage(`null`)})).must(t)
	want = u
	want.UpdatedAt = same.UpdatedAt
	wantEqual(t, "Update with null metadata", same, want)

	for _, tc := range []struct {
		name  string
		p     memory.AgentPatch
		field string
	}{
		{"empty name", memory.AgentPatch{Name: ptr("")}, "Name"},
		{"name over 255 characters", memory.AgentPatch{Name: ptr(strings.Repeat("n", 256))}, "Name"},
		{"description over 1,000 characters", memory.AgentPatch{Description: ptr(strings.Repeat("d", 1001))}, "Description"},
		{"metadata an array", memory.AgentPatch{Metadata: json.RawMessage(`[1]`)}, "Metadata"},
	} {
		_, err := ag.Update(ctx, "u-id", tc.p)
		wantInvalid(t, tc.name, err, tc.field)
	}
	wantEqual(t, "the agent after invalid updates", try(ag.Get(ctx, "u-id")).must(t), same)
}

func agentCounts(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	try2(ag.Create(ctx, memory.NewAgent{ID: "busy"})).must(t)
	st := try(ag.Stats(ctx, "busy")).must(t)
	wantEqual(t, "Stats of an agent without memories", st, memory.AgentStats{})
	if a := try(ag.Get(ctx, "busy")).must(t); a.LastActiveAt != nil || a.MemoryCount != 0 {
		t.Errorf("an agent without memories: LastActiveAt %v, MemoryCount %d", showPtr(a.LastActiveAt), a.MemoryCount)
	}
	create(t, e.Account, memory.NewMemory{Content: "count one", AgentID: "busy", Project: ptr("p-one")})
	m2 := create(t, e.Account, memory.NewMemory{Content: "count two", AgentID: "busy", Project: ptr("p-one")})
	try(e.Account.Sessions().Create(ctx, memory.NewSession{AgentID: "busy", Project: ptr("p-two")})).must(t)
	try(e.Account.Entities().Create(ctx, memory.NewEntity{Name: "Berlin", AgentID: "busy"})).must(t)
	create(t, e.Account, memory.NewMemory{Content: "someone else's", AgentID: "idle"})
	m2 = try(e.Account.Memories().Update(ctx, m2.ID, memory.MemoryPatch{UserID: ptr("later")})).must(t)

	a := try(ag.Get(ctx, "busy")).must(t)
	if a.MemoryCount != 2 || a.SessionCount != 1 || a.ProjectCount != 2 {
		t.Errorf("counts: %d memories, %d sessions, %d projects; want 2, 1, 2", a.MemoryCount, a.SessionCount, a.ProjectCount)
	}
	if a.LastActiveAt == nil || !a.LastActiveAt.Equal(m2.UpdatedAt) {
		t.Errorf("LastActiveAt = %v, want the newest memory's UpdatedAt %v", showPtr(a.LastActiveAt), m2.UpdatedAt)
	}
	st = try(ag.Stats(ctx, "busy")).must(t)
	wantEqual(t, "Stats", st, memory.AgentStats{MemoryCount: 2, EntityCount: 1, LastUpdated: ptr(m2.UpdatedAt)})
}

func agentDelete(t *testing.T, e Env) {
	ctx, ag := t.Context(), e.Account.Agents()
	try2(ag.Create(ctx, memory.NewAgent{ID: "doomed", Name: "Doomed"})).must(t)
	m1 := create(t, e.Account, memory.NewMemory{Content: "doomed one", AgentID: "doomed"})
	m2 := create(t, e.Account, memory.NewMemory{Content: "doomed two", AgentID: "doomed"})
	s := try(e.Account.Sessions().Create(ctx, memory.NewSession{AgentID: "doomed"})).must(t)
	kept := create(t, e.Account, memory.NewMemory{Content: "survivor", AgentID: "survivor"})

	del := try(ag.Delete(ctx, "Doomed")).must(t)
	wantEqual(t, "Delete by name", del, memory.AgentDeletion{ID: "doomed", DeletedMemories: 2})
	_, err := ag.Get(ctx, "doomed")
	wantNotFound(t, "Get after Delete", err)
	for _, id := range []string{m1.ID, m2.ID} {
		_, err := e.Account.Memories().Get(ctx, id)
		wantNotFound(t, "a deleted agent's memory", err)
	}
	_, err = e.Account.Sessions().Get(ctx, s.ID)
	wantNotFound(t, "a deleted agent's session", err)
	wantEqual(t, "another agent's memory", try(e.Account.Memories().Get(ctx, kept.ID)).must(t), kept)
	_, err = ag.Delete(ctx, "doomed")
	wantNotFound(t, "a second Delete", err)
}

func agentPaging(t *testing.T, e Env) {
	var as []memory.Agent
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		a, _ := try2(e.Account.Agents().Create(t.Context(), memory.NewAgent{ID: id})).must(t)
		as = append(as, a)
	}
	checkPaging(t, paging[memory.Agent]{
		list: func(ctx context.Context, limit, offset int, cursor string) (memory.Page[memory.Agent], error) {
			return e.Account.Agents().List(ctx, memory.PageParams{Limit: limit, Offset: offset, Cursor: cursor})
		},
		id:   func(a memory.Agent) string { return a.ID },
		want: newestFirst(as, func(a memory.Agent) time.Time { return a.CreatedAt }, func(a memory.Agent) string { return a.ID }),
		add: func(t *testing.T) {
			try2(e.Account.Agents().Create(t.Context(), memory.NewAgent{ID: "p0"})).must(t)
		},
	})
}
