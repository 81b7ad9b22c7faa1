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

func testDecisions(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { decisionCreate(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { decisionInvalid(t, open(t)) })
	t.Run("ListFilters", func(t *testing.T) { decisionList(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { decisionPaging(t, open(t)) })
	t.Run("Supersede", func(t *testing.T) { decisionSupersede(t, open(t)) })
	t.Run("Check", func(t *testing.T) { decisionCheck(t, open(t)) })
}

func decisionID(d memory.Decision) string         { return d.ID }
func decisionCreated(d memory.Decision) time.Time { return d.CreatedAt }

func decisionCreate(t *testing.T, e Env) {
	ctx, c, ds := t.Context(), newClock(), e.Account.Decisions()
	s := try(e.Account.Sessions().Create(ctx, memory.NewSession{})).must(t)
	in := memory.NewDecision{Title: "Use PostgreSQL for analytics", Rationale: "Window functions and mature tooling",
		Alternatives: ptr("ClickHouse; DuckDB"), Project: ptr("analytics"), Tags: []string{"db", "infra"},
		Status: memory.DecisionExperimental, Metadata: json.RawMessage(`{"confidence":0.7}`), AgentID: "architect", SessionID: &s.ID}
	d := try(ds.Create(ctx, in)).must(t)
	wantUUID(t, "ID", d.ID)
	c.instant(t, "CreatedAt", d.CreatedAt)
	wantEqual(t, "Create", d, memory.Decision{ID: d.ID, AgentID: ptr("architect"), SessionID: &s.ID, ProjectSlug: ptr("analytics"),
		Title: in.Title, Rationale: in.Rationale, Alternatives: in.Alternatives, Status: memory.DecisionExperimental,
		Tags: []string{"db", "infra"}, Metadata: in.Metadata, CreatedAt: d.CreatedAt, UpdatedAt: d.CreatedAt})
	wantEqual(t, "Get", try(ds.Get(ctx, d.ID)).must(t), d)
	if _, err := e.Account.Projects().Get(ctx, "analytics"); err != nil {
		t.Errorf("the decision's unknown project was not created: %v", err)
	}

	plain := try(ds.Create(ctx, memory.NewDecision{Title: "Plain", Rationale: "Defaults"})).must(t)
	if plain.Status != memory.DecisionActive || plain.Tags == nil || len(plain.Tags) != 0 || plain.AgentID != nil || plain.SupersededBy != nil {
		t.Errorf("Create with defaults: Status %q, Tags %#v, AgentID %v, SupersededBy %v", plain.Status, plain.Tags, showPtr(plain.AgentID), showPtr(plain.SupersededBy))
	}
	if got := try(ds.Get(ctx, plain.ID)).must(t); got.Tags == nil {
		t.Errorf("Get: Tags is nil, want an empty slice (never nil)")
	}
}

func decisionInvalid(t *testing.T, e Env) {
	ctx, ds := t.Context(), e.Account.Decisions()
	tags21 := make([]string, 21)
	for i := range tags21 {
		tags21[i] = "t" + strings.Repeat("x", i)
	}
	ok := memory.NewDecision{Title: "t", Rationale: "r"}
	with := func(f func(*memory.NewDecision)) memory.NewDecision { in := ok; f(&in); return in }
	for _, tc := range []struct {
		name  string
		in    memory.NewDecision
		field string
	}{
		{"no title", with(func(d *memory.NewDecision) { d.Title = "" }), "Title"},
		{"blank title", with(func(d *memory.NewDecision) { d.Title = "   " }), "Title"},
		{"title over 500 characters", with(func(d *memory.NewDecision) { d.Title = strings.Repeat("t", 501) }), "Title"},
		{"no rationale", with(func(d *memory.NewDecision) { d.Rationale = "" }), "Rationale"},
		{"rationale over 50,000 characters", with(func(d *memory.NewDecision) { d.Rationale = strings.Repeat("r", 50_001) }), "Rationale"},
		{"alternatives over 50,000 characters", with(func(d *memory.NewDecision) { d.Alternatives = ptr(strings.Repeat("a", 50_001)) }), "Alternatives"},
		{"21 tags", with(func(d *memory.NewDecision) { d.Tags = tags21 }), "Tags"},
		{"a tag over 100 characters", with(func(d *memory.NewDecision) { d.Tags = []string{strings.Repeat("t", 101)} }), "Tags"},
		{"status superseded", with(func(d *memory.NewDecision) { d.Status = memory.DecisionSuperseded }), "Status"},
		{"unknown status", with(func(d *memory.NewDecision) { d.Status = "pending" }), "Status"},
		{"project over 100 characters", with(func(d *memory.NewDecision) { d.Project = ptr(strings.Repeat("p", 101)) }), "Project"},
		{"metadata an array", with(func(d *memory.NewDecision) { d.Metadata = json.RawMessage(`[]`) }), "Metadata"},
		{"unknown session", with(func(d *memory.NewDecision) { d.SessionID = ptr(unknownID) }), "SessionID"},
		{"blank agent", with(func(d *memory.NewDecision) { d.AgentID = " " }), "AgentID"},
	} {
		_, err := ds.Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.field)
	}
	if pg := try(ds.List(ctx, memory.DecisionListParams{})).must(t); pg.Total != 0 {
		t.Errorf("invalid creates made %d decisions", pg.Total)
	}
	if _, err := ds.Create(ctx, with(func(d *memory.NewDecision) { d.Tags = tags21[:20]; d.Title = strings.Repeat("t", 500) })); err != nil {
		t.Errorf("20 tags and a 500-character title: %v", err)
	}
}

func decisionList(t *testing.T, e Env) {
	ctx, ds := t.Context(), e.Account.Decisions()
	d1 := try(ds.Create(ctx, memory.NewDecision{Title: "One", Rationale: "r", Project: ptr("web"), Tags: []string{"a", "b"}})).must(t)
	d2 := try(ds.Create(ctx, memory.NewDecision{Title: "Two", Rationale: "r", Project: ptr("web"), Tags: []string{"a"}, Status: memory.DecisionExperimental})).must(t)
	d3 := try(ds.Create(ctx, memory.NewDecision{Title: "Three", Rationale: "r", Project: ptr("api"), Tags: []string{"b"}})).must(t)
	for _, tc := range []struct {
		name string
		p    memory.DecisionListParams
		want []memory.Decision
	}{
		{"all", memory.DecisionListParams{}, []memory.Decision{d1, d2, d3}},
		{"project", memory.DecisionListParams{Project: ptr("web")}, []memory.Decision{d1, d2}},
		{"status", memory.DecisionListParams{Status: ptr(memory.DecisionExperimental)}, []memory.Decision{d2}},
		{"one tag", memory.DecisionListParams{Tags: []string{"b"}}, []memory.Decision{d1, d3}},
		{"every tag", memory.DecisionListParams{Tags: []string{"a", "b"}}, []memory.Decision{d1}},
		{"unknown tag", memory.DecisionListParams{Tags: []string{"zzz"}}, nil},
		{"project and tag", memory.DecisionListParams{Project: ptr("web"), Tags: []string{"b"}}, []memory.Decision{d1}},
		{"unknown project", memory.DecisionListParams{Project: ptr("nowhere")}, nil},
	} {
		pg, err := ds.List(ctx, tc.p)
		if err != nil {
			t.Errorf("List %s: %v", tc.name, err)
			continue
		}
		ids := make([]string, len(pg.Data))
		for i, d := range pg.Data {
			ids[i] = d.ID
		}
		wantEqual(t, "List "+tc.name, ids, newestFirst(tc.want, decisionCreated, decisionID))
		if pg.Total != len(tc.want) {
			t.Errorf("List %s: Total %d, want %d", tc.name, pg.Total, len(tc.want))
		}
	}
	_, err := ds.List(ctx, memory.DecisionListParams{Status: ptr("pending")})
	wantInvalid(t, "List with an unknown status", err, "Status")
}

func decisionPaging(t *testing.T, e Env) {
	var xs []memory.Decision
	for i := range 6 {
		xs = append(xs, try(e.Account.Decisions().Create(t.Context(), memory.NewDecision{Title: "paged " + strings.Repeat("d", i+1), Rationale: "r"})).must(t))
	}
	checkPaging(t, paging[memory.Decision]{
		list: func(ctx context.Context, limit, offset int, cursor string) (memory.Page[memory.Decision], error) {
			return e.Account.Decisions().List(ctx, memory.DecisionListParams{Limit: limit, Offset: offset, Cursor: cursor})
		},
		id:   decisionID,
		want: newestFirst(xs, decisionCreated, decisionID),
		add: func(t *testing.T) {
			try(e.Account.Decisions().Create(t.Context(), memory.NewDecision{Title: "a newer decision", Rationale: "r"})).must(t)
		},
	})
}

func decisionSupersede(t *testing.T, e Env) {
	ctx, ds := t.Context(), e.Account.Decisions()
	old := try(ds.Create(ctx, memory.NewDecision{Title: "Use REST", Rationale: "Simple", Project: ptr("gateway"),
		Tags: []string{"api"}, AgentID: "designer"})).must(t)
	nd := try(ds.Supersede(ctx, old.ID, memory.SupersedeParams{Title: "Use gRPC", Rationale: "Streaming"})).must(t)
	if nd.ID == old.ID || nd.Title != "Use gRPC" || nd.Rationale != "Streaming" || nd.Status != memory.DecisionActive {
		t.Errorf("the new decision: %+v", nd)
	}
	if diff(nd.ProjectSlug, old.ProjectSlug) != "" || diff(nd.AgentID, old.AgentID) != "" {
		t.Errorf("the new decision has project %v and agent %v; want the old one's %v, %v", showPtr(nd.ProjectSlug), showPtr(nd.AgentID), showPtr(old.ProjectSlug), showPtr(old.AgentID))
	}
	wantEqual(t, "the new decision's tags (inherited)", nd.Tags, []string{"api"})
	wantEqual(t, "Get of the new decision", try(ds.Get(ctx, nd.ID)).must(t), nd)
	got := try(ds.Get(ctx, old.ID)).must(t)
	if got.Status != memory.DecisionSuperseded || got.SupersededBy == nil || *got.SupersededBy != nd.ID || !got.UpdatedAt.After(old.UpdatedAt) {
		t.Errorf("the old decision: Status %q, SupersededBy %v, UpdatedAt %v (was %v)", got.Status, showPtr(got.SupersededBy), got.UpdatedAt, old.UpdatedAt)
	}
	want := old
	want.Status, want.SupersededBy, want.UpdatedAt = memory.DecisionSuperseded, &nd.ID, got.UpdatedAt
	wantEqual(t, "the old decision, otherwise unchanged", got, want)

	_, err := ds.Supersede(ctx, old.ID, memory.SupersedeParams{Title: "Again", Rationale: "r"})
	wantInvalid(t, "superseding a superseded decision", err)

	n2 := try(ds.Supersede(ctx, nd.ID, memory.SupersedeParams{Title: "Use GraphQL", Rationale: "Clients choose fields",
		Tags: []string{"api", "graph"}, Status: memory.DecisionExperimental})).must(t)
	wantEqual(t, "given tags replace the old ones", n2.Tags, []string{"api", "graph"})
	if n2.Status != memory.DecisionExperimental {
		t.Errorf("Supersede with status experimental: %q", n2.Status)
	}
	_, err = ds.Supersede(ctx, n2.ID, memory.SupersedeParams{Title: "", Rationale: "r"})
	wantInvalid(t, "Supersede with no title", err, "Title")
	_, err = ds.Supersede(ctx, n2.ID, memory.SupersedeParams{Title: "t", Rationale: "r", Status: memory.DecisionSuperseded})
	wantInvalid(t, "Supersede with status superseded", err, "Status")
	if got := try(ds.Get(ctx, n2.ID)).must(t); got.Status != memory.DecisionExperimental || got.SupersededBy != nil {
		t.Errorf("a refused Supersede changed the decision: %+v", got)
	}
}

func decisionCheck(t *testing.T, e Env) {
	ctx, ds := t.Context(), e.Account.Decisions()
	cache := try(ds.Create(ctx, memory.NewDecision{Title: "Cache sessions in Redis", Rationale: "Fast expiry of session keys", Project: ptr("web")})).must(t)
	queue := try(ds.Create(ctx, memory.NewDecision{Title: "Queue emails with RabbitMQ", Rationale: "Retries and dead letters", Project: ptr("mail")})).must(t)
	old := try(ds.Create(ctx, memory.NewDecision{Title: "Store uploads on local disk", Rationale: "Simplest option", Project: ptr("web")})).must(t)
	try(ds.Supersede(ctx, old.ID, memory.SupersedeParams{Title: "Store uploads in object storage", Rationale: "Scales"})).must(t)

	hits := try(ds.Check(ctx, memory.DecisionCheckParams{Query: cache.Title})).must(t)
	if len(hits) == 0 || hits[0].Decision.ID != cache.ID || hits[0].Score < 0.8 {
		t.Fatalf("Check with a decision's title: %d hits; want it first with a score ≥ 0.8", len(hits))
	}
	wantEqual(t, "the hit's decision", hits[0].Decision, cache)
	checkScores(t, "Check", len(hits), func(i int) float64 { return hits[i].Score }, 0.3)

	hits = try(ds.Check(ctx, memory.DecisionCheckParams{Query: "Store uploads on local disk"})).must(t)
	if hasDecision(hits, old.ID) {
		t.Errorf("Check returns a superseded decision without IncludeSuperseded")
	}
	hits = try(ds.Check(ctx, memory.DecisionCheckParams{Query: "Store uploads on local disk", IncludeSuperseded: true})).must(t)
	if !hasDecision(hits, old.ID) {
		t.Errorf("Check with IncludeSuperseded misses the superseded decision")
	}
	hits = try(ds.Check(ctx, memory.DecisionCheckParams{Query: queue.Title, Project: ptr("web")})).must(t)
	if hasDecision(hits, queue.ID) {
		t.Errorf("Check with a project filter returns another project's decision")
	}
	// The default threshold, 0.3, keeps unrelated decisions out; a lower
	// one keeps more, a higher one fewer, each hit at least at it.
	if hits := try(ds.Check(ctx, memory.DecisionCheckParams{Query: "zxqv plorf wibblequark"})).must(t); len(hits) != 0 {
		t.Errorf("Check of an unrelated query: %d hits above the default threshold", len(hits))
	}
	q := "Cache sessions in Redis and queue the emails"
	low := try(ds.Check(ctx, memory.DecisionCheckParams{Query: q, Threshold: ptr(0.0), Limit: 20})).must(t)
	def := try(ds.Check(ctx, memory.DecisionCheckParams{Query: q, Limit: 20})).must(t)
	high := try(ds.Check(ctx, memory.DecisionCheckParams{Query: q, Threshold: ptr(0.9), Limit: 20})).must(t)
	checkScores(t, "Check threshold 0", len(low), func(i int) float64 { return low[i].Score }, 0)
	checkScores(t, "Check threshold 0.3", len(def), func(i int) float64 { return def[i].Score }, 0.3)
	checkScores(t, "Check threshold 0.9", len(high), func(i int) float64 { return high[i].Score }, 0.9)
	if !hasDecision(low, cache.ID) || !hasDecision(low, queue.ID) {
		t.Errorf("Check threshold 0 misses a decision sharing words with the query")
	}
	wantSubset(t, "Check: threshold 0.3 ⊆ threshold 0", decisionHitIDs(def), decisionHitIDs(low))
	wantSubset(t, "Check: threshold 0.9 ⊆ threshold 0.3", decisionHitIDs(high), decisionHitIDs(def))
	if one := try(ds.Check(ctx, memory.DecisionCheckParams{Query: "x", Threshold: ptr(0.0), Limit: 1})).must(t); len(one) != 1 {
		t.Errorf("Check limit 1: %d hits", len(one))
	}

	_, err := ds.Check(ctx, memory.DecisionCheckParams{})
	wantInvalid(t, "Check with no query", err, "Query")
	_, err = ds.Check(ctx, memory.DecisionCheckParams{Query: "x", Threshold: ptr(1.5)})
	wantInvalid(t, "Check with threshold 1.5", err, "Threshold")
}

func decisionHitIDs(hits []memory.DecisionHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Decision.ID
	}
	return out
}

// wantSubset checks that every id of sub is in of, in the same order.
func wantSubset(t *testing.T, what string, sub, of []string) {
	t.Helper()
	var kept []string
	for _, id := range of {
		if slices.Contains(sub, id) {
			kept = append(kept, id)
		}
	}
	if len(kept) != len(sub) {
		t.Errorf("%s: %v is not a subset of %v", what, sub, of)
		return
	}
	wantEqual(t, what+" (in the same order)", sub, kept)
}

// hasDecision reports whether the decision is among the hits.
func hasDecision(hits []memory.DecisionHit, id string) bool {
	return slices.ContainsFunc(hits, func(h memory.DecisionHit) bool { return h.Decision.ID == id })
}

// checkScores checks scored results: in [0,1], best first, at least the
// threshold.
func checkScores(t *testing.T, what string, n int, score func(int) float64, threshold float64) {
	t.Helper()
	for i := range n {
		s := score(i)
		if s < 0 || s > 1 || s < threshold {
			t.Errorf("%s: hit %d scores %v; want within [%v,1]", what, i, s, threshold)
		}
		if i > 0 && s > score(i-1) {
			t.Errorf("%s: hit %d scores more than hit %d: not best first", what, i, i-1)
		}
	}
}
