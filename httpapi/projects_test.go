package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/projects"
	"github.com/memoryrelay/memoryrelay/memory"
)

var projectKinds = map[string]string{
	"id": "uuid", "slug": "string", "name": "string", "description": "string?", "stack": "object?",
	"repo_url": "string?", "metadata": "object", "memory_count": "int", "created_at": "iso", "updated_at": "iso",
}

var decisionKinds = map[string]string{
	"id": "uuid", "agent_id": "string?", "session_id": "string?", "project_slug": "string?", "title": "string",
	"rationale": "string", "alternatives": "string?", "status": "string", "superseded_by": "string?",
	"tags": "array", "metadata": "object", "created_at": "iso", "updated_at": "iso",
}

var patternKinds = map[string]string{
	"id": "uuid", "title": "string", "name": "string", "description": "string", "scope": "string",
	"category": "string?", "tags": "array", "example_code": "string?", "source_project_id": "string?",
	"source_project_slug": "string?", "metadata": "object", "adoption_count": "int", "created_at": "iso", "updated_at": "iso",
}

var memoryKinds = map[string]string{
	"id": "uuid", "object": "string", "content": "string", "agent_id": "string", "metadata": "object",
	"entities": "array", "tier": "string", "created_at": "ms", "updated_at": "ms", "archived_at": "ms?",
	"project": "string?", "project_id": "string?",
}

var searchItemKinds = map[string]string{
	"memory": "object", "id": "uuid", "content": "string", "agent_id": "string", "metadata": "object",
	"created_at": "ms", "updated_at": "ms",
}

// projectEnv is an env whose keys are not rate limited in practice.
func projectEnv(t testing.TB) *env {
	t.Helper()
	return newEnv(t, memoryrelay.Options{RateLimit: 1_000_000})
}

func (e *env) createProject(key string, body map[string]any) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/v1/projects", key, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create project %v: %d %s", body["slug"], r.status, r.raw)
	}
	return r.body
}

// list returns r.body[field] as objects.
func objects(t testing.TB, r response, field string) []map[string]any {
	t.Helper()
	raw, ok := r.body[field].([]any)
	if !ok {
		t.Fatalf("%s is not an array: %s", field, r.raw)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i], ok = v.(map[string]any)
		if !ok {
			t.Fatalf("%s[%d] is not an object: %s", field, i, r.raw)
		}
	}
	return out
}

// checkField asserts a 400 names the field in errors[0].field.
func checkField(t testing.TB, r response, field string) {
	t.Helper()
	errs, _ := r.body["errors"].([]any)
	if len(errs) == 0 || errs[0].(map[string]any)["field"] != field {
		t.Errorf("errors %v, want field %q", r.body["errors"], field)
	}
}

