package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

var sessionKinds = map[string]string{
	"id": "uuid", "agent_id": "string", "external_id": "string?", "project": "string?", "status": "string",
	"title": "string?", "summary": "string?", "metadata": "object", "memory_count": "int",
	"started_at": "iso", "ended_at": "iso?", "created_at": "iso", "updated_at": "iso",
}

func isoAt(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func TestSessionCreate(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	r := e.do("POST", "/v1/sessions", key, nil)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	checkKinds(t, "session", r.body, sessionKinds)
	now := isoAt(e.clock.Now())
	for f, want := range map[string]any{
		"agent_id": "default", "external_id": nil, "project": nil, "status": "active", "title": nil, "summary": nil,
		"memory_count": 0.0, "ended_at": nil, "started_at": now, "created_at": now, "updated_at": now,
	} {
		if r.body[f] != want {
			t.Errorf("%s = %v, want %v", f, r.body[f], want)
		}
	}
	if len(r.body["metadata"].(map[string]any)) != 0 {
		t.Errorf("metadata %v", r.body["metadata"])
	}

	cases := []struct {
		name   string
		body   any
		status int
		want   map[string]any
	}{
		{"all fields", map[string]any{"agent_id": "bot", "title": "Fix the build", "project": "web-app", "metadata": map[string]any{"k": "v"}, "x": 1},
			201, map[string]any{"agent_id": "bot", "title": "Fix the build", "project": "web-app"}},
		{"nulls are absent", map[string]any{"agent_id": nil, "title": nil, "project": nil, "metadata": nil}, 201, map[string]any{"agent_id": "default", "title": nil}},
		{"agent by uuid is kept as given", map[string]any{"agent_id": "0e2c5b3a-1111-4222-8333-444455556666"}, 201, map[string]any{"agent_id": "0e2c5b3a-1111-4222-8333-444455556666"}},
		{"invalid slug is stored as given", map[string]any{"project": "Not A Slug"}, 201, map[string]any{"project": "Not A Slug"}},
		{"longest title and project", map[string]any{"title": strings.Repeat("t", 500), "project": strings.Repeat("p", 255)}, 201, nil},
		{"title too long", map[string]any{"title": strings.Repeat("t", 501)}, 400, map[string]any{"field": "title"}},
		{"project too long", map[string]any{"project": strings.Repeat("p", 256)}, 400, map[string]any{"field": "project"}},
		{"empty project", map[string]any{"project": ""}, 400, map[string]any{"field": "project"}},
		{"agent_id too long", map[string]any{"agent_id": strings.Repeat("a", 256)}, 400, map[string]any{"field": "agent_id"}},
		{"metadata not an object", map[string]any{"metadata": 3}, 400, map[string]any{"field": "metadata"}},
		{"metadata too big", map[string]any{"metadata": map[string]any{"b": strings.Repeat("a", 10<<10)}}, 400, map[string]any{"field": "metadata"}},
		{"title not a string", `{"title": 1}`, 400, map[string]any{"field": "title"}},
		{"body not an object", `[]`, 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/sessions", key, c.body)
			if c.status == 400 {
				checkError(t, r, 400, "validation_error", "")
				if f, ok := c.want["field"]; ok {
					errs, _ := r.body["errors"].([]any)
					if len(errs) != 1 || errs[0].(map[string]any)["field"] != f {
						t.Errorf("errors %v, want field %v", r.body["errors"], f)
					}
				}
				return
			}
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			checkKinds(t, "session", r.body, sessionKinds)
			for f, want := range c.want {
				if r.body[f] != want {
					t.Errorf("%s = %v, want %v", f, r.body[f], want)
				}
			}
		})
	}
	checkError(t, e.do("POST", "/v1/sessions", e.keys["read"], nil), 403, "authorization_error", "Insufficient scope. Required: write")
	if r := e.do("GET", "/v1/agents/bot", key, nil); r.status != 200 || r.body["session_count"] != 1.0 || r.body["project_count"] != 1.0 {
		t.Errorf("auto-created agent: %d %s", r.status, r.raw)
	}
}

