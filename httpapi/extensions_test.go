package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestExtensionsForTheGoClient checks the routes and fields the Go client
// needs beyond the hosted API (each a superset of the contract, which
// clients ignore): GET of one decision and one pattern, the erasure of a
// user's memories, the instants of a v2 accept, the Key in a revoke's
// ack, the Memory and tokens of a built context's items, and the whole
// Entity of a neighbourhood, the field a failed batch item's
// validation_error names.
func TestExtensionsForTheGoClient(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 1 << 20})
	f := newFixtures(e)
	admin, other := e.keys["admin"], e.keys["other"]

	d := expect(t, e.do("GET", "/v1/decisions/"+f.decision, e.keys["read"], nil), 200)
	if d["id"] != f.decision || d["title"] != "Use TypeScript" || d["project_slug"] != "alpha" {
		t.Errorf("decision: %v", d)
	}
	p := expect(t, e.do("GET", "/v1/patterns/"+f.pattern, e.keys["read"], nil), 200)
	if p["id"] != f.pattern || p["title"] != "Typed APIs" {
		t.Errorf("pattern: %v", p)
	}
	for _, path := range []string{"/v1/decisions/" + f.pattern, "/v1/decisions/not-a-uuid", "/v1/patterns/" + f.decision, "/v1/patterns/not-a-uuid"} {
		checkError(t, e.do("GET", path, admin, nil), 404, "not_found_error", "")
	}
	checkError(t, e.do("GET", "/v1/decisions/"+f.decision, other, nil), 404, "not_found_error", "Decision not found")
	checkError(t, e.do("GET", "/v1/patterns/"+f.pattern, other, nil), 404, "not_found_error", "Pattern not found")

	// Erasure: only the user's memories of the calling account go.
	user := "user/with slash"
	for i := 0; i < 3; i++ {
		e.createMemory(e.keys["rw"], map[string]any{"content": "erase me", "user_id": user})
	}
	theirs := e.createMemory(other, map[string]any{"content": "keep me", "user_id": user})
	path := "/v1/users/" + url.PathEscape(user) + "/memories"
	checkError(t, e.do("DELETE", path, e.keys["rw"], nil), 403, "authorization_error", "Insufficient scope. Required: delete")
	ack := expect(t, e.do("DELETE", path, e.keys["delete"], nil), 200)
	if ack["success"] != true || ack["user_id"] != user || ack["deleted_memories"] != 3.0 {
		t.Errorf("erase ack: %v", ack)
	}
	if again := expect(t, e.do("DELETE", path, e.keys["delete"], nil), 200); again["deleted_memories"] != 0.0 {
		t.Errorf("erase again: %v", again)
	}
	expect(t, e.do("GET", "/v1/memories/"+theirs, other, nil), 200)
	checkError(t, e.do("DELETE", "/v1/users/%20/memories", admin, nil), 400, "validation_error", "")

	acc := expect(t, e.do("POST", "/v2/memories", admin, map[string]any{"content": "async"}), 202)
	st := expect(t, e.do("GET", "/v2/memories/"+acc["id"].(string)+"/status", admin, nil), 200)
	if ms, _ := acc["created_at"].(float64); ms == 0 || ms != st["created_at"] {
		t.Errorf("v2 accepted %v, status %v", acc, st)
	}
	if ms, _ := acc["updated_at"].(float64); ms < acc["created_at"].(float64) {
		t.Errorf("v2 accepted: %v", acc)
	}

	id := isoKeyID(t, e, e.acct, "doomed", scopes.NewSet(scopes.Read))
	rev := expect(t, e.do("DELETE", "/v1/keys/"+id, admin, nil), 200)
	for _, field := range append([]string{"success", "deleted"}, isoKeyFields...) {
		if _, ok := rev[field]; !ok {
			t.Errorf("revoke ack lacks %q: %v", field, rev)
		}
	}
	if rev["id"] != id || rev["name"] != "doomed" || rev["revoked_at"] == nil {
		t.Errorf("revoke ack: %v", rev)
	}

	bc := expect(t, e.do("POST", "/v2/context/build", admin, map[string]any{"query": "TypeScript"}), 200)
	ctxItems := items(t, bc, "context")
	if len(ctxItems) == 0 {
		t.Fatalf("no context items: %v", bc)
	}
	sum := 0.0
	for _, it := range ctxItems {
		m, _ := it["memory"].(map[string]any)
		if m == nil || m["id"] != it["memory_id"] || m["content"] != it["content"] {
			t.Errorf("context item memory: %v", it)
		}
		tok, _ := it["tokens"].(float64)
		if tok < 1 {
			t.Errorf("context item tokens: %v", it)
		}
		sum += tok
	}
	if sum != bc["token_count"] {
		t.Errorf("tokens sum to %v, token_count %v", sum, bc["token_count"])
	}

	batch := expect(t, e.do("POST", "/v1/memories/batch", admin, map[string]any{"memories": []any{
		map[string]any{"content": "fine"}, map[string]any{"content": " "}, map[string]any{"content": 1},
		map[string]any{"content": "x", "session_id": "00000000-0000-4000-8000-000000000000"}, "not an object",
	}}), 200)
	for i, want := range []any{nil, "content", "content", "session_id", nil} {
		if got := jobsBatchItem(t, response{body: batch}, i)["error_field"]; got != want {
			t.Errorf("batch item %d: error_field %v, want %v", i, got, want)
		}
	}

	nb := expect(t, e.do("GET", "/v1/entities/"+f.entity+"/neighborhood", admin, nil), 200)
	ent, _ := nb["entity"].(map[string]any)
	for _, field := range entityFields {
		if _, ok := ent[field]; !ok {
			t.Errorf("neighbourhood entity lacks %q: %v", field, ent)
		}
	}
}