func TestProjectCreate(t *testing.T) {
	e := projectEnv(t)
	key := e.keys["rw"]
	r := e.do("POST", "/v1/projects", key, map[string]any{
		"slug": "memory-relay", "name": "Memory Relay", "description": "Long-term memory",
		"stack": map[string]any{"language": "go", "db": []any{"sqlite"}}, "repo_url": "https://example.com/mr",
		"metadata": map[string]any{"team": "core"}, "unknown_field": true,
	})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	checkKinds(t, "project", r.body, projectKinds)
	want := map[string]any{"slug": "memory-relay", "name": "Memory Relay", "description": "Long-term memory",
		"repo_url": "https://example.com/mr", "memory_count": 0.0, "created_at": "2026-03-17T09:30:00.000Z"}
	for f, v := range want {
		if r.body[f] != v {
			t.Errorf("%s = %v, want %v", f, r.body[f], v)
		}
	}
	if st := r.body["stack"].(map[string]any); st["language"] != "go" || r.body["metadata"].(map[string]any)["team"] != "core" {
		t.Errorf("stack/metadata not verbatim: %s", r.raw)
	}
	if r.body["updated_at"] != r.body["created_at"] {
		t.Errorf("updated_at %v", r.body["updated_at"])
	}

	// Nulls are absent: defaults apply.
	r = e.do("POST", "/v1/projects", key, map[string]any{"slug": "minimal", "name": "M", "description": nil, "stack": nil, "repo_url": nil, "metadata": nil})
	if r.status != http.StatusCreated || r.body["stack"] != nil || r.body["description"] != nil || len(r.body["metadata"].(map[string]any)) != 0 {
		t.Fatalf("nulls: %d %s", r.status, r.raw)
	}
	// The limits themselves are accepted.
	e.createProject(key, map[string]any{"slug": strings.Repeat("a", 100), "name": strings.Repeat("n", 255), "repo_url": strings.Repeat("u", 500)})

	// A duplicate slug is a conflict, whether the project was created
	// explicitly or by a memory referencing it.
	checkError(t, e.do("POST", "/v1/projects", key, map[string]any{"slug": "memory-relay", "name": "Again"}), 409, "conflict_error", "Project slug already exists")
	e.createMemory(key, map[string]any{"content": "auto", "project": "auto-made"})
	checkError(t, e.do("POST", "/v1/projects", key, map[string]any{"slug": "auto-made", "name": "Auto"}), 409, "conflict_error", "Project slug already exists")
	// Another account may use the same slug.
	if r := e.do("POST", "/v1/projects", e.keys["other"], map[string]any{"slug": "memory-relay", "name": "Theirs"}); r.status != 201 {
		t.Errorf("other account, same slug: %d %s", r.status, r.raw)
	}

	for _, c := range []struct {
		name  string
		body  any
		field string
		msg   string
	}{
		{"no slug", map[string]any{"name": "x"}, "slug", "slug is required"},
		{"null slug", map[string]any{"slug": nil, "name": "x"}, "slug", "slug is required"},
		{"empty slug", map[string]any{"slug": "", "name": "x"}, "slug", "slug is required"},
		{"slug not string", `{"slug": 5, "name": "x"}`, "slug", "slug must be a string"},
		{"uppercase slug", map[string]any{"slug": "Memory", "name": "x"}, "slug", "slug must match"},
		{"leading dash", map[string]any{"slug": "-x", "name": "x"}, "slug", "slug must match"},
		{"space in slug", map[string]any{"slug": "a b", "name": "x"}, "slug", "slug must match"},
		{"slug too long", map[string]any{"slug": strings.Repeat("a", 101), "name": "x"}, "slug", "slug must match"},
		{"reserved impact-analysis", map[string]any{"slug": "impact-analysis", "name": "x"}, "slug", "slug \"impact-analysis\" is reserved"},
		{"reserved shared-patterns", map[string]any{"slug": "shared-patterns", "name": "x"}, "slug", "slug \"shared-patterns\" is reserved"},
		{"no name", map[string]any{"slug": "ok"}, "name", "name is required"},
		{"blank name", map[string]any{"slug": "ok", "name": "  "}, "name", "name must be"},
		{"name too long", map[string]any{"slug": "ok", "name": strings.Repeat("n", 256)}, "name", "name must be"},
		{"repo_url too long", map[string]any{"slug": "ok", "name": "x", "repo_url": strings.Repeat("u", 501)}, "repo_url", "repo_url must be"},
		{"stack array", map[string]any{"slug": "ok", "name": "x", "stack": []any{"go"}}, "stack", "stack must be a JSON object"},
		{"stack string", map[string]any{"slug": "ok", "name": "x", "stack": "go"}, "stack", "stack must be a JSON object"},
		{"metadata array", map[string]any{"slug": "ok", "name": "x", "metadata": []any{1}}, "metadata", "metadata must be a JSON object"},
		{"metadata too big", map[string]any{"slug": "ok", "name": "x", "metadata": map[string]any{"b": strings.Repeat("a", 10<<10)}}, "metadata", "metadata must be at most"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/projects", key, c.body)
			checkError(t, r, 400, "validation_error", c.msg)
			checkField(t, r, c.field)
		})
	}
	checkError(t, e.do("GET", "/v1/projects/ok", key, nil), 404, "not_found_error", "Project not found")
	checkError(t, e.do("POST", "/v1/projects", e.keys["read"], map[string]any{"slug": "ok", "name": "x"}), 403, "authorization_error", "Insufficient scope. Required: write")
}

