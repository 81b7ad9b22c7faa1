package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/client"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func ptr[T any](v T) *T { return &v }

type keysKey = keys.Key

func must[T any](t *testing.T, what string) func(T, error) T {
	t.Helper()
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// sameInstant checks a remote instant against the server's own: UTC, to
// the millisecond.
func sameInstant(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC || !got.Equal(want.Truncate(time.Millisecond)) || got.IsZero() {
		t.Errorf("%s: %v (%v), want %v", what, got, got.Location(), want)
	}
}

func TestMemories(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	mems := e.admin.Account().Memories()

	res := must[memory.CreateResult](t, "create")(mems.Create(ctx, memory.NewMemory{
		Content: "The user prefers TypeScript over JavaScript.", AgentID: "agent/with slash", UserID: ptr("u1"),
		Metadata: json.RawMessage(`{"category":"preference","n":1}`), MemoryType: ptr("preference"), Visibility: "private",
		Importance: ptr(0.9), Scope: "long-term", Project: ptr("alpha"),
	}))
	m := res.Memory
	if res.IsDuplicate || m.AgentID != "agent/with slash" || *m.UserID != "u1" || *m.MemoryType != "preference" ||
		m.Tier != "hot" || m.Importance != 0.9 || *m.Project != "alpha" || m.ProjectID == nil || m.Entities == nil || m.ArchivedAt != nil {
		t.Fatalf("create %+v", res)
	}
	in := must[memory.Memory](t, "relay get")(e.relay.Account(e.acct).Memories().Get(ctx, m.ID))
	sameInstant(t, "created_at", m.CreatedAt, in.CreatedAt)
	sameInstant(t, "updated_at", m.UpdatedAt, in.UpdatedAt)
	if string(m.Metadata) != string(in.Metadata) {
		t.Errorf("metadata %s, stored %s", m.Metadata, in.Metadata)
	}

	dup := must[memory.CreateResult](t, "dedup")(mems.Create(ctx, memory.NewMemory{Content: m.Content, AgentID: m.AgentID, Deduplicate: true}))
	if !dup.IsDuplicate || dup.Memory.ID != m.ID {
		t.Errorf("dedup %+v", dup)
	}

	got := must[memory.Memory](t, "get")(mems.Get(ctx, m.ID))
	if got.ID != m.ID || got.Content != m.Content || !got.CreatedAt.Equal(m.CreatedAt) {
		t.Errorf("get %+v", got)
	}

	page := must[memory.Page[memory.Memory]](t, "list")(mems.List(ctx, memory.ListParams{AgentID: ptr("agent/with slash"), Limit: 10}))
	if page.Total != 1 || len(page.Data) != 1 || page.HasMore || page.NextCursor != nil || page.Limit != 10 {
		t.Errorf("list %+v", page)
	}
	if empty := must[memory.Page[memory.Memory]](t, "list unknown")(mems.List(ctx, memory.ListParams{AgentID: ptr("nobody")})); empty.Data == nil || len(empty.Data) != 0 {
		t.Errorf("empty list %+v", empty)
	}

	up := must[memory.Memory](t, "update")(mems.Update(ctx, m.ID, memory.MemoryPatch{Content: ptr("The user prefers Go."), Metadata: json.RawMessage(`{"n":null}`)}))
	if up.Content != "The user prefers Go." || !up.UpdatedAt.After(m.UpdatedAt) && !up.UpdatedAt.Equal(m.UpdatedAt) || string(up.Metadata) != `{"category":"preference"}` {
		t.Errorf("update %+v %s", up, up.Metadata)
	}
	// An empty patch changes nothing, and sends nothing nil.
	if same := must[memory.Memory](t, "empty patch")(mems.Update(ctx, m.ID, memory.MemoryPatch{})); same.Content != up.Content || same.Tier != up.Tier {
		t.Errorf("empty patch %+v", same)
	}
	imp := must[memory.Memory](t, "importance")(mems.SetImportance(ctx, m.ID, 0.2, ptr("cold")))
	if imp.Importance != 0.2 || imp.Tier != "cold" {
		t.Errorf("importance %+v", imp)
	}
	if imp = must[memory.Memory](t, "importance without tier")(mems.SetImportance(ctx, m.ID, 0.85, nil)); imp.Tier != "hot" {
		t.Errorf("importance recomputes the tier: %+v", imp)
	}

	hits := must[[]memory.Hit](t, "search")(mems.Search(ctx, memory.SearchParams{Query: "the user prefers go", Mode: memory.ModeKeyword, Threshold: 0.5, AgentID: ptr("agent/with slash")}))
	if len(hits) != 1 || hits[0].Score < 0.8 || hits[0].Memory.ID != m.ID {
		t.Errorf("search %+v", hits)
	}
	if none := must[[]memory.Hit](t, "search nothing")(mems.Search(ctx, memory.SearchParams{Query: "x", SessionID: ptr("not-a-session")})); none == nil || len(none) != 0 {
		t.Errorf("no hits %#v", none)
	}

	batch := must[memory.BatchResult](t, "batch")(mems.CreateBatch(ctx, memory.BatchParams{AgentID: "batcher", Memories: []memory.NewMemory{
		{Content: "one", UserID: ptr("u2")}, {Content: " "}, {Content: "two", AgentID: "other", UserID: ptr("u2")},
	}}))
	if batch.Succeeded != 2 || batch.Failed != 1 || batch.Skipped != 0 || len(batch.Items) != 3 || batch.Timing.Total <= 0 {
		t.Fatalf("batch %+v", batch)
	}
	var verr *memory.ValidationError
	if it := batch.Items[1]; it.Status != memory.BatchFailed || it.MemoryID != "" || !errors.As(it.Err, &verr) || verr.Field() != "Content" {
		t.Errorf("failed item %+v", it)
	}
	for _, i := range []int{0, 2} {
		if it := batch.Items[i]; it.Status != memory.BatchSuccess || it.MemoryID == "" || it.Err != nil {
			t.Errorf("item %d %+v", i, it)
		}
	}
	if b := must[memory.Memory](t, "batch item")(mems.Get(ctx, batch.Items[0].MemoryID)); b.AgentID != "batcher" {
		t.Errorf("batch default agent: %+v", b)
	}

	job := must[memory.Job](t, "async")(mems.CreateAsync(ctx, memory.NewMemory{Content: "async memory", UserID: ptr("u2")}, memory.AsyncOptions{}))
	if job.ID == "" || job.JobID == "" || job.CreatedAt.IsZero() || job.CreatedAt.Location() != time.UTC {
		t.Errorf("async %+v", job)
	}
	for i := 0; ; i++ {
		st := must[memory.Job](t, "job")(mems.Job(ctx, job.ID))
		if st.ID != job.ID || st.JobID != job.JobID || !st.CreatedAt.Equal(job.CreatedAt) {
			t.Fatalf("job %+v, accepted %+v", st, job)
		}
		if st.Status == memory.JobReady {
			if st.Error != nil {
				t.Errorf("ready job with error %+v", st)
			}
			break
		}
		if st.Status == memory.JobFailed || i == 2000 {
			t.Fatalf("job %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}

	emb := must[memory.Embedding](t, "embed")(mems.Embed(ctx, "hello", ""))
	if emb.Dimension == 0 || len(emb.Vector) != emb.Dimension || emb.Model == "" {
		t.Errorf("embed %+v", emb)
	}
	if _, err := mems.Embed(ctx, "hello", "search_query"); err != nil {
		t.Errorf("embed with prefix: %v", err)
	}

	if n := must[int](t, "delete user")(mems.DeleteUser(ctx, "u2")); n != 3 {
		t.Errorf("deleted %d memories of u2, want 3", n)
	}
	if n := must[int](t, "delete user again")(mems.DeleteUser(ctx, "u2")); n != 0 {
		t.Errorf("deleted %d again", n)
	}
	if _, err := mems.DeleteUser(ctx, ""); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("empty user: %v", err)
	}
	if _, err := mems.DeleteUser(ctx, " "); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("blank user: %v", err)
	}

	if err := mems.Delete(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	var nf *memory.NotFoundError
	if _, err := mems.Get(ctx, m.ID); !errors.As(err, &nf) || nf.Kind != "memory" {
		t.Errorf("after delete: %v", err)
	}
	if err := mems.Delete(ctx, m.ID); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("delete again: %v", err)
	}
}

func TestMemoryPagination(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	mems := e.admin.Account().Memories()
	for i := 0; i < 5; i++ {
		must[memory.CreateResult](t, "create")(mems.Create(ctx, memory.NewMemory{Content: "memory number " + string(rune('a'+i))}))
	}
	var ids []string
	cursor := ""
	for pages := 0; pages < 10; pages++ {
		p := must[memory.Page[memory.Memory]](t, "page")(mems.List(ctx, memory.ListParams{Limit: 2, Cursor: cursor}))
		if p.Total != 5 || p.Limit != 2 || (p.NextCursor != nil) != p.HasMore {
			t.Fatalf("page %+v", p)
		}
		for _, m := range p.Data {
			ids = append(ids, m.ID)
		}
		if !p.HasMore {
			break
		}
		cursor = *p.NextCursor
	}
	if len(ids) != 5 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 5 {
		t.Errorf("walked %v", ids)
	}
	if p := must[memory.Page[memory.Memory]](t, "offset")(mems.List(ctx, memory.ListParams{Limit: 2, Offset: 4})); len(p.Data) != 1 || p.Offset != 4 || p.HasMore {
		t.Errorf("offset page %+v", p)
	}
	if p := must[memory.Page[memory.Memory]](t, "clamped")(mems.List(ctx, memory.ListParams{Limit: 1000})); p.Limit != 100 {
		t.Errorf("limit not clamped: %d", p.Limit)
	}
	if _, err := mems.List(ctx, memory.ListParams{Limit: -1}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("negative limit: %v", err)
	}
}

func TestAgents(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	acct := e.admin.Account()
	ag := acct.Agents()
	a, created, err := ag.Create(ctx, memory.NewAgent{ID: "my-agent", Name: "My Agent", Description: ptr("helps"), Metadata: json.RawMessage(`{"k":"v"}`)})
	if err != nil || !created || a.ID != "my-agent" || a.Name != "My Agent" || *a.Description != "helps" || string(a.Metadata) != `{"k":"v"}` || a.LastActiveAt != nil {
		t.Fatalf("create %+v %v %v", a, created, err)
	}
	again, created, err := ag.Create(ctx, memory.NewAgent{ID: "my-agent"})
	if err != nil || created || again.ID != "my-agent" || !again.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("create again %+v %v %v", again, created, err)
	}
	if _, _, err := ag.Create(ctx, memory.NewAgent{ID: "other", Name: "My Agent"}); !errors.Is(err, memory.ErrConflict) {
		t.Errorf("taken name: %v", err)
	}
	if _, _, err := ag.Create(ctx, memory.NewAgent{}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("neither id nor name: %v", err)
	}
	must[memory.CreateResult](t, "memory")(acct.Memories().Create(ctx, memory.NewMemory{Content: "The user prefers TypeScript.", AgentID: "my-agent", Project: ptr("alpha")}))
	g := must[memory.Agent](t, "get")(ag.Get(ctx, "my-agent"))
	if g.MemoryCount != 1 || g.ProjectCount != 1 || g.LastActiveAt == nil || g.LastActiveAt.Location() != time.UTC || g.Metadata == nil {
		t.Errorf("get %+v", g)
	}
	in := must[memory.Agent](t, "relay get")(e.relay.Account(e.acct).Agents().Get(ctx, "my-agent"))
	sameInstant(t, "agent created_at", g.CreatedAt, in.CreatedAt)
	sameInstant(t, "agent last_active_at", *g.LastActiveAt, *in.LastActiveAt)

	st := must[memory.AgentStats](t, "stats")(ag.Stats(ctx, "My Agent"))
	if st.MemoryCount != 1 || st.LastUpdated == nil {
		t.Errorf("stats %+v", st)
	}
	r := must[memory.Agent](t, "rename")(ag.Update(ctx, "my-agent", memory.AgentPatch{Name: ptr("Renamed"), Metadata: json.RawMessage(`{}`)}))
	if r.ID != "my-agent" || r.Name != "Renamed" || *r.Description != "helps" || r.Metadata != nil {
		t.Errorf("rename %+v (metadata %s)", r, r.Metadata)
	}
	list := must[memory.Page[memory.Agent]](t, "list")(ag.List(ctx, memory.PageParams{Limit: 1}))
	if list.Total != 1 || len(list.Data) != 1 || list.Data[0].ID != "my-agent" {
		t.Errorf("list %+v", list)
	}
	// Ids with slashes, spaces, dots only: one path segment each.
	for _, id := range []string{"team/agent 1", ".", "..", "ü?#%"} {
		if a, _, err := ag.Create(ctx, memory.NewAgent{ID: id}); err != nil || a.ID != id {
			t.Errorf("create %q: %+v %v", id, a, err)
		}
		if g, err := ag.Get(ctx, id); err != nil || g.ID != id {
			t.Errorf("get %q: %+v %v", id, g, err)
		}
		if d, err := ag.Delete(ctx, id); err != nil || d.ID != id {
			t.Errorf("delete %q: %+v %v", id, d, err)
		}
	}
	d := must[memory.AgentDeletion](t, "delete")(ag.Delete(ctx, "Renamed"))
	if d.ID != "my-agent" || d.DeletedMemories != 1 {
		t.Errorf("delete %+v", d)
	}
	var nf *memory.NotFoundError
	if _, err := ag.Get(ctx, "my-agent"); !errors.As(err, &nf) || nf.Kind != "agent" {
		t.Errorf("after delete: %v", err)
	}
	if _, err := ag.Stats(ctx, "my-agent"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("stats after delete: %v", err)
	}
}

func TestEntities(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	acct := e.admin.Account()
	en := acct.Entities()
	m := must[memory.CreateResult](t, "memory")(acct.Memories().Create(ctx, memory.NewMemory{Content: "Ada and Grace wrote compilers"})).Memory
	ada := must[memory.Entity](t, "create")(en.Create(ctx, memory.NewEntity{Name: "Ada", Type: ptr("person"), AgentID: "bot", Metadata: json.RawMessage(`{"born":1815}`)}))
	if ada.Name != "Ada" || ada.Type != "person" || ada.AgentID == nil || *ada.AgentID != "bot" || string(ada.Metadata) != `{"born":1815}` {
		t.Fatalf("create %+v", ada)
	}
	grace := must[memory.Entity](t, "create default type")(en.Create(ctx, memory.NewEntity{Name: "Grace"}))
	if grace.Type != "other" || grace.AgentID != nil || grace.Metadata != nil {
		t.Errorf("defaults %+v", grace)
	}
	l, created, err := en.Link(ctx, memory.NewEntityLink{EntityID: ada.ID, MemoryID: m.ID})
	if err != nil || !created || l.Relationship != "mentioned_in" || l.EntityID != ada.ID || l.MemoryID != m.ID || l.CreatedAt.Location() != time.UTC {
		t.Fatalf("link %+v %v %v", l, created, err)
	}
	if _, created, err := en.Link(ctx, memory.NewEntityLink{EntityID: ada.ID, MemoryID: m.ID}); err != nil || created {
		t.Errorf("link again: %v %v", created, err)
	}
	if _, _, err := en.Link(ctx, memory.NewEntityLink{EntityID: grace.ID, MemoryID: m.ID, Relationship: ptr("co-author")}); err != nil {
		t.Fatal(err)
	}
	var nf *memory.NotFoundError
	if _, _, err := en.Link(ctx, memory.NewEntityLink{EntityID: ada.ID, MemoryID: grace.ID}); !errors.As(err, &nf) || nf.Kind != "memory" {
		t.Errorf("link to an entity id as memory: %v", err)
	}
	got := must[memory.Entity](t, "get")(en.Get(ctx, ada.ID))
	if got.MemoryCount != 1 || got.RelationshipCount != 1 {
		t.Errorf("get %+v", got)
	}
	if mm := must[memory.Memory](t, "memory")(acct.Memories().Get(ctx, m.ID)); len(mm.Entities) != 2 {
		t.Errorf("memory's entities %+v", mm.Entities)
	}
	page := must[memory.Page[memory.Entity]](t, "list")(en.List(ctx, memory.EntityListParams{Type: ptr("person")}))
	if page.Total != 1 || page.Data[0].ID != ada.ID {
		t.Errorf("list %+v", page)
	}
	if page = must[memory.Page[memory.Entity]](t, "list by agent")(en.List(ctx, memory.EntityListParams{AgentID: ptr("bot"), Limit: 5})); page.Total != 1 {
		t.Errorf("list by agent %+v", page)
	}
	nb := must[memory.Neighborhood](t, "neighborhood")(en.Neighborhood(ctx, ada.ID, memory.NeighborhoodParams{Depth: 2, MaxNeighbors: 10}))
	if nb.Entity.ID != ada.ID || nb.Entity.MemoryCount != 1 || nb.Entity.CreatedAt.IsZero() || len(nb.Neighbors) != 1 ||
		nb.Neighbors[0].ID != grace.ID || nb.Neighbors[0].Depth != 1 || nb.Neighbors[0].Relationship != "co-author" {
		t.Errorf("neighborhood %+v", nb)
	}
	if alone := must[memory.Neighborhood](t, "alone")(en.Neighborhood(ctx, grace.ID, memory.NeighborhoodParams{MaxNeighbors: 1000})); alone.Neighbors == nil {
		t.Errorf("neighbors nil: %+v", alone)
	}
	if err := en.Delete(ctx, ada.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := en.Get(ctx, ada.ID); !errors.As(err, &nf) || nf.Kind != "entity" {
		t.Errorf("after delete: %v", err)
	}
	if err := en.Delete(ctx, ada.ID); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("delete again: %v", err)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	acct := e.admin.Account()
	ss := acct.Sessions()
	s := must[memory.Session](t, "create")(ss.Create(ctx, memory.NewSession{AgentID: "bot", Title: ptr("t"), Project: ptr("alpha"), Metadata: json.RawMessage(`{"a":1}`)}))
	if s.AgentID != "bot" || s.Status != "active" || *s.Title != "t" || *s.Project != "alpha" || s.EndedAt != nil || string(s.Metadata) != `{"a":1}` {
		t.Fatalf("create %+v", s)
	}
	in := must[memory.Session](t, "relay get")(e.relay.Account(e.acct).Sessions().Get(ctx, s.ID))
	sameInstant(t, "started_at", s.StartedAt, in.StartedAt)
	sameInstant(t, "session created_at", s.CreatedAt, in.CreatedAt)

	g, created, err := ss.GetOrCreate(ctx, "ext-1", memory.NewSession{AgentID: "bot"})
	if err != nil || !created || *g.ExternalID != "ext-1" {
		t.Fatalf("get-or-create %+v %v %v", g, created, err)
	}
	if g2, created, err := ss.GetOrCreate(ctx, "ext-1", memory.NewSession{}); err != nil || created || g2.ID != g.ID {
		t.Errorf("get-or-create again %+v %v %v", g2, created, err)
	}
	if _, _, err := ss.GetOrCreate(ctx, "", memory.NewSession{}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("empty external id: %v", err)
	}
	for _, c := range []string{"first", "second"} {
		must[memory.CreateResult](t, "memory")(acct.Memories().Create(ctx, memory.NewMemory{Content: c, AgentID: "bot", SessionID: &s.ID}))
	}
	got := must[memory.Session](t, "get")(ss.Get(ctx, s.ID))
	if got.ID != s.ID || got.MemoryCount != 2 {
		t.Errorf("get %+v", got)
	}
	ws, ms, err := ss.GetWithMemories(ctx, s.ID)
	if err != nil || ws.ID != s.ID || len(ms) != 2 || ms[0].SessionID == nil || *ms[0].SessionID != s.ID || ms[0].Content != "first" {
		t.Errorf("with memories, oldest first: %+v %+v %v", ws, ms, err)
	}
	if _, ms, err := ss.GetWithMemories(ctx, g.ID); err != nil || ms == nil || len(ms) != 0 {
		t.Errorf("no memories: %#v %v", ms, err)
	}
	end := must[memory.Session](t, "end")(ss.End(ctx, s.ID, ptr("done")))
	if end.Status != "ended" || end.EndedAt == nil || end.EndedAt.Location() != time.UTC || *end.Summary != "done" {
		t.Errorf("end %+v", end)
	}
	if again := must[memory.Session](t, "end again")(ss.End(ctx, s.ID, nil)); *again.Summary != "done" || !again.EndedAt.Equal(*end.EndedAt) {
		t.Errorf("end again %+v", again)
	}
	page := must[memory.Page[memory.Session]](t, "list")(ss.List(ctx, memory.SessionListParams{Status: "ended"}))
	if page.Total != 1 || page.Data[0].ID != s.ID {
		t.Errorf("list ended %+v", page)
	}
	if page = must[memory.Page[memory.Session]](t, "list")(ss.List(ctx, memory.SessionListParams{AgentID: ptr("bot"), Project: ptr("alpha"), Limit: 1})); page.Total != 1 {
		t.Errorf("list filtered %+v", page)
	}
	var nf *memory.NotFoundError
	if _, err := ss.Get(ctx, "00000000-0000-4000-8000-000000000000"); !errors.As(err, &nf) || nf.Kind != "session" {
		t.Errorf("unknown: %v", err)
	}
}

func TestDecisions(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	acct := e.admin.Account()
	ds := acct.Decisions()
	sess := must[memory.Session](t, "session")(acct.Sessions().Create(ctx, memory.NewSession{}))
	d := must[memory.Decision](t, "create")(ds.Create(ctx, memory.NewDecision{
		Title: "Use TypeScript", Rationale: "types catch bugs", Alternatives: ptr("JavaScript"), Project: ptr("alpha"),
		Tags: []string{"lang", "frontend"}, Status: memory.DecisionExperimental, Metadata: json.RawMessage(`{"confidence":0.8}`),
		AgentID: "bot", SessionID: &sess.ID,
	}))
	if d.Status != memory.DecisionExperimental || *d.ProjectSlug != "alpha" || *d.AgentID != "bot" || *d.SessionID != sess.ID ||
		!slices.Equal(d.Tags, []string{"lang", "frontend"}) || *d.Alternatives != "JavaScript" || d.SupersededBy != nil {
		t.Fatalf("create %+v", d)
	}
	in := must[memory.Decision](t, "relay get")(e.relay.Account(e.acct).Decisions().Get(ctx, d.ID))
	sameInstant(t, "decision created_at", d.CreatedAt, in.CreatedAt)
	plain := must[memory.Decision](t, "create plain")(ds.Create(ctx, memory.NewDecision{Title: "Ship on Fridays", Rationale: "why not"}))
	if plain.Tags == nil || len(plain.Tags) != 0 || plain.Metadata != nil || plain.Status != memory.DecisionActive || plain.AgentID != nil {
		t.Errorf("plain %+v", plain)
	}
	got := must[memory.Decision](t, "get")(ds.Get(ctx, d.ID))
	if got.ID != d.ID || got.Title != d.Title {
		t.Errorf("get %+v", got)
	}
	var nf *memory.NotFoundError
	if _, err := ds.Get(ctx, sess.ID); !errors.As(err, &nf) || nf.Kind != "decision" {
		t.Errorf("get unknown: %v", err)
	}
	page := must[memory.Page[memory.Decision]](t, "list")(ds.List(ctx, memory.DecisionListParams{Project: ptr("alpha"), Tags: []string{"lang", "frontend"}, Status: ptr(memory.DecisionExperimental)}))
	if page.Total != 1 || page.Data[0].ID != d.ID {
		t.Errorf("list %+v", page)
	}
	if page = must[memory.Page[memory.Decision]](t, "list all")(ds.List(ctx, memory.DecisionListParams{Limit: 1, Offset: 1})); page.Total != 2 || len(page.Data) != 1 {
		t.Errorf("list all %+v", page)
	}
	nd := must[memory.Decision](t, "supersede")(ds.Supersede(ctx, d.ID, memory.SupersedeParams{Title: "Use Go", Rationale: "one binary"}))
	if !slices.Equal(nd.Tags, d.Tags) || *nd.ProjectSlug != "alpha" || *nd.AgentID != "bot" {
		t.Errorf("supersede inherits tags, project and agent: %+v", nd)
	}
	if old := must[memory.Decision](t, "old")(ds.Get(ctx, d.ID)); old.Status != memory.DecisionSuperseded || *old.SupersededBy != nd.ID {
		t.Errorf("old %+v", old)
	}
	if _, err := ds.Supersede(ctx, d.ID, memory.SupersedeParams{Title: "again", Rationale: "r"}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("supersede a superseded decision: %v", err)
	}
	cleared := must[memory.Decision](t, "supersede without tags")(ds.Supersede(ctx, nd.ID, memory.SupersedeParams{Title: "Use Rust", Rationale: "speed", Tags: []string{}}))
	if cleared.Tags == nil || len(cleared.Tags) != 0 {
		t.Errorf("empty tags replace the old ones: %+v", cleared.Tags)
	}
	hits := must[[]memory.DecisionHit](t, "check")(ds.Check(ctx, memory.DecisionCheckParams{Query: "Use TypeScript", IncludeSuperseded: true, Threshold: ptr(0.0), Limit: 20}))
	if len(hits) == 0 || hits[0].Decision.ID != d.ID || hits[0].Score < 0.8 {
		t.Errorf("check %+v", hits)
	}
	if hits = must[[]memory.DecisionHit](t, "check")(ds.Check(ctx, memory.DecisionCheckParams{Query: "Use TypeScript", Project: ptr("alpha")})); slices.ContainsFunc(hits, func(h memory.DecisionHit) bool { return h.Decision.ID == d.ID }) {
		t.Errorf("check without superseded: %+v", hits)
	}
	if _, err := ds.Check(ctx, memory.DecisionCheckParams{Query: "x", Threshold: ptr(2.0)}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("threshold 2: %v", err)
	}
}

func TestPatterns(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	ps := e.admin.Account().Patterns()
	p := must[memory.Pattern](t, "create")(ps.Create(ctx, memory.NewPattern{
		Title: "Typed APIs", Description: "Use types at every boundary", Category: ptr("design"), ExampleCode: ptr("type X struct{}"),
		Scope: "project", Tags: []string{"types"}, SourceProject: ptr("alpha"), Metadata: json.RawMessage(`{"x":true}`),
	}))
	if p.Scope != "project" || *p.SourceProjectSlug != "alpha" || p.SourceProjectID == nil || *p.Category != "design" ||
		*p.ExampleCode != "type X struct{}" || !slices.Equal(p.Tags, []string{"types"}) || p.AdoptionCount != 0 {
		t.Fatalf("create %+v", p)
	}
	in := must[memory.Pattern](t, "relay get")(e.relay.Account(e.acct).Patterns().Get(ctx, p.ID))
	sameInstant(t, "pattern created_at", p.CreatedAt, in.CreatedAt)
	g := must[memory.Pattern](t, "get")(ps.Get(ctx, p.ID))
	if g.ID != p.ID || g.Title != p.Title {
		t.Errorf("get %+v", g)
	}
	var nf *memory.NotFoundError
	if _, err := ps.Get(ctx, "00000000-0000-4000-8000-000000000000"); !errors.As(err, &nf) || nf.Kind != "pattern" {
		t.Errorf("get unknown: %v", err)
	}
	if _, err := ps.Create(ctx, memory.NewPattern{Title: "t", Description: "d", Scope: "project"}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("project scope without source: %v", err)
	}
	global := must[memory.Pattern](t, "global")(ps.Create(ctx, memory.NewPattern{Title: "Small packages", Description: "one job each"}))
	if global.Tags == nil || global.Scope != "global" || global.Metadata != nil {
		t.Errorf("global %+v", global)
	}
	hits := must[[]memory.PatternHit](t, "search")(ps.Search(ctx, memory.PatternSearchParams{Query: "Typed APIs", Category: ptr("design")}))
	if len(hits) != 1 || hits[0].Pattern.ID != p.ID || hits[0].Score < 0.8 {
		t.Errorf("search %+v", hits)
	}
	adopted := must[memory.Pattern](t, "adopt")(ps.Adopt(ctx, global.ID, "beta"))
	if adopted.AdoptionCount != 1 {
		t.Errorf("adopt %+v", adopted)
	}
	all := must[[]memory.PatternHit](t, "list by adoption")(ps.Search(ctx, memory.PatternSearchParams{Limit: 5}))
	if len(all) != 2 || all[0].Pattern.ID != global.ID || all[0].Score != 0 {
		t.Errorf("search without query %+v", all)
	}
	if hits = must[[]memory.PatternHit](t, "search project")(ps.Search(ctx, memory.PatternSearchParams{Project: ptr("beta"), Threshold: ptr(0.0)})); len(hits) != 1 || hits[0].Pattern.ID != global.ID {
		t.Errorf("search by project %+v", hits)
	}
	sug := must[[]memory.Pattern](t, "suggest")(ps.Suggest(ctx, "beta", 10))
	if len(sug) != 1 || sug[0].ID != p.ID {
		t.Errorf("suggest %+v", sug)
	}
	// Sourcing a pattern is not adopting it: alpha gets both, global first.
	if sug = must[[]memory.Pattern](t, "suggest")(ps.Suggest(ctx, "alpha", 0)); len(sug) != 2 || sug[0].ID != global.ID {
		t.Errorf("suggest for alpha %+v", sug)
	}
	if _, err := ps.Adopt(ctx, p.ID, ""); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("adopt without project: %v", err)
	}
}

func TestProjects(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	acct := e.admin.Account()
	pj := acct.Projects()
	a := must[memory.Project](t, "create")(pj.Create(ctx, memory.NewProject{Slug: "api", Name: "API", Description: ptr("the server"),
		Stack: json.RawMessage(`{"lang":"go"}`), RepoURL: ptr("https://example.test/api"), Metadata: json.RawMessage(`{"team":"core"}`)}))
	if a.Slug != "api" || *a.Description != "the server" || string(a.Stack) != `{"lang":"go"}` || *a.RepoURL != "https://example.test/api" || string(a.Metadata) != `{"team":"core"}` {
		t.Fatalf("create %+v", a)
	}
	in := must[memory.Project](t, "relay get")(e.relay.Account(e.acct).Projects().Get(ctx, "api"))
	sameInstant(t, "project created_at", a.CreatedAt, in.CreatedAt)
	web := must[memory.Project](t, "create web")(pj.Create(ctx, memory.NewProject{Slug: "web", Name: "Web"}))
	if web.Stack != nil || web.Metadata != nil || web.Description != nil {
		t.Errorf("nil fields: %+v", web)
	}
	if _, err := pj.Create(ctx, memory.NewProject{Slug: "api", Name: "again"}); !errors.Is(err, memory.ErrConflict) {
		t.Errorf("taken slug: %v", err)
	}
	var cerr *memory.ConflictError
	if _, err := pj.Create(ctx, memory.NewProject{Slug: "api", Name: "again"}); !errors.As(err, &cerr) || cerr.Message == "" {
		t.Errorf("conflict error: %v", err)
	}
	if g := must[memory.Project](t, "get")(pj.Get(ctx, "api")); g.ID != a.ID {
		t.Errorf("get %+v", g)
	}
	var nf *memory.NotFoundError
	if _, err := pj.Get(ctx, "nope"); !errors.As(err, &nf) || nf.Kind != "project" {
		t.Errorf("get unknown: %v", err)
	}
	rel, created, err := pj.Relate(ctx, "web", memory.NewProjectRelationship{Target: "api", Type: "depends_on", Metadata: json.RawMessage(`{"via":"rest"}`)})
	if err != nil || !created || rel.Source != "web" || rel.Target != "api" || rel.Type != "depends_on" || string(rel.Metadata) != `{"via":"rest"}` || rel.CreatedAt.IsZero() {
		t.Fatalf("relate %+v %v %v", rel, created, err)
	}
	if again, created, err := pj.Relate(ctx, "web", memory.NewProjectRelationship{Target: "api", Type: "depends_on"}); err != nil || created || again.ID != rel.ID {
		t.Errorf("relate again %+v %v %v", again, created, err)
	}
	if _, _, err := pj.Relate(ctx, "web", memory.NewProjectRelationship{Target: "web", Type: "depends_on"}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("relate to itself: %v", err)
	}
	deps := must[[]memory.ProjectLink](t, "dependencies")(pj.Dependencies(ctx, "web"))
	if len(deps) != 1 || deps[0].Slug != "api" || deps[0].Direction != memory.Outgoing || deps[0].Name != "API" || string(deps[0].Metadata) != `{"via":"rest"}` {
		t.Errorf("dependencies %+v", deps)
	}
	dents := must[[]memory.ProjectLink](t, "dependents")(pj.Dependents(ctx, "api"))
	if len(dents) != 1 || dents[0].Slug != "web" || dents[0].Direction != memory.Incoming {
		t.Errorf("dependents %+v", dents)
	}
	if rl := must[[]memory.ProjectLink](t, "related")(pj.Related(ctx, "api")); len(rl) != 1 {
		t.Errorf("related %+v", rl)
	}
	if none := must[[]memory.ProjectLink](t, "no dependencies")(pj.Dependencies(ctx, "api")); none == nil || len(none) != 0 {
		t.Errorf("no dependencies %#v", none)
	}

	must[memory.CreateResult](t, "memory")(acct.Memories().Create(ctx, memory.NewMemory{Content: "web renders the API's JSON dates", Project: ptr("web"), Importance: ptr(0.9)}))
	must[memory.Decision](t, "decision")(acct.Decisions().Create(ctx, memory.NewDecision{Title: "web parses JSON dates", Rationale: "the API sends ISO dates", Project: ptr("web")}))
	pat := must[memory.Pattern](t, "pattern")(acct.Patterns().Create(ctx, memory.NewPattern{Title: "ISO dates", Description: "always"}))
	must[memory.Pattern](t, "adopt")(acct.Patterns().Adopt(ctx, pat.ID, "web"))
	must[memory.Pattern](t, "adopt")(acct.Patterns().Adopt(ctx, pat.ID, "api"))

	pc := must[memory.ProjectContext](t, "context")(pj.Context(ctx, "web"))
	if pc.Project.Slug != "web" || len(pc.HotMemories) != 1 || len(pc.Decisions) != 1 || len(pc.Patterns) != 1 || pc.Markdown == "" {
		t.Errorf("context %+v", pc)
	}
	im := must[memory.Impact](t, "impact")(pj.Impact(ctx, "api", "JSON dates become epoch numbers"))
	if im.Project != "api" || im.ChangeDescription == "" || len(im.Affected) != 1 || im.Affected[0].Slug != "web" || im.Affected[0].Depth != 1 ||
		im.Affected[0].RelationshipType != "depends_on" || len(im.Affected[0].Decisions) == 0 || len(im.Affected[0].Memories) == 0 {
		t.Errorf("impact %+v", im)
	}
	if _, err := pj.Impact(ctx, "api", ""); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("impact without change: %v", err)
	}
	shared := must[[]memory.Pattern](t, "shared")(pj.SharedPatterns(ctx, "api", "web"))
	if len(shared) != 1 || shared[0].ID != pat.ID {
		t.Errorf("shared %+v", shared)
	}

	page := must[memory.Page[memory.Project]](t, "list")(pj.List(ctx, memory.ProjectListParams{Limit: 1}))
	if page.Total != 2 || len(page.Data) != 1 || !page.HasMore || page.NextCursor == nil {
		t.Fatalf("list %+v", page)
	}
	next := must[memory.Page[memory.Project]](t, "next")(pj.List(ctx, memory.ProjectListParams{Limit: 1, Cursor: *page.NextCursor}))
	if len(next.Data) != 1 || next.Data[0].ID == page.Data[0].ID || next.HasMore {
		t.Errorf("next %+v", next)
	}
}

