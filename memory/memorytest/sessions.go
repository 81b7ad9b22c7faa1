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

func testSessions(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { sessionCreate(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { sessionInvalid(t, open(t)) })
	t.Run("GetOrCreate", func(t *testing.T) { sessionGetOrCreate(t, open(t)) })
	t.Run("GetOrCreateConcurrent", func(t *testing.T) { sessionGetOrCreateConcurrent(t, open(t)) })
	t.Run("End", func(t *testing.T) { sessionEnd(t, open(t)) })
	t.Run("WithMemories", func(t *testing.T) { sessionWithMemories(t, open(t)) })
	t.Run("ListFilters", func(t *testing.T) { sessionList(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { sessionPaging(t, open(t)) })
}

func sessionID(s memory.Session) string         { return s.ID }
func sessionStarted(s memory.Session) time.Time { return s.StartedAt }

func sessionCreate(t *testing.T, e Env) {
	ctx, c, ss := t.Context(), newClock(), e.Account.Sessions()
	s := try(ss.Create(ctx, memory.NewSession{})).must(t)
	wantUUID(t, "ID", s.ID)
	c.instant(t, "StartedAt", s.StartedAt)
	c.instant(t, "CreatedAt", s.CreatedAt)
	wantEqual(t, "Create with defaults", s, memory.Session{ID: s.ID, AgentID: "default", Status: "active",
		StartedAt: s.StartedAt, CreatedAt: s.CreatedAt, UpdatedAt: s.CreatedAt})
	wantEqual(t, "Get", try(ss.Get(ctx, s.ID)).must(t), s)

	full := try(ss.Create(ctx, memory.NewSession{AgentID: "planner", Title: ptr("Sprint planning"),
		Project: ptr("roadmap"), Metadata: json.RawMessage(`{"sprint":14}`)})).must(t)
	wantEqual(t, "Create with every field", full, memory.Session{ID: full.ID, AgentID: "planner", Project: ptr("roadmap"),
		Status: "active", Title: ptr("Sprint planning"), Metadata: json.RawMessage(`{"sprint":14}`),
		StartedAt: full.StartedAt, CreatedAt: full.CreatedAt, UpdatedAt: full.CreatedAt})
	wantEqual(t, "Get", try(ss.Get(ctx, full.ID)).must(t), full)
	if p, err := e.Account.Projects().Get(ctx, "roadmap"); err != nil || p.Name != "roadmap" {
		t.Errorf("the session's unknown project was not created: %+v, %v", p, err)
	}
	if a, err := e.Account.Agents().Get(ctx, "planner"); err != nil || a.SessionCount != 1 {
		t.Errorf("the session's agent: %+v, %v", a, err)
	}
}

func sessionInvalid(t *testing.T, e Env) {
	ctx, ss := t.Context(), e.Account.Sessions()
	for _, tc := range []struct {
		name  string
		in    memory.NewSession
		field string
	}{
		{"title over 500 characters", memory.NewSession{Title: ptr(strings.Repeat("t", 501))}, "Title"},
		{"metadata an array", memory.NewSession{Metadata: json.RawMessage(`[1]`)}, "Metadata"},
		{"metadata over 10 KiB", memory.NewSession{Metadata: metadataOfSize(10<<10 + 1)}, "Metadata"},
		{"blank agent", memory.NewSession{AgentID: "  "}, "AgentID"},
		{"agent over 255 bytes", memory.NewSession{AgentID: strings.Repeat("a", 256)}, "AgentID"},
	} {
		_, err := ss.Create(ctx, tc.in)
		wantInvalid(t, tc.name, err, tc.field)
		_, _, err = ss.GetOrCreate(ctx, "ext-invalid", tc.in)
		wantInvalid(t, tc.name+" (GetOrCreate)", err, tc.field)
	}
	_, _, err := ss.GetOrCreate(ctx, "", memory.NewSession{})
	wantInvalid(t, "GetOrCreate with no external id", err, "externalID", "ExternalID")
	_, _, err = ss.GetOrCreate(ctx, strings.Repeat("x", 501), memory.NewSession{})
	wantInvalid(t, "GetOrCreate with an external id over 500 characters", err, "externalID", "ExternalID")
	if pg := try(ss.List(ctx, memory.SessionListParams{})).must(t); pg.Total != 0 {
		t.Errorf("invalid creates made %d sessions", pg.Total)
	}
	if _, err := ss.Create(ctx, memory.NewSession{Title: ptr(strings.Repeat("t", 500))}); err != nil {
		t.Errorf("a 500-character title: %v", err)
	}
}

func sessionGetOrCreate(t *testing.T, e Env) {
	ctx, ss := t.Context(), e.Account.Sessions()
	s, created := try2(ss.GetOrCreate(ctx, "auto:key:2025-03-17", memory.NewSession{AgentID: "goc", Title: ptr("first")})).must(t)
	if !created {
		t.Errorf("the first GetOrCreate reports created false")
	}
	if s.ExternalID == nil || *s.ExternalID != "auto:key:2025-03-17" || s.AgentID != "goc" || s.Title == nil || *s.Title != "first" || s.Status != "active" {
		t.Errorf("the created session: %+v", s)
	}
	again, created := try2(ss.GetOrCreate(ctx, "auto:key:2025-03-17", memory.NewSession{AgentID: "goc", Title: ptr("second")})).must(t)
	if created {
		t.Errorf("a second GetOrCreate reports created true")
	}
	wantEqual(t, "a second GetOrCreate (the input is ignored)", again, s)
	wantEqual(t, "Get", try(ss.Get(ctx, s.ID)).must(t), s)

	ended := try(ss.End(ctx, s.ID, nil)).must(t)
	after, created := try2(ss.GetOrCreate(ctx, "auto:key:2025-03-17", memory.NewSession{AgentID: "goc"})).must(t)
	if created || after.ID != s.ID || after.Status != "ended" {
		t.Errorf("GetOrCreate after End: created %v, ID %s, Status %q; want the ended session", created, after.ID, after.Status)
	}
	wantEqual(t, "GetOrCreate after End", after, ended)

	other, created := try2(ss.GetOrCreate(ctx, "workspace-b", memory.NewSession{AgentID: "goc"})).must(t)
	if !created || other.ID == s.ID {
		t.Errorf("another external id: created %v, ID %s", created, other.ID)
	}
	if pg := try(ss.List(ctx, memory.SessionListParams{})).must(t); pg.Total != 2 {
		t.Errorf("%d sessions, want 2", pg.Total)
	}
}

func sessionGetOrCreateConcurrent(t *testing.T, e Env) {
	ctx, ss := t.Context(), e.Account.Sessions()
	type res struct {
		s       memory.Session
		created bool
	}
	rs, errs := parallel(8, func(int) (res, error) {
		s, created, err := ss.GetOrCreate(ctx, "raced", memory.NewSession{AgentID: "racer"})
		return res{s, created}, err
	})
	created := 0
	for i, r := range rs {
		ok(t, errs[i])
		if r.s.ID != rs[0].s.ID {
			t.Errorf("call %d returned session %s, call 0 %s", i, r.s.ID, rs[0].s.ID)
		}
		if r.created {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d concurrent calls reported created, want exactly 1", created)
	}
	if pg := try(ss.List(ctx, memory.SessionListParams{})).must(t); pg.Total != 1 {
		t.Errorf("%d sessions after racing calls, want 1", pg.Total)
	}
}

func sessionEnd(t *testing.T, e Env) {
	ctx, c, ss := t.Context(), newClock(), e.Account.Sessions()
	s := try(ss.Create(ctx, memory.NewSession{Title: ptr("to end")})).must(t)
	x := try(ss.End(ctx, s.ID, ptr("We agreed on the plan"))).must(t)
	c.instantPtr(t, "EndedAt", x.EndedAt)
	if x.Status != "ended" || x.Summary == nil || *x.Summary != "We agreed on the plan" || x.EndedAt == nil || x.EndedAt.Before(x.StartedAt) {
		t.Errorf("End: %+v", x)
	}
	if !x.UpdatedAt.After(s.UpdatedAt) {
		t.Errorf("End: UpdatedAt %v did not advance past %v", x.UpdatedAt, s.UpdatedAt)
	}
	wantEqual(t, "Get after End", try(ss.Get(ctx, s.ID)).must(t), x)

	// Ending again keeps EndedAt; a summary replaces the old one, nil keeps it.
	y := try(ss.End(ctx, s.ID, ptr("Revised summary"))).must(t)
	if y.Summary == nil || *y.Summary != "Revised summary" || y.EndedAt == nil || !y.EndedAt.Equal(*x.EndedAt) || y.Status != "ended" {
		t.Errorf("End again with a summary: %+v", y)
	}
	z := try(ss.End(ctx, s.ID, nil)).must(t)
	if z.Summary == nil || *z.Summary != "Revised summary" || !z.EndedAt.Equal(*x.EndedAt) {
		t.Errorf("End again without a summary: %+v", z)
	}
	_, err := ss.End(ctx, s.ID, ptr(strings.Repeat("s", 50_001)))
	wantInvalid(t, "End with a summary over 50,000 characters", err, "summary", "Summary")
	if got := try(ss.Get(ctx, s.ID)).must(t); got.Summary == nil || *got.Summary != "Revised summary" {
		t.Errorf("a refused End changed the summary")
	}
}

func sessionWithMemories(t *testing.T, e Env) {
	ctx, ss := t.Context(), e.Account.Sessions()
	s := try(ss.Create(ctx, memory.NewSession{AgentID: "talker"})).must(t)
	empty := try(ss.Create(ctx, memory.NewSession{AgentID: "talker"})).must(t)
	var ms []memory.Memory
	for i := range 3 {
		ms = append(ms, create(t, e.Account, memory.NewMemory{Content: "turn " + strings.Repeat("t", i+1), AgentID: "talker", SessionID: &s.ID}))
	}
	create(t, e.Account, memory.NewMemory{Content: "not in the session", AgentID: "talker"})
	got, mems := try2(ss.GetWithMemories(ctx, s.ID)).must(t)
	if got.MemoryCount != 3 {
		t.Errorf("MemoryCount = %d, want 3", got.MemoryCount)
	}
	wantEqual(t, "the session", got, try(ss.Get(ctx, s.ID)).must(t))
	oldest := newestFirst(ms, memCreated, memID)
	slices.Reverse(oldest)
	wantEqual(t, "its memories, oldest first", memoryIDs(mems), oldest)
	for _, m := range mems {
		for _, want := range ms {
			if want.ID == m.ID {
				wantEqual(t, "a session's memory", m, want)
			}
		}
	}
	_, mems = try2(ss.GetWithMemories(ctx, empty.ID)).must(t)
	if len(mems) != 0 {
		t.Errorf("a session without memories lists %d", len(mems))
	}
}

func sessionList(t *testing.T, e Env) {
	ctx, ss := t.Context(), e.Account.Sessions()
	try2(e.Account.Agents().Create(ctx, memory.NewAgent{ID: "s-a", Name: "Session Agent"})).must(t)
	s1 := try(ss.Create(ctx, memory.NewSession{AgentID: "s-a", Project: ptr("alpha")})).must(t)
	s2 := try(ss.Create(ctx, memory.NewSession{AgentID: "s-b", Project: ptr("beta")})).must(t)
	s3 := try(ss.Create(ctx, memory.NewSession{AgentID: "s-a", Project: ptr("beta")})).must(t)
	s3 = try(ss.End(ctx, s3.ID, nil)).must(t)
	for _, tc := range []struct {
		name string
		p    memory.SessionListParams
		want []memory.Session
	}{
		{"all", memory.SessionListParams{}, []memory.Session{s1, s2, s3}},
		{"agent by id", memory.SessionListParams{AgentID: ptr("s-a")}, []memory.Session{s1, s3}},
		{"agent by name", memory.SessionListParams{AgentID: ptr("Session Agent")}, []memory.Session{s1, s3}},
		{"unknown agent", memory.SessionListParams{AgentID: ptr("nobody")}, nil},
		{"project", memory.SessionListParams{Project: ptr("beta")}, []memory.Session{s2, s3}},
		{"active", memory.SessionListParams{Status: "active"}, []memory.Session{s1, s2}},
		{"ended", memory.SessionListParams{Status: "ended"}, []memory.Session{s3}},
		{"agent, project and status", memory.SessionListParams{AgentID: ptr("s-a"), Project: ptr("beta"), Status: "ended"}, []memory.Session{s3}},
	} {
		pg, err := ss.List(ctx, tc.p)
		if err != nil {
			t.Errorf("List %s: %v", tc.name, err)
			continue
		}
		ids := make([]string, len(pg.Data))
		for i, s := range pg.Data {
			ids[i] = s.ID
			for _, w := range tc.want {
				if w.ID == s.ID {
					wantEqual(t, "a listed session", s, w)
				}
			}
		}
		wantEqual(t, "List "+tc.name, ids, newestFirst(tc.want, sessionStarted, sessionID))
		if pg.Total != len(tc.want) {
			t.Errorf("List %s: Total %d, want %d", tc.name, pg.Total, len(tc.want))
		}
	}
	_, err := ss.List(ctx, memory.SessionListParams{Status: "paused"})
	wantInvalid(t, "List with an unknown status", err, "Status")
}

func sessionPaging(t *testing.T, e Env) {
	var xs []memory.Session
	for range 6 {
		xs = append(xs, try(e.Account.Sessions().Create(t.Context(), memory.NewSession{})).must(t))
	}
	checkPaging(t, paging[memory.Session]{
		list: func(ctx context.Context, limit, offset int, cursor string) (memory.Page[memory.Session], error) {
			return e.Account.Sessions().List(ctx, memory.SessionListParams{Limit: limit, Offset: offset, Cursor: cursor})
		},
		id:   sessionID,
		want: newestFirst(xs, sessionStarted, sessionID),
		add: func(t *testing.T) {
			try(e.Account.Sessions().Create(t.Context(), memory.NewSession{})).must(t)
		},
	})
}