func TestProjectListAndGet(t *testing.T) {
	e := projectEnv(t)
	key := e.keys["rw"]
	for _, s := range []string{"p0", "p1", "p2", "p3", "p4"} {
		e.createProject(key, map[string]any{"slug": s, "name": strings.ToUpper(s)})
		e.clock.Advance(time.Second)
	}
	e.createProject(e.keys["other"], map[string]any{"slug": "theirs", "name": "T"})

	r := e.do("GET", "/v1/projects?limit=2", key, nil)
	data := objects(t, r, "data")
	if r.status != 200 || len(data) != 2 || r.body["has_more"] != true || r.body["total"] != 5.0 || r.body["total_count"] != 5.0 ||
		r.body["limit"] != 2.0 || r.body["offset"] != 0.0 || r.body["next_cursor"] == nil {
		t.Fatalf("page 1: %s", r.raw)
	}
	if data[0]["slug"] != "p4" || data[1]["slug"] != "p3" {
		t.Errorf("not newest first: %s", r.raw)
	}
	checkKinds(t, "listed project", data[0], projectKinds)

	// A cursor walk sees every project once, newest first; the cursor
	// wins over offset; next_cursor is set exactly when has_more.
	var seen []string
	query := "limit=2"
	for range 5 {
		r := e.do("GET", "/v1/projects?"+query, key, nil)
		for _, p := range objects(t, r, "data") {
			seen = append(seen, p["slug"].(string))
		}
		if (r.body["has_more"] == true) != (r.body["next_cursor"] != nil) {
			t.Fatalf("has_more and next_cursor disagree: %s", r.raw)
		}
		if r.body["has_more"] != true {
			break
		}
		query = "limit=2&offset=100&cursor=" + r.body["next_cursor"].(string)
	}
	if strings.Join(seen, ",") != "p4,p3,p2,p1,p0" {
		t.Errorf("cursor walk %v", seen)
	}
	r = e.do("GET", "/v1/projects?offset=4&limit=2", key, nil)
	if len(objects(t, r, "data")) != 1 || r.body["has_more"] != false || r.body["next_cursor"] != nil {
		t.Errorf("last page: %s", r.raw)
	}
	r = e.do("GET", "/v1/projects?limit=1000", key, nil)
	if r.status != 200 || r.body["limit"] != 100.0 || r.body["total"] != 5.0 {
		t.Errorf("clamped: %s", r.raw)
	}
	for _, c := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=-1", "limit"}, {"limit=x", "limit"}, {"offset=-1", "offset"}, {"cursor=zzz", "cursor"},
	} {
		r := e.do("GET", "/v1/projects?"+c.query, key, nil)
		checkError(t, r, 400, "validation_error", c.field)
		checkField(t, r, c.field)
	}

	// Get: by slug, percent-decoded; memory_count counts the project's
	// memories only.
	for _, p := range []string{"p1", "p1", "p2"} {
		e.createMemory(key, map[string]any{"content": "about " + p, "project": p})
	}
	e.createMemory(e.keys["other"], map[string]any{"content": "theirs in p1", "project": "p1"})
	for _, path := range []string{"/v1/projects/p1", "/v1/projects/%70%31", "//v1/projects/p1/"} {
		r := e.do("GET", path, e.keys["read"], nil)
		if r.status != 200 || r.body["slug"] != "p1" || r.body["memory_count"] != 2.0 {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
		checkKinds(t, "project", r.body, projectKinds)
	}
	for _, path := range []string{"/v1/projects/nope", "/v1/projects/Bad_Slug", "/v1/projects/theirs", "/v1/projects/" + strings.Repeat("a", 101)} {
		checkError(t, e.do("GET", path, key, nil), 404, "not_found_error", "Project not found")
	}
	r = e.do("GET", "/v1/projects", e.keys["other"], nil)
	if r.body["total"] != 2.0 { // theirs and p1, auto-created by their memory
		t.Errorf("other account's list: %s", r.raw)
	}
	checkError(t, e.do("GET", "/v1/projects", e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
	checkError(t, e.do("GET", "/v1/projects/p1", e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
}

func TestProjectLiteralRoutesWin(t *testing.T) {
	e := projectEnv(t)
	key := e.keys["rw"]
	// The literals reach their own handlers, not {slug}.
	checkError(t, e.do("GET", "/v1/projects/shared-patterns", key, nil), 400, "validation_error", "a is required")
	checkError(t, e.do("POST", "/v1/projects/impact-analysis", key, map[string]any{}), 400, "validation_error", "project is required")
	checkError(t, e.do("GET", "/v1/projects/shared-patterns/", key, nil), 400, "validation_error", "a is required")
	// Wrong methods on the literals.
	checkError(t, e.do("GET", "/v1/projects/impact-analysis", key, nil), 404, "not_found_error", "Project not found")
	checkError(t, e.do("POST", "/v1/projects/shared-patterns", key, map[string]any{}), 405, "validation_error", "Method not allowed")
}

func TestProjectRelationships(t *testing.T) {
	e := projectEnv(t)
	key := e.keys["rw"]
	for _, s := range []string{"api", "web", "mobile", "db"} {
		e.createProject(key, map[string]any{"slug": s, "name": strings.ToUpper(s)})
	}
	e.createProject(e.keys["other"], map[string]any{"slug": "theirs", "name": "T"})
	rel := func(src, dst, typ string, meta map[string]any) response {
		t.Helper()
		return e.do("POST", "/v1/projects/"+src+"/relationships", key, map[string]any{"target_project": dst, "relationship_type": typ, "metadata": meta})
	}
	r := rel("web", "api", "depends_on", map[string]any{"since": "v2"})
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	checkKinds(t, "relationship", r.body, map[string]string{
		"id": "uuid", "source_project": "string", "target_project": "string", "relationship_type": "string", "metadata": "object", "created_at": "iso",
	})
	if r.body["source_project"] != "web" || r.body["target_project"] != "api" || r.body["relationship_type"] != "depends_on" ||
		r.body["metadata"].(map[string]any)["since"] != "v2" {
		t.Errorf("edge %s", r.raw)
	}
	// The same edge again is not duplicated: 200 with the same id.
	again := rel("web", "api", "depends_on", nil)
	if again.status != 200 || again.body["id"] != r.body["id"] {
		t.Errorf("repeat: %d %s", again.status, again.raw)
	}
	for _, c := range []struct{ src, dst, typ string }{
		{"mobile", "api", "api_consumer"}, {"web", "db", "shares_schema"}, {"api", "db", "depends_on"},
	} {
		if r := rel(c.src, c.dst, c.typ, nil); r.status != 201 {
			t.Fatalf("%v: %d %s", c, r.status, r.raw)
		}
	}
	// An unknown target is auto-created, named after its slug.
	if r := rel("api", "new-lib", "depends_on", nil); r.status != 201 {
		t.Fatalf("auto-create target: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/v1/projects/new-lib", key, nil); r.status != 200 || r.body["name"] != "new-lib" {
		t.Errorf("auto-created target: %d %s", r.status, r.raw)
	}

	links := func(path string) (string, []map[string]any) {
		t.Helper()
		r := e.do("GET", path, e.keys["read"], nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
		data := objects(t, r, "data")
		if r.body["total"] != float64(len(data)) {
			t.Errorf("%s: total %v for %d items", path, r.body["total"], len(data))
		}
		var parts []string
		for _, d := range data {
			checkKinds(t, path, d, map[string]string{"slug": "string", "name": "string", "relationship_type": "string", "direction": "string", "metadata": "object"})
			parts = append(parts, d["slug"].(string)+":"+d["relationship_type"].(string)+":"+d["direction"].(string))
		}
		if r.body["project"] == nil {
			t.Errorf("%s: no project", path)
		}
		return strings.Join(parts, ","), data
	}
	for path, want := range map[string]string{
		"/v1/projects/api/dependencies": "new-lib:depends_on:outgoing,db:depends_on:outgoing",
		"/v1/projects/api/dependents":   "mobile:api_consumer:incoming,web:depends_on:incoming",
		"/v1/projects/api/related":      "new-lib:depends_on:outgoing,db:depends_on:outgoing,mobile:api_consumer:incoming,web:depends_on:incoming",
		"/v1/projects/web/dependencies": "api:depends_on:outgoing",
		"/v1/projects/web/related":      "db:shares_schema:outgoing,api:depends_on:outgoing",
		"/v1/projects/web/dependents":   "",
		"/v1/projects/db/dependents":    "api:depends_on:incoming",
		"/v1/projects/db/related":       "api:depends_on:incoming,web:shares_schema:incoming",
	} {
		got, data := links(path)
		// Edges of one request share the clock's instant: compare as sets.
		if !sameSet(got, want) {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
		for _, d := range data {
			if d["slug"] == "api" && strings.HasPrefix(path, "/v1/projects/web") && d["metadata"].(map[string]any)["since"] != "v2" {
				t.Errorf("%s: edge metadata %v", path, d["metadata"])
			}
		}
	}

	long := strings.Repeat("t", 101)
	for _, c := range []struct {
		name   string
		src    string
		body   any
		status int
		field  string
		msg    string
	}{
		{"no target", "api", map[string]any{"relationship_type": "depends_on"}, 400, "target_project", "target_project is required"},
		{"null target", "api", map[string]any{"target_project": nil, "relationship_type": "depends_on"}, 400, "target_project", "target_project is required"},
		{"no type", "api", map[string]any{"target_project": "db"}, 400, "relationship_type", "relationship_type is required"},
		{"blank type", "api", map[string]any{"target_project": "db", "relationship_type": " "}, 400, "relationship_type", "relationship_type must be"},
		{"type too long", "api", map[string]any{"target_project": "db", "relationship_type": long}, 400, "relationship_type", "relationship_type must be"},
		{"self edge", "api", map[string]any{"target_project": "api", "relationship_type": "depends_on"}, 400, "target_project", "target_project must differ"},
		{"bad target slug", "api", map[string]any{"target_project": "Not A Slug", "relationship_type": "depends_on"}, 400, "target_project", "target_project must match"},
		{"reserved target", "api", map[string]any{"target_project": "impact-analysis", "relationship_type": "x"}, 400, "target_project", "target_project \"impact-analysis\" is reserved"},
		{"metadata not object", "api", map[string]any{"target_project": "db", "relationship_type": "x", "metadata": "m"}, 400, "metadata", "metadata must be a JSON object"},
		{"unknown source", "ghost", map[string]any{"target_project": "db", "relationship_type": "x"}, 404, "", "Project not found"},
		{"other account's source", "theirs", map[string]any{"target_project": "db", "relationship_type": "x"}, 404, "", "Project not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/projects/"+c.src+"/relationships", key, c.body)
			typ := "validation_error"
			if c.status == 404 {
				typ = "not_found_error"
			}
			checkError(t, r, c.status, typ, c.msg)
			if c.field != "" {
				checkField(t, r, c.field)
			}
		})
	}
	// A failed edge to an unknown source created nothing, not even its target.
	checkError(t, e.do("GET", "/v1/projects/ghost", key, nil), 404, "not_found_error", "Project not found")
	checkError(t, e.do("POST", "/v1/projects/api/relationships", e.keys["read"], map[string]any{"target_project": "db", "relationship_type": "x"}),
		403, "authorization_error", "Insufficient scope. Required: write")
	for _, kind := range []string{"dependencies", "dependents", "related"} {
		checkError(t, e.do("GET", "/v1/projects/ghost/"+kind, key, nil), 404, "not_found_error", "Project not found")
		checkError(t, e.do("GET", "/v1/projects/api/"+kind, e.keys["other"], nil), 404, "not_found_error", "Project not found")
		checkError(t, e.do("GET", "/v1/projects/api/"+kind, e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
	}
}

func sameSet(a, b string) bool {
	split := func(s string) map[string]int {
		m := map[string]int{}
		if s != "" {
			for _, p := range strings.Split(s, ",") {
				m[p]++
			}
		}
		return m
	}
	ma, mb := split(a), split(b)
	if len(ma) != len(mb) {
		return false
	}
	for k, v := range ma {
		if mb[k] != v {
			return false
		}
	}
	return true
}

func TestProjectContext(t *testing.T) {
	e := projectEnv(t)
	ctx := context.Background()
	key := e.keys["rw"]
	e.createProject(key, map[string]any{"slug": "relay", "name": "Relay", "description": "Memory for agents"})
	slug := "relay"
	other := "elsewhere"
	var hotIDs []string
	for i := range 22 {
		m, err := e.relay.Account(e.acct).Memories().Create(ctx, memory.NewMemory{Content: "hot fact " + string(rune('a'+i)), Importance: ptr(0.9), Project: &slug})
		if err != nil {
			t.Fatal(err)
		}
		hotIDs = append(hotIDs, m.Memory.ID)
		e.clock.Advance(time.Millisecond)
	}
	if _, err := e.relay.Account(e.acct).Memories().Create(ctx, memory.NewMemory{Content: "warm fact", Project: &slug}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.Account(e.acct).Memories().Create(ctx, memory.NewMemory{Content: "hot elsewhere", Importance: ptr(0.9), Project: &other}); err != nil {
		t.Fatal(err)
	}
	var active []string
	for i := range 12 {
		d, err := e.relay.Account(e.acct).Decisions().Create(ctx, memory.NewDecision{Title: "Decision " + string(rune('A'+i)), Rationale: "Because.", Project: &slug})
		if err != nil {
			t.Fatal(err)
		}
		active = append(active, d.ID)
		e.clock.Advance(time.Millisecond)
	}
	old, err := e.relay.Account(e.acct).Decisions().Create(ctx, memory.NewDecision{Title: "Old way", Rationale: "Once.", Project: &slug})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Millisecond)
	newer, err := e.relay.Account(e.acct).Decisions().Supersede(ctx, old.ID, memory.SupersedeParams{Title: "New way", Rationale: "Now."})
	if err != nil {
		t.Fatal(err)
	}
	active = append(active, newer.ID)
	e.clock.Advance(time.Millisecond)
	if _, err := e.relay.Account(e.acct).Decisions().Create(ctx, memory.NewDecision{Title: "Trial", Rationale: "Maybe.", Project: &slug, Status: "experimental"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.Account(e.acct).Decisions().Create(ctx, memory.NewDecision{Title: "Elsewhere", Rationale: "No.", Project: &other}); err != nil {
		t.Fatal(err)
	}
	sourced, err := e.relay.Account(e.acct).Patterns().Create(ctx, memory.NewPattern{Title: "Sourced", Description: "From relay.", Scope: "project", SourceProject: &slug})
	if err != nil {
		t.Fatal(err)
	}
	adopted, err := e.relay.Account(e.acct).Patterns().Create(ctx, memory.NewPattern{Title: "Adopted", Description: "Taken up."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.Account(e.acct).Patterns().Adopt(ctx, adopted.ID, slug); err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.Account(e.acct).Patterns().Create(ctx, memory.NewPattern{Title: "Unrelated", Description: "Not ours."}); err != nil {
		t.Fatal(err)
	}

	r := e.do("GET", "/v1/projects/relay/context", e.keys["read"], nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	checkKinds(t, "context", r.body, map[string]string{
		"project": "object", "hot_memories": "array", "recent_decisions": "array", "active_patterns": "array", "context": "string", "markdown": "string",
	})
	proj := r.body["project"].(map[string]any)
	checkKinds(t, "context.project", proj, projectKinds)
	if proj["slug"] != "relay" || proj["memory_count"] != 23.0 {
		t.Errorf("project %v", proj)
	}
	hot := objects(t, r, "hot_memories")
	if len(hot) != projects.ContextHotMemories {
		t.Fatalf("%d hot memories, want %d", len(hot), projects.ContextHotMemories)
	}
	for i, m := range hot {
		checkKinds(t, "hot memory", m, memoryKinds)
		if m["tier"] != "hot" || m["project"] != "relay" || m["id"] != hotIDs[len(hotIDs)-1-i] {
			t.Errorf("hot memory %d: %v (want newest first, hot, in relay)", i, m)
		}
	}
	decs := objects(t, r, "recent_decisions")
	if len(decs) != projects.ContextDecisions {
		t.Fatalf("%d decisions, want %d", len(decs), projects.ContextDecisions)
	}
	for i, d := range decs {
		checkKinds(t, "decision", d, decisionKinds)
		if d["status"] != "active" || d["id"] != active[len(active)-1-i] {
			t.Errorf("decision %d: %v %v (want active, newest first)", i, d["title"], d["status"])
		}
	}
	pats := objects(t, r, "active_patterns")
	got := map[string]bool{}
	for _, p := range pats {
		checkKinds(t, "pattern", p, patternKinds)
		got[p["id"].(string)] = true
	}
	if len(pats) != 2 || !got[sourced.ID] || !got[adopted.ID] {
		t.Errorf("patterns %v", got)
	}
	md := r.body["markdown"].(string)
	if r.body["context"] != md {
		t.Errorf("context and markdown differ")
	}
	for _, want := range []string{"# Project: Relay (relay)", "Memory for agents", "## Hot memories (20)", "- hot fact v",
		"## Recent decisions (10)", "**New way**: Now.", "## Active patterns (2)", "**Sourced**", "**Adopted**"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	for _, bad := range []string{"warm fact", "hot elsewhere", "Old way", "Trial", "Elsewhere", "Unrelated"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown has %q", bad)
		}
	}

	// An empty project has empty lists, never null.
	e.createProject(key, map[string]any{"slug": "empty", "name": "Empty"})
	r = e.do("GET", "/v1/projects/empty/context", key, nil)
	for _, f := range []string{"hot_memories", "recent_decisions", "active_patterns"} {
		if len(objects(t, r, f)) != 0 {
			t.Errorf("%s: %s", f, r.raw)
		}
	}
	if !strings.Contains(r.body["markdown"].(string), "_None._") {
		t.Errorf("empty markdown: %s", r.body["markdown"])
	}
	checkError(t, e.do("GET", "/v1/projects/ghost/context", key, nil), 404, "not_found_error", "Project not found")
	checkError(t, e.do("GET", "/v1/projects/relay/context", e.keys["other"], nil), 404, "not_found_error", "Project not found")
	checkError(t, e.do("GET", "/v1/projects/relay/context", e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
}

func ptr[T any](v T) *T { return &v }

func TestImpactAnalysis(t *testing.T) {
	e := projectEnv(t)
	ctx := context.Background()
	key := e.keys["rw"]
	for _, s := range []string{"core", "api", "web", "e2e", "docs"} {
		e.createProject(key, map[string]any{"slug": s, "name": strings.ToUpper(s)})
	}
	for _, c := range []struct{ src, dst, typ string }{
		{"api", "core", "depends_on"},
		{"web", "api", "depends_on"},
		{"e2e", "web", "api_consumer"},
		{"docs", "core", "shares_schema"}, // not a dependency
		{"core", "web", "depends_on"},     // a cycle back to the start
		{"e2e", "api", "depends_on"},      // a second, shorter path to e2e
	} {
		if r := e.do("POST", "/v1/projects/"+c.src+"/relationships", key, map[string]any{"target_project": c.dst, "relationship_type": c.typ}); r.status != 201 {
			t.Fatalf("%v: %d %s", c, r.status, r.raw)
		}
	}
	api, web := "api", "web"
	match, err := e.relay.Account(e.acct).Decisions().Create(ctx, memory.NewDecision{Title: "Sessions use the core auth token format",
		Rationale: "The API validates the core auth token format on every request.", Project: &api})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.Account(e.acct).Decisions().Create(ctx, memory.NewDecision{Title: "Indent with tabs", Rationale: "Editors agree.", Project: &api}); err != nil {
		t.Fatal(err)
	}
	old, err := e.relay.Account(e.acct).Decisions().Create(ctx, memory.NewDecision{Title: "Auth token format is opaque", Rationale: "Core auth token format hidden.", Project: &api})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.Account(e.acct).Decisions().Supersede(ctx, old.ID, memory.SupersedeParams{Title: "Cache nothing", Rationale: "Simplicity."}); err != nil {
		t.Fatal(err)
	}
	mem, err := e.relay.Account(e.acct).Memories().Create(ctx, memory.NewMemory{Content: "The web app parses the core auth token format in the browser.", Project: &web})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.relay.Account(e.acct).Memories().Create(ctx, memory.NewMemory{Content: "The web app uses a blue theme.", Project: &web}); err != nil {
		t.Fatal(err)
	}

	change := "Change the core auth token format"
	r := e.do("POST", "/v1/projects/impact-analysis", e.keys["read"], map[string]any{"project": "core", "change_description": change})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	checkKinds(t, "impact", r.body, map[string]string{"project": "string", "change_description": "string", "affected_projects": "array", "total_affected": "int"})
	if r.body["project"] != "core" || r.body["change_description"] != change {
		t.Errorf("echo: %s", r.raw)
	}
	aff := objects(t, r, "affected_projects")
	var walk []string
	for _, a := range aff {
		checkKinds(t, "affected", a, map[string]string{"slug": "string", "name": "string", "relationship_type": "string", "depth": "int", "decisions": "array", "memories": "array"})
		walk = append(walk, a["slug"].(string)+":"+a["relationship_type"].(string)+":"+strconv.Itoa(int(a["depth"].(float64))))
	}
	if got := strings.Join(walk, ","); got != "api:depends_on:1,e2e:depends_on:2,web:depends_on:2" {
		t.Errorf("affected %s", got)
	}
	if r.body["total_affected"] != float64(len(aff)) {
		t.Errorf("total_affected %v", r.body["total_affected"])
	}
	byslug := map[string]map[string]any{}
	for _, a := range aff {
		byslug[a["slug"].(string)] = a
	}
	decs := byslug["api"]["decisions"].([]any)
	if len(decs) != 1 {
		t.Fatalf("api decisions: %v", decs)
	}
	d := decs[0].(map[string]any)
	checkKinds(t, "impact decision", d["decision"].(map[string]any), decisionKinds)
	if d["decision"].(map[string]any)["id"] != match.ID || d["score"].(float64) < projects.ImpactThreshold || d["score"].(float64) > 1 {
		t.Errorf("api decision %v", d)
	}
	mems := byslug["web"]["memories"].([]any)
	if len(mems) != 1 {
		t.Fatalf("web memories: %v", mems)
	}
	m := mems[0].(map[string]any)
	checkKinds(t, "impact memory", m, searchItemKinds)
	if m["id"] != mem.Memory.ID || m["score"].(float64) < projects.ImpactThreshold {
		t.Errorf("web memory %v", m)
	}
	if len(byslug["e2e"]["decisions"].([]any)) != 0 || len(byslug["e2e"]["memories"].([]any)) != 0 {
		t.Errorf("e2e matches: %v", byslug["e2e"])
	}

	// A project nobody depends on affects nothing.
	r = e.do("POST", "/v1/projects/impact-analysis", key, map[string]any{"project": "docs", "change_description": change})
	if r.status != 200 || len(objects(t, r, "affected_projects")) != 0 || r.body["total_affected"] != 0.0 {
		t.Errorf("docs: %s", r.raw)
	}

	for _, c := range []struct {
		name   string
		key    string
		body   any
		status int
		field  string
		msg    string
	}{
		{"no project", key, map[string]any{"change_description": "x"}, 400, "project", "project is required"},
		{"no change", key, map[string]any{"project": "core"}, 400, "change_description", "change_description is required"},
		{"null change", key, map[string]any{"project": "core", "change_description": nil}, 400, "change_description", "change_description is required"},
		{"blank change", key, map[string]any{"project": "core", "change_description": "  "}, 400, "change_description", "change_description must be"},
		{"change too long", key, map[string]any{"project": "core", "change_description": strings.Repeat("x", 5001)}, 400, "change_description", "change_description must be"},
		{"unknown project", key, map[string]any{"project": "ghost", "change_description": "x"}, 404, "", "Project not found"},
		{"invalid slug", key, map[string]any{"project": "Not Slug", "change_description": "x"}, 404, "", "Project not found"},
		{"other account", e.keys["other"], map[string]any{"project": "core", "change_description": "x"}, 404, "", "Project not found"},
		{"no read scope", e.keys["delete"], map[string]any{"project": "core", "change_description": "x"}, 403, "", "Insufficient scope. Required: read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/projects/impact-analysis", c.key, c.body)
			typ := map[int]string{400: "validation_error", 403: "authorization_error", 404: "not_found_error"}[c.status]
			checkError(t, r, c.status, typ, c.msg)
			if c.field != "" {
				checkField(t, r, c.field)
			}
		})
	}
	// The limit itself is accepted.
	r = e.do("POST", "/v1/projects/impact-analysis", key, map[string]any{"project": "core", "change_description": strings.Repeat("é", 5000)})
	if r.status != 200 {
		t.Errorf("5000 characters: %d %s", r.status, r.raw)
	}
	if utf8.RuneCountInString(r.body["change_description"].(string)) != 5000 {
		t.Errorf("change_description not echoed")
	}
}

func TestSharedPatterns(t *testing.T) {
	e := projectEnv(t)
	ctx := context.Background()
	key := e.keys["rw"]
	for _, s := range []string{"a1", "b1", "c1"} {
		e.createProject(key, map[string]any{"slug": s, "name": s})
	}
	e.createProject(e.keys["other"], map[string]any{"slug": "theirs", "name": "T"})
	mk := func(title string, adopters ...string) string {
		t.Helper()
		p, err := e.relay.Account(e.acct).Patterns().Create(ctx, memory.NewPattern{Title: title, Description: title + " pattern"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range adopters {
			if _, err := e.relay.Account(e.acct).Patterns().Adopt(ctx, p.ID, a); err != nil {
				t.Fatal(err)
			}
		}
		return p.ID
	}
	both := mk("Both", "a1", "b1")
	all := mk("All", "a1", "b1", "c1")
	mk("Only a", "a1")
	mk("Only b", "b1")

	r := e.do("GET", "/v1/projects/shared-patterns?a=a1&b=b1", e.keys["read"], nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	checkKinds(t, "shared", r.body, map[string]string{"data": "array", "a": "string", "b": "string", "total": "int"})
	data := objects(t, r, "data")
	if len(data) != 2 || data[0]["id"] != all || data[1]["id"] != both || r.body["a"] != "a1" || r.body["b"] != "b1" || r.body["total"] != 2.0 {
		t.Fatalf("shared: %s", r.raw)
	}
	for _, p := range data {
		checkKinds(t, "pattern", p, patternKinds)
	}
	r = e.do("GET", "/v1/projects/shared-patterns?a=a1&b=c1", key, nil)
	if d := objects(t, r, "data"); len(d) != 1 || d[0]["id"] != all {
		t.Errorf("a1 & c1: %s", r.raw)
	}
	for _, c := range []struct {
		name, query, key string
		status           int
		msg              string
	}{
		{"no a", "b=b1", key, 400, "a is required"},
		{"no b", "a=a1", key, 400, "b is required"},
		{"unknown a", "a=ghost&b=b1", key, 404, "Project not found"},
		{"unknown b", "a=a1&b=ghost", key, 404, "Project not found"},
		{"other account", "a=a1&b=b1", e.keys["other"], 404, "Project not found"},
		{"their project", "a=a1&b=theirs", key, 404, "Project not found"},
		{"no read scope", "a=a1&b=b1", e.keys["delete"], 403, "Insufficient scope. Required: read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("GET", "/v1/projects/shared-patterns?"+c.query, c.key, nil)
			typ := map[int]string{400: "validation_error", 403: "authorization_error", 404: "not_found_error"}[c.status]
			checkError(t, r, c.status, typ, c.msg)
		})
	}
}
