package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/client"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestInstants converts both of the contract's forms (§1.3) to UTC
// time.Time: epoch milliseconds and ISO-8601 strings, any offset.
func TestInstants(t *testing.T) {
	ctx := context.Background()
	srv, _, _ := scripted(t,
		answer(200, `{"id":"m","created_at":1742203800123,"updated_at":1742203800124,"archived_at":null}`),
		answer(200, `{"id":"m","created_at":0,"updated_at":-1,"archived_at":1742203800999}`),
		answer(200, `{"id":"s","started_at":"2025-03-17T09:30:00.123Z","ended_at":"2025-03-17T10:30:00.5+01:00","created_at":"2025-03-17T09:30:00Z","updated_at":"2025-03-17T09:30:00.123456789Z"}`),
		answer(200, `{"id":"s","started_at":"yesterday"}`),
	)
	acct := scriptedAccount(t, srv, client.Options{})
	m := must[memory.Memory](t, "get")(acct.Memories().Get(ctx, "m"))
	want := time.Date(2025, 3, 17, 9, 30, 0, 123e6, time.UTC)
	if m.CreatedAt != want || m.UpdatedAt != want.Add(time.Millisecond) || m.ArchivedAt != nil {
		t.Errorf("ms: %v %v %v", m.CreatedAt, m.UpdatedAt, m.ArchivedAt)
	}
	m = must[memory.Memory](t, "get")(acct.Memories().Get(ctx, "m"))
	if m.CreatedAt != time.Unix(0, 0).UTC() || m.UpdatedAt != time.UnixMilli(-1).UTC() || m.ArchivedAt == nil || *m.ArchivedAt != time.UnixMilli(1742203800999).UTC() {
		t.Errorf("ms edges: %v %v %v", m.CreatedAt, m.UpdatedAt, m.ArchivedAt)
	}
	s := must[memory.Session](t, "session")(acct.Sessions().Get(ctx, "s"))
	if s.StartedAt != want || s.EndedAt == nil || *s.EndedAt != time.Date(2025, 3, 17, 9, 30, 0, 5e8, time.UTC) ||
		s.CreatedAt != want.Truncate(time.Second) || s.UpdatedAt != want.Add(456789) {
		t.Errorf("ISO: %v %v %v %v", s.StartedAt, s.EndedAt, s.CreatedAt, s.UpdatedAt)
	}
	for _, v := range []time.Time{s.StartedAt, *s.EndedAt, s.CreatedAt, s.UpdatedAt, m.CreatedAt, *m.ArchivedAt} {
		if v.Location() != time.UTC {
			t.Errorf("%v is not in UTC", v)
		}
	}
	if _, err := acct.Sessions().Get(ctx, "s"); err == nil || !strings.Contains(err.Error(), "yesterday") {
		t.Errorf("a bad instant: %v", err)
	}
}

// TestEmptyValues applies package memory's null and empty rules: a JSON
// object field that is {} (or null) is nil; lists are never nil.
func TestEmptyValues(t *testing.T) {
	ctx := context.Background()
	srv, _, _ := scripted(t,
		answer(200, `{"id":"a","metadata":{}}`),
		answer(200, `{"id":"a","metadata":{ }}`),
		answer(200, `{"id":"a","metadata":null}`),
		answer(200, `{"id":"a","metadata":{"k":[1,2]}}`),
		answer(200, `{"id":"d","tags":null,"metadata":{}}`),
		answer(200, `{"id":"p","stack":null,"metadata":{}}`),
		answer(200, `{"id":"p","stack":{}}`),
		answer(200, `{"data":null,"has_more":false,"total":0,"limit":20,"offset":0,"next_cursor":null}`),
		answer(200, `{"id":"m"}`),
		answer(200, `{"data":null,"total":0,"query":"x"}`),
		answer(200, `{"entity":{"id":"e"},"neighbors":null}`),
	)
	acct := scriptedAccount(t, srv, client.Options{})
	for _, want := range []string{"", "", "", `{"k":[1,2]}`} {
		a := must[memory.Agent](t, "agent")(acct.Agents().Get(ctx, "a"))
		if string(a.Metadata) != want || (want == "" && a.Metadata != nil) {
			t.Errorf("metadata %q, want %q", a.Metadata, want)
		}
	}
	if d := must[memory.Decision](t, "decision")(acct.Decisions().Get(ctx, "d")); d.Tags == nil || d.Metadata != nil {
		t.Errorf("decision %#v", d)
	}
	if p := must[memory.Project](t, "project")(acct.Projects().Get(ctx, "p")); p.Stack != nil || p.Metadata != nil {
		t.Errorf("project %#v", p)
	}
	if p := must[memory.Project](t, "project")(acct.Projects().Get(ctx, "p")); string(p.Stack) != `{}` {
		t.Errorf("an empty stack is a stack: %q", p.Stack)
	}
	if l := must[memory.Page[memory.Agent]](t, "list")(acct.Agents().List(ctx, memory.PageParams{})); l.Data == nil {
		t.Errorf("nil page data")
	}
	if m := must[memory.Memory](t, "memory")(acct.Memories().Get(ctx, "m")); m.Entities == nil || m.Metadata != nil {
		t.Errorf("memory %#v", m)
	}
	if h := must[[]memory.Hit](t, "search")(acct.Memories().Search(ctx, memory.SearchParams{Query: "x"})); h == nil {
		t.Errorf("nil hits")
	}
	if n := must[memory.Neighborhood](t, "neighborhood")(acct.Entities().Neighborhood(ctx, "e", memory.NeighborhoodParams{})); n.Neighbors == nil {
		t.Errorf("nil neighbors")
	}
}

