package httpapi_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
)

var (
	kindUUIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	kindISORE  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// checkKinds asserts that obj has every field of kinds, each of its kind:
// uuid, string, string?, int, int?, bool, object, object?, array, ms (epoch
// milliseconds), ms?, iso (ISO-8601 with milliseconds), iso?; a trailing ?
// also allows null.
func checkKinds(t testing.TB, what string, obj map[string]any, kinds map[string]string) {
	t.Helper()
	for field, kind := range kinds {
		v, ok := obj[field]
		if !ok {
			t.Errorf("%s: no field %s", what, field)
			continue
		}
		if strings.HasSuffix(kind, "?") {
			if v == nil {
				continue
			}
			kind = strings.TrimSuffix(kind, "?")
		}
		good := false
		switch {
		case strings.HasPrefix(kind, "="): // an exact string
			good = v == kind[1:]
		case kind == "uuid":
			s, isStr := v.(string)
			good = isStr && kindUUIDRE.MatchString(s)
		case kind == "string":
			_, good = v.(string)
		case kind == "bool":
			_, good = v.(bool)
		case kind == "object":
			_, good = v.(map[string]any)
		case kind == "array":
			_, good = v.([]any)
		case kind == "int", kind == "ms":
			f, isNum := v.(float64)
			good = isNum && f == float64(int64(f)) && (kind == "int" || f > 1e12)
		case kind == "iso":
			s, isStr := v.(string)
			good = isStr && kindISORE.MatchString(s)
		default:
			t.Fatalf("unknown kind %q", kind)
		}
		if !good {
			t.Errorf("%s: %s = %#v, want %s", what, field, v, kinds[field])
		}
	}
}

var agentKinds = map[string]string{
	"id": "string", "object": "=agent", "name": "string", "description": "string?", "config": "object", "metadata": "object",
	"memory_count": "int", "session_count": "int", "project_count": "int", "last_active_at": "ms?",
	"created_at": "ms", "updated_at": "ms",
}

func TestAgentCreate(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["rw"]
	theirs := e.do("POST", "/v1/agents", e.keys["other"], map[string]any{"name": "theirs"}).body["id"].(string)
	free := "6F9619FF-8B86-4011-B42D-00CF4FC964FF" // upper case: stored lower case

	r := e.do("POST", "/v1/agents", key, map[string]any{"name": "alpha", "description": "first", "metadata": map[string]any{"k": 1}, "unknown": true})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	checkKinds(t, "agent", r.body, agentKinds)
	alpha := r.body
	if alpha["name"] != "alpha" || alpha["description"] != "first" || alpha["metadata"].(map[string]any)["k"] != 1.0 ||
		alpha["memory_count"] != 0.0 || alpha["session_count"] != 0.0 || alpha["project_count"] != 0.0 || alpha["last_active_at"] != nil ||
		alpha["created_at"] != float64(e.clock.Now().UnixMilli()) {
		t.Errorf("created agent: %s", r.raw)
	}
	if len(alpha["config"].(map[string]any)) != 0 {
		t.Errorf("config %v", alpha["config"])
	}

	cases := []struct {
		name   string
		body   any
		status int
		check  func(t *testing.T, got map[string]any)
	}{
		{"existing name returns it unchanged", map[string]any{"name": "alpha", "description": "other"}, 200, func(t *testing.T, got map[string]any) {
			if got["id"] != alpha["id"] || got["description"] != "first" {
				t.Errorf("got %v", got)
			}
		}},
		{"a chosen uuid id is kept as sent", map[string]any{"id": free, "name": "beta"}, 201, func(t *testing.T, got map[string]any) {
			if got["id"] != free || got["name"] != "beta" {
				t.Errorf("got %v", got)
			}
		}},
		{"uuid id alone names the agent", map[string]any{"id": "0e2c5b3a-1111-4222-8333-444455556666"}, 201, func(t *testing.T, got map[string]any) {
			if got["id"] != "0e2c5b3a-1111-4222-8333-444455556666" || got["name"] != "0e2c5b3a-1111-4222-8333-444455556666" {
				t.Errorf("got %v", got)
			}
		}},
		{"uuid id alone again is idempotent", map[string]any{"id": "0e2c5b3a-1111-4222-8333-444455556666", "name": nil}, 200, func(t *testing.T, got map[string]any) {
			if got["id"] != "0e2c5b3a-1111-4222-8333-444455556666" {
				t.Errorf("got %v", got)
			}
		}},
		{"own agent's id alone returns it", map[string]any{"id": free}, 200, func(t *testing.T, got map[string]any) {
			if got["id"] != free || got["name"] != "beta" {
				t.Errorf("got %v", got)
			}
		}},
		{"an id another account uses is this account's too", map[string]any{"id": theirs, "name": "gamma"}, 201, func(t *testing.T, got map[string]any) {
			if got["id"] != theirs || got["name"] != "gamma" {
				t.Errorf("got %v", got)
			}
		}},
		{"an id alone names the agent", map[string]any{"id": "delta"}, 201, func(t *testing.T, got map[string]any) {
			if got["name"] != "delta" || got["id"] != "delta" {
				t.Errorf("got %v", got)
			}
		}},
		{"id and name", map[string]any{"id": "e-1", "name": "epsilon"}, 201, func(t *testing.T, got map[string]any) {
			if got["id"] != "e-1" || got["name"] != "epsilon" {
				t.Errorf("got %v", got)
			}
		}},
		{"a known id returns its agent unchanged", map[string]any{"id": "e-1", "name": "other", "description": "other"}, 200, func(t *testing.T, got map[string]any) {
			if got["id"] != "e-1" || got["name"] != "epsilon" || got["description"] != nil {
				t.Errorf("got %v", got)
			}
		}},
		{"longest name and description", map[string]any{"name": strings.Repeat("é", 255), "description": strings.Repeat("d", 1000)}, 201, nil},
		{"names are case-sensitive", map[string]any{"name": "ALPHA"}, 201, nil},
		{"a new id with a taken name", map[string]any{"id": "zeta", "name": "alpha"}, 409, nil},
		{"a new id whose default name is taken", map[string]any{"id": "alpha"}, 409, nil},
		{"no name or id", map[string]any{"description": "x"}, 400, nil},
		{"empty id", map[string]any{"id": ""}, 400, nil},
		{"empty id beside a name", map[string]any{"id": "", "name": "z"}, 400, nil},
		{"blank id", map[string]any{"id": " \t"}, 400, nil},
		{"id too long", map[string]any{"id": strings.Repeat("i", 256)}, 400, nil},
		{"id not a string", `{"id": 5}`, 400, nil},
		{"null name and id", map[string]any{"name": nil, "id": nil}, 400, nil},
		{"empty name", map[string]any{"name": ""}, 400, nil},
		{"blank name", map[string]any{"name": "  \t"}, 400, nil},
		{"name too long", map[string]any{"name": strings.Repeat("é", 256)}, 400, nil},
		{"name not a string", `{"name": 5}`, 400, nil},
		{"description too long", map[string]any{"name": "z", "description": strings.Repeat("d", 1001)}, 400, nil},
		{"metadata not an object", map[string]any{"name": "z", "metadata": []int{1}}, 400, nil},
		{"metadata too big", map[string]any{"name": "z", "metadata": map[string]any{"b": strings.Repeat("a", 10<<10)}}, 400, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/agents", key, c.body)
			if c.status == 400 {
				checkError(t, r, 400, "validation_error", "")
				return
			}
			if c.status == 409 {
				checkError(t, r, 409, "conflict_error", "Agent name already exists")
				return
			}
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			checkKinds(t, "agent", r.body, agentKinds)
			if c.check != nil {
				c.check(t, r.body)
			}
		})
	}
	if r := e.do("GET", "/v1/agents", key, nil); r.body["total"] != 8.0 {
		t.Errorf("agents after the table: %s", r.raw)
	}
	// The other account's agent, whose id this account now uses too, is
	// untouched, and that id finds each account's own agent.
	if r := e.do("GET", "/v1/agents/"+theirs, e.keys["other"], nil); r.status != 200 || r.body["name"] != "theirs" {
		t.Errorf("their agent: %s", r.raw)
	}
	if r := e.do("GET", "/v1/agents/"+theirs, key, nil); r.status != 200 || r.body["name"] != "gamma" {
		t.Errorf("our agent with their id: %s", r.raw)
	}
}