func TestContexts(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	acct := e.admin.Account()
	var ids []string
	for _, c := range []string{"The user prefers TypeScript over JavaScript.", "The user drinks green tea.", "Deployments run on Fridays."} {
		ids = append(ids, must[memory.CreateResult](t, "memory")(acct.Memories().Create(ctx, memory.NewMemory{Content: c, AgentID: "bot", MemoryType: ptr("fact")})).Memory.ID)
	}
	cx := acct.Contexts()
	tc := must[memory.TextContext](t, "text")(cx.Text(ctx, memory.TextContextParams{Query: "what does the user prefer, TypeScript?", AgentID: ptr("bot"), Limit: 2}))
	if len(tc.Hits) == 0 || tc.Hits[0].Memory.ID != ids[0] || tc.Text == "" || tc.TotalChars == 0 {
		t.Errorf("text %+v", tc)
	}
	if none := must[memory.TextContext](t, "text unknown agent")(cx.Text(ctx, memory.TextContextParams{Query: "x", AgentID: ptr("nobody")})); none.Hits == nil || len(none.Hits) != 0 {
		t.Errorf("no hits %#v", none)
	}
	bc := must[memory.BuiltContext](t, "build")(cx.Build(ctx, memory.BuildContextParams{Query: "TypeScript preference", MaxMemories: 2, MaxTokens: 1000, Mode: memory.ModeHybrid, ExcludeIDs: []string{ids[1]}}))
	if len(bc.Items) == 0 || len(bc.Items) > 2 || bc.TokenCount == 0 {
		t.Fatalf("build %+v", bc)
	}
	sum := 0
	for _, it := range bc.Items {
		sum += it.Tokens
		if it.Memory.ID == ids[1] {
			t.Errorf("excluded memory in %+v", bc)
		}
		if it.Memory.AgentID != "bot" || it.Memory.CreatedAt.IsZero() || *it.Memory.MemoryType != "fact" || it.Tokens == 0 {
			t.Errorf("item %+v", it)
		}
	}
	if sum != bc.TokenCount {
		t.Errorf("tokens sum to %d, TokenCount %d", sum, bc.TokenCount)
	}
	if _, err := cx.Build(ctx, memory.BuildContextParams{Query: "x", MaxTokens: 10}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("max tokens 10: %v", err)
	}
}