// jsonKeys returns the keys of a JSON object, sorted.
func jsonKeys(t *testing.T, body string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestRequests checks what the inputs become on the wire: a field left
// at its zero value (nil pointer, empty string, 0) is not sent, every
// field that is set is, and lists keep nil apart from empty where the
// contract does.
func TestRequests(t *testing.T) {
	ctx := context.Background()
	ok := answer(200, `{}`)
	srv, _, log := scripted(t, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok,
		answer(201, `{"id":"k","scopes":["read"],"created_at":"2025-03-17T09:30:00Z","key":"not a key"}`), ok)
	acct := scriptedAccount(t, srv, client.Options{})
	f := 0.5
	acct.Memories().Create(ctx, memory.NewMemory{Content: "x"})
	acct.Memories().Create(ctx, memory.NewMemory{Content: "x", AgentID: "a", UserID: ptr("u"), Metadata: json.RawMessage(`{"k":1}`),
		MemoryType: ptr("fact"), Visibility: "confidential", Importance: &f, Tier: "cold", Scope: "session", SessionID: ptr("s"),
		Project: ptr("p"), Deduplicate: true, DedupThreshold: &f})
	acct.Memories().Update(ctx, "m", memory.MemoryPatch{})
	acct.Memories().Search(ctx, memory.SearchParams{Query: "q", Mode: memory.ModeKeyword, Limit: 5, Threshold: f, AgentID: ptr("a"),
		UserID: ptr("u"), SessionID: ptr("s"), Tier: ptr("hot"), MinImportance: &f, Project: ptr("p"), Scope: "all", Namespace: ptr("n"),
		MetadataFilter: map[string]json.RawMessage{"k": json.RawMessage(`1`)}, IncludeConfidential: true, IncludeArchived: true})
	acct.Memories().List(ctx, memory.ListParams{Limit: 3, Offset: 2, Cursor: "c", AgentID: ptr("a/b"), UserID: ptr("u"), Scope: "session"})
	acct.Decisions().Supersede(ctx, "d", memory.SupersedeParams{Title: "t", Rationale: "r"})
	acct.Decisions().Supersede(ctx, "d", memory.SupersedeParams{Title: "t", Rationale: "r", Tags: []string{}})
	acct.Decisions().List(ctx, memory.DecisionListParams{Tags: []string{"a", "b"}, Status: ptr("active")})
	acct.Decisions().Check(ctx, memory.DecisionCheckParams{Query: "q", Threshold: ptr(0.0), IncludeSuperseded: true})
	acct.Agents().Create(ctx, memory.NewAgent{Name: "n"})
	acct.Contexts().Build(ctx, memory.BuildContextParams{Query: "q"})
	_, _, err := acct.Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(scopes.Read), ExpiresAt: ptr(time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 3600)))})
	acct.Keys().Rotate(ctx, "k", 1500*time.Millisecond)
	got := log()
	if len(got) != 13 {
		t.Fatalf("%d requests", len(got))
	}
	want := []struct {
		method, path string
		keys         []string
	}{
		{"POST", "/v1/memories", []string{"content"}},
		{"POST", "/v1/memories", []string{"agent_id", "content", "dedup_threshold", "deduplicate", "importance", "memory_type", "metadata", "project", "scope", "session_id", "tier", "user_id", "visibility"}},
		{"PATCH", "/v1/memories/m", nil},
		{"POST", "/v1/memories/search", []string{"agent_id", "include_archived", "include_confidential", "limit", "metadata_filter", "min_importance", "namespace", "project", "query", "scope", "search_mode", "session_id", "threshold", "tier", "user_id"}},
	}
	for i, w := range want {
		if got[i].method != w.method || got[i].path != w.path || !slices.Equal(jsonKeys(t, got[i].body), w.keys) {
			t.Errorf("request %d: %s %s %s, want %s %s with %v", i, got[i].method, got[i].path, got[i].body, w.method, w.path, w.keys)
		}
	}
	q, _ := url.ParseQuery(got[4].query)
	if !reflect.DeepEqual(q, url.Values{"limit": {"3"}, "offset": {"2"}, "cursor": {"c"}, "agent_id": {"a/b"}, "user_id": {"u"}, "scope": {"session"}}) {
		t.Errorf("list query %v", q)
	}
	if !strings.Contains(got[5].body, `"tags":null`) || !strings.Contains(got[6].body, `"tags":[]`) || got[5].path != "/v1/decisions/d/supersede" {
		t.Errorf("supersede tags: %s / %s", got[5].body, got[6].body)
	}
	if q, _ := url.ParseQuery(got[7].query); q.Get("tags") != "a,b" || q.Get("status") != "active" || len(q) != 2 {
		t.Errorf("decision list query %v", q)
	}
	if q, _ := url.ParseQuery(got[8].query); q.Get("threshold") != "0" || q.Get("include_superseded") != "true" || q.Get("query") != "q" {
		t.Errorf("check query %v", q)
	}
	if got[9].body != `{"name":"n"}` || got[10].body != `{"query":"q"}` {
		t.Errorf("agent %s, build %s", got[9].body, got[10].body)
	}
	if got[11].body != `{"name":"k","scopes":["read"],"expires_at":"2030-01-02T02:04:05.006Z"}` {
		t.Errorf("key create %s", got[11].body)
	}
	if err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("a key that does not parse: %v", err)
	}
	if got[12].body != `{"grace_seconds":2}` {
		t.Errorf("rotate %s", got[12].body)
	}
}

