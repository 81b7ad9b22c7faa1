package httpapi_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestAgentSDKFlow is what both official SDKs do (API contract §5.5):
// create an agent with an id of their choosing, then address it by that
// id in paths, in stats and in every memory's agent_id. One agent, not
// two; renaming it changes nothing but its name.
func TestAgentSDKFlow(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["admin"]
	agents := func() float64 {
		t.Helper()
		return expect(t, e.do("GET", "/v1/agents", key, nil), 200)["total"].(float64)
	}

	a := expect(t, e.do("POST", "/v1/agents", key, map[string]any{"id": "my-agent", "name": "My Agent", "description": "d"}), 201)
	checkKinds(t, "agent", a, agentKinds)
	if a["id"] != "my-agent" || a["name"] != "My Agent" || a["description"] != "d" {
		t.Fatalf("created: %v", a)
	}
	if g := expect(t, e.do("GET", "/v1/agents/my-agent", key, nil), 200); g["id"] != "my-agent" || g["name"] != "My Agent" {
		t.Fatalf("get by id: %v", g)
	}

	// Writes by the id, and by the name, reach that agent and carry its id.
	e.clock.Advance(time.Second)
	m := expect(t, e.do("POST", "/v1/memories", key, map[string]any{"content": "The user prefers TypeScript", "agent_id": "my-agent"}), 201)
	if m["agent_id"] != "my-agent" {
		t.Fatalf("memory by id: %v", m)
	}
	byName := expect(t, e.do("POST", "/v1/memories", key, map[string]any{"content": "The user lives in Lisbon", "agent_id": "My Agent"}), 201)
	if byName["agent_id"] != "my-agent" {
		t.Errorf("memory by name carries %v, want the agent's id", byName["agent_id"])
	}
	batch := expect(t, e.do("POST", "/v1/memories/batch", key, map[string]any{"agent_id": "my-agent", "memories": []any{
		map[string]any{"content": "The user drinks green tea"}}}), 200)
	batchID := items(t, batch, "results")[0]["memory_id"].(string)
	v2 := expect(t, e.do("POST", "/v2/memories", key, map[string]any{"content": "The user runs on Sundays", "agent_id": "my-agent"}), 202)["id"].(string)
	waitReady(t, e, key, v2)
	s := expect(t, e.do("POST", "/v1/sessions", key, map[string]any{"agent_id": "My Agent", "title": "t"}), 201)
	g := expect(t, e.do("POST", "/v1/sessions/get-or-create", key, map[string]any{"external_id": "ws-1", "agent_id": "my-agent"}), 201)
	en := expect(t, e.do("POST", "/v1/entities", key, map[string]any{"name": "TypeScript", "agent_id": "My Agent"}), 201)
	d := expect(t, e.do("POST", "/v1/decisions", key, map[string]any{"title": "Use TypeScript", "rationale": "types", "agent_id": "my-agent"}), 201)
	for what, obj := range map[string]map[string]any{"session": s, "get-or-create": g, "entity": en, "decision": d} {
		if obj["agent_id"] != "my-agent" {
			t.Errorf("%s agent_id = %v, want my-agent", what, obj["agent_id"])
		}
	}
	if n := agents(); n != 1 {
		t.Fatalf("%v agents, want 1", n)
	}
	st := expect(t, e.do("GET", "/v1/agents/my-agent/stats", key, nil), 200)
	if st["memory_count"] != 4.0 || st["total_memories"] != 4.0 || st["entity_count"] != 1.0 {
		t.Errorf("stats: %v", st)
	}
	if g := expect(t, e.do("GET", "/v1/agents/my-agent", key, nil), 200); g["memory_count"] != 4.0 || g["session_count"] != 2.0 {
		t.Errorf("agent counts: %v", g)
	}

	// Rename: lookups by id, filters and stored objects are unaffected.
	created := a["created_at"]
	e.clock.Advance(time.Second)
	r := expect(t, e.do("PATCH", "/v1/agents/my-agent", key, map[string]any{"name": "Renamed"}), 200)
	if r["id"] != "my-agent" || r["name"] != "Renamed" || r["created_at"] != created || r["description"] != "d" {
		t.Fatalf("renamed: %v", r)
	}
	renamedAt := r["updated_at"]
	for _, p := range []string{"/v1/agents/my-agent", "/v1/agents/Renamed"} {
		if g := expect(t, e.do("GET", p, key, nil), 200); g["id"] != "my-agent" || g["name"] != "Renamed" || g["memory_count"] != 4.0 {
			t.Errorf("GET %s after the rename: %v", p, g)
		}
	}
	checkError(t, e.do("GET", "/v1/agents/"+url.PathEscape("My Agent"), key, nil), 404, "not_found_error", "Agent not found")
	if st := expect(t, e.do("GET", "/v1/agents/my-agent/stats", key, nil), 200); st["memory_count"] != 4.0 {
		t.Errorf("stats after the rename: %v", st)
	}
	list := expect(t, e.do("GET", "/v1/memories?agent_id=my-agent", key, nil), 200)
	if list["total"] != 4.0 {
		t.Fatalf("memories by id after the rename: %v", list)
	}
	for _, it := range items(t, list, "data") {
		if it["agent_id"] != "my-agent" {
			t.Errorf("listed memory: %v", it)
		}
	}
	for _, id := range []string{m["id"].(string), byName["id"].(string), batchID, v2} {
		if got := expect(t, e.do("GET", "/v1/memories/"+id, key, nil), 200); got["agent_id"] != "my-agent" {
			t.Errorf("memory %s after the rename: %v", id, got["agent_id"])
		}
	}
	if l := expect(t, e.do("GET", "/v1/memories?agent_id=Renamed", key, nil), 200); l["total"] != 4.0 {
		t.Errorf("memories by the new name: %v", l)
	}
	if l := expect(t, e.do("GET", "/v1/memories?agent_id="+url.QueryEscape("My Agent"), key, nil), 200); l["total"] != 0.0 {
		t.Errorf("memories by the old name, now unknown: %v", l)
	}
	hits := expect(t, e.do("POST", "/v1/memories/search", key, map[string]any{"query": "TypeScript", "agent_id": "my-agent"}), 200)
	if h := items(t, hits, "data"); len(h) == 0 || h[0]["agent_id"] != "my-agent" || h[0]["memory"].(map[string]any)["agent_id"] != "my-agent" {
		t.Errorf("search by id after the rename: %s", mustJSON(t, hits))
	}
	for _, p := range []string{"/v1/sessions?agent_id=my-agent", "/v1/entities?agent_id=my-agent"} {
		l := expect(t, e.do("GET", p, key, nil), 200)
		want := map[bool]float64{true: 2, false: 1}[strings.HasPrefix(p, "/v1/sessions")]
		if l["total"] != want {
			t.Errorf("%s after the rename: %v", p, l)
		}
	}
	if x := expect(t, e.do("GET", "/v1/sessions/"+s["id"].(string), key, nil), 200); x["agent_id"] != "my-agent" {
		t.Errorf("session after the rename: %v", x["agent_id"])
	}
	if x := expect(t, e.do("GET", "/v1/entities/"+en["id"].(string), key, nil), 200); x["agent_id"] != "my-agent" {
		t.Errorf("entity after the rename: %v", x["agent_id"])
	}
	sup := expect(t, e.do("POST", "/v1/decisions/"+d["id"].(string)+"/supersede", key, map[string]any{"title": "Use Go", "rationale": "r"}), 201)
	if sup["agent_id"] != "my-agent" {
		t.Errorf("superseding decision after the rename: %v", sup["agent_id"])
	}

	// The SDK's create, again: 200 with the agent as it is.
	again := expect(t, e.do("POST", "/v1/agents", key, map[string]any{"id": "my-agent", "name": "My Agent", "description": "other"}), 200)
	if again["id"] != "my-agent" || again["name"] != "Renamed" || again["description"] != "d" || again["created_at"] != created || again["updated_at"] != renamedAt {
		t.Errorf("create again: %v", again)
	}
	if n := agents(); n != 1 {
		t.Fatalf("%v agents after all that, want 1", n)
	}

	// The old name is free now: a write naming it auto-creates an agent
	// with that id and name.
	old := expect(t, e.do("POST", "/v1/memories", key, map[string]any{"content": "x", "agent_id": "My Agent"}), 201)
	if old["agent_id"] != "My Agent" {
		t.Errorf("a write by the old name: %v", old["agent_id"])
	}
	if g := expect(t, e.do("GET", "/v1/agents/"+url.PathEscape("My Agent"), key, nil), 200); g["id"] != "My Agent" || g["name"] != "My Agent" || g["memory_count"] != 1.0 {
		t.Errorf("the auto-created agent: %v", g)
	}
	// A rename onto a taken name is a conflict and changes nothing.
	checkError(t, e.do("PATCH", "/v1/agents/my-agent", key, map[string]any{"name": "My Agent"}), 409, "conflict_error", "Agent name already exists")
	if g := expect(t, e.do("GET", "/v1/agents/my-agent", key, nil), 200); g["name"] != "Renamed" {
		t.Errorf("after the conflict: %v", g)
	}
}

