package memorytest

import (
	"testing"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// testIsolation checks that Account sees nothing of Other: every object
// of Other is ErrNotFound through Account, whatever the method; lists,
// searches and contexts show none of it; writes through Account change
// none of it; and the names Other uses (agent ids, project slugs, external
// session ids) are free in Account.
func testIsolation(t *testing.T, open Opener) {
	e := open(t)
	ctx, o := t.Context(), e.Other
	om := create(t, o, memory.NewMemory{Content: "Other account's secret about the marmalade vault", AgentID: "shared-agent",
		UserID: ptr("shared-user"), Project: ptr("other-proj")})
	oa := try(o.Agents().Get(ctx, "shared-agent")).must(t)
	oe := try(o.Entities().Create(ctx, memory.NewEntity{Name: "Marmalade vault"})).must(t)
	try2(o.Entities().Link(ctx, memory.NewEntityLink{EntityID: oe.ID, MemoryID: om.ID})).must(t)
	osess, _ := try2(o.Sessions().GetOrCreate(ctx, "shared-ext", memory.NewSession{AgentID: "shared-agent"})).must(t)
	od := try(o.Decisions().Create(ctx, memory.NewDecision{Title: "Marmalade vault decision", Rationale: "Because", Project: ptr("other-proj")})).must(t)
	op := try(o.Patterns().Create(ctx, memory.NewPattern{Title: "Marmalade vault pattern", Description: "Sweet"})).must(t)
	op = try(o.Patterns().Adopt(ctx, op.ID, "other-proj")).must(t)
	try2(o.Projects().Relate(ctx, "other-proj", memory.NewProjectRelationship{Target: "other-dep", Type: "depends_on"})).must(t)
	oproj := try(o.Projects().Get(ctx, "other-proj")).must(t)
	okey, _ := try2(o.Keys().Create(ctx, memory.NewKey{Name: "other's key", Scopes: scopes.NewSet(scopes.Admin)})).must(t)
	before := struct {
		m memory.Memory
		a memory.Agent
		s memory.Session
		d memory.Decision
	}{try(o.Memories().Get(ctx, om.ID)).must(t), try(o.Agents().Get(ctx, oa.ID)).must(t), osess, od}

	ids := map[string]string{
		kindMemory: om.ID, kindAgent: oa.ID, kindEntity: oe.ID, kindSession: osess.ID,
		kindDecision: od.ID, kindPattern: op.ID, kindProject: oproj.Slug, kindKey: okey.ID,
	}
	t.Run("Probes", func(t *testing.T) {
		for _, p := range probes(t, e.Account) {
			wantNotFound(t, p.name+" of Other's "+p.kind, p.call(ctx, ids[p.kind]))
		}
	})

	t.Run("Lists", func(t *testing.T) {
		a := e.Account
		// The probes stored a memory, an entity and a project in Account.
		if pg := try(a.Memories().List(ctx, memory.ListParams{AgentID: ptr("shared-agent")})).must(t); pg.Total != 0 {
			t.Errorf("Memories.List by Other's agent: %d", pg.Total)
		}
		if pg := try(a.Memories().List(ctx, memory.ListParams{UserID: ptr("shared-user")})).must(t); pg.Total != 0 {
			t.Errorf("Memories.List by Other's user: %d", pg.Total)
		}
		if pg := try(a.Memories().List(ctx, memory.ListParams{})).must(t); pg.Total != 1 {
			t.Errorf("Memories.List: %d, want Account's 1", pg.Total)
		}
		if pg := try(a.Agents().List(ctx, memory.PageParams{})).must(t); pg.Total != 1 || len(pg.Data) != 1 || pg.Data[0].ID != "default" {
			t.Errorf("Agents.List: %d agents, want Account's default only", pg.Total)
		}
		if pg := try(a.Entities().List(ctx, memory.EntityListParams{})).must(t); pg.Total != 1 {
			t.Errorf("Entities.List: %d, want Account's 1", pg.Total)
		}
		if pg := try(a.Sessions().List(ctx, memory.SessionListParams{})).must(t); pg.Total != 0 {
			t.Errorf("Sessions.List: %d", pg.Total)
		}
		if pg := try(a.Decisions().List(ctx, memory.DecisionListParams{})).must(t); pg.Total != 0 {
			t.Errorf("Decisions.List: %d", pg.Total)
		}
		pg := try(a.Projects().List(ctx, memory.ProjectListParams{})).must(t)
		for _, p := range pg.Data {
			if p.Slug != "probe-fixture" {
				t.Errorf("Projects.List shows %q", p.Slug)
			}
		}
		kp := try(a.Keys().List(ctx, memory.PageParams{})).must(t)
		for _, k := range kp.Data {
			if k.ID == okey.ID || k.ID != e.KeyID {
				t.Errorf("Keys.List shows key %s (%s), not Account's", k.ID, k.Name)
			}
		}
	})

	t.Run("Searches", func(t *testing.T) {
		a := e.Account
		for _, mode := range modes {
			hits := try(a.Memories().Search(ctx, memory.SearchParams{Query: om.Content, Mode: mode, IncludeConfidential: true})).must(t)
			if hasHit(hits, om.ID) {
				t.Errorf("%s search finds Other's memory", mode)
			}
		}
		if hits := try(a.Decisions().Check(ctx, memory.DecisionCheckParams{Query: od.Title, Threshold: ptr(0.0)})).must(t); len(hits) != 0 {
			t.Errorf("Decisions.Check finds %d of Other's decisions", len(hits))
		}
		if hits := try(a.Patterns().Search(ctx, memory.PatternSearchParams{})).must(t); len(hits) != 0 {
			t.Errorf("Patterns.Search lists %d of Other's patterns", len(hits))
		}
		if s := try(a.Patterns().Suggest(ctx, "probe-fixture", 0)).must(t); len(s) != 0 {
			t.Errorf("Patterns.Suggest offers %d of Other's patterns", len(s))
		}
		tc := try(a.Contexts().Text(ctx, memory.TextContextParams{Query: om.Content})).must(t)
		if hasHit(tc.Hits, om.ID) {
			t.Errorf("Contexts.Text uses Other's memory")
		}
		bc := try(a.Contexts().Build(ctx, memory.BuildContextParams{Query: om.Content})).must(t)
		for _, it := range bc.Items {
			if it.Memory.ID == om.ID {
				t.Errorf("Contexts.Build packs Other's memory")
			}
		}
		if n := try(a.Memories().DeleteUser(ctx, "shared-user")).must(t); n != 0 {
			t.Errorf("DeleteUser through Account deleted %d memories", n)
		}
	})

	t.Run("NamesAreFree", func(t *testing.T) {
		a := e.Account
		ag, created := try2(a.Agents().Create(ctx, memory.NewAgent{ID: "shared-agent", Name: "shared-agent"})).must(t)
		if !created || ag.MemoryCount != 0 {
			t.Errorf("Other's agent id in Account: created %v, MemoryCount %d", created, ag.MemoryCount)
		}
		p := try(a.Projects().Create(ctx, memory.NewProject{Slug: "other-proj", Name: "Mine"})).must(t)
		if p.ID == oproj.ID || p.MemoryCount != 0 {
			t.Errorf("Other's slug in Account: %+v", p)
		}
		s, created := try2(a.Sessions().GetOrCreate(ctx, "shared-ext", memory.NewSession{})).must(t)
		if !created || s.ID == osess.ID {
			t.Errorf("Other's external session id in Account: created %v, ID %s", created, s.ID)
		}
		if deps := try(a.Projects().Dependencies(ctx, "other-proj")).must(t); len(deps) != 0 {
			t.Errorf("Account's other-proj has Other's edges: %+v", deps)
		}
		if pc := try(a.Projects().Context(ctx, "other-proj")).must(t); len(pc.HotMemories)+len(pc.Decisions)+len(pc.Patterns) != 0 {
			t.Errorf("Account's other-proj context shows Other's objects")
		}
	})

	t.Run("OtherUntouched", func(t *testing.T) {
		wantEqual(t, "Other's memory", try(o.Memories().Get(ctx, om.ID)).must(t), before.m)
		wantEqual(t, "Other's agent", try(o.Agents().Get(ctx, "shared-agent")).must(t), before.a)
		wantEqual(t, "Other's session", try(o.Sessions().Get(ctx, osess.ID)).must(t), before.s)
		wantEqual(t, "Other's decision", try(o.Decisions().Get(ctx, od.ID)).must(t), before.d)
		if x := try(o.Entities().Get(ctx, oe.ID)).must(t); x.MemoryCount != 1 {
			t.Errorf("Other's entity: %+v", x)
		}
		if k := try(o.Keys().Get(ctx, okey.ID)).must(t); k.RevokedAt != nil {
			t.Errorf("Other's key was revoked")
		}
		if p := try(o.Patterns().Get(ctx, op.ID)).must(t); p.AdoptionCount != 1 {
			t.Errorf("Other's pattern: AdoptionCount %d, want 1", p.AdoptionCount)
		}
		if deps := try(o.Projects().Dependencies(ctx, "other-proj")).must(t); len(deps) != 1 {
			t.Errorf("Other's project edges: %+v", deps)
		}
	})
}