// TestInvalidUTF8 refuses, before sending, strings JSON cannot carry,
// naming the Go field.
func TestInvalidUTF8(t *testing.T) {
	ctx := context.Background()
	srv, n, _ := scripted(t)
	acct := scriptedAccount(t, srv, client.Options{})
	bad := "caf\xe9"
	for _, c := range []struct {
		field string
		call  func() error
	}{
		{"Content", func() error { _, err := acct.Memories().Create(ctx, memory.NewMemory{Content: bad}); return err }},
		{"UserID", func() error {
			_, err := acct.Memories().Create(ctx, memory.NewMemory{Content: "x", UserID: &bad})
			return err
		}},
		{"Metadata", func() error {
			_, err := acct.Memories().Create(ctx, memory.NewMemory{Content: "x", Metadata: json.RawMessage(`{"k":"` + bad + `"}`)})
			return err
		}},
		{"Memories[1].Content", func() error {
			_, err := acct.Memories().CreateBatch(ctx, memory.BatchParams{Memories: []memory.NewMemory{{Content: "ok"}, {Content: bad}}})
			return err
		}},
		{"MetadataFilter", func() error {
			_, err := acct.Memories().Search(ctx, memory.SearchParams{Query: "q", MetadataFilter: map[string]json.RawMessage{bad: json.RawMessage(`1`)}})
			return err
		}},
		{"ID", func() error { _, _, err := acct.Agents().Create(ctx, memory.NewAgent{ID: bad}); return err }},
		{"Tags[0]", func() error {
			_, err := acct.Decisions().Create(ctx, memory.NewDecision{Title: "t", Rationale: "r", Tags: []string{bad}})
			return err
		}},
	} {
		var verr *memory.ValidationError
		if err := c.call(); !errors.As(err, &verr) || verr.Field() != c.field {
			t.Errorf("%s: %v", c.field, err)
		}
	}
	if n.Load() != 0 {
		t.Errorf("%d requests sent", n.Load())
	}
}

// TestPathsAreSegments escapes each id as one path segment.
func TestPathsAreSegments(t *testing.T) {
	ctx := context.Background()
	ok := answer(200, `{}`)
	srv, _, log := scripted(t, ok, ok, ok, ok)
	acct := scriptedAccount(t, srv, client.Options{})
	acct.Agents().Get(ctx, "a/b c")
	acct.Agents().Stats(ctx, "..")
	acct.Projects().Get(ctx, "?#")
	acct.Memories().DeleteUser(ctx, "user/1")
	want := []string{"/v1/agents/a%2Fb%20c", "/v1/agents/%2E%2E/stats", "/v1/projects/%3F%23", "/v1/users/user%2F1/memories"}
	for i, r := range log() {
		if r.path != want[i] {
			t.Errorf("path %q, want %q", r.path, want[i])
		}
	}
	if n := len(log()); n != 4 {
		t.Errorf("%d requests", n)
	}
}
