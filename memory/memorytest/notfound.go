package memorytest

import (
	"context"
	"testing"

	"github.com/memoryrelay/memoryrelay/memory"
)

// Kinds of id a probe takes.
const (
	kindMemory   = "memory"
	kindAgent    = "agent"
	kindEntity   = "entity"
	kindSession  = "session"
	kindDecision = "decision"
	kindPattern  = "pattern"
	kindProject  = "project"
	kindKey      = "key"
)

// probe is a call that names one object by id (or ref, or slug) and must
// fail with ErrNotFound when the account has no such object.
type probe struct {
	name string
	kind string
	call func(ctx context.Context, id string) error
}

// probes lists every method that names an object, of every group, called
// on a with otherwise valid input. It stores in a the objects the calls
// need besides the one they name (a memory, an entity, a project).
func probes(t *testing.T, a memory.Account) []probe {
	ctx := t.Context()
	m := create(t, a, memory.NewMemory{Content: "a fixture of the probes"})
	x := try(a.Entities().Create(ctx, memory.NewEntity{Name: "probe fixture"})).must(t)
	try(a.Projects().Create(ctx, memory.NewProject{Slug: "probe-fixture", Name: "Probe fixture"})).must(t)
	err2 := func(_ any, err error) error { return err }
	err3 := func(_, _ any, err error) error { return err }
	return []probe{
		{"Memories.Get", kindMemory, func(ctx context.Context, id string) error { return err2(a.Memories().Get(ctx, id)) }},
		{"Memories.Update", kindMemory, func(ctx context.Context, id string) error {
			return err2(a.Memories().Update(ctx, id, memory.MemoryPatch{Content: ptr("new content")}))
		}},
		{"Memories.SetImportance", kindMemory, func(ctx context.Context, id string) error {
			return err2(a.Memories().SetImportance(ctx, id, 0.5, nil))
		}},
		{"Memories.Delete", kindMemory, func(ctx context.Context, id string) error { return a.Memories().Delete(ctx, id) }},
		{"Memories.Job", kindMemory, func(ctx context.Context, id string) error { return err2(a.Memories().Job(ctx, id)) }},

		{"Agents.Get", kindAgent, func(ctx context.Context, ref string) error { return err2(a.Agents().Get(ctx, ref)) }},
		{"Agents.Update", kindAgent, func(ctx context.Context, ref string) error {
			return err2(a.Agents().Update(ctx, ref, memory.AgentPatch{Description: ptr("new")}))
		}},
		{"Agents.Delete", kindAgent, func(ctx context.Context, ref string) error { return err2(a.Agents().Delete(ctx, ref)) }},
		{"Agents.Stats", kindAgent, func(ctx context.Context, ref string) error { return err2(a.Agents().Stats(ctx, ref)) }},

		{"Entities.Get", kindEntity, func(ctx context.Context, id string) error { return err2(a.Entities().Get(ctx, id)) }},
		{"Entities.Delete", kindEntity, func(ctx context.Context, id string) error { return a.Entities().Delete(ctx, id) }},
		{"Entities.Neighborhood", kindEntity, func(ctx context.Context, id string) error {
			return err2(a.Entities().Neighborhood(ctx, id, memory.NeighborhoodParams{}))
		}},
		{"Entities.Link of the entity", kindEntity, func(ctx context.Context, id string) error {
			return err3(a.Entities().Link(ctx, memory.NewEntityLink{EntityID: id, MemoryID: m.ID}))
		}},
		{"Entities.Link to the memory", kindMemory, func(ctx context.Context, id string) error {
			return err3(a.Entities().Link(ctx, memory.NewEntityLink{EntityID: x.ID, MemoryID: id}))
		}},

		{"Sessions.Get", kindSession, func(ctx context.Context, id string) error { return err2(a.Sessions().Get(ctx, id)) }},
		{"Sessions.GetWithMemories", kindSession, func(ctx context.Context, id string) error {
			return err3(a.Sessions().GetWithMemories(ctx, id))
		}},
		{"Sessions.End", kindSession, func(ctx context.Context, id string) error { return err2(a.Sessions().End(ctx, id, ptr("s"))) }},

		{"Decisions.Get", kindDecision, func(ctx context.Context, id string) error { return err2(a.Decisions().Get(ctx, id)) }},
		{"Decisions.Supersede", kindDecision, func(ctx context.Context, id string) error {
			return err2(a.Decisions().Supersede(ctx, id, memory.SupersedeParams{Title: "t", Rationale: "r"}))
		}},

		{"Patterns.Get", kindPattern, func(ctx context.Context, id string) error { return err2(a.Patterns().Get(ctx, id)) }},
		{"Patterns.Adopt", kindPattern, func(ctx context.Context, id string) error {
			return err2(a.Patterns().Adopt(ctx, id, "probe-fixture"))
		}},

		{"Projects.Get", kindProject, func(ctx context.Context, s string) error { return err2(a.Projects().Get(ctx, s)) }},
		{"Projects.Context", kindProject, func(ctx context.Context, s string) error { return err2(a.Projects().Context(ctx, s)) }},
		{"Projects.Relate", kindProject, func(ctx context.Context, s string) error {
			return err3(a.Projects().Relate(ctx, s, memory.NewProjectRelationship{Target: "probe-fixture", Type: "depends_on"}))
		}},
		{"Projects.Dependencies", kindProject, func(ctx context.Context, s string) error { return err2(a.Projects().Dependencies(ctx, s)) }},
		{"Projects.Dependents", kindProject, func(ctx context.Context, s string) error { return err2(a.Projects().Dependents(ctx, s)) }},
		{"Projects.Related", kindProject, func(ctx context.Context, s string) error { return err2(a.Projects().Related(ctx, s)) }},
		{"Projects.Impact", kindProject, func(ctx context.Context, s string) error {
			return err2(a.Projects().Impact(ctx, s, "a change"))
		}},
		{"Projects.SharedPatterns, first", kindProject, func(ctx context.Context, s string) error {
			return err2(a.Projects().SharedPatterns(ctx, s, "probe-fixture"))
		}},
		{"Projects.SharedPatterns, second", kindProject, func(ctx context.Context, s string) error {
			return err2(a.Projects().SharedPatterns(ctx, "probe-fixture", s))
		}},

		{"Keys.Get", kindKey, func(ctx context.Context, id string) error { return err2(a.Keys().Get(ctx, id)) }},
		{"Keys.Revoke", kindKey, func(ctx context.Context, id string) error { return err2(a.Keys().Revoke(ctx, id)) }},
		{"Keys.Rotate", kindKey, func(ctx context.Context, id string) error { return err3(a.Keys().Rotate(ctx, id, 0)) }},
	}
}

// testNotFound calls every method that names an object with ids of
// nothing: unused, the nil UUID, malformed, and a label that is no slug.
func testNotFound(t *testing.T, open Opener) {
	e := open(t)
	for _, p := range probes(t, e.Account) {
		t.Run(p.name, func(t *testing.T) {
			for _, id := range append(unknownIDs, "Not A Slug") {
				wantNotFound(t, p.name+"("+id+")", p.call(t.Context(), id))
			}
		})
	}
}
