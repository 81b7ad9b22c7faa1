package memoryrelay_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// decNew creates a decision or fails the test.
func decNew(t testing.TB, r *memoryrelay.Relay, acct string, in memory.NewDecision) memory.Decision {
	t.Helper()
	d, err := r.Account(acct).Decisions().Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fp(v float64) *float64 { return &v }

func TestCreateDecision(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct := account(t, r)
	sess, err := r.Account(acct).Sessions().Create(ctx, memory.NewSession{})
	if err != nil {
		t.Fatal(err)
	}
	ok := memory.NewDecision{Title: "Use SQLite", Rationale: "One file, no server."}
	with := func(f func(*memory.NewDecision)) memory.NewDecision {
		in := ok
		f(&in)
		return in
	}
	cases := []struct {
		name  string
		in    memory.NewDecision
		field string
	}{
		{"minimal", ok, ""},
		{"title of 500", with(func(d *memory.NewDecision) { d.Title = strings.Repeat("t", 500) }), ""},
		{"rationale of 50000", with(func(d *memory.NewDecision) { d.Rationale = strings.Repeat("r", 50_000) }), ""},
		{"experimental", with(func(d *memory.NewDecision) { d.Status = "experimental" }), ""},
		{"session", with(func(d *memory.NewDecision) { d.SessionID = &sess.ID }), ""},
		{"invalid slug stored as given", with(func(d *memory.NewDecision) { d.Project = strp("Not A Slug") }), ""},
		{"no title", with(func(d *memory.NewDecision) { d.Title = "" }), "Title"},
		{"blank title", with(func(d *memory.NewDecision) { d.Title = "  " }), "Title"},
		{"title of 501", with(func(d *memory.NewDecision) { d.Title = strings.Repeat("t", 501) }), "Title"},
		{"no rationale", with(func(d *memory.NewDecision) { d.Rationale = "" }), "Rationale"},
		{"rationale of 50001", with(func(d *memory.NewDecision) { d.Rationale = strings.Repeat("r", 50_001) }), "Rationale"},
		{"superseded status", with(func(d *memory.NewDecision) { d.Status = "superseded" }), "Status"},
		{"unknown status", with(func(d *memory.NewDecision) { d.Status = "maybe" }), "Status"},
		{"empty project", with(func(d *memory.NewDecision) { d.Project = strp("") }), "Project"},
		{"project of 101", with(func(d *memory.NewDecision) { d.Project = strp(strings.Repeat("p", 101)) }), "Project"},
		{"metadata not an object", with(func(d *memory.NewDecision) { d.Metadata = []byte(`"x"`) }), "Metadata"},
		{"unknown session", with(func(d *memory.NewDecision) { d.SessionID = strp("00000000-0000-0000-0000-000000000000") }), "SessionID"},
		{"malformed session", with(func(d *memory.NewDecision) { d.SessionID = strp("s1") }), "SessionID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := r.Account(acct).Decisions().Create(ctx, c.in)
			if c.field != "" {
				var verr *memory.ValidationError
				if !errors.As(err, &verr) || verr.Field() != c.field {
					t.Fatalf("err %v, want a validation error on %s", err, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantStatus := c.in.Status
			if wantStatus == "" {
				wantStatus = "active"
			}
			if d.Status != wantStatus || d.Tags == nil || d.SupersededBy != nil || d.AgentID != nil {
				t.Errorf("got %+v", d)
			}
			got, err := r.Account(acct).Decisions().Get(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Title != d.Title || got.Status != d.Status || !got.CreatedAt.Equal(d.CreatedAt) {
				t.Errorf("get %+v, created %+v", got, d)
			}
		})
	}

	t.Run("agent, project, tags and metadata", func(t *testing.T) {
		d := decNew(t, r, acct, memory.NewDecision{Title: "t", Rationale: "r", AgentID: "architect", Project: strp("billing"),
			Tags: []string{"db", "infra"}, Alternatives: strp("Postgres"), Metadata: []byte(`{"source": "chat", "confidence": 0.9}`)})
		if d.AgentID == nil || *d.AgentID != "architect" || *d.ProjectSlug != "billing" || strings.Join(d.Tags, ",") != "db,infra" ||
			*d.Alternatives != "Postgres" || string(d.Metadata) != `{"source":"chat","confidence":0.9}` {
			t.Errorf("got %+v", d)
		}
		if _, err := r.Account(acct).Projects().Get(ctx, "billing"); err != nil {
			t.Errorf("project billing not auto-created: %v", err)
		}
	})
}

func TestDecisionNotFound(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	theirs := decNew(t, r, other, memory.NewDecision{Title: "t", Rationale: "r"})
	for _, id := range []string{theirs.ID, "nope", "00000000-0000-0000-0000-000000000000"} {
		var nf *memory.NotFoundError
		if _, err := r.Account(acct).Decisions().Get(ctx, id); !errors.As(err, &nf) || nf.Kind != "decision" {
			t.Errorf("get %q: %v", id, err)
		}
		if _, err := r.Account(acct).Decisions().Supersede(ctx, id, memory.SupersedeParams{Title: "t", Rationale: "r"}); !errors.As(err, &nf) || nf.Kind != "decision" {
			t.Errorf("supersede %q: %v", id, err)
		}
	}
	if d, err := r.Account(other).Decisions().Get(ctx, theirs.ID); err != nil || d.Status != "active" {
		t.Errorf("the owner's decision changed: %+v %v", d, err)
	}
}

func TestListDecisions(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	mk := func(title, project, status string, tags ...string) memory.Decision {
		var p *string
		if project != "" {
			p = &project
		}
		return decNew(t, r, acct, memory.NewDecision{Title: title, Rationale: "because", Project: p, Status: status, Tags: tags})
	}
	a := mk("a", "web", "", "db", "infra")
	mk("b", "web", "experimental", "db")
	mk("c", "api", "", "infra", "db", "cache")
	if _, err := r.Account(acct).Decisions().Supersede(ctx, a.ID, memory.SupersedeParams{Title: "d", Rationale: "better"}); err != nil {
		t.Fatal(err)
	}
	decNew(t, r, other, memory.NewDecision{Title: "not mine", Rationale: "r", Project: strp("web")})

	cases := []struct {
		name  string
		p     memory.DecisionListParams
		want  string
		total int
		more  bool
	}{
		{"all, newest first", memory.DecisionListParams{}, "d,c,b,a", 4, false},
		{"page", memory.DecisionListParams{Limit: 3}, "d,c,b", 4, true},
		{"offset", memory.DecisionListParams{Limit: 3, Offset: 3}, "a", 4, false},
		{"project", memory.DecisionListParams{Project: strp("web")}, "d,b,a", 3, false},
		{"status", memory.DecisionListParams{Status: strp("superseded")}, "a", 1, false},
		{"active", memory.DecisionListParams{Status: strp("active")}, "d,c", 2, false},
		{"one tag", memory.DecisionListParams{Tags: []string{"infra"}}, "d,c,a", 3, false},
		{"every tag", memory.DecisionListParams{Tags: []string{"db", "infra"}}, "d,c,a", 3, false},
		{"every tag, narrower", memory.DecisionListParams{Tags: []string{"cache", "db"}}, "c", 1, false},
		{"unknown tag", memory.DecisionListParams{Tags: []string{"db", "nope"}}, "", 0, false},
		{"unknown project", memory.DecisionListParams{Project: strp("nope")}, "", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, err := r.Account(acct).Decisions().List(ctx, c.p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range page.Data {
				got = append(got, d.Title)
			}
			if strings.Join(got, ",") != c.want || page.Total != c.total || page.HasMore != c.more || page.Data == nil {
				t.Errorf("got %v total %d more %v, want %s %d %v", got, page.Total, page.HasMore, c.want, c.total, c.more)
			}
		})
	}
	for _, p := range []memory.DecisionListParams{{Limit: -1}, {Offset: -1}, {Status: strp("maybe")}} {
		if _, err := r.Account(acct).Decisions().List(ctx, p); !errors.Is(err, memoryrelay.ErrInvalid) {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestSupersedeDecision(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct := account(t, r)
	old := decNew(t, r, acct, memory.NewDecision{Title: "Use MySQL", Rationale: "Familiar.", Project: strp("shop"),
		AgentID: "architect", Tags: []string{"db"}, Status: "experimental"})

	cases := []struct {
		name  string
		p     memory.SupersedeParams
		field string
	}{
		{"no title", memory.SupersedeParams{Rationale: "r"}, "Title"},
		{"no rationale", memory.SupersedeParams{Title: "t"}, "Rationale"},
		{"title of 501", memory.SupersedeParams{Title: strings.Repeat("t", 501), Rationale: "r"}, "Title"},
		{"bad status", memory.SupersedeParams{Title: "t", Rationale: "r", Status: "reverted"}, "Status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var verr *memory.ValidationError
			if _, err := r.Account(acct).Decisions().Supersede(ctx, old.ID, c.p); !errors.As(err, &verr) || verr.Field() != c.field {
				t.Fatalf("err %v, want invalid %s", err, c.field)
			}
		})
	}

	d, err := r.Account(acct).Decisions().Supersede(ctx, strings.ToUpper(old.ID), memory.SupersedeParams{Title: "Use PostgreSQL", Rationale: "JSONB."})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == old.ID || d.Status != "active" || *d.ProjectSlug != "shop" || *d.AgentID != "architect" || *d.AgentID != *old.AgentID ||
		strings.Join(d.Tags, ",") != "db" || d.SupersededBy != nil {
		t.Errorf("new decision %+v", d)
	}
	was, err := r.Account(acct).Decisions().Get(ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if was.Status != "superseded" || was.SupersededBy == nil || *was.SupersededBy != d.ID || !was.UpdatedAt.After(old.UpdatedAt) {
		t.Errorf("old decision %+v", was)
	}

	t.Run("already superseded", func(t *testing.T) {
		var verr *memory.ValidationError
		if _, err := r.Account(acct).Decisions().Supersede(ctx, old.ID, memory.SupersedeParams{Title: "t", Rationale: "r"}); !errors.As(err, &verr) {
			t.Fatalf("err %v, want a validation error", err)
		}
		page, err := r.Account(acct).Decisions().List(ctx, memory.DecisionListParams{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 2 {
			t.Errorf("a failed supersede stored a decision: %d decisions", page.Total)
		}
	})

	t.Run("given tags replace, empty tags clear", func(t *testing.T) {
		d2, err := r.Account(acct).Decisions().Supersede(ctx, d.ID, memory.SupersedeParams{Title: "t", Rationale: "r", Tags: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		if d2.Tags == nil || len(d2.Tags) != 0 {
			t.Errorf("tags %#v", d2.Tags)
		}
	})
}

// TestCheckDecisionsCalibration checks the §7 calibration of decision
// scores: a verbatim title ≥ 0.8, unrelated text < 0.3.
func TestCheckDecisionsCalibration(t *testing.T) {
	ctx := context.Background()
	r := entOpen(t)
	acct, other := account(t, r), account(t, r)
	pg := decNew(t, r, acct, memory.NewDecision{Title: "Use PostgreSQL for the primary datastore", Project: strp("shop"),
		Rationale: "We need transactions, JSONB support and mature tooling. The team already knows it well, and managed offerings exist on every cloud provider we consider."})
	grpc := decNew(t, r, acct, memory.NewDecision{Title: "Adopt gRPC for internal service communication",
		Rationale: "Strong typing via protobuf, streaming, and generated clients for Go and TypeScript."})
	decNew(t, r, acct, memory.NewDecision{Title: "Frontend state management with Redux Toolkit",
		Rationale: "Predictable state, devtools, and RTK Query for caching server data."})
	theirs := decNew(t, r, other, memory.NewDecision{Title: "Use PostgreSQL for the primary datastore", Rationale: "Theirs."})

	check := func(t *testing.T, p memory.DecisionCheckParams) []memory.DecisionHit {
		t.Helper()
		hits, err := r.Account(acct).Decisions().Check(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hits {
			if h.Score < 0 || h.Score > 1 || h.Decision.ID == theirs.ID || (i > 0 && h.Score > hits[i-1].Score) {
				t.Fatalf("hits %+v", hits)
			}
		}
		return hits
	}
	zero := fp(0)
	scoreOf := func(hits []memory.DecisionHit, id string) float64 {
		for _, h := range hits {
			if h.Decision.ID == id {
				return h.Score
			}
		}
		return 0
	}

	cases := []struct {
		name     string
		query    string
		id       string
		min, max float64
	}{
		{"verbatim title", "Use PostgreSQL for the primary datastore", pg.ID, 0.8, 1},
		{"title in another case and punctuation", "use postgresql, for the PRIMARY datastore!", pg.ID, 0.8, 1},
		{"near-verbatim title", "Adopt gRPC for internal service calls", grpc.ID, 0.8, 0.95},
		{"verbatim rationale sentence", "We need transactions, JSONB support and mature tooling.", pg.ID, 0.5, 0.9},
		{"one keyword", "gRPC", grpc.ID, 0.3, 0.8},
		{"unrelated", "The cat sat on the mat in the afternoon sunshine", pg.ID, 0, 0.3},
		{"unrelated to grpc", "weather forecast for tomorrow", grpc.ID, 0, 0.3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := scoreOf(check(t, memory.DecisionCheckParams{Query: c.query, Threshold: zero, Limit: 20}), c.id)
			if s < c.min || s > c.max {
				t.Errorf("score %.3f, want in [%.2f, %.2f]", s, c.min, c.max)
			}
		})
	}

	t.Run("default threshold drops weak hits", func(t *testing.T) {
		hits := check(t, memory.DecisionCheckParams{Query: "Use PostgreSQL for the primary datastore"})
		if len(hits) != 1 || hits[0].Decision.ID != pg.ID {
			t.Fatalf("hits %+v", hits)
		}
	})
	t.Run("project filter", func(t *testing.T) {
		if hits := check(t, memory.DecisionCheckParams{Query: "PostgreSQL", Project: strp("shop"), Threshold: zero}); len(hits) != 1 || hits[0].Decision.ID != pg.ID {
			t.Fatalf("hits %+v", hits)
		}
		if hits := check(t, memory.DecisionCheckParams{Query: "PostgreSQL", Project: strp("nope"), Threshold: zero}); len(hits) != 0 {
			t.Fatalf("hits %+v", hits)
		}
	})
	t.Run("limit", func(t *testing.T) {
		if hits := check(t, memory.DecisionCheckParams{Query: "use state data", Threshold: zero, Limit: 2}); len(hits) != 2 {
			t.Fatalf("%d hits", len(hits))
		}
	})
	t.Run("superseded excluded unless asked", func(t *testing.T) {
		if _, err := r.Account(acct).Decisions().Supersede(ctx, grpc.ID, memory.SupersedeParams{Title: "Use REST between services", Rationale: "Simpler."}); err != nil {
			t.Fatal(err)
		}
		q := "Adopt gRPC for internal service communication"
		if s := scoreOf(check(t, memory.DecisionCheckParams{Query: q}), grpc.ID); s != 0 {
			t.Errorf("superseded decision found with %.3f", s)
		}
		if s := scoreOf(check(t, memory.DecisionCheckParams{Query: q, IncludeSuperseded: true}), grpc.ID); s < 0.9 {
			t.Errorf("include_superseded: score %.3f", s)
		}
	})

	bad := []struct {
		name  string
		p     memory.DecisionCheckParams
		field string
	}{
		{"no query", memory.DecisionCheckParams{}, "Query"},
		{"blank query", memory.DecisionCheckParams{Query: " \n"}, "Query"},
		{"long query", memory.DecisionCheckParams{Query: strings.Repeat("q", memory.MaxContentChars+1)}, "Query"},
		{"negative limit", memory.DecisionCheckParams{Query: "q", Limit: -1}, "Limit"},
		{"threshold above 1", memory.DecisionCheckParams{Query: "q", Threshold: fp(1.5)}, "Threshold"},
		{"negative threshold", memory.DecisionCheckParams{Query: "q", Threshold: fp(-0.1)}, "Threshold"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			var verr *memory.ValidationError
			if _, err := r.Account(acct).Decisions().Check(ctx, c.p); !errors.As(err, &verr) || verr.Field() != c.field {
				t.Fatalf("err %v, want invalid %s", err, c.field)
			}
		})
	}
}