func TestSessionGetOrCreate(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	const ext = "auto:workspace:2026-03-17"
	r := e.do("POST", "/v1/sessions/get-or-create", key, map[string]any{"external_id": ext, "agent_id": "bot", "title": "first", "project": "web-app"})
	if r.status != 201 || r.body["created"] != true {
		t.Fatalf("first: %d %s", r.status, r.raw)
	}
	checkKinds(t, "session", r.body, sessionKinds)
	id := r.body["id"].(string)
	if r.body["external_id"] != ext || r.body["title"] != "first" || r.body["agent_id"] != "bot" || r.body["status"] != "active" {
		t.Errorf("first: %s", r.raw)
	}

	// Again, with other fields: the same session, unchanged.
	e.clock.Advance(time.Minute)
	r = e.do("POST", "/v1/sessions/get-or-create", key, map[string]any{"external_id": ext, "agent_id": "someone-else", "title": "second"})
	if r.status != 200 || r.body["created"] != false || r.body["id"] != id || r.body["title"] != "first" || r.body["agent_id"] != "bot" {
		t.Fatalf("second: %d %s", r.status, r.raw)
	}
	checkKinds(t, "session", r.body, sessionKinds)
	checkError(t, e.do("GET", "/v1/agents/someone-else", key, nil), 404, "not_found_error", "Agent not found")

	// Whatever its status.
	if r := e.do("PUT", "/v1/sessions/"+id+"/end", key, nil); r.status != 200 {
		t.Fatalf("end: %d %s", r.status, r.raw)
	}
	r = e.do("POST", "/v1/sessions/get-or-create", key, map[string]any{"external_id": ext})
	if r.status != 200 || r.body["id"] != id || r.body["status"] != "ended" || r.body["created"] != false {
		t.Fatalf("after end: %d %s", r.status, r.raw)
	}

	// Per account: another account's same external id is its own session.
	r = e.do("POST", "/v1/sessions/get-or-create", e.keys["other"], map[string]any{"external_id": ext})
	if r.status != 201 || r.body["id"] == id {
		t.Fatalf("other account: %d %s", r.status, r.raw)
	}

	for name, body := range map[string]any{
		"missing external_id": map[string]any{"title": "x"},
		"null external_id":    map[string]any{"external_id": nil},
		"empty external_id":   map[string]any{"external_id": ""},
		"long external_id":    map[string]any{"external_id": strings.Repeat("x", 501)},
		"numeric external_id": `{"external_id": 7}`,
		"long title":          map[string]any{"external_id": "new", "title": strings.Repeat("t", 501)},
	} {
		t.Run(name, func(t *testing.T) {
			checkError(t, e.do("POST", "/v1/sessions/get-or-create", key, body), 400, "validation_error", "")
		})
	}
	if r := e.do("POST", "/v1/sessions/get-or-create", key, map[string]any{"external_id": strings.Repeat("é", 500)}); r.status != 201 {
		t.Errorf("500-character external_id: %d %s", r.status, r.raw)
	}
	checkError(t, e.do("POST", "/v1/sessions/get-or-create", e.keys["read"], map[string]any{"external_id": ext}), 403, "authorization_error", "Insufficient scope. Required: write")
}

// POST /v1/sessions with an external_id is a get-or-create (API.md
// §10.6): 201 and the new session the first time, 200 and the same one
// after, shaped as a create's answer (no created field); an empty
// external_id is a 400, null is a plain create.
func TestSessionCreateExternalID(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	const ext = "conv-2026-03-17-42"
	r := e.do("POST", "/v1/sessions", key, map[string]any{"external_id": ext, "agent_id": "bot", "title": "first"})
	if r.status != 201 || r.body["external_id"] != ext || r.body["title"] != "first" {
		t.Fatalf("first: %d %s", r.status, r.raw)
	}
	checkKinds(t, "session", r.body, sessionKinds)
	id := r.body["id"].(string)
	e.clock.Advance(time.Minute)
	r = e.do("POST", "/v1/sessions", key, map[string]any{"external_id": ext, "agent_id": "bot", "title": "second"})
	if r.status != 200 || r.body["id"] != id || r.body["title"] != "first" {
		t.Fatalf("second: %d %s", r.status, r.raw)
	}
	checkKinds(t, "session", r.body, sessionKinds)
	// The same session as the get-or-create route's.
	if r := e.do("POST", "/v1/sessions/get-or-create", key, map[string]any{"external_id": ext}); r.status != 200 || r.body["id"] != id {
		t.Errorf("get-or-create: %d %s", r.status, r.raw)
	}
	// Another account's same external id is its own session.
	if r := e.do("POST", "/v1/sessions", e.keys["other"], map[string]any{"external_id": ext}); r.status != 201 || r.body["id"] == id {
		t.Errorf("other account: %d %s", r.status, r.raw)
	}
	// null: a plain create, a new session each time.
	a := e.do("POST", "/v1/sessions", key, map[string]any{"external_id": nil})
	b := e.do("POST", "/v1/sessions", key, map[string]any{"external_id": nil})
	if a.status != 201 || b.status != 201 || a.body["id"] == b.body["id"] || a.body["external_id"] != nil {
		t.Errorf("null external_id: %d %s / %d %s", a.status, a.raw, b.status, b.raw)
	}
	if r := e.do("POST", "/v1/sessions", key, map[string]any{"external_id": strings.Repeat("é", memory.MaxExternalID)}); r.status != 201 {
		t.Errorf("longest external_id: %d %s", r.status, r.raw)
	}
	for name, body := range map[string]any{
		"empty external_id":   map[string]any{"external_id": ""},
		"long external_id":    map[string]any{"external_id": strings.Repeat("x", memory.MaxExternalID+1)},
		"numeric external_id": `{"external_id": 7}`,
	} {
		t.Run(name, func(t *testing.T) {
			checkError(t, e.do("POST", "/v1/sessions", key, body), 400, "validation_error", "")
		})
	}
}