// waitReady waits until the v2 create is ready.
func waitReady(t *testing.T, e *env, key, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := expect(t, e.do("GET", "/v2/memories/"+id+"/status", key, nil), 200)
		if st["status"] == "ready" {
			return
		}
		if st["status"] == "failed" || time.Now().After(deadline) {
			t.Fatalf("v2 job: %v", st)
		}
		time.Sleep(time.Millisecond)
	}
}

// agentPath is the path of the agent with the id: the id percent-encoded
// as one segment, dots included when it is all dots ("." and ".." would be
// dot segments).
func agentPath(id string) string {
	if strings.Trim(id, ".") == "" {
		return "/v1/agents/" + strings.Repeat("%2E", len(id))
	}
	return "/v1/agents/" + url.PathEscape(id)
}

// TestAgentIDs checks client-chosen ids at their limits: any characters
// (percent-encoded in paths, decoded by the server), 1–255 bytes; and
// that an id belongs to its account.
func TestAgentIDs(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["admin"]
	ids := []string{
		"agent with spaces",
		"team/agent/1",
		"ünïcødé агент エージェント",
		"100% sure?#yes&no=+",
		strings.Repeat("a", memory.MaxAgentRef),   // 255 bytes
		strings.Repeat("é", 127) + "x",            // 255 bytes, 128 characters
		strings.Repeat("✓", memory.MaxAgentRef/3), // 255 bytes of 3-byte characters
		"6F9619FF-8B86-4011-B42D-00CF4FC964FF",    // a UUID in upper case, kept so
		" padded ",                                // kept verbatim
		".", "..",                                 // dot segments unless encoded: see agentPath
	}
	for i, id := range ids {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			path := agentPath(id)
			a := expect(t, e.do("POST", "/v1/agents", key, map[string]any{"id": id}), 201)
			if a["id"] != id || a["name"] != id {
				t.Fatalf("created %q: %v", id, a)
			}
			if g := expect(t, e.do("GET", path, key, nil), 200); g["id"] != id {
				t.Errorf("GET %s: %v", path, g)
			}
			m := expect(t, e.do("POST", "/v1/memories", key, map[string]any{"content": "about " + id, "agent_id": id}), 201)
			if m["agent_id"] != id {
				t.Errorf("memory agent_id %q, want %q", m["agent_id"], id)
			}
			if st := expect(t, e.do("GET", path+"/stats", key, nil), 200); st["memory_count"] != 1.0 {
				t.Errorf("stats: %v", st)
			}
			if l := expect(t, e.do("GET", "/v1/memories?agent_id="+url.QueryEscape(id), key, nil), 200); l["total"] != 1.0 {
				t.Errorf("memories of %q: %v", id, l)
			}
			if r := expect(t, e.do("PUT", path, key, map[string]any{"name": "renamed " + strconv.Itoa(i)}), 200); r["id"] != id {
				t.Errorf("rename: %v", r)
			}
			if d := expect(t, e.do("DELETE", path, key, nil), 200); d["id"] != id || d["deleted_memories"] != 1.0 {
				t.Errorf("delete: %v", d)
			}
			checkError(t, e.do("GET", path, key, nil), 404, "not_found_error", "Agent not found")
		})
	}

	// One byte past the limit, however the bytes are spelled.
	expect(t, e.do("POST", "/v1/memories", key, map[string]any{"content": "about x", "agent_id": "x"}), 201)
	for _, id := range []string{strings.Repeat("a", memory.MaxAgentRef+1), strings.Repeat("é", 128)} {
		checkError(t, e.do("POST", "/v1/agents", key, map[string]any{"id": id}), 400, "validation_error", "id must be 1-255 bytes")
		checkError(t, e.do("POST", "/v1/agents", key, map[string]any{"id": id, "name": "long"}), 400, "validation_error", "id must be 1-255 bytes")
		checkError(t, e.do("POST", "/v1/memories", key, map[string]any{"content": "x", "agent_id": id}), 400, "validation_error", "agent_id must be")
		checkError(t, e.do("GET", "/v1/agents/"+url.PathEscape(id), key, nil), 404, "not_found_error", "Agent not found")
		// A filter naming no agent matches nothing.
		for _, p := range []string{"/v1/memories", "/v1/sessions", "/v1/entities"} {
			if l := expect(t, e.do("GET", p+"?agent_id="+url.QueryEscape(id), key, nil), 200); l["total"] != 0.0 {
				t.Errorf("%s filtered by a too long id: %v", p, l)
			}
		}
		if l := expect(t, e.do("POST", "/v1/memories/search", key, map[string]any{"query": "about", "agent_id": id}), 200); l["total"] != 0.0 {
			t.Errorf("search filtered by a too long id: %v", l)
		}
	}
	expect(t, e.do("DELETE", "/v1/agents/x", key, nil), 200)
	for _, body := range []any{map[string]any{}, map[string]any{"id": ""}, map[string]any{"id": nil, "name": nil}, map[string]any{"id": "", "name": ""}} {
		checkError(t, e.do("POST", "/v1/agents", key, body), 400, "validation_error", "")
	}
	if l := expect(t, e.do("GET", "/v1/agents", key, nil), 200); l["total"] != 0.0 {
		t.Errorf("agents left: %v", l)
	}

	// A name another agent has: 409, for a new id; the agent with the id,
	// when there is one, whatever the name.
	expect(t, e.do("POST", "/v1/agents", key, map[string]any{"id": "one", "name": "Shared"}), 201)
	checkError(t, e.do("POST", "/v1/agents", key, map[string]any{"id": "two", "name": "Shared"}), 409, "conflict_error", "Agent name already exists")
	checkError(t, e.do("POST", "/v1/agents", key, map[string]any{"id": "Shared"}), 409, "conflict_error", "Agent name already exists")
	if g := expect(t, e.do("POST", "/v1/agents", key, map[string]any{"id": "one", "name": "Other"}), 200); g["name"] != "Shared" {
		t.Errorf("create of a known id: %v", g)
	}
	if g := expect(t, e.do("POST", "/v1/agents", key, map[string]any{"name": "Shared"}), 200); g["id"] != "one" {
		t.Errorf("create of a known name: %v", g)
	}
	// An id is looked up before a name.
	expect(t, e.do("POST", "/v1/agents", key, map[string]any{"id": "three", "name": "one"}), 201)
	if g := expect(t, e.do("GET", "/v1/agents/one", key, nil), 200); g["id"] != "one" {
		t.Errorf("id before name: %v", g)
	}
	if m := expect(t, e.do("POST", "/v1/memories", key, map[string]any{"content": "x", "agent_id": "one"}), 201); m["agent_id"] != "one" {
		t.Errorf("write: id before name: %v", m["agent_id"])
	}

	// Two accounts, one id: two agents, each account's own.
	other := e.keys["other"]
	o := expect(t, e.do("POST", "/v1/agents", other, map[string]any{"id": "one", "name": "Theirs"}), 201)
	if o["id"] != "one" || o["name"] != "Theirs" || o["memory_count"] != 0.0 {
		t.Errorf("the other account's agent: %v", o)
	}
	expect(t, e.do("POST", "/v1/memories", other, map[string]any{"content": "theirs", "agent_id": "one"}), 201)
	expect(t, e.do("PATCH", "/v1/agents/one", other, map[string]any{"name": "Renamed by them"}), 200)
	if g := expect(t, e.do("GET", "/v1/agents/one", key, nil), 200); g["name"] != "Shared" || g["memory_count"] != 1.0 {
		t.Errorf("ours after theirs changed: %v", g)
	}
	if g := expect(t, e.do("GET", "/v1/agents/one/stats", other, nil), 200); g["memory_count"] != 1.0 {
		t.Errorf("their stats: %v", g)
	}
	expect(t, e.do("DELETE", "/v1/agents/one", other, nil), 200)
	if g := expect(t, e.do("GET", "/v1/agents/one", key, nil), 200); g["memory_count"] != 1.0 {
		t.Errorf("ours after theirs was deleted: %v", g)
	}
}