func TestAgentLifecycle(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["admin"]
	const name = "my agent/1"
	path := "/v1/agents/" + url.PathEscape(name)
	if !strings.Contains(path, "%2F") || !strings.Contains(path, "%20") {
		t.Fatalf("path %q is not encoded", path)
	}
	mem := func(body map[string]any) float64 {
		t.Helper()
		body["agent_id"] = name
		id := e.createMemory(key, body)
		r := e.do("GET", "/v1/memories/"+id, key, nil)
		return r.body["updated_at"].(float64)
	}
	mem(map[string]any{"content": "one", "project": "web-app"})
	e.clock.Advance(time.Second)
	mem(map[string]any{"content": "two", "project": "api"})
	e.clock.Advance(time.Second)
	last := mem(map[string]any{"content": "three"})
	for _, p := range []any{"api", "infra", nil} {
		if r := e.do("POST", "/v1/sessions", key, map[string]any{"agent_id": name, "project": p}); r.status != 201 {
			t.Fatalf("session: %d %s", r.status, r.raw)
		}
	}
	e.createMemory(key, map[string]any{"content": "someone else's", "agent_id": "bystander", "project": "other"})

	r := e.do("GET", path, key, nil)
	if r.status != 200 {
		t.Fatalf("get by encoded name: %d %s", r.status, r.raw)
	}
	checkKinds(t, "agent", r.body, agentKinds)
	// The agent the first write auto-created has the reference as its id
	// and its name (§5.5).
	id := r.body["id"].(string)
	for f, want := range map[string]any{"id": name, "name": name, "memory_count": 3.0, "session_count": 3.0, "project_count": 3.0, "last_active_at": last} {
		if r.body[f] != want {
			t.Errorf("%s = %v, want %v", f, r.body[f], want)
		}
	}
	// A server-made UUID id is found in any letter case, as before ids
	// were chosen by clients.
	made := e.do("POST", "/v1/agents", key, map[string]any{"name": "made"}).body["id"].(string)
	if !kindUUIDRE.MatchString(made) {
		t.Errorf("id of an agent created by name: %q", made)
	}
	if r := e.do("GET", "/v1/agents/"+strings.ToUpper(made), key, nil); r.status != 200 || r.body["id"] != made {
		t.Errorf("get by upper-case id: %d %s", r.status, r.raw)
	}
	e.do("DELETE", "/v1/agents/"+made, e.keys["delete"], nil)

	// Stats, by name and by id.
	for _, p := range []string{path + "/stats", "/v1/agents/" + url.PathEscape(id) + "/stats"} {
		r := e.do("GET", p, e.keys["read"], nil)
		if r.status != 200 {
			t.Fatalf("stats: %d %s", r.status, r.raw)
		}
		kinds := map[string]string{"memory_count": "int", "entity_count": "int", "total_memories": "int", "last_updated": "ms", "data": "object"}
		checkKinds(t, "stats", r.body, kinds)
		delete(kinds, "data")
		data, _ := r.body["data"].(map[string]any)
		checkKinds(t, "stats.data", data, kinds)
		for _, obj := range []map[string]any{r.body, data} {
			if obj["memory_count"] != 3.0 || obj["total_memories"] != 3.0 || obj["entity_count"] != 0.0 || obj["last_updated"] != last {
				t.Errorf("stats %v", obj)
			}
		}
	}
	r = e.do("POST", "/v1/agents", key, map[string]any{"name": "empty"})
	if r := e.do("GET", "/v1/agents/empty/stats", key, nil); r.status != 200 || r.body["last_updated"] != nil || r.body["memory_count"] != 0.0 {
		t.Errorf("stats of an agent without memories: %s", r.raw)
	}

	// Update: PUT and PATCH alike; null leaves a field alone.
	created := r.body["created_at"].(float64)
	e.clock.Advance(time.Second)
	r = e.do("PUT", "/v1/agents/empty", key, map[string]any{"name": "renamed", "description": "d", "metadata": map[string]any{"a": 1, "b": 2}})
	if r.status != 200 || r.body["name"] != "renamed" || r.body["description"] != "d" || r.body["updated_at"].(float64) <= created {
		t.Fatalf("put: %d %s", r.status, r.raw)
	}
	checkKinds(t, "agent", r.body, agentKinds)
	prev := r.body["updated_at"].(float64)
	r = e.do("PATCH", "/v1/agents/renamed", key, map[string]any{"name": nil, "description": nil, "metadata": nil})
	if r.status != 200 || r.body["name"] != "renamed" || r.body["description"] != "d" || len(r.body["metadata"].(map[string]any)) != 2 {
		t.Fatalf("patch with nulls: %d %s", r.status, r.raw)
	}
	r = e.do("PATCH", "/v1/agents/renamed", key, map[string]any{"metadata": map[string]any{"c": 3}})
	if md := r.body["metadata"].(map[string]any); r.status != 200 || len(md) != 1 || md["c"] != 3.0 || r.body["updated_at"].(float64) <= prev {
		t.Fatalf("metadata replaces and updated_at advances within one instant: %d %s", r.status, r.raw)
	}
	r = e.do("PATCH", "/v1/agents/renamed", key, map[string]any{"metadata": map[string]any{}})
	if md := r.body["metadata"].(map[string]any); r.status != 200 || len(md) != 0 {
		t.Fatalf("empty metadata: %d %s", r.status, r.raw)
	}
	if r := e.do("PATCH", "/v1/agents/renamed", key, map[string]any{"name": "renamed"}); r.status != 200 {
		t.Errorf("keeping its own name: %d %s", r.status, r.raw)
	}
	checkError(t, e.do("PUT", "/v1/agents/renamed", key, map[string]any{"name": name}), 409, "conflict_error", "Agent name already exists")
	for _, body := range []any{
		map[string]any{"name": ""},
		map[string]any{"name": strings.Repeat("n", 256)},
		map[string]any{"description": strings.Repeat("d", 1001)},
		map[string]any{"metadata": "text"},
		`{"name": true}`,
	} {
		checkError(t, e.do("PATCH", "/v1/agents/renamed", key, body), 400, "validation_error", "")
	}
	checkError(t, e.do("PUT", "/v1/agents/empty", key, map[string]any{"name": "x"}), 404, "not_found_error", "Agent not found")

	// Delete: the ack counts the memories; memories and sessions go too.
	sessions := e.do("GET", "/v1/sessions?agent_id="+url.QueryEscape(id), key, nil).body["data"].([]any)
	if len(sessions) != 3 {
		t.Fatalf("sessions of the agent: %d", len(sessions))
	}
	r = e.do("DELETE", path, e.keys["delete"], nil)
	if r.status != 200 || r.body["success"] != true || r.body["deleted"] != true || r.body["id"] != id || r.body["deleted_memories"] != 3.0 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	checkError(t, e.do("GET", path, key, nil), 404, "not_found_error", "Agent not found")
	checkError(t, e.do("GET", path+"/stats", key, nil), 404, "not_found_error", "Agent not found")
	checkError(t, e.do("DELETE", path, e.keys["delete"], nil), 404, "not_found_error", "Agent not found")
	if r := e.do("GET", "/v1/memories", key, nil); r.body["total"] != 1.0 {
		t.Errorf("memories left: %s", r.raw)
	}
	for _, s := range sessions {
		sid := s.(map[string]any)["id"].(string)
		checkError(t, e.do("GET", "/v1/sessions/"+sid, key, nil), 404, "not_found_error", "Session not found")
	}
}

