package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search"
)

// testEmptyResults: on an account with nothing, every list is empty with
// a total of 0, lookups by lists of ids return nothing, and the singleton
// reads say there is nothing rather than fail.
func testEmptyResults(t *testing.T, open Opener) {
	ctx := context.Background()
	st := openStore(t, open)
	acct, err := st.CreateAccount(ctx, "empty", t0)
	if err != nil {
		t.Fatal(err)
	}
	A := acct.ID
	list := func(name string, n, total int, err error) {
		t.Helper()
		if err != nil || n != 0 || total != 0 {
			t.Errorf("%s: %d rows, total %d, %v", name, n, total, err)
		}
	}
	ms, total, err := st.ListMemories(ctx, store.Filter{AccountID: A}, 10, 0, nil)
	list("ListMemories", len(ms), total, err)
	ms, total, err = st.ListMemories(ctx, store.Filter{AccountID: A, AgentRef: ptr("nobody")}, 10, 0, nil)
	list("ListMemories of an unknown agent", len(ms), total, err)
	ags, total, err := st.ListAgents(ctx, A, 10, 0, nil)
	list("ListAgents", len(ags), total, err)
	es, total, err := st.ListEntities(ctx, store.EntityFilter{AccountID: A, AgentRef: ptr("nobody")}, 10, 0, nil)
	list("ListEntities", len(es), total, err)
	ds, total, err := st.ListDecisions(ctx, store.DecisionFilter{AccountID: A}, 10, 0, nil)
	list("ListDecisions", len(ds), total, err)
	xs, total, err := st.ListSessions(ctx, store.SessionFilter{AccountID: A, AgentRef: ptr("nobody")}, 10, 0, nil)
	list("ListSessions", len(xs), total, err)
	ps, total, err := st.ListProjects(ctx, A, 10, 0, nil)
	list("ListProjects", len(ps), total, err)
	ks, total, err := st.Keys().ListKeys(ctx, A, 10, 0)
	list("ListKeys", len(ks), total, err)

	empty := func(name string, n int, err error) {
		t.Helper()
		if err != nil || n != 0 {
			t.Errorf("%s: %d, %v", name, n, err)
		}
	}
	got, err := st.Rows(ctx, A, nil)
	empty("Rows(nil)", len(got), err)
	got, err = st.Rows(ctx, A, []int64{1, 2, 3})
	empty("Rows", len(got), err)
	vs, err := st.Vectors(ctx, nil)
	empty("Vectors(nil)", len(vs), err)
	td, err := st.TermDocs(ctx, nil)
	empty("TermDocs(nil)", len(td), err)
	if td == nil {
		t.Error("TermDocs(nil) is a nil map")
	}
	td, err = st.TermDocs(ctx, []string{"absent"})
	empty("TermDocs", len(td), err)
	sc, err := st.TextCandidates(ctx, search.Filter{AccountID: A}, nil)
	empty("TextCandidates with no term", len(sc), err)
	sc, err = st.TextCandidates(ctx, search.Filter{AccountID: A}, []string{"anything"})
	empty("TextCandidates", len(sc), err)
	vc, err := st.NearestVectors(ctx, search.Filter{AccountID: A}, []float32{1, 0, 0, 0}, 10)
	empty("NearestVectors", len(vc), err)
	dd, err := st.DecisionsByID(ctx, A, nil)
	empty("DecisionsByID(nil)", len(dd), err)
	pp, err := st.PatternsByID(ctx, A, nil)
	empty("PatternsByID(nil)", len(pp), err)
	pp, err = st.TopPatterns(ctx, store.PatternFilter{AccountID: A, Project: ptr("unknown")}, 10)
	empty("TopPatterns of an unknown project", len(pp), err)
	n := 0
	err = st.DecisionCandidates(ctx, store.DecisionFilter{AccountID: A}, vecOf(1, 0, 0, 0), 10, func(store.RankCandidate) { n++ })
	empty("DecisionCandidates", n, err)
	tr, err := st.TextsAfter(ctx, "memories", 0, 10)
	empty("TextsAfter", len(tr), err)
	mk, err := st.MetaKeys(ctx, "no-such-prefix")
	empty("MetaKeys", len(mk), err)

	if v, ok, err := st.Meta(ctx, "absent"); err != nil || ok || v != "" {
		t.Errorf("Meta: %q %v %v", v, ok, err)
	}
	if c, err := st.KeyUsage(ctx, "no-key", "2024-01-01"); err != nil || c != 0 {
		t.Errorf("KeyUsage: %d %v", c, err)
	}
	if _, ok, err := st.Jobs(nil).NextExpiry(ctx); err != nil || ok {
		t.Errorf("NextExpiry: %v %v", ok, err)
	}
	if _, ok, err := st.Jobs(nil).Claim(ctx, "w", t0, time.Minute); err != nil || ok {
		t.Errorf("Claim: %v %v", ok, err)
	}
	if q, err := st.JobQueueState(ctx); err != nil || q != (store.JobQueue{}) {
		t.Errorf("JobQueueState: %+v %v", q, err)
	}
	if n, err := st.DeleteUserMemories(ctx, A, "nobody"); err != nil || n != 0 {
		t.Errorf("DeleteUserMemories: %d %v", n, err)
	}
	if err := st.AddKeyUsage(ctx, nil); err != nil {
		t.Errorf("AddKeyUsage(nil): %v", err)
	}
	// Usage of a key that is gone is dropped, not an error.
	if err := st.AddKeyUsage(ctx, []store.Usage{{KeyID: "gone", Day: "2024-01-01", Count: 1}}); err != nil {
		t.Errorf("AddKeyUsage of a deleted key: %v", err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Error(err)
	}
	if err := st.CheckRead(ctx); err != nil {
		t.Error(err)
	}
}

// testNotFound: every read or write of one object by an id the account
// does not have is ErrNotFound (keys: keys.ErrNotFound).
func testNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, _ := twoTenants(t, open)
	A := a.account.ID
	now := t0.Add(time.Hour)
	for name, call := range map[string]func() error{
		"Account":       func() error { _, err := st.Account(ctx, "nope"); return err },
		"AccountByName": func() error { _, err := st.AccountByName(ctx, "nope"); return err },
		"ResolveAgent":  func() error { _, err := st.ResolveAgent(ctx, A, "nope"); return err },
		"GetAgent":      func() error { _, err := st.GetAgent(ctx, A, "nope"); return err },
		"AgentStats":    func() error { _, err := st.AgentStats(ctx, A, "nope"); return err },
		"UpdateAgent": func() error {
			_, err := st.UpdateAgent(ctx, A, "nope", func(*store.Agent) error { return nil })
			return err
		},
		"DeleteAgent": func() error { _, _, err := st.DeleteAgent(ctx, A, "nope"); return err },
		"GetMemory":   func() error { _, err := st.GetMemory(ctx, A, "nope"); return err },
		"UpdateMemory": func() error {
			_, err := st.UpdateMemory(ctx, A, "nope", func(*store.Memory) error { return nil }, nil)
			return err
		},
		"DeleteMemory": func() error { return st.DeleteMemory(ctx, A, "nope") },
		"GetSession":   func() error { _, _, err := st.GetSession(ctx, A, "nope", 0); return err },
		"GetSession with memories": func() error {
			_, _, err := st.GetSession(ctx, A, "nope", 5)
			return err
		},
		"EndSession":   func() error { _, err := st.EndSession(ctx, A, "nope", nil, now); return err },
		"GetProject":   func() error { _, err := st.GetProject(ctx, A, "nope"); return err },
		"ProjectLinks": func() error { _, err := st.ProjectLinks(ctx, A, "nope", true, true, nil, 10); return err },
		"Dependents":   func() error { _, err := st.Dependents(ctx, A, "nope", []string{"depends_on"}, 3, 10); return err },
		"GetEntity":    func() error { _, err := st.GetEntity(ctx, A, "nope"); return err },
		"DeleteEntity": func() error { return st.DeleteEntity(ctx, A, "nope") },
		"Neighborhood": func() error { _, _, _, err := st.Neighborhood(ctx, A, "nope", 2, 10, 100); return err },
		"GetDecision":  func() error { _, err := st.GetDecision(ctx, A, "nope"); return err },
		"GetPattern":   func() error { _, err := st.GetPattern(ctx, A, "nope"); return err },
		"AdoptPattern": func() error { _, err := st.AdoptPattern(ctx, A, "nope", "web", now); return err },
		"SuggestPatterns": func() error {
			_, err := st.SuggestPatterns(ctx, A, "nope", 10)
			return err
		},
		"JobByID":     func() error { _, err := st.JobByID(ctx, A, "nope"); return err },
		"JobByMemory": func() error { _, err := st.JobByMemory(ctx, A, "nope"); return err },
		"Renew":       func() error { return st.Jobs(nil).Renew(ctx, jobs.Lease{JobID: "nope", Owner: "w", Attempt: 1}, now) },
		"Fail": func() error {
			_, err := st.Jobs(nil).Fail(ctx, jobs.Lease{JobID: "nope", Owner: "w", Attempt: 1}, "m", now)
			return err
		},
		"SupersedeDecision": func() error {
			d := store.Decision{ID: "d2", AccountID: A, Title: "t", Rationale: "r", Status: "active", CreatedAt: now, UpdatedAt: now}
			return st.SupersedeDecision(ctx, A, "nope", &d, nil, func(store.Decision, *store.Decision) error { return nil })
		},
		"relationship from an unknown project": func() error {
			_, err := st.InsertProjectRelationship(ctx, &store.ProjectRelationship{AccountID: A, Source: "nope", Target: "web", Type: "t", CreatedAt: now})
			return err
		},
		"LinkEntity": func() error {
			_, err := st.LinkEntity(ctx, A, &store.EntityLink{EntityID: "nope", MemoryID: a.memory.ID, CreatedAt: now})
			return err
		},
	} {
		if err := call(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	for name, call := range map[string]func() error{
		"KeyByID":      func() error { _, err := st.Keys().KeyByID(ctx, A, "nope"); return err },
		"SecretByHash": func() error { _, err := st.Keys().SecretByHash(ctx, [32]byte{1}); return err },
		"RevokeKey":    func() error { _, err := st.Keys().RevokeKey(ctx, A, "nope", now); return err },
		"RotateKey":    func() error { _, err := st.Keys().RotateKey(ctx, A, "nope", [32]byte{2}, "p", now, now); return err },
	} {
		if err := call(); !errors.Is(err, keys.ErrNotFound) {
			t.Errorf("%s: %v, want keys.ErrNotFound", name, err)
		}
	}
	if ok, err := st.SessionExists(ctx, A, "nope"); err != nil || ok {
		t.Errorf("SessionExists: %v %v", ok, err)
	}
	if _, err := st.TextsAfter(ctx, "accounts", 0, 1); err == nil {
		t.Error("TextsAfter of a table without embeddings")
	}
	if err := st.SetEmbeddings(ctx, "accounts", nil, nil, "c"); err == nil {
		t.Error("SetEmbeddings of a table without embeddings")
	}
}

// pageCase is one list of the store, read a page at a time.
type pageCase struct {
	name string
	page func(limit, offset int) (ids []string, total int, err error)
}

// checkPages reads the whole list in one page and then in pages of 1, 2
// and n-1 rows, and checks the pages add up to it exactly, with the
// total on every page, an empty page at the end and past it, and an
// empty page of limit 0.
func checkPages(t *testing.T, c pageCase, want []string) {
	t.Helper()
	n := len(want)
	all, total, err := c.page(n+5, 0)
	if err != nil || total != n || !slices.Equal(all, want) {
		t.Fatalf("%s: whole list %v (total %d), %v; want %v", c.name, all, total, err, want)
	}
	for _, size := range []int{1, 2, n - 1} {
		var got []string
		for offset := 0; ; offset += size {
			ids, total, err := c.page(size, offset)
			if err != nil || total != n {
				t.Fatalf("%s: page %d+%d: total %d, %v", c.name, offset, size, total, err)
			}
			if len(ids) > size {
				t.Fatalf("%s: page of %d has %d rows", c.name, size, len(ids))
			}
			if len(ids) == 0 {
				if offset < n {
					t.Fatalf("%s: empty page at %d of %d", c.name, offset, n)
				}
				break
			}
			got = append(got, ids...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: pages of %d give %v, want %v", c.name, size, got, want)
		}
	}
	if ids, total, err := c.page(10, n+10); err != nil || len(ids) != 0 || total != n {
		t.Fatalf("%s: past the end: %v %d %v", c.name, ids, total, err)
	}
	if ids, total, err := c.page(0, 0); err != nil || len(ids) != 0 || total != n {
		t.Fatalf("%s: limit 0: %v %d %v", c.name, ids, total, err)
	}
}

// idsOf returns f of each of xs: their ids, say.
func idsOf[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// testPagination: every list is newest first, ties of the timestamp
// broken by id descending, and its pages cover it exactly at every page
// size; every list but the keys also pages by position (after), ties
// included.
func testPagination(t *testing.T, open Opener) {
	ctx := context.Background()
	st := openStore(t, open)
	acct, err := st.CreateAccount(ctx, "p", t0)
	if err != nil {
		t.Fatal(err)
	}
	A := acct.ID
	seedTenant(t, st, "other") // rows of another account, never counted
	const n = 5
	// Items 0..4: 1 and 2 share a timestamp, so their order is by id.
	at := func(i int) time.Time {
		if i == 2 {
			i = 1
		}
		return t0.Add(time.Duration(i) * time.Second)
	}
	var want []string // newest first
	for i := range n {
		id := fmt.Sprintf("id-%d", i)
		now := at(i)
		if _, _, err := st.CreateAgent(ctx, A, id, "", nil, nil, now); err != nil {
			t.Fatal(err)
		}
		m := store.Memory{ID: id, AccountID: A, AgentRef: id, Content: "c", Visibility: "private", Tier: "warm", Scope: "long-term", CreatedAt: now, UpdatedAt: now}
		if err := st.InsertMemory(ctx, &m, store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "c"}); err != nil {
			t.Fatal(err)
		}
		if err := st.InsertEntity(ctx, &store.Entity{ID: id, AccountID: A, Name: id, Type: "other", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.InsertDecision(ctx, &store.Decision{ID: id, AccountID: A, Title: "t", Rationale: "r", Status: "active", CreatedAt: now, UpdatedAt: now}, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.InsertSession(ctx, &store.Session{ID: id, AccountID: A, AgentRef: id, Status: store.SessionActive, StartedAt: now, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.InsertProject(ctx, &store.Project{ID: id, AccountID: A, Slug: fmt.Sprintf("p%d", i), Name: id, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.Keys().InsertKey(ctx, keys.Key{ID: id, AccountID: A, Name: id, Prefix: id, Scopes: scopes.NewSet(scopes.Read), CreatedAt: now}, [32]byte{byte(i), 7}); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...)
	}
	// 1 and 2 tie: 2 (the greater id) comes first, as it already does.
	if !slices.Equal(want, []string{"id-4", "id-3", "id-2", "id-1", "id-0"}) {
		t.Fatal(want)
	}
	cases := []pageCase{
		{"ListMemories", func(l, o int) ([]string, int, error) {
			xs, total, err := st.ListMemories(ctx, store.Filter{AccountID: A}, l, o, nil)
			return idsOf(xs, func(m store.Memory) string { return m.ID }), total, err
		}},
		{"ListAgents", func(l, o int) ([]string, int, error) {
			xs, total, err := st.ListAgents(ctx, A, l, o, nil)
			return idsOf(xs, func(a store.Agent) string { return a.ID }), total, err
		}},
		{"ListEntities", func(l, o int) ([]string, int, error) {
			xs, total, err := st.ListEntities(ctx, store.EntityFilter{AccountID: A}, l, o, nil)
			return idsOf(xs, func(e store.Entity) string { return e.ID }), total, err
		}},
		{"ListDecisions", func(l, o int) ([]string, int, error) {
			xs, total, err := st.ListDecisions(ctx, store.DecisionFilter{AccountID: A}, l, o, nil)
			return idsOf(xs, func(d store.Decision) string { return d.ID }), total, err
		}},
		{"ListSessions", func(l, o int) ([]string, int, error) {
			xs, total, err := st.ListSessions(ctx, store.SessionFilter{AccountID: A}, l, o, nil)
			return idsOf(xs, func(x store.Session) string { return x.ID }), total, err
		}},
		{"ListProjects", func(l, o int) ([]string, int, error) {
			xs, total, err := st.ListProjects(ctx, A, l, o, nil)
			return idsOf(xs, func(p store.Project) string { return p.ID }), total, err
		}},
		{"ListKeys", func(l, o int) ([]string, int, error) {
			xs, total, err := st.Keys().ListKeys(ctx, A, l, o)
			return idsOf(xs, func(k keys.Key) string { return k.ID }), total, err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkPages(t, c, want) })
	}

	// By position: each page starts after the last row of the one
	// before, and offset is then ignored.
	offset := func(after *store.Position) int {
		if after == nil {
			return 0
		}
		return 3
	}
	type positioned func(limit int, after *store.Position) (ids []string, last store.Position, total int, err error)
	// byPosition makes a positioned list of list, whose rows have the id
	// and the instant of their order.
	byPosition := func(list func(limit, offset int, after *store.Position) ([]string, []time.Time, int, error)) positioned {
		return func(l int, after *store.Position) ([]string, store.Position, int, error) {
			ids, at, total, err := list(l, offset(after), after)
			if len(ids) == 0 {
				return nil, store.Position{}, total, err
			}
			return ids, store.Position{CreatedAt: at[len(at)-1].UnixMilli(), ID: ids[len(ids)-1]}, total, err
		}
	}
	for name, list := range map[string]positioned{
		"ListMemories": byPosition(func(l, o int, after *store.Position) ([]string, []time.Time, int, error) {
			xs, total, err := st.ListMemories(ctx, store.Filter{AccountID: A}, l, o, after)
			return idsOf(xs, func(m store.Memory) string { return m.ID }), idsOf(xs, func(m store.Memory) time.Time { return m.CreatedAt }), total, err
		}),
		"ListProjects": byPosition(func(l, o int, after *store.Position) ([]string, []time.Time, int, error) {
			xs, total, err := st.ListProjects(ctx, A, l, o, after)
			return idsOf(xs, func(p store.Project) string { return p.ID }), idsOf(xs, func(p store.Project) time.Time { return p.CreatedAt }), total, err
		}),
		"ListAgents": byPosition(func(l, o int, after *store.Position) ([]string, []time.Time, int, error) {
			xs, total, err := st.ListAgents(ctx, A, l, o, after)
			return idsOf(xs, func(a store.Agent) string { return a.ID }), idsOf(xs, func(a store.Agent) time.Time { return a.CreatedAt }), total, err
		}),
		"ListEntities": byPosition(func(l, o int, after *store.Position) ([]string, []time.Time, int, error) {
			xs, total, err := st.ListEntities(ctx, store.EntityFilter{AccountID: A}, l, o, after)
			return idsOf(xs, func(e store.Entity) string { return e.ID }), idsOf(xs, func(e store.Entity) time.Time { return e.CreatedAt }), total, err
		}),
		"ListDecisions": byPosition(func(l, o int, after *store.Position) ([]string, []time.Time, int, error) {
			xs, total, err := st.ListDecisions(ctx, store.DecisionFilter{AccountID: A}, l, o, after)
			return idsOf(xs, func(d store.Decision) string { return d.ID }), idsOf(xs, func(d store.Decision) time.Time { return d.CreatedAt }), total, err
		}),
		"ListSessions": byPosition(func(l, o int, after *store.Position) ([]string, []time.Time, int, error) {
			xs, total, err := st.ListSessions(ctx, store.SessionFilter{AccountID: A}, l, o, after)
			return idsOf(xs, func(x store.Session) string { return x.ID }), idsOf(xs, func(x store.Session) time.Time { return x.StartedAt }), total, err
		}),
	} {
		// Pages of 1 put the tie (2, 1) across a page boundary.
		for _, size := range []int{1, 2} {
			var got []string
			var after *store.Position
			for range n + 1 {
				ids, last, total, err := list(size, after)
				if err != nil || total != n {
					t.Fatalf("%s: total %d, %v", name, total, err)
				}
				if len(ids) == 0 {
					break
				}
				got = append(got, ids...)
				after = &last
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s by position, pages of %d: %v, want %v", name, size, got, want)
			}
		}
	}
}

// testMemoryFilters: each field of a Filter narrows a list, and searches
// leave out confidential and archived memories unless asked.
func testMemoryFilters(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, _ := twoTenants(t, open)
	A := a.account.ID
	add := func(id string, edit func(*store.Memory)) store.Memory {
		m := store.Memory{ID: id, AccountID: A, AgentRef: "bot", Content: id, Visibility: "private", Importance: 0.5, Tier: "warm",
			Scope: "long-term", CreatedAt: t0, UpdatedAt: t0}
		edit(&m)
		if err := st.InsertMemory(ctx, &m, store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "common " + id}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	add("hot", func(m *store.Memory) { m.Tier = "hot"; m.Importance = 0.9 })
	add("session-scoped", func(m *store.Memory) { m.Scope = "session" })
	add("other-agent", func(m *store.Memory) { m.AgentRef = "helper" })
	add("tagged", func(m *store.Memory) { m.Metadata = []byte(`{"namespace":"ns","kind":{"a":[1,2]},"n":3}`) })
	add("secret", func(m *store.Memory) { m.Visibility = "confidential" })
	add("old", func(m *store.Memory) { m.ArchivedAt = ptr(t0) })

	list := func(f store.Filter) []string {
		t.Helper()
		f.AccountID = A
		xs, total, err := st.ListMemories(ctx, f, 100, 0, nil)
		if err != nil || total != len(xs) {
			t.Fatalf("%+v: %d of %d, %v", f, len(xs), total, err)
		}
		ids := idsOf(xs, func(m store.Memory) string { return m.ID })
		slices.Sort(ids)
		return ids
	}
	for _, c := range []struct {
		f    store.Filter
		want []string
	}{
		{store.Filter{Tier: ptr("hot")}, []string{"hot"}},
		{store.Filter{MinImportance: ptr(0.8)}, []string{"hot"}},
		{store.Filter{Scope: "session"}, []string{"session-scoped"}},
		{store.Filter{Scope: "all", AgentRef: ptr("helper")}, []string{"other-agent"}},
		{store.Filter{UserID: ptr("user")}, []string{a.memory.ID}},
		{store.Filter{SessionID: &a.session.ID}, []string{a.memory.ID}},
		{store.Filter{Project: ptr("web")}, []string{a.memory.ID}},
		{store.Filter{Namespace: ptr("ns")}, []string{"tagged"}},
		{store.Filter{Metadata: map[string][]byte{"n": []byte("3")}}, []string{"tagged"}},
		{store.Filter{Metadata: map[string][]byte{"n": []byte(`"3"`)}}, nil}, // a string is not the number
		{store.Filter{Metadata: map[string][]byte{"kind": []byte(`{"a": [1, 2]}`)}}, []string{"tagged"}},
		{store.Filter{Metadata: map[string][]byte{"kind": []byte(`{"a":[2,1]}`)}}, nil},
		{store.Filter{Metadata: map[string][]byte{"absent": []byte("null")}}, nil},
		// Lists always include confidential and archived memories.
		{store.Filter{Tier: ptr("warm"), AgentRef: ptr("bot"), Scope: "long-term", MinImportance: ptr(0.0)},
			[]string{a.memory.ID, "old", "secret", "tagged"}},
	} {
		if got := list(c.f); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v, want %v", c.f, got, c.want)
		}
	}

	// Searches: hidden memories only when asked for.
	searched := func(f search.Filter) int {
		t.Helper()
		f.AccountID = A
		vs, err := st.NearestVectors(ctx, f, []float32{1, 0, 0, 0}, 100)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := st.TextCandidates(ctx, f, []string{"common"})
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != len(ts)+1 { // the fixture's memory has no term "common"
			t.Fatalf("%+v: %d by vector, %d by text", f, len(vs), len(ts))
		}
		return len(ts)
	}
	for _, c := range []struct {
		f    search.Filter
		want int
	}{
		{search.Filter{}, 4},
		{search.Filter{IncludeConfidential: true}, 5},
		{search.Filter{IncludeArchived: true}, 5},
		{search.Filter{IncludeConfidential: true, IncludeArchived: true}, 6},
	} {
		if got := searched(c.f); got != c.want {
			t.Errorf("%+v: %d, want %d", c.f, got, c.want)
		}
	}
	// Vector candidates come nearest first and stop at k.
	if vs, err := st.NearestVectors(ctx, search.Filter{AccountID: A}, []float32{1, 0, 0, 0}, 2); err != nil || len(vs) != 2 {
		t.Fatalf("k=2: %+v %v", vs, err)
	}
}

// testVectorsInChunks: a lookup of many vectors at once (more than one
// IN list of the SQLite store holds) finds those there are, and ids
// without a vector are left out.
// manyIDs is the SQLite store's longest IN list of vectors.
const manyIDs = 500

func testVectorsInChunks(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, b := twoTenants(t, open)
	seqs := make([]int64, 0, 2*manyIDs+3)
	for i := range 2*manyIDs + 1 {
		seqs = append(seqs, int64(1000+i))
	}
	seqs = append(seqs, a.memory.Seq, b.memory.Seq)
	got, err := st.Vectors(ctx, seqs)
	if err != nil || len(got) != 2 || got[a.memory.Seq] == nil || got[b.memory.Seq] == nil {
		t.Fatalf("%d vectors, %v", len(got), err)
	}
	m, err := st.FilterVectors(ctx, search.Filter{AccountID: a.account.ID}, seqs)
	if err != nil || len(m) != 1 || m[a.memory.Seq] == nil {
		t.Fatalf("matching: %d, %v", len(m), err)
	}
}

// testMetaAndReembedding: meta values, the re-embedding walk over each
// embedded table, and its checkpoint.
func testMetaAndReembedding(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, _ := twoTenants(t, open)
	if v, err := st.SetMetaIfAbsent(ctx, "model", "first"); err != nil || v != "first" {
		t.Fatal(v, err)
	}
	if v, err := st.SetMetaIfAbsent(ctx, "model", "second"); err != nil || v != "first" {
		t.Fatal(v, err)
	}
	if err := st.SetMeta(ctx, "reembed:a", "1"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta(ctx, "reembed:b", "2"); err != nil {
		t.Fatal(err)
	}
	if ks, err := st.MetaKeys(ctx, "reembed:"); err != nil || len(ks) != 2 {
		t.Fatal(ks, err)
	}
	if err := st.FinishMeta(ctx, "model", "third", "reembed:a", "reembed:b"); err != nil {
		t.Fatal(err)
	}
	if ks, err := st.MetaKeys(ctx, "reembed:"); err != nil || len(ks) != 0 {
		t.Fatal(ks, err)
	}
	if v, _, _ := st.Meta(ctx, "model"); v != "third" {
		t.Fatal(v)
	}
	for _, table := range store.Embedded {
		rows, err := st.TextsAfter(ctx, table, 0, 1)
		if err != nil || len(rows) != 1 {
			t.Fatalf("%s: %+v %v", table, rows, err)
		}
		if table == "decisions" && rows[0].Text != "Use SQLite\n\none file" {
			t.Fatalf("decision text %q", rows[0].Text)
		}
		// Two rows in all (one per tenant): the second page is the last.
		next, err := st.TextsAfter(ctx, table, rows[0].RowID, 10)
		if err != nil || len(next) != 1 {
			t.Fatalf("%s after %d: %+v %v", table, rows[0].RowID, next, err)
		}
		if err := st.SetEmbeddings(ctx, table, []int64{rows[0].RowID}, [][]float32{vecOf(0, 0, 0, 1)}, "ckpt:"+table); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := st.Meta(ctx, "ckpt:"+table); err != nil || !ok || v != fmt.Sprint(rows[0].RowID) {
			t.Fatalf("%s checkpoint %q %v %v", table, v, ok, err)
		}
	}
	// The new vector is what searches see.
	if vs, err := st.NearestVectors(ctx, search.Filter{AccountID: a.account.ID}, []float32{0, 0, 0, 1}, 1); err != nil || len(vs) != 1 || vs[0].Distance > 1e-6 {
		t.Fatalf("%+v %v", vs, err)
	}
	if err := st.SetEmbeddings(ctx, "memories", nil, nil, "ckpt:none"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Meta(ctx, "ckpt:none"); ok {
		t.Fatal("an empty batch wrote a checkpoint")
	}
}

// testAgentLifecycle: ids chosen or made, names unique per account,
// renames, statistics, and a delete that takes the agent's memories,
// sessions, entities and pending jobs with it.
func testAgentLifecycle(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, _ := twoTenants(t, open)
	A := a.account.ID
	// By name only: the existing agent, unchanged.
	got, created, err := st.CreateAgent(ctx, A, "", "bot", ptr("ignored"), nil, t0)
	if err != nil || created || got.ID != a.agent.ID || got.Description != nil {
		t.Fatalf("%+v %v %v", got, created, err)
	}
	// By name only, new: a UUID id.
	fresh, created, err := st.CreateAgent(ctx, A, "", "fresh", nil, []byte(`{"x":1}`), t0)
	if err != nil || !created || len(fresh.ID) != 36 || string(fresh.Metadata) != `{"x":1}` {
		t.Fatalf("%+v %v %v", fresh, created, err)
	}
	// A UUID written in upper case finds it.
	if id, err := st.ResolveAgent(ctx, A, strings.ToUpper(fresh.ID)); err != nil || id != fresh.ID {
		t.Fatalf("%q %v", id, err)
	}
	// By the same id again: unchanged.
	if again, created, err := st.CreateAgent(ctx, A, fresh.ID, "other", nil, nil, t0); err != nil || created || again.Name != "fresh" {
		t.Fatalf("%+v %v %v", again, created, err)
	}
	if _, err := st.UpdateAgent(ctx, A, "fresh", func(x *store.Agent) error { x.Name = "bot"; return nil }); !errors.Is(err, store.ErrNameTaken) {
		t.Fatalf("rename onto a taken name: %v", err)
	}
	up, err := st.UpdateAgent(ctx, A, "fresh", func(x *store.Agent) error { x.Name = "renamed"; x.UpdatedAt = t0.Add(time.Second); return nil })
	if err != nil || up.Name != "renamed" || up.ID != fresh.ID || !up.UpdatedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("%+v %v", up, err)
	}
	stats, err := st.AgentStats(ctx, A, a.agent.ID)
	if err != nil || stats.MemoryCount != 1 || stats.EntityCount != 1 || stats.LastUpdated == nil {
		t.Fatalf("%+v %v", stats, err)
	}
	ag, err := st.GetAgent(ctx, A, "bot")
	if err != nil || ag.MemoryCount != 1 || ag.SessionCount != 1 || ag.ProjectCount != 1 || ag.LastActiveAt == nil {
		t.Fatalf("%+v %v", ag, err)
	}
	// A pending job naming the agent goes with it.
	if err := st.InsertJob(ctx, jobs.Job{ID: "job-bot", MemoryID: "m-bot", AccountID: A, Status: jobs.Pending,
		Payload: []byte(`{"memory":{"AgentID":"bot"}}`), CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// What the delete takes, by id or name, listed first (for its events).
	for _, ref := range []string{"bot", a.agent.ID} {
		if ids, err := st.AgentMemoryIDs(ctx, A, ref); err != nil || len(ids) != 1 || ids[0] != a.memory.ID {
			t.Fatalf("AgentMemoryIDs(%q) = %v, %v", ref, ids, err)
		}
	}
	if ids, err := st.AgentMemoryIDs(ctx, A, up.ID); err != nil || len(ids) != 0 {
		t.Fatalf("AgentMemoryIDs of an agent without memories = %v, %v", ids, err)
	}
	if _, err := st.AgentMemoryIDs(ctx, A, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AgentMemoryIDs of no agent: %v", err)
	}
	id, n, err := st.DeleteAgent(ctx, A, "bot")
	if err != nil || id != a.agent.ID || n != 1 {
		t.Fatalf("%q %d %v", id, n, err)
	}
	for name, err := range map[string]error{
		"memory":  func() error { _, err := st.GetMemory(ctx, A, a.memory.ID); return err }(),
		"session": func() error { _, _, err := st.GetSession(ctx, A, a.session.ID, 0); return err }(),
		"entity":  func() error { _, err := st.GetEntity(ctx, A, a.entity.ID); return err }(),
		"job":     func() error { _, err := st.JobByID(ctx, A, "job-bot"); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of the deleted agent: %v", name, err)
		}
	}
	// The decision stays, without its agent.
	if d, err := st.GetDecision(ctx, A, a.decision.ID); err != nil || d.AgentID != nil || *d.AgentRef != "bot" {
		t.Fatalf("%+v %v", d, err)
	}
	// The job of another agent stays.
	if _, err := st.JobByID(ctx, A, a.job.ID); err != nil {
		t.Fatal(err)
	}
}

// testSessionsAndLinks: get-or-create by external id, ending a session,
// and linking entities (idempotently) with the counts that follow.
func testSessionsAndLinks(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, _ := twoTenants(t, open)
	A := a.account.ID
	later := t0.Add(time.Minute)
	x, created, err := st.GetOrCreateSession(ctx, store.Session{ID: "new", AccountID: A, AgentRef: "bot", ExternalID: ptr("ext-2"),
		Status: store.SessionActive, StartedAt: later, CreatedAt: later, UpdatedAt: later})
	if err != nil || !created || x.ID != "new" || x.AgentID != a.agent.ID {
		t.Fatalf("%+v %v %v", x, created, err)
	}
	if _, _, err := st.GetOrCreateSession(ctx, store.Session{AccountID: A}); err == nil {
		t.Fatal("get-or-create without an external id")
	}
	if err := st.InsertSession(ctx, &store.Session{ID: "dup", AccountID: A, AgentRef: "bot", ExternalID: ptr("ext-2"), Status: store.SessionActive,
		StartedAt: later, CreatedAt: later, UpdatedAt: later}); err == nil {
		t.Fatal("a second session with one external id")
	}
	ended, err := st.EndSession(ctx, A, a.session.ID, ptr("done"), later)
	if err != nil || ended.Status != store.SessionEnded || !ended.EndedAt.Equal(later) || *ended.Summary != "done" || !ended.UpdatedAt.Equal(later) {
		t.Fatalf("%+v %v", ended, err)
	}
	// Ending again with the same summary changes nothing; a new summary
	// moves updated_at a millisecond at least, even at the same instant.
	if again, err := st.EndSession(ctx, A, a.session.ID, ptr("done"), later); err != nil || !again.UpdatedAt.Equal(later) {
		t.Fatalf("%+v %v", again, err)
	}
	if again, err := st.EndSession(ctx, A, a.session.ID, ptr("redone"), later); err != nil || !again.UpdatedAt.Equal(later.Add(time.Millisecond)) ||
		!again.EndedAt.Equal(later) {
		t.Fatalf("%+v %v", again, err)
	}
	if xs, total, err := st.ListSessions(ctx, store.SessionFilter{AccountID: A, Status: ptr(store.SessionEnded), Project: ptr("web"), AgentRef: ptr("bot")}, 10, 0, nil); err != nil ||
		total != 1 || xs[0].ID != a.session.ID {
		t.Fatalf("%+v %v", xs, err)
	}

	l := store.EntityLink{EntityID: a.entity.ID, MemoryID: a.memory.ID, Relationship: "other", CreatedAt: later}
	if created, err := st.LinkEntity(ctx, A, &l); err != nil || created || l.Relationship != "mentioned_in" || !l.CreatedAt.Equal(t0) {
		t.Fatalf("relink: %+v %v %v", l, created, err)
	}
	e2 := store.Entity{ID: "e2", AccountID: A, Name: "SQLite", Type: "tool", CreatedAt: later, UpdatedAt: later}
	if err := st.InsertEntity(ctx, &e2); err != nil {
		t.Fatal(err)
	}
	if created, err := st.LinkEntity(ctx, A, &store.EntityLink{EntityID: "e2", MemoryID: a.memory.ID, Relationship: "uses", CreatedAt: later}); err != nil || !created {
		t.Fatal(created, err)
	}
	e, nb, stats, err := st.Neighborhood(ctx, A, a.entity.ID, 2, 10, 100)
	if err != nil || e.ID != a.entity.ID || len(nb) != 1 || nb[0].ID != "e2" || nb[0].Relationship != "uses" || nb[0].Depth != 1 || stats.Truncated {
		t.Fatalf("%+v %+v %+v %v", e, nb, stats, err)
	}
	// A budget of one link row truncates the walk.
	if _, nb, stats, err := st.Neighborhood(ctx, A, a.entity.ID, 2, 10, 1); err != nil || !stats.Truncated || stats.LinksRead > 1 {
		t.Fatalf("budget 1: %+v %+v %v", nb, stats, err)
	}
	if m, err := st.GetMemory(ctx, A, a.memory.ID); err != nil || len(m.Entities) != 2 || m.Entities[0].Value != "Go" {
		t.Fatalf("%+v %v", m.Entities, err)
	}
	if es, total, err := st.ListEntities(ctx, store.EntityFilter{AccountID: A, Type: ptr("tool")}, 10, 0, nil); err != nil || total != 1 || es[0].ID != "e2" {
		t.Fatalf("%+v %v", es, err)
	}
	if err := st.DeleteEntity(ctx, A, "e2"); err != nil {
		t.Fatal(err)
	}
	if m, err := st.GetMemory(ctx, A, a.memory.ID); err != nil || len(m.Entities) != 1 {
		t.Fatalf("%+v %v", m.Entities, err)
	}
}

// testProjectsAndPatterns: relationship edges (stored once), links in
// both directions, dependents, and pattern adoption and suggestion.
func testProjectsAndPatterns(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, _ := twoTenants(t, open)
	A := a.account.ID
	rel := store.ProjectRelationship{AccountID: A, Source: "web", Target: "api", Type: "depends_on", CreatedAt: t0.Add(time.Hour)}
	if created, err := st.InsertProjectRelationship(ctx, &rel); err != nil || created || !rel.CreatedAt.Equal(t0) {
		t.Fatalf("duplicate edge: %+v %v %v", rel, created, err)
	}
	// A new target is created from its slug; mobile → web → api.
	if created, err := st.InsertProjectRelationship(ctx, &store.ProjectRelationship{AccountID: A, Source: "web", Target: "mobile", Type: "api_consumer", CreatedAt: t0}); err != nil || !created {
		t.Fatal(created, err)
	}
	if _, err := st.InsertProjectRelationship(ctx, &store.ProjectRelationship{AccountID: A, Source: "mobile", Target: "web", Type: "depends_on", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if p, err := st.GetProject(ctx, A, "mobile"); err != nil || p.Name != "mobile" {
		t.Fatalf("%+v %v", p, err)
	}
	links, err := st.ProjectLinks(ctx, A, "web", true, true, []string{"depends_on"}, 10)
	if err != nil || len(links) != 2 {
		t.Fatalf("%+v %v", links, err)
	}
	dirs := map[string]string{}
	for _, l := range links {
		dirs[l.Slug] = l.Direction
	}
	if dirs["api"] != store.Outgoing || dirs["mobile"] != store.Incoming {
		t.Fatalf("%v", dirs)
	}
	if links, err := st.ProjectLinks(ctx, A, "web", false, false, nil, 10); err != nil || links != nil {
		t.Fatalf("no direction: %+v %v", links, err)
	}
	deps, err := st.Dependents(ctx, A, "api", []string{"depends_on"}, 5, 10)
	if err != nil || len(deps) != 2 || deps[0].Slug != "web" || deps[0].Depth != 1 || deps[1].Slug != "mobile" || deps[1].Depth != 2 {
		t.Fatalf("%+v %v", deps, err)
	}
	if deps, err := st.Dependents(ctx, A, "api", []string{"depends_on"}, 1, 10); err != nil || len(deps) != 1 {
		t.Fatalf("depth 1: %+v %v", deps, err)
	}
	if deps, err := st.Dependents(ctx, A, "api", nil, 5, 10); err != nil || deps != nil {
		t.Fatalf("no types: %+v %v", deps, err)
	}

	// Adopting twice counts once.
	p, err := st.AdoptPattern(ctx, A, a.pattern.ID, "web", t0.Add(time.Hour))
	if err != nil || p.AdoptionCount != 2 {
		t.Fatalf("%+v %v", p, err)
	}
	local := store.Pattern{ID: "local", AccountID: A, Title: "t", Description: "d", Scope: "project", CreatedAt: t0, UpdatedAt: t0}
	if err := st.InsertPattern(ctx, &local, nil); err != nil {
		t.Fatal(err)
	}
	sug, err := st.SuggestPatterns(ctx, A, "mobile", 10)
	if err != nil || len(sug) != 2 || sug[0].ID != a.pattern.ID {
		t.Fatalf("%+v %v", sug, err)
	}
	if sug, err := st.SuggestPatterns(ctx, A, "web", 10); err != nil || len(sug) != 1 || sug[0].ID != "local" {
		t.Fatalf("%+v %v", sug, err)
	}
	if sh, err := st.SharedPatterns(ctx, A, a.project.ID, a.other.ID, 10); err != nil || len(sh) != 1 {
		t.Fatalf("%+v %v", sh, err)
	}
	if top, err := st.TopPatterns(ctx, store.PatternFilter{AccountID: A}, 1); err != nil || len(top) != 1 || top[0].ID != a.pattern.ID {
		t.Fatalf("%+v %v", top, err)
	}
	// Candidates: those with an embedding first, then the rest.
	var ids []string
	if err := st.PatternCandidates(ctx, store.PatternFilter{AccountID: A}, vecOf(1, 0, 0, 0), 10, func(c store.RankCandidate) { ids = append(ids, c.ID) }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 {
		t.Fatal(ids)
	}
	if ms, err := st.ProjectMemories(ctx, A, a.project.ID, "warm", 10); err != nil || len(ms) != 1 || len(ms[0].Entities) != 1 {
		t.Fatalf("%+v %v", ms, err)
	}
	if ms, err := st.ProjectMemories(ctx, A, a.project.ID, "hot", 10); err != nil || len(ms) != 0 {
		t.Fatalf("%+v %v", ms, err)
	}
}

// testDecisionFilters: tags, status, project, superseding.
func testDecisionFilters(t *testing.T, open Opener) {
	ctx := context.Background()
	st, a, _ := twoTenants(t, open)
	A := a.account.ID
	d := store.Decision{ID: "d2", AccountID: A, Title: "Use Postgres", Rationale: "scale", Status: "active", Tags: []string{"db", "scale"},
		CreatedAt: t0.Add(time.Second), UpdatedAt: t0.Add(time.Second)}
	err := st.SupersedeDecision(ctx, A, a.decision.ID, &d, vecOf(0, 1, 0, 0), func(old store.Decision, d *store.Decision) error {
		d.ProjectSlug = old.ProjectSlug
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	old, err := st.GetDecision(ctx, A, a.decision.ID)
	if err != nil || old.Status != "superseded" || *old.SupersededBy != "d2" || !old.UpdatedAt.After(a.decision.UpdatedAt) {
		t.Fatalf("%+v %v", old, err)
	}
	list := func(f store.DecisionFilter) []string {
		t.Helper()
		f.AccountID = A
		ds, total, err := st.ListDecisions(ctx, f, 10, 0, nil)
		if err != nil || total != len(ds) {
			t.Fatal(err)
		}
		return idsOf(ds, func(d store.Decision) string { return d.ID })
	}
	for _, c := range []struct {
		f    store.DecisionFilter
		want []string
	}{
		{store.DecisionFilter{}, []string{"d2", a.decision.ID}},
		{store.DecisionFilter{ExcludeSuperseded: true}, []string{"d2"}},
		{store.DecisionFilter{Status: ptr("superseded")}, []string{a.decision.ID}},
		{store.DecisionFilter{Tags: []string{"db"}}, []string{"d2", a.decision.ID}},
		{store.DecisionFilter{Tags: []string{"db", "scale"}}, []string{"d2"}},
		{store.DecisionFilter{Tags: []string{"none"}}, nil},
		{store.DecisionFilter{Project: ptr("web")}, []string{"d2", a.decision.ID}},
		{store.DecisionFilter{Project: ptr("api")}, nil},
	} {
		if got := list(c.f); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v, want %v", c.f, got, c.want)
		}
	}
	var dist []float64
	if err := st.DecisionCandidates(ctx, store.DecisionFilter{AccountID: A}, vecOf(0, 1, 0, 0), 1, func(c store.RankCandidate) { dist = append(dist, c.Distance) }); err != nil {
		t.Fatal(err)
	}
	if len(dist) != 1 || dist[0] > 1e-6 {
		t.Fatalf("nearest decision: %v", dist)
	}
}