// TestSessionGetOrCreateRace fires concurrent get-or-create calls with one
// external id: all get the same session, exactly one with 201.
func TestSessionGetOrCreateRace(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	const n = 20
	type result struct {
		status  int
		id      string
		created any
		err     error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body, _ := json.Marshal(map[string]any{"external_id": "race", "agent_id": fmt.Sprintf("agent-%d", i)})
			req, err := http.NewRequest("POST", e.srv.URL+"/v1/sessions/get-or-create", bytes.NewReader(body))
			if err != nil {
				results[i].err = err
				return
			}
			req.Header.Set("X-API-Key", e.keys["rw"])
			res, err := e.srv.Client().Do(req)
			if err != nil {
				results[i].err = err
				return
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			var out map[string]any
			if err := json.Unmarshal(raw, &out); err != nil {
				results[i].err = fmt.Errorf("%v: %s", err, raw)
				return
			}
			id, _ := out["id"].(string)
			results[i] = result{status: res.StatusCode, id: id, created: out["created"]}
		}()
	}
	close(start)
	wg.Wait()
	ids := map[string]bool{}
	createdN := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("call %d: %v", i, r.err)
		}
		ids[r.id] = true
		switch {
		case r.status == 201 && r.created == true:
			createdN++
		case r.status == 200 && r.created == false:
		default:
			t.Errorf("call %d: status %d created %v", i, r.status, r.created)
		}
	}
	if len(ids) != 1 || createdN != 1 {
		t.Fatalf("%d ids, %d creations; want 1 and 1", len(ids), createdN)
	}
	// Only the winner's agent was created.
	if r := e.do("GET", "/v1/agents", e.keys["rw"], nil); r.body["total"] != 1.0 {
		t.Errorf("agents: %s", r.raw)
	}
	if r := e.do("GET", "/v1/sessions", e.keys["rw"], nil); r.body["total"] != 1.0 {
		t.Errorf("sessions: %s", r.raw)
	}
}