func TestAgentScopesAndAccounts(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	r := e.do("POST", "/v1/agents", e.keys["rw"], map[string]any{"name": "mine"})
	id := r.body["id"].(string)
	theirs := e.do("POST", "/v1/agents", e.keys["other"], map[string]any{"name": "theirs"}).body["id"].(string)

	cases := []struct {
		name         string
		method, path string
		key          string
		body         any
		status       int
		typ, msg     string
	}{
		{"read cannot create", "POST", "/v1/agents", "read", map[string]any{"name": "x"}, 403, "authorization_error", "Insufficient scope. Required: write"},
		{"read cannot update", "PUT", "/v1/agents/" + id, "read", map[string]any{"name": "x"}, 403, "authorization_error", "Insufficient scope. Required: write"},
		{"read cannot patch", "PATCH", "/v1/agents/" + id, "read", map[string]any{"name": "x"}, 403, "authorization_error", "Insufficient scope. Required: write"},
		{"rw cannot delete", "DELETE", "/v1/agents/" + id, "rw", nil, 403, "authorization_error", "Insufficient scope. Required: delete"},
		{"delete cannot get", "GET", "/v1/agents/" + id, "delete", nil, 403, "authorization_error", "Insufficient scope. Required: read"},
		{"delete cannot read stats", "GET", "/v1/agents/" + id + "/stats", "delete", nil, 403, "authorization_error", "Insufficient scope. Required: read"},
		{"other account get", "GET", "/v1/agents/" + id, "other", nil, 404, "not_found_error", "Agent not found"},
		{"other account get by name", "GET", "/v1/agents/mine", "other", nil, 404, "not_found_error", "Agent not found"},
		{"other account stats", "GET", "/v1/agents/" + id + "/stats", "other", nil, 404, "not_found_error", "Agent not found"},
		{"other account update", "PATCH", "/v1/agents/" + id, "other", map[string]any{"name": "stolen"}, 404, "not_found_error", "Agent not found"},
		{"other account delete", "DELETE", "/v1/agents/" + id, "other", nil, 404, "not_found_error", "Agent not found"},
		{"their agent from here", "GET", "/v1/agents/" + theirs, "rw", nil, 404, "not_found_error", "Agent not found"},
		{"nil uuid", "GET", "/v1/agents/00000000-0000-0000-0000-000000000000", "rw", nil, 404, "not_found_error", "Agent not found"},
		{"unknown name", "GET", "/v1/agents/nobody", "rw", nil, 404, "not_found_error", "Agent not found"},
		{"unknown name stats", "GET", "/v1/agents/nobody/stats", "rw", nil, 404, "not_found_error", "Agent not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkError(t, e.do(c.method, c.path, e.keys[c.key], c.body), c.status, c.typ, c.msg)
		})
	}
	if r := e.do("GET", "/v1/agents/"+id, e.keys["rw"], nil); r.status != 200 || r.body["name"] != "mine" {
		t.Errorf("agent changed by the failed requests: %s", r.raw)
	}
}
