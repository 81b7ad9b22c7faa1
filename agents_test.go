package memoryrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
)

func TestCreateAgentIDs(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	other := account(t, r)
	const u = "11111111-2222-4333-8444-555555555555"
	theirs, _, err := r.CreateAgent(ctx, other, memoryrelay.NewAgent{ID: u, Name: "theirs"})
	if err != nil || theirs.ID != u {
		t.Fatalf("other account's agent: %+v %v", theirs, err)
	}

	desc := "d"
	cases := []struct {
		name    string
		in      memoryrelay.NewAgent
		created bool
		check   func(t *testing.T, a memoryrelay.Agent)
		err     string // field of the expected *ValidationError
	}{
		{"new", memoryrelay.NewAgent{Name: "alpha", Description: &desc, Metadata: json.RawMessage(`{"a": [1, 2]}`)}, true, func(t *testing.T, a memoryrelay.Agent) {
			if a.Name != "alpha" || *a.Description != "d" || string(a.Metadata) != `{"a":[1,2]}` {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"same name", memoryrelay.NewAgent{Name: "alpha"}, false, func(t *testing.T, a memoryrelay.Agent) {
			if a.Description == nil || *a.Description != "d" {
				t.Errorf("changed: %+v", a)
			}
		}, ""},
		{"an id another account uses", memoryrelay.NewAgent{ID: u}, true, func(t *testing.T, a memoryrelay.Agent) {
			if a.ID != u || a.Name != u {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"the same id again", memoryrelay.NewAgent{ID: u, Name: "ignored"}, false, func(t *testing.T, a memoryrelay.Agent) {
			if a.ID != u || a.Name != u {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"a chosen id", memoryrelay.NewAgent{ID: "my-agent", Name: "My Agent"}, true, func(t *testing.T, a memoryrelay.Agent) {
			if a.ID != "my-agent" || a.Name != "My Agent" {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"an id alone", memoryrelay.NewAgent{ID: "beta"}, true, func(t *testing.T, a memoryrelay.Agent) {
			if a.ID != "beta" || a.Name != "beta" {
				t.Errorf("%+v", a)
			}
		}, ""},
		{"nothing", memoryrelay.NewAgent{}, false, nil, "id"},
		{"blank id", memoryrelay.NewAgent{ID: "  "}, false, nil, "id"},
		{"id too long", memoryrelay.NewAgent{ID: strings.Repeat("x", memoryrelay.MaxAgentRef+1)}, false, nil, "id"},
		{"id not UTF-8", memoryrelay.NewAgent{ID: "\xff"}, false, nil, "id"},
		{"bad metadata", memoryrelay.NewAgent{Name: "x", Metadata: json.RawMessage(`[]`)}, false, nil, "metadata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, created, err := r.CreateAgent(ctx, acct, c.in)
			if c.err != "" {
				var verr *memoryrelay.ValidationError
				if !errors.As(err, &verr) || verr.Field != c.err || !errors.Is(err, memoryrelay.ErrInvalid) {
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
	_, _, err = r.CreateAgent(ctx, acct, memoryrelay.NewAgent{ID: "gamma", Name: "My Agent"})
	var cerr *memoryrelay.ConflictError
	if !errors.As(err, &cerr) || !errors.Is(err, memoryrelay.ErrConflict) {
		t.Errorf("new id, taken name: %v", err)
	}
	if _, err := r.GetAgent(ctx, acct, "gamma"); !errors.Is(err, memoryrelay.ErrNotFound) {
		t.Errorf("agent created by the conflict: %v", err)
	}
}

func TestUpdateAgentConflict(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	for _, n := range []string{"a", "b"} {
		if _, _, err := r.CreateAgent(ctx, acct, memoryrelay.NewAgent{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	b := "b"
	_, err := r.UpdateAgent(ctx, acct, "a", memoryrelay.AgentPatch{Name: &b})
	var cerr *memoryrelay.ConflictError
	if !errors.As(err, &cerr) || !errors.Is(err, memoryrelay.ErrConflict) {
		t.Fatalf("rename onto a taken name: %v", err)
	}
	// The same name in another account is no conflict.
	other := account(t, r)
	if _, _, err := r.CreateAgent(ctx, other, memoryrelay.NewAgent{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	c := "c"
	if a, err := r.UpdateAgent(ctx, acct, "a", memoryrelay.AgentPatch{Name: &c}); err != nil || a.Name != "c" {
		t.Fatalf("rename: %+v %v", a, err)
	}
	if _, err := r.GetAgent(ctx, acct, "a"); !errors.Is(err, memoryrelay.ErrNotFound) {
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
		s, err := r.CreateSession(ctx, a.acct, memoryrelay.NewSession{AgentID: a.agent})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.CreateMemory(ctx, a.acct, memoryrelay.NewMemory{AgentID: a.agent, Content: "about " + a.agent, SessionID: &s.ID}); err != nil {
			t.Fatal(err)
		}
	}
	db := rawDB(t, path)
	before := map[string]int{}
	for _, tbl := range []string{"memories", "memory_vectors", "memory_fts", "sessions", "agents"} {
		before[tbl] = count(t, db, "SELECT count(*) FROM "+tbl)
	}
	d, err := r.DeleteAgent(ctx, acct, "doomed")
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
	if _, err := r.GetAgent(ctx, other, "doomed"); err != nil {
		t.Errorf("other account's agent: %v", err)
	}
	if _, err := r.DeleteAgent(ctx, acct, d.ID); !errors.Is(err, memoryrelay.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}