func TestSessionEnd(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	id := e.do("POST", "/v1/sessions", key, map[string]any{"title": "t"}).body["id"].(string)
	theirs := e.do("POST", "/v1/sessions", e.keys["other"], nil).body["id"].(string)

	e.clock.Advance(time.Minute)
	endedAt := isoAt(e.clock.Now())
	r := e.do("PUT", "/v1/sessions/"+id+"/end", key, map[string]any{"summary": "did things"})
	if r.status != 200 {
		t.Fatalf("end: %d %s", r.status, r.raw)
	}
	checkKinds(t, "session", r.body, sessionKinds)
	if r.body["status"] != "ended" || r.body["ended_at"] != endedAt || r.body["summary"] != "did things" || r.body["updated_at"] != endedAt || r.body["title"] != "t" {
		t.Errorf("ended: %s", r.raw)
	}

	// Ending again (POST is accepted too): 200, ended_at kept; no summary
	// keeps it, a new one replaces it.
	e.clock.Advance(time.Minute)
	r = e.do("POST", "/v1/sessions/"+id+"/end", key, nil)
	if r.status != 200 || r.body["ended_at"] != endedAt || r.body["summary"] != "did things" || r.body["updated_at"] != endedAt {
		t.Errorf("end again: %d %s", r.status, r.raw)
	}
	r = e.do("PUT", "/v1/sessions/"+id+"/end", key, map[string]any{"summary": nil})
	if r.status != 200 || r.body["summary"] != "did things" {
		t.Errorf("null summary: %d %s", r.status, r.raw)
	}
	r = e.do("PUT", "/v1/sessions/"+id+"/end", key, map[string]any{"summary": strings.Repeat("s", 50_000)})
	if r.status != 200 || r.body["ended_at"] != endedAt || r.body["summary"] != strings.Repeat("s", 50_000) || r.body["updated_at"] != isoAt(e.clock.Now()) {
		t.Errorf("replace summary: %d %.200s", r.status, r.raw)
	}

	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		msg                     string
	}{
		{"summary too long", "PUT", "/v1/sessions/" + id + "/end", "rw", map[string]any{"summary": strings.Repeat("s", 50_001)}, 400, "summary must be"},
		{"summary not a string", "PUT", "/v1/sessions/" + id + "/end", "rw", `{"summary": []}`, 400, "summary must be a string"},
		{"unknown id", "PUT", "/v1/sessions/00000000-0000-4000-8000-000000000000/end", "rw", nil, 404, "Session not found"},
		{"non-uuid id", "PUT", "/v1/sessions/nope/end", "rw", nil, 404, "Session not found"},
		{"other account", "PUT", "/v1/sessions/" + theirs + "/end", "rw", nil, 404, "Session not found"},
		{"read key", "PUT", "/v1/sessions/" + id + "/end", "read", nil, 403, "Insufficient scope. Required: write"},
		{"read key post", "POST", "/v1/sessions/" + id + "/end", "read", nil, 403, "Insufficient scope. Required: write"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ := map[int]string{400: "validation_error", 403: "authorization_error", 404: "not_found_error"}[c.status]
			checkError(t, e.do(c.method, c.path, e.keys[c.key], c.body), c.status, typ, c.msg)
		})
	}
	if r := e.do("GET", "/v1/sessions/"+theirs, e.keys["other"], nil); r.body["status"] != "active" {
		t.Errorf("other account's session changed: %s", r.raw)
	}
}

