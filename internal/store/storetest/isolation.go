package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/search"
)

// testAccountIsolation: every query that takes an account finds nothing
// of another account's, at the SQL level. Tenant b asks for tenant a's
// objects by their ids (and by the names and slugs both tenants use):
// each Get, Update and Delete finds nothing, each List returns b's rows
// only, and every write attempted leaves a's rows as they were.
func testAccountIsolation(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, b := twoTenants(t, open)
	B := b.account.ID
	notFound := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err %v, want ErrNotFound", err)
		}
	}
	errNo := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	touch := func(*store.Memory) error { return nil }
	now := t0.Add(time.Hour)

	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		// Agents.
		{"ResolveAgent", func(t *testing.T) { _, err := st.ResolveAgent(ctx, B, a.agent.ID); notFound(t, err) }},
		{"GetAgent", func(t *testing.T) { _, err := st.GetAgent(ctx, B, a.agent.ID); notFound(t, err) }},
		{"AgentStats", func(t *testing.T) { _, err := st.AgentStats(ctx, B, a.agent.ID); notFound(t, err) }},
		{"UpdateAgent", func(t *testing.T) {
			_, err := st.UpdateAgent(ctx, B, a.agent.ID, func(x *store.Agent) error { x.Name = "stolen"; return nil })
			notFound(t, err)
		}},
		{"DeleteAgent", func(t *testing.T) { _, _, err := st.DeleteAgent(ctx, B, a.agent.ID); notFound(t, err) }},
		{"AgentMemoryIDs", func(t *testing.T) { _, err := st.AgentMemoryIDs(ctx, B, a.agent.ID); notFound(t, err) }},
		{"ListAgents", func(t *testing.T) {
			got, total, err := st.ListAgents(ctx, B, 10, 0, nil)
			errNo(t, err)
			if total != 1 || len(got) != 1 || got[0].ID != b.agent.ID {
				t.Fatalf("%d %+v", total, got)
			}
		}},
		{"CreateAgent same id", func(t *testing.T) {
			// Ids are per account: b may have an agent with a's id.
			ag, created, err := st.CreateAgent(ctx, B, a.agent.ID, "a-lookalike", nil, nil, now)
			errNo(t, err)
			if !created || ag.AccountID != B {
				t.Fatalf("%+v %v", ag, created)
			}
		}},

		// Memories.
		{"GetMemory", func(t *testing.T) { _, err := st.GetMemory(ctx, B, a.memory.ID); notFound(t, err) }},
		{"UpdateMemory", func(t *testing.T) { _, err := st.UpdateMemory(ctx, B, a.memory.ID, touch, nil); notFound(t, err) }},
		{"DeleteMemory", func(t *testing.T) { notFound(t, st.DeleteMemory(ctx, B, a.memory.ID)) }},
		{"ListMemories", func(t *testing.T) {
			got, total, err := st.ListMemories(ctx, store.Filter{AccountID: B}, 10, 0, nil)
			errNo(t, err)
			if total != 1 || len(got) != 1 || got[0].ID != b.memory.ID {
				t.Fatalf("%d %+v", total, got)
			}
			// a's agent id names, in b, b's own agent of that id (made
			// above), which has no memories.
			got, total, err = st.ListMemories(ctx, store.Filter{AccountID: B, AgentRef: &a.agent.ID}, 10, 0, nil)
			errNo(t, err)
			if total != 0 || len(got) != 0 {
				t.Fatalf("by a's agent: %d %+v", total, got)
			}
		}},
		{"Rows", func(t *testing.T) {
			got, err := st.Rows(ctx, B, []int64{a.memory.Seq})
			errNo(t, err)
			if len(got) != 0 {
				t.Fatalf("%+v", got)
			}
		}},
		{"NearestVectors", func(t *testing.T) {
			got, err := st.NearestVectors(ctx, search.Filter{AccountID: B}, []float32{1, 0, 0, 0}, 10)
			errNo(t, err)
			if len(got) != 1 || got[0].ID != b.memory.Seq {
				t.Fatalf("%+v", got)
			}
		}},
		{"TextCandidates", func(t *testing.T) {
			got, err := st.TextCandidates(ctx, search.Filter{AccountID: B}, []string{"shared"})
			errNo(t, err)
			if len(got) != 1 || got[0].ID != b.memory.Seq {
				t.Fatalf("%+v", got)
			}
		}},
		{"FilterIDs", func(t *testing.T) {
			got, err := st.FilterIDs(ctx, search.Filter{AccountID: B, IncludeConfidential: true, IncludeArchived: true})
			errNo(t, err)
			if len(got) != 1 || !got[b.memory.Seq] {
				t.Fatalf("%+v", got)
			}
		}},
		{"FilterVectors", func(t *testing.T) {
			got, err := st.FilterVectors(ctx, search.Filter{AccountID: B}, []int64{a.memory.Seq, b.memory.Seq})
			errNo(t, err)
			if len(got) != 1 || got[b.memory.Seq] == nil {
				t.Fatalf("%+v", got)
			}
		}},
		{"AgentKey", func(t *testing.T) {
			keyA, _, err := st.AgentKey(ctx, a.account.ID, a.agent.ID)
			errNo(t, err)
			// b may have an agent of that id of its own (CreateAgent above).
			key, ok, err := st.AgentKey(ctx, B, a.agent.ID)
			errNo(t, err)
			if ok && key == keyA {
				t.Fatal("a's agent resolves in b")
			}
		}},
		{"VectorIndex", func(t *testing.T) {
			v := openTestIndex(t, st, 4)
			ns, err := v.Search(ctx, search.Filter{AccountID: B}, []float32{1, 0, 0, 0}, 10)
			errNo(t, err)
			if len(ns) != 1 || ns[0].ID != b.memory.Seq {
				t.Fatalf("%+v", ns)
			}
			ns, err = v.Search(ctx, search.Filter{AccountID: B, UserID: ptr("user"), IncludeConfidential: true}, []float32{1, 0, 0, 0}, 10)
			errNo(t, err)
			if len(ns) != 1 || ns[0].ID != b.memory.Seq {
				t.Fatalf("filtered: %+v", ns)
			}
		}},

		// Sessions.
		{"GetSession", func(t *testing.T) { _, _, err := st.GetSession(ctx, B, a.session.ID, 10); notFound(t, err) }},
		{"EndSession", func(t *testing.T) { _, err := st.EndSession(ctx, B, a.session.ID, ptr("x"), now); notFound(t, err) }},
		{"SessionExists", func(t *testing.T) {
			ok, err := st.SessionExists(ctx, B, a.session.ID)
			errNo(t, err)
			if ok {
				t.Fatal("a's session exists in b")
			}
		}},
		{"GetOrCreateSession", func(t *testing.T) {
			x, created, err := st.GetOrCreateSession(ctx, store.Session{ID: "b-new", AccountID: B, AgentRef: "bot", ExternalID: ptr("ext"),
				Status: store.SessionActive, StartedAt: now, CreatedAt: now, UpdatedAt: now})
			errNo(t, err)
			if created || x.ID != b.session.ID {
				t.Fatalf("%+v %v", x, created)
			}
		}},
		{"ListSessions", func(t *testing.T) {
			got, total, err := st.ListSessions(ctx, store.SessionFilter{AccountID: B}, 10, 0, nil)
			errNo(t, err)
			if total != 1 || len(got) != 1 || got[0].ID != b.session.ID {
				t.Fatalf("%d %+v", total, got)
			}
		}},
		{"InsertMemory into a's session", func(t *testing.T) {
			m := store.Memory{ID: "b-intruder", AccountID: B, AgentRef: "bot", Content: "x", Visibility: "private", Tier: "warm", Scope: "long-term",
				SessionID: &a.session.ID, CreatedAt: now, UpdatedAt: now}
			if err := st.InsertMemory(ctx, &m, store.Indexed{Vector: vecOf(0, 1, 0, 0)}); !errors.Is(err, store.ErrSessionNotFound) {
				t.Fatalf("err %v, want ErrSessionNotFound", err)
			}
		}},

		// Projects.
		{"GetProject", func(t *testing.T) {
			p, err := st.GetProject(ctx, B, "web")
			errNo(t, err)
			if p.ID != b.project.ID || p.MemoryCount != 1 {
				t.Fatalf("%+v", p)
			}
		}},
		{"ListProjects", func(t *testing.T) {
			got, total, err := st.ListProjects(ctx, B, 10, 0, nil)
			errNo(t, err)
			if total != 2 || len(got) != 2 || got[0].AccountID != B || got[1].AccountID != B {
				t.Fatalf("%d %+v", total, got)
			}
		}},
		{"ProjectMemories", func(t *testing.T) {
			got, err := st.ProjectMemories(ctx, B, a.project.ID, "warm", 10)
			errNo(t, err)
			if len(got) != 0 {
				t.Fatalf("%+v", got)
			}
		}},
		{"ProjectLinks", func(t *testing.T) {
			got, err := st.ProjectLinks(ctx, B, "web", true, true, nil, 10)
			errNo(t, err)
			if len(got) != 1 || got[0].Slug != "api" {
				t.Fatalf("%+v", got)
			}
		}},
		{"Dependents", func(t *testing.T) {
			got, err := st.Dependents(ctx, B, "api", []string{"depends_on"}, 5, 10)
			errNo(t, err)
			if len(got) != 1 || got[0].ProjectID != b.project.ID {
				t.Fatalf("%+v", got)
			}
		}},
		{"SharedPatterns", func(t *testing.T) {
			got, err := st.SharedPatterns(ctx, B, a.project.ID, a.other.ID, 10)
			errNo(t, err)
			if len(got) != 0 {
				t.Fatalf("%+v", got)
			}
		}},

		// Entities.
		{"GetEntity", func(t *testing.T) { _, err := st.GetEntity(ctx, B, a.entity.ID); notFound(t, err) }},
		{"DeleteEntity", func(t *testing.T) { notFound(t, st.DeleteEntity(ctx, B, a.entity.ID)) }},
		{"Neighborhood", func(t *testing.T) { _, _, _, err := st.Neighborhood(ctx, B, a.entity.ID, 2, 10, 100); notFound(t, err) }},
		{"LinkEntity a's entity", func(t *testing.T) {
			_, err := st.LinkEntity(ctx, B, &store.EntityLink{EntityID: a.entity.ID, MemoryID: b.memory.ID, Relationship: "r", CreatedAt: now})
			if !errors.Is(err, store.ErrEntityNotFound) {
				t.Fatalf("err %v", err)
			}
		}},
		{"LinkEntity a's memory", func(t *testing.T) {
			_, err := st.LinkEntity(ctx, B, &store.EntityLink{EntityID: b.entity.ID, MemoryID: a.memory.ID, Relationship: "r", CreatedAt: now})
			if !errors.Is(err, store.ErrMemoryNotFound) {
				t.Fatalf("err %v", err)
			}
		}},
		{"ListEntities", func(t *testing.T) {
			got, total, err := st.ListEntities(ctx, store.EntityFilter{AccountID: B}, 10, 0, nil)
			errNo(t, err)
			if total != 1 || len(got) != 1 || got[0].ID != b.entity.ID {
				t.Fatalf("%d %+v", total, got)
			}
		}},

		// Decisions.
		{"GetDecision", func(t *testing.T) { _, err := st.GetDecision(ctx, B, a.decision.ID); notFound(t, err) }},
		{"SupersedeDecision", func(t *testing.T) {
			d := store.Decision{ID: "b-superseding", AccountID: B, Title: "t", Rationale: "r", Status: "active", CreatedAt: now, UpdatedAt: now}
			err := st.SupersedeDecision(ctx, B, a.decision.ID, &d, nil, func(store.Decision, *store.Decision) error { return nil })
			notFound(t, err)
		}},
		{"DecisionsByID", func(t *testing.T) {
			got, err := st.DecisionsByID(ctx, B, []string{a.decision.ID, b.decision.ID})
			errNo(t, err)
			if len(got) != 1 || got[0].ID != b.decision.ID {
				t.Fatalf("%+v", got)
			}
		}},
		{"ListDecisions", func(t *testing.T) {
			got, total, err := st.ListDecisions(ctx, store.DecisionFilter{AccountID: B}, 10, 0, nil)
			errNo(t, err)
			if total != 1 || len(got) != 1 || got[0].ID != b.decision.ID {
				t.Fatalf("%d %+v", total, got)
			}
		}},
		{"DecisionCandidates", func(t *testing.T) {
			var ids []string
			errNo(t, st.DecisionCandidates(ctx, store.DecisionFilter{AccountID: B}, vecOf(1, 0, 0, 0), 10, func(c store.RankCandidate) { ids = append(ids, c.ID) }))
			if !slices.Equal(ids, []string{b.decision.ID}) {
				t.Fatalf("%v", ids)
			}
		}},

		// Patterns.
		{"GetPattern", func(t *testing.T) { _, err := st.GetPattern(ctx, B, a.pattern.ID); notFound(t, err) }},
		{"AdoptPattern", func(t *testing.T) { _, err := st.AdoptPattern(ctx, B, a.pattern.ID, "web", now); notFound(t, err) }},
		{"PatternsByID", func(t *testing.T) {
			got, err := st.PatternsByID(ctx, B, []string{a.pattern.ID})
			errNo(t, err)
			if len(got) != 0 {
				t.Fatalf("%+v", got)
			}
		}},
		{"TopPatterns", func(t *testing.T) {
			got, err := st.TopPatterns(ctx, store.PatternFilter{AccountID: B, Project: ptr("web")}, 10)
			errNo(t, err)
			if len(got) != 1 || got[0].ID != b.pattern.ID {
				t.Fatalf("%+v", got)
			}
		}},
		{"PatternCandidates", func(t *testing.T) {
			var ids []string
			errNo(t, st.PatternCandidates(ctx, store.PatternFilter{AccountID: B}, vecOf(1, 0, 0, 0), 10, func(c store.RankCandidate) { ids = append(ids, c.ID) }))
			if !slices.Equal(ids, []string{b.pattern.ID}) {
				t.Fatalf("%v", ids)
			}
		}},

		// Jobs.
		{"JobByID", func(t *testing.T) { _, err := st.JobByID(ctx, B, a.job.ID); notFound(t, err) }},
		{"JobByMemory", func(t *testing.T) { _, err := st.JobByMemory(ctx, B, a.job.MemoryID); notFound(t, err) }},

		// Keys.
		{"KeyByID", func(t *testing.T) {
			if _, err := st.Keys().KeyByID(ctx, B, a.key.ID); !errors.Is(err, keys.ErrNotFound) {
				t.Fatalf("err %v", err)
			}
		}},
		{"RevokeKey", func(t *testing.T) {
			if _, err := st.Keys().RevokeKey(ctx, B, a.key.ID, now); !errors.Is(err, keys.ErrNotFound) {
				t.Fatalf("err %v", err)
			}
		}},
		{"RotateKey", func(t *testing.T) {
			if _, err := st.Keys().RotateKey(ctx, B, a.key.ID, [32]byte{9}, "mr_x", now, now); !errors.Is(err, keys.ErrNotFound) {
				t.Fatalf("err %v", err)
			}
		}},
		{"ListKeys", func(t *testing.T) {
			got, total, err := st.Keys().ListKeys(ctx, B, 10, 0)
			errNo(t, err)
			if total != 1 || len(got) != 1 || got[0].ID != b.key.ID {
				t.Fatalf("%d %+v", total, got)
			}
		}},
		{"CountKeys", func(t *testing.T) {
			if n, err := st.CountKeys(ctx, B); err != nil || n != 1 {
				t.Fatalf("%d %v", n, err)
			}
		}},

		// Erasure.
		{"DeleteUserMemories", func(t *testing.T) {
			n, err := st.DeleteUserMemories(ctx, B, "user")
			errNo(t, err)
			if n != 1 {
				t.Fatalf("deleted %d", n)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}

	// a's objects are all there, unchanged.
	if m, err := st.GetMemory(ctx, a.account.ID, a.memory.ID); err != nil || m.Content != a.memory.Content || len(m.Entities) != 1 {
		t.Fatalf("a's memory: %+v %v", m, err)
	}
	if ag, err := st.GetAgent(ctx, a.account.ID, a.agent.ID); err != nil || ag.Name != "bot" || ag.MemoryCount != 1 {
		t.Fatalf("a's agent: %+v %v", ag, err)
	}
	if x, _, err := st.GetSession(ctx, a.account.ID, a.session.ID, 0); err != nil || x.Status != store.SessionActive || x.Summary != nil {
		t.Fatalf("a's session: %+v %v", x, err)
	}
	if e, err := st.GetEntity(ctx, a.account.ID, a.entity.ID); err != nil || e.MemoryCount != 1 {
		t.Fatalf("a's entity: %+v %v", e, err)
	}
	if d, err := st.GetDecision(ctx, a.account.ID, a.decision.ID); err != nil || d.Status != "active" || d.SupersededBy != nil {
		t.Fatalf("a's decision: %+v %v", d, err)
	}
	if p, err := st.GetPattern(ctx, a.account.ID, a.pattern.ID); err != nil || p.AdoptionCount != 2 {
		t.Fatalf("a's pattern: %+v %v", p, err)
	}
	if k, err := st.Keys().KeyByID(ctx, a.account.ID, a.key.ID); err != nil || k.RevokedAt != nil || k.Prefix != a.key.Prefix {
		t.Fatalf("a's key: %+v %v", k, err)
	}
	if s, err := st.Keys().SecretByHash(ctx, a.keyHash); err != nil || s.ValidUntil != nil {
		t.Fatalf("a's secret: %+v %v", s, err)
	}
}
