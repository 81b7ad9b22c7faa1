package memoryrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

func TestCreateAgentIDs(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	other := account(t, r)
	const u = "11111111-2222-4333-8444-555555555555"
	theirs, _, err := r.Account(other).Agents().Create(ctx, memory.NewAgent{ID: u, Name: "theirs"})
	if err != nil || theirs.ID != u {
		t.Fatalf("other account's agent: %+v %v", theirs, err)
	}

	desc := "d"
	cases := []struct {
		name    string
		in      memory.NewAgent
		created bool
		check   func(t *testing.T, a memory.Agent)
		err     string // field of the expected *ValidationError
	}{
		{"new", memory.NewAgent{Name: "alpha", Description: &desc, Metadata: json.RawMessage(`{"a": [1, 2]}`)}, true, func(t *testing.T, a memory.Agent) {
			if a.Name != "alpha" || *a.Description != "d" || string(a.Metadata) != `{"a":[1,2]}` {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"same name", memory.NewAgent{Name: "alpha"}, false, func(t *testing.T, a memory.Agent) {
			if a.Description == nil || *a.Description != "d" {
				t.Errorf("changed: %+v", a)
			}
		}, ""},
		{"an id another account uses", memory.NewAgent{ID: u}, true, func(t *testing.T, a memory.Agent) {
			if a.ID != u || a.Name != u {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"the same id again", memory.NewAgent{ID: u, Name: "ignored"}, false, func(t *testing.T, a memory.Agent) {
			if a.ID != u || a.Name != u {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"a chosen id", memory.NewAgent{ID: "my-agent", Name: "My Agent"}, true, func(t *testing.T, a memory.Agent) {
			if a.ID != "my-agent" || a.Name != "My Agent" {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"an id alone", memory.NewAgent{ID: "beta"}, true, func(t *testing.T, a memory.Agent) {
			if a.ID != "beta" || a.Name != "beta" {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"nothing", memory.NewAgent{}, false, nil, "ID"},
		{"blank id", memory.NewAgent{ID: "  "}, false, nil, "ID"},
		{"id too long", memory.NewAgent{ID: strings.Repeat("x", memory.MaxAgentRef+1)}, false, nil, "ID"},
		{"id not UTF-8", memory.NewAgent{ID: "\xff"}, false, nil, "ID"},
		{"bad metadata", memory.NewAgent{Name: "x", Metadata: json.RawMessage(`[]`)}, false, nil, "Metadata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, created, err := r.Account(acct).Agents().Create(ctx, c.in)
			if c.err != "" {
				var verr *memory.ValidationError
				if !errors.As(err, &verr) || verr.Field() != c.err || !errors.Is(err, memoryrelay.ErrInvalid) {
					t.Fatalf("err %v, want a validation error on %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created != c.created {
				t.Errorf("created %v, want %v", created, c.created)
			}
			c.check(t, a)
		})
	}
	// A new id with a name another agent has is a conflict; nothing is
	// created.
	_, _, err = r.Account(acct).Agents().Create(ctx, memory.NewAgent{ID: "gamma", Name: "My Agent"})
	var cerr *memory.ConflictError
	if !errors.As(err, &cerr) || !errors.Is(err, memoryrelay.ErrConflict) {
		t.Errorf("new id, taken name: %v", err)
	}
	if _, err := r.Account(acct).Agents().Get(ctx, "gamma"); !errors.Is(err, memoryrelay.ErrNotFound) {
		t.Errorf("agent created by the conflict: %v", err)
	}
}

func TestUpdateAgentConflict(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	for _, n := range []string{"a", "b"} {
		if _, _, err := r.Account(acct).Agents().Create(ctx, memory.NewAgent{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	b := "b"
	_, err := r.Account(acct).Agents().Update(ctx, "a", memory.AgentPatch{Name: &b})
	var cerr *memory.ConflictError
	if !errors.As(err, &cerr) || !errors.Is(err, memoryrelay.ErrConflict) {
		t.Fatalf("rename onto a taken name: %v", err)
	}
	// The same name in another account is no conflict.
	other := account(t, r)
	if _, _, err := r.Account(other).Agents().Create(ctx, memory.NewAgent{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	c := "c"
	if a, err := r.Account(acct).Agents().Update(ctx, "a", memory.AgentPatch{Name: &c}); err != nil || a.Name != "c" {
		t.Fatalf("rename: %+v %v", a, err)
	}
	if _, err := r.Account(acct).Agents().Get(ctx, "a"); !errors.Is(err, memoryrelay.ErrNotFound) {
		t.Errorf("old name still resolves: %v", err)
	}
}

// TestDeleteAgentCascades checks below the API that an agent's memories
// (with their index rows), sessions and entities go with it, and nothing
// of another agent or account does.
func TestDeleteAgentCascades(t *testing.T) {
	ctx := context.Background()
	r, path := open(t, memoryrelay.Options{})
	acct := account(t, r)
	other := account(t, r)
	for _, a := range []struct{ acct, agent string }{{acct, "doomed"}, {acct, "doomed"}, {acct, "kept"}, {other, "doomed"}} {
		s, err := r.Account(a.acct).Sessions().Create(ctx, memory.NewSession{AgentID: a.agent})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Account(a.acct).Memories().Create(ctx, memory.NewMemory{AgentID: a.agent, Content: "about " + a.agent, SessionID: &s.ID}); err != nil {
			t.Fatal(err)
		}
	}
	db := rawDB(t, path)
	before := map[string]int{}
	for _, tbl := range []string{"memories", "memory_vectors", "memory_fts", "sessions", "agents"} {
		before[tbl] = count(t, db, "SELECT count(*) FROM "+tbl)
	}
	d, err := r.Account(acct).Agents().Delete(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if d.DeletedMemories != 2 {
		t.Errorf("deleted %d memories, want 2", d.DeletedMemories)
	}
	for tbl, gone := range map[string]int{"memories": 2, "memory_vectors": 2, "memory_fts": 2, "sessions": 2, "agents": 1} {
		if got := count(t, db, "SELECT count(*) FROM "+tbl); got != before[tbl]-gone {
			t.Errorf("%s: %d rows, want %d", tbl, got, before[tbl]-gone)
		}
	}
	if _, err := r.Account(other).Agents().Get(ctx, "doomed"); err != nil {
		t.Errorf("other account's agent: %v", err)
	}
	if _, err := r.Account(acct).Agents().Delete(ctx, d.ID); !errors.Is(err, memoryrelay.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}
