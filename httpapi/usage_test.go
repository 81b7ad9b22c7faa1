package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func TestQuota(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["read"]
	kinds := map[string]string{"used": "int", "limit": "int", "remaining": "int", "resetAt": "iso"}

	// Every authenticated request counts, failed ones included.
	e.do("GET", "/v1/agents", key, nil)                                        // 200
	e.do("POST", "/v1/agents", key, map[string]any{"name": "x"})               // 403
	e.do("GET", "/v1/memories/00000000-0000-4000-8000-000000000000", key, nil) // 404
	e.do("GET", "/v1/nowhere", key, nil)                                       // unknown route
	e.do("GET", "/v1/agents", e.keys["rw"], nil)                               // another key
	r := e.do("GET", "/v1/quota", key, nil)
	if r.status != 200 {
		t.Fatalf("quota: %d %s", r.status, r.raw)
	}
	checkKinds(t, "quota", r.body, kinds)
	limit := 100_000.0 * 1440
	if r.body["used"] != 5.0 || r.body["limit"] != limit || r.body["remaining"] != limit-5 || r.body["resetAt"] != "2026-03-18T00:00:00.000Z" {
		t.Errorf("quota: %s", r.raw)
	}

	// A new UTC day starts from zero.
	e.clock.Advance(15 * time.Hour)
	r = e.do("GET", "/v1/quota", key, nil)
	if r.body["used"] != 1.0 || r.body["resetAt"] != "2026-03-19T00:00:00.000Z" {
		t.Errorf("next day: %s", r.raw)
	}

	// The key's own limit sets the allowance.
	own := e.newKey(e.acct, keys.CreateParams{Name: "own", Scopes: scopes.NewSet(scopes.Read), RateLimit: 7})
	r = e.do("GET", "/v1/quota", own, nil)
	if r.body["limit"] != 7.0*1440 || r.body["used"] != 1.0 || r.body["remaining"] != 7.0*1440-1 {
		t.Errorf("own limit: %s", r.raw)
	}

	checkError(t, e.do("GET", "/v1/quota", e.keys["delete"], nil), 403, "authorization_error", "Insufficient scope. Required: read")
	checkError(t, e.do("GET", "/v1/quota", "", nil), 401, "authentication_error", "Invalid API key")
}

func TestQuotaDefaultLimit(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	r := e.do("GET", "/v1/quota", e.keys["admin"], nil)
	if r.status != 200 || r.body["limit"] != 100.0*1440 || r.body["used"] != 1.0 {
		t.Errorf("quota: %d %s", r.status, r.raw)
	}
}

func TestEmbed(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 100_000})
	key := e.keys["read"]
	dim := e.do("GET", "/v1/health", "", nil).body["embedding_info"].(map[string]any)["dimension"].(float64)

	cases := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"text", map[string]any{"text": "The user prefers TypeScript."}, 200, ""},
		{"query prefix", map[string]any{"text": "which language?", "prefix": "search_query"}, 200, ""},
		{"document prefix", map[string]any{"text": "a document", "prefix": "search_document"}, 200, ""},
		{"null prefix", map[string]any{"text": "x", "prefix": nil, "model": "ignored"}, 200, ""},
		{"longest text", map[string]any{"text": strings.Repeat("é", memory.MaxContentChars)}, 200, ""},
		{"missing text", map[string]any{}, 400, "text is required"},
		{"null text", map[string]any{"text": nil}, 400, "text is required"},
		{"empty text", map[string]any{"text": ""}, 400, "text must be"},
		{"blank text", map[string]any{"text": " \n "}, 400, "text must be"},
		{"text too long", map[string]any{"text": strings.Repeat("é", memory.MaxContentChars+1)}, 400, "text must be"},
		{"text not a string", `{"text": 1}`, 400, "text must be a string"},
		{"unknown prefix", map[string]any{"text": "x", "prefix": "passage"}, 400, "prefix must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/embed", key, c.body)
			if c.status != 200 {
				checkError(t, r, c.status, "validation_error", c.msg)
				return
			}
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			checkKinds(t, "embed", r.body, map[string]string{"embedding": "array", "dimension": "int", "model": "string"})
			vec := r.body["embedding"].([]any)
			if r.body["dimension"] != dim || float64(len(vec)) != dim || r.body["model"] != e.relay.Embedder().Model() {
				t.Errorf("dimension %v, %d values, model %v; health says %v", r.body["dimension"], len(vec), r.body["model"], dim)
			}
			for _, v := range vec {
				if _, ok := v.(float64); !ok {
					t.Fatalf("embedding holds %#v", v)
				}
			}
		})
	}
	// The vector is the one memories are indexed with.
	got, err := e.relay.Account(e.acct).Memories().Embed(context.Background(), "same text", "search_query")
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.relay.Embedder().Embed(context.Background(), []string{"same text"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want[0] {
		if got.Vector[i] != want[0][i] {
			t.Fatalf("vector differs at %d", i)
		}
	}
	checkError(t, e.do("POST", "/v1/embed", e.keys["delete"], map[string]any{"text": "x"}), 403, "authorization_error", "Insufficient scope. Required: read")
}