func TestKeysAndUsage(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	ks := e.admin.Account().Keys()
	exp := time.Now().Add(48 * time.Hour).Truncate(time.Millisecond)
	k, tok, err := ks.Create(ctx, memory.NewKey{Name: "reader", Scopes: scopes.NewSet(scopes.Read), ExpiresAt: &exp, RateLimit: 50, Metadata: json.RawMessage(`{"owner":"ci"}`)})
	if err != nil || tok.IsZero() || k.Prefix != tok.Prefix() || k.Name != "reader" || !k.Scopes.Has(scopes.Read) || k.Scopes.Has(scopes.Write) ||
		k.RateLimit != 50 || k.ExpiresAt == nil || !k.ExpiresAt.Equal(exp) || string(k.Metadata) != `{"owner":"ci"}` || k.RevokedAt != nil || k.CreatedAt.IsZero() {
		t.Fatalf("create %+v %v %v", k, tok, err)
	}
	if v := must[memoryrelay.Auth](t, "the token works")(e.relay.Authorize(ctx, tok.Reveal(), scopes.Read)); v.Key.ID != k.ID {
		t.Errorf("token is another key's: %+v", v.Key)
	}
	reader := e.clientOf(t, tok.Reveal())
	if _, err := reader.Account().Memories().Create(ctx, memory.NewMemory{Content: "x"}); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("reader wrote: %v", err)
	}
	q := must[memory.Quota](t, "quota")(reader.Account().Usage().Quota(ctx))
	if q.Used < 2 || q.Limit != 50*1440 || q.Remaining != q.Limit-q.Used || q.ResetAt.Location() != time.UTC || !q.ResetAt.After(time.Now()) ||
		q.ResetAt.Hour() != 0 || q.ResetAt.Minute() != 0 {
		t.Errorf("quota %+v", q)
	}
	stored := must[keysKey](t, "store get")(e.relay.Account(e.acct).Keys().Get(ctx, k.ID))
	got := must[keysKey](t, "get")(ks.Get(ctx, k.ID))
	if got.ID != k.ID || got.Name != "reader" || got.Prefix != k.Prefix || got.LastUsedAt == nil {
		t.Errorf("get %+v", got)
	}
	sameInstant(t, "key created_at", got.CreatedAt, stored.CreatedAt)
	if got.ID == "" {
		t.Errorf("get %+v", got)
	}
	list := must[memory.Page[keysKey]](t, "list")(ks.List(ctx, memory.PageParams{Limit: 10}))
	if list.Total != 2 || len(list.Data) != 2 {
		t.Errorf("list %+v", list)
	}
	rk, rtok, err := ks.Rotate(ctx, k.ID, 1500*time.Millisecond)
	if err != nil || rk.ID != k.ID || rtok.Reveal() == tok.Reveal() || rk.Prefix != rtok.Prefix() {
		t.Fatalf("rotate %+v %v", rk, err)
	}
	if _, _, err := ks.Rotate(ctx, k.ID, -time.Second); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("negative grace: %v", err)
	}
	rev := must[keysKey](t, "revoke")(ks.Revoke(ctx, k.ID))
	if rev.ID != k.ID || rev.RevokedAt == nil || rev.Name != "reader" || !rev.Scopes.Has(scopes.Read) {
		t.Errorf("revoke %+v", rev)
	}
	if _, err := e.clientOf(t, rtok.Reveal()).Account().Agents().List(ctx, memory.PageParams{}); !errors.Is(err, client.ErrAuthentication) {
		t.Errorf("revoked key: %v", err)
	}
	var nf *memory.NotFoundError
	if _, err := ks.Get(ctx, "00000000-0000-4000-8000-000000000000"); !errors.As(err, &nf) || nf.Kind != "key" {
		t.Errorf("unknown key: %v", err)
	}
	if _, _, err := ks.Create(ctx, memory.NewKey{Name: "none"}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("no scopes: %v", err)
	}
	// The last admin key stays.
	adminID := list.Data[0].ID
	if list.Data[0].ID == k.ID {
		adminID = list.Data[1].ID
	}
	if _, err := ks.Revoke(ctx, adminID); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("revoke the last admin key: %v", err)
	}
}
