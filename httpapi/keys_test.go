package httpapi_test

import (
	"github.com/memoryrelay/memoryrelay"
	"strings"
	"testing"
	"time"
)

func TestKeyManagement(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]

	r := e.do("POST", "/v1/keys", admin, map[string]any{"name": "ci", "scopes": []string{"read", "write"}, "metadata": map[string]any{"team": "x"}, "expires_at": "2027-01-01T00:00:00Z"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	raw, _ := r.body["key"].(string)
	id, _ := r.body["id"].(string)
	if !strings.HasPrefix(raw, "mem_") || r.body["prefix"] != raw[:12] {
		t.Fatalf("create body: %s", r.raw)
	}
	for _, f := range []string{"id", "name", "prefix", "scopes", "metadata", "created_at", "expires_at", "last_used_at", "revoked_at"} {
		if _, ok := r.body[f]; !ok {
			t.Errorf("key object lacks %s", f)
		}
	}
	if r.body["expires_at"] != "2027-01-01T00:00:00.000Z" || r.body["created_at"] != "2026-03-17T09:30:00.000Z" {
		t.Errorf("ISO times: %v %v", r.body["expires_at"], r.body["created_at"])
	}
	// The new key works, with its scopes.
	if r := e.do("GET", "/v1/agents", raw, nil); r.status != 200 {
		t.Fatalf("new key: %d", r.status)
	}
	checkError(t, e.do("DELETE", "/v1/memories/00000000-0000-4000-8000-000000000000", raw, nil), 403, "authorization_error", "Insufficient scope. Required: delete")

	// List and get never show a secret.
	r = e.do("GET", "/v1/keys?limit=100", admin, nil)
	if r.status != 200 || strings.Contains(string(r.raw), raw) || strings.Contains(string(r.raw), `"key"`) || strings.Contains(string(r.raw), "hash") {
		t.Fatalf("list leaks: %s", r.raw)
	}
	if n := len(r.body["data"].([]any)); n != 5 {
		t.Errorf("account has %d keys, want 5", n)
	}
	r = e.do("GET", "/v1/keys/"+id, admin, nil)
	if r.status != 200 || r.body["name"] != "ci" || strings.Contains(string(r.raw), raw) {
		t.Fatalf("get: %s", r.raw)
	}
	if r.body["last_used_at"] == nil {
		t.Errorf("last_used_at not reported after use: %s", r.raw)
	}

	// Another account sees none of it.
	checkError(t, e.do("GET", "/v1/keys/"+id, e.keys["other"], nil), 404, "not_found_error", "API key not found")
	checkError(t, e.do("DELETE", "/v1/keys/"+id, e.keys["other"], nil), 404, "not_found_error", "API key not found")
	checkError(t, e.do("POST", "/v1/keys/"+id+"/rotate", e.keys["other"], nil), 404, "not_found_error", "API key not found")
	r = e.do("GET", "/v1/keys", e.keys["other"], nil)
	if strings.Contains(string(r.raw), id) {
		t.Fatalf("other account lists our key")
	}

	// Rotate with grace: old and new both work until the grace ends.
	r = e.do("POST", "/v1/keys/"+id+"/rotate", admin, map[string]any{"grace_seconds": 60})
	if r.status != 200 || r.body["id"] != id || r.body["name"] != "ci" {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}
	fresh := r.body["key"].(string)
	if fresh == raw || r.body["prefix"] != fresh[:12] {
		t.Fatalf("rotate returned %q", fresh)
	}
	for _, k := range []string{raw, fresh} {
		if r := e.do("GET", "/v1/agents", k, nil); r.status != 200 {
			t.Fatalf("during grace: %d", r.status)
		}
	}
	e.clock.Advance(61 * time.Second)
	checkError(t, e.do("GET", "/v1/agents", raw, nil), 401, "authentication_error", "Invalid API key")
	if r := e.do("GET", "/v1/agents", fresh, nil); r.status != 200 {
		t.Fatalf("after grace, new key: %d", r.status)
	}

	// Revoke: the key stops at once.
	r = e.do("DELETE", "/v1/keys/"+id, admin, nil)
	if r.status != 200 || r.body["success"] != true || r.body["deleted"] != true || r.body["id"] != id {
		t.Fatalf("revoke: %s", r.raw)
	}
	checkError(t, e.do("GET", "/v1/agents", fresh, nil), 401, "authentication_error", "Invalid API key")
	r = e.do("GET", "/v1/keys/"+id, admin, nil)
	if r.body["revoked_at"] == nil {
		t.Errorf("revoked_at not set: %s", r.raw)
	}
}

func TestKeyManagementErrors(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]
	r := e.do("GET", "/v1/keys", admin, nil)
	var adminID string
	for _, k := range r.body["data"].([]any) {
		k := k.(map[string]any)
		if k["name"] == "admin" {
			adminID = k["id"].(string)
		}
	}
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		typ, msg                string
	}{
		{"not admin", "GET", "/v1/keys", e.keys["rw"], nil, 403, "authorization_error", "Insufficient scope. Required: admin"},
		{"no name", "POST", "/v1/keys", admin, map[string]any{"scopes": []string{"read"}}, 400, "validation_error", "name is required"},
		{"long name", "POST", "/v1/keys", admin, map[string]any{"name": strings.Repeat("n", 101), "scopes": []string{"read"}}, 400, "validation_error", "name must be"},
		{"no scopes", "POST", "/v1/keys", admin, map[string]any{"name": "x"}, 400, "validation_error", "scopes must be"},
		{"empty scopes", "POST", "/v1/keys", admin, map[string]any{"name": "x", "scopes": []string{}}, 400, "validation_error", "scopes must be"},
		{"unknown scope", "POST", "/v1/keys", admin, map[string]any{"name": "x", "scopes": []string{"root"}}, 400, "validation_error", "scopes must be"},
		{"scopes not array", "POST", "/v1/keys", admin, `{"name": "x", "scopes": "read"}`, 400, "validation_error", "scopes must be"},
		{"bad expiry", "POST", "/v1/keys", admin, map[string]any{"name": "x", "scopes": []string{"read"}, "expires_at": "tomorrow"}, 400, "validation_error", "expires_at must be"},
		{"past expiry", "POST", "/v1/keys", admin, map[string]any{"name": "x", "scopes": []string{"read"}, "expires_at": "2020-01-01T00:00:00Z"}, 400, "validation_error", "expires_at must be in the future"},
		{"unknown id", "GET", "/v1/keys/00000000-0000-4000-8000-000000000000", admin, nil, 404, "not_found_error", "API key not found"},
		{"malformed id", "GET", "/v1/keys/nope", admin, nil, 404, "not_found_error", "API key not found"},
		{"grace too long", "POST", "/v1/keys/" + adminID + "/rotate", admin, map[string]any{"grace_seconds": 86401}, 400, "validation_error", "grace_seconds must be"},
		{"grace negative", "POST", "/v1/keys/" + adminID + "/rotate", admin, map[string]any{"grace_seconds": -1}, 400, "validation_error", "grace_seconds must be"},
		{"last admin", "DELETE", "/v1/keys/" + adminID, admin, nil, 400, "validation_error", "Cannot revoke the account's last admin key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkError(t, e.do(c.method, c.path, c.key, c.body), c.status, c.typ, c.msg)
		})
	}
	// The admin key still works after the refused revocation.
	if r := e.do("GET", "/v1/keys", admin, nil); r.status != 200 {
		t.Fatalf("admin key: %d", r.status)
	}
}