func TestSessionGet(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	id := e.do("POST", "/v1/sessions", key, map[string]any{"agent_id": "bot"}).body["id"].(string)
	empty := e.do("POST", "/v1/sessions", key, nil).body["id"].(string)
	var mems []string
	for i := range 3 {
		mems = append(mems, e.createMemory(key, map[string]any{"content": fmt.Sprintf("step %d", i), "session_id": id, "agent_id": "bot"}))
		e.clock.Advance(time.Second)
	}
	e.createMemory(key, map[string]any{"content": "elsewhere", "agent_id": "bot"})

	for _, q := range []string{"", "?include_memories=true", "?include_memories=1"} {
		r := e.do("GET", "/v1/sessions/"+id+q, e.keys["read"], nil)
		if r.status != 200 {
			t.Fatalf("get%s: %d %s", q, r.status, r.raw)
		}
		checkKinds(t, "session", r.body, sessionKinds)
		if r.body["memory_count"] != 3.0 {
			t.Errorf("memory_count %v", r.body["memory_count"])
		}
		got, _ := r.body["memories"].([]any)
		if len(got) != len(mems) {
			t.Fatalf("memories: %s", r.raw)
		}
		for i, m := range got {
			m := m.(map[string]any)
			checkKinds(t, "memory", m, map[string]string{"id": "uuid", "object": "string", "content": "string", "session_id": "uuid", "created_at": "ms", "updated_at": "ms", "entities": "array", "metadata": "object"})
			if m["id"] != mems[i] || m["session_id"] != id {
				t.Errorf("memory %d: %v, want %s (oldest first)", i, m, mems[i])
			}
		}
	}
	r := e.do("GET", "/v1/sessions/"+id+"?include_memories=false", key, nil)
	if _, ok := r.body["memories"]; r.status != 200 || ok || r.body["memory_count"] != 3.0 {
		t.Errorf("include_memories=false: %d %s", r.status, r.raw)
	}
	r = e.do("GET", "/v1/sessions/"+empty, key, nil)
	if got, ok := r.body["memories"].([]any); r.status != 200 || !ok || len(got) != 0 {
		t.Errorf("no memories must be []: %s", r.raw)
	}
	theirs := e.do("POST", "/v1/sessions", e.keys["other"], nil).body["id"].(string)
	checkError(t, e.do("GET", "/v1/sessions/"+id+"?include_memories=maybe", key, nil), 400, "validation_error", "include_memories must be")
	checkError(t, e.do("GET", "/v1/sessions/"+theirs, key, nil), 404, "not_found_error", "Session not found")
	checkError(t, e.do("GET", "/v1/sessions/"+id, e.keys["other"], nil), 404, "not_found_error", "Session not found")
	checkError(t, e.do("GET", "/v1/sessions/not-a-uuid", key, nil), 404, "not_found_error", "Session not found")
	checkError(t, e.do("GET", "/v1/sessions/get-or-create", key, nil), 404, "not_found_error", "")
	checkError(t, e.do("GET", "/v1/sessions/"+id, e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
}

func TestSessionList(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	create := func(body map[string]any) string {
		t.Helper()
		r := e.do("POST", "/v1/sessions", key, body)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		e.clock.Advance(time.Second)
		return r.body["id"].(string)
	}
	s0 := create(map[string]any{"agent_id": "a", "project": "web"})
	s1 := create(map[string]any{"agent_id": "b", "project": "web"})
	s2 := create(map[string]any{"agent_id": "a", "project": "api"})
	s3 := create(map[string]any{"agent_id": "a"})
	e.do("PUT", "/v1/sessions/"+s1+"/end", key, nil)
	e.do("PUT", "/v1/sessions/"+s2+"/end", key, nil)
	e.do("POST", "/v1/sessions", e.keys["other"], map[string]any{"agent_id": "a", "project": "web"})
	agentA := e.do("GET", "/v1/agents/a", key, nil).body["id"].(string)

	cases := []struct {
		query string
		want  []string
		total float64
		more  bool
	}{
		{"", []string{s3, s2, s1, s0}, 4, false},
		{"?agent_id=a", []string{s3, s2, s0}, 3, false},
		{"?agent_id=" + agentA, []string{s3, s2, s0}, 3, false},
		{"?agent_id=nobody", []string{}, 0, false},
		{"?project=web", []string{s1, s0}, 2, false},
		{"?status=ended", []string{s2, s1}, 2, false},
		{"?status=active&agent_id=a&project=web", []string{s0}, 1, false},
		{"?limit=2", []string{s3, s2}, 4, true},
		{"?limit=2&offset=2", []string{s1, s0}, 4, false},
		{"?limit=1000", []string{s3, s2, s1, s0}, 4, false},
		{"?offset=10", []string{}, 4, false},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			r := e.do("GET", "/v1/sessions"+c.query, e.keys["read"], nil)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			data := r.body["data"].([]any)
			var got []string
			for _, d := range data {
				checkKinds(t, "session", d.(map[string]any), sessionKinds)
				got = append(got, d.(map[string]any)["id"].(string))
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("ids %v, want %v", got, c.want)
			}
			if r.body["total"] != c.total || r.body["total_count"] != c.total || r.body["has_more"] != c.more {
				t.Errorf("envelope: %s", r.raw)
			}
		})
	}
	if r := e.do("GET", "/v1/sessions?limit=1000", key, nil); r.body["limit"] != 100.0 {
		t.Errorf("limit not clamped: %v", r.body["limit"])
	}
	for _, q := range []string{"?limit=0", "?limit=-1", "?limit=x", "?offset=-1", "?status=open"} {
		checkError(t, e.do("GET", "/v1/sessions"+q, key, nil), 400, "validation_error", "")
	}
	checkError(t, e.do("GET", "/v1/sessions", e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
}

// TestSessionGetCapsMemories: GET /v1/sessions/{id} embeds the session's
// newest MaxSessionMemories memories, oldest first among them, however
// many it has (2,000 memories of 40 KB made an 81 MB answer); memory_count
// still counts them all.
func TestSessionGetCapsMemories(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	id := e.do("POST", "/v1/sessions", key, map[string]any{"agent_id": "bot"}).body["id"].(string)
	n := memory.MaxSessionMemories + 1
	var mems []string
	for i := range n {
		mems = append(mems, e.createMemory(key, map[string]any{"content": fmt.Sprintf("step %d", i), "session_id": id, "agent_id": "bot"}))
		e.clock.Advance(time.Second)
	}
	r := e.do("GET", "/v1/sessions/"+id, e.keys["read"], nil)
	if r.status != 200 || r.body["memory_count"] != float64(n) {
		t.Fatalf("get: %d memory_count %v", r.status, r.body["memory_count"])
	}
	got, _ := r.body["memories"].([]any)
	if len(got) != memory.MaxSessionMemories {
		t.Fatalf("%d memories, want %d", len(got), memory.MaxSessionMemories)
	}
	want := mems[n-memory.MaxSessionMemories:]
	for i, m := range got {
		if id := m.(map[string]any)["id"]; id != want[i] {
			t.Fatalf("memory %d is %v, want %s (the newest, oldest first)", i, id, want[i])
		}
	}
}
