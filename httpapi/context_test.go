package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/contexts"
	"github.com/memoryrelay/memoryrelay/memory"
)

// seedContext stores memories for the context tests and returns their ids.
func seedContext(e *env) map[string]string {
	e.t.Helper()
	ids := map[string]string{}
	for _, m := range []map[string]any{
		{"content": "Deploys happen on Friday afternoons after the release review.", "agent_id": "ops", "project": "infra", "memory_type": "fact"},
		{"content": "The release review checks every deploy for rollback plans.", "agent_id": "ops", "project": "infra"},
		{"content": "Friday deploy freezes start during the holiday season.", "agent_id": "planner"},
		{"content": "The user's cat is called Miso.", "agent_id": "ops"},
	} {
		ids[m["content"].(string)] = e.createMemory(e.keys["rw"], m)
	}
	return ids
}

func TestMemoriesContext(t *testing.T) {
	e := projectEnv(t)
	seedContext(e)
	e.createMemory(e.keys["other"], map[string]any{"content": "Their Friday deploy release review notes."})
	key := e.keys["read"]
	query := "friday deploy release review"

	r := e.do("POST", "/v1/memories/context", key, map[string]any{"query": query, "unknown": 1, "agent_id": nil, "project": nil})
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	checkKinds(t, "context", r.body, map[string]string{"context": "string", "memories_used": "int", "total_chars": "int", "memories": "array"})
	mems := objects(t, r, "memories")
	text := r.body["context"].(string)
	// Every memory with a score above 0 is used, the unrelated one last.
	if len(mems) != 4 || r.body["memories_used"] != 4.0 || r.body["total_chars"] != float64(utf8.RuneCountInString(text)) {
		t.Fatalf("unlimited: %s", r.raw)
	}
	var parts []string
	for i, m := range mems {
		checkKinds(t, "context memory", m, searchItemKinds)
		checkKinds(t, "context memory.memory", m["memory"].(map[string]any), memoryKinds)
		if m["score"] != m["similarity"] || m["score"].(float64) <= 0 || m["score"].(float64) > 1 {
			t.Errorf("score %v similarity %v", m["score"], m["similarity"])
		}
		if i > 0 && m["score"].(float64) > mems[i-1]["score"].(float64) {
			t.Errorf("not best first")
		}
		parts = append(parts, m["content"].(string))
	}
	if text != strings.Join(parts, memory.TextContextSeparator) {
		t.Errorf("context %q is not the matches joined best first", text)
	}

	// max_tokens cuts the text, at a word boundary, to 4 characters a token.
	r = e.do("POST", "/v1/memories/context", key, map[string]any{"query": query, "max_tokens": 20})
	cut := r.body["context"].(string)
	if r.status != 200 || r.body["total_chars"].(float64) > 80 || !strings.HasPrefix(text, cut) || cut == "" {
		t.Fatalf("max_tokens 20: %s", r.raw)
	}
	if next := text[len(cut):]; next != "" && next[0] != ' ' && next[0] != '\n' {
		t.Errorf("cut inside a word: %q|%q", cut, next)
	}
	if r.body["memories_used"] != float64(len(objects(t, r, "memories"))) {
		t.Errorf("memories_used %v", r.body["memories_used"])
	}

	// Filters and limits.
	for _, c := range []struct {
		name string
		body map[string]any
		n    int
	}{
		{"limit 1", map[string]any{"query": query, "limit": 1}, 1},
		{"limit clamped", map[string]any{"query": query, "limit": 5000}, 4},
		{"agent", map[string]any{"query": query, "agent_id": "planner"}, 1},
		{"unknown agent", map[string]any{"query": query, "agent_id": "nobody"}, 0},
		{"project", map[string]any{"query": query, "project": "infra"}, 2},
		{"threshold", map[string]any{"query": query, "threshold": 0.99}, 0},
		{"min_score alias", map[string]any{"query": query, "min_score": 0.99}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/memories/context", key, c.body)
			if r.status != 200 || len(objects(t, r, "memories")) != c.n || r.body["memories_used"] != float64(c.n) {
				t.Errorf("%d memories, want %d: %s", len(objects(t, r, "memories")), c.n, r.raw)
			}
		})
	}
	// Another account sees none of ours.
	r = e.do("POST", "/v1/memories/context", e.keys["other"], map[string]any{"query": query})
	for _, m := range objects(t, r, "memories") {
		if !strings.HasPrefix(m["content"].(string), "Their") {
			t.Errorf("cross-account context: %v", m["content"])
		}
	}

	for _, c := range []struct {
		name  string
		key   string
		body  any
		code  int
		field string
		msg   string
	}{
		{"no query", key, map[string]any{}, 400, "query", "query is required"},
		{"null query", key, map[string]any{"query": nil}, 400, "query", "query is required"},
		{"blank query", key, map[string]any{"query": "  "}, 400, "query", "query is required"},
		{"limit zero", key, map[string]any{"query": "x", "limit": 0}, 400, "limit", "limit must be"},
		{"limit fraction", key, `{"query": "x", "limit": 2.5}`, 400, "limit", "limit must be"},
		{"threshold range", key, map[string]any{"query": "x", "threshold": 1.5}, 400, "threshold", "threshold must be"},
		{"max_tokens zero", key, map[string]any{"query": "x", "max_tokens": 0}, 400, "max_tokens", "max_tokens must be"},
		{"max_tokens text", key, map[string]any{"query": "x", "max_tokens": "many"}, 400, "max_tokens", "max_tokens must be"},
		{"project too long", key, map[string]any{"query": "x", "project": strings.Repeat("p", 101)}, 400, "project", "project must be"},
		{"no read scope", e.keys["delete"], map[string]any{"query": "x"}, 403, "", "Insufficient scope. Required: read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/memories/context", c.key, c.body)
			typ := map[int]string{400: "validation_error", 403: "authorization_error"}[c.code]
			checkError(t, r, c.code, typ, c.msg)
			if c.field != "" {
				checkField(t, r, c.field)
			}
		})
	}
}

func TestBuildContextEndpoints(t *testing.T) {
	e := projectEnv(t)
	ids := seedContext(e)
	dup := "deploys  happen on friday afternoons after the release review."
	ids[dup] = e.createMemory(e.keys["rw"], map[string]any{"content": dup, "agent_id": "ops"}) // a duplicate
	key := e.keys["read"]
	query := "friday deploy release review"

	var first []byte
	for _, path := range []string{"/v2/context/build", "/v2/context", "//v2/context/"} {
		r := e.do("POST", path, key, map[string]any{
			"query": query, "agent_id": nil, "ai_enhanced": true, "llm_api_url": "http://127.0.0.1:1", "llm_model": "x",
			"search_mode": "hybrid", "exclude_memory_ids": []string{},
		})
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
		checkKinds(t, path, r.body, map[string]string{
			"context": "array", "memories": "array", "summary": "string?", "token_count": "int", "ranking_version": "string",
			"ai_enhanced": "bool", "latency_ms": "int",
		})
		if r.body["summary"] != nil || r.body["ranking_version"] != "v1" || r.body["ai_enhanced"] != false {
			t.Errorf("%s: %s", path, r.raw)
		}
		items := objects(t, r, "context")
		if len(items) != 4 {
			t.Fatalf("%s: %d items (the duplicate must go): %s", path, len(items), r.raw)
		}
		tokens := 0
		for _, it := range items {
			checkKinds(t, "item", it, map[string]string{"memory_id": "uuid", "content": "string", "memory_type": "string?"})
			if s, ok := it["score"].(float64); !ok || s <= 0 || s > 1 {
				t.Errorf("score %v", it["score"])
			}
			if ids[it["content"].(string)] != it["memory_id"] {
				t.Errorf("item %v is not a stored memory", it)
			}
			tokens += contexts.EstimateTokens(it["content"].(string)) + memory.SeparatorTokens
		}
		if r.body["token_count"] != float64(tokens) {
			t.Errorf("token_count %v, items cost %d", r.body["token_count"], tokens)
		}
		if string(mustJSON(t, r.body["memories"])) != string(mustJSON(t, r.body["context"])) {
			t.Errorf("memories differ from context")
		}
		if first == nil {
			first = mustJSON(t, r.body["context"])
		} else if string(mustJSON(t, r.body["context"])) != string(first) {
			t.Errorf("%s answers differently from /v2/context/build", path)
		}
	}

	deployID := ids["Deploys happen on Friday afternoons after the release review."]
	for _, c := range []struct {
		name  string
		body  map[string]any
		check func(t *testing.T, r response)
	}{
		{"ranking_version echoed", map[string]any{"query": query, "ranking_version": "v2-beta"}, func(t *testing.T, r response) {
			if r.body["ranking_version"] != "v2-beta" {
				t.Errorf("ranking_version %v", r.body["ranking_version"])
			}
		}},
		{"max_memories", map[string]any{"query": query, "max_memories": 1}, func(t *testing.T, r response) {
			if n := len(objects(t, r, "context")); n != 1 {
				t.Errorf("%d items", n)
			}
		}},
		{"budget", map[string]any{"query": query, "max_tokens": 100}, func(t *testing.T, r response) {
			if tc := r.body["token_count"].(float64); tc > 100 || tc == 0 {
				t.Errorf("token_count %v for max_tokens 100", tc)
			}
		}},
		{"excluded", map[string]any{"query": query, "exclude_memory_ids": []string{deployID, "junk"}}, func(t *testing.T, r response) {
			for _, it := range objects(t, r, "context") {
				if it["memory_id"] == deployID {
					t.Errorf("excluded memory packed")
				}
			}
		}},
		{"agent", map[string]any{"query": query, "agent_id": "planner"}, func(t *testing.T, r response) {
			if items := objects(t, r, "context"); len(items) != 1 || !strings.HasPrefix(items[0]["content"].(string), "Friday deploy freezes") {
				t.Errorf("agent filter: %s", r.raw)
			}
		}},
		{"keyword mode", map[string]any{"query": query, "search_mode": "keyword"}, func(t *testing.T, r response) {
			if len(objects(t, r, "context")) == 0 {
				t.Errorf("no items")
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v2/context/build", key, c.body)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			c.check(t, r)
		})
	}
	r := e.do("POST", "/v2/context", e.keys["other"], map[string]any{"query": query})
	if r.status != 200 || len(objects(t, r, "context")) != 0 {
		t.Errorf("cross-account: %s", r.raw)
	}

	for _, c := range []struct {
		name  string
		key   string
		body  any
		code  int
		field string
		msg   string
	}{
		{"no query", key, map[string]any{}, 400, "query", "query is required"},
		{"blank query", key, map[string]any{"query": ""}, 400, "query", "query is required"},
		{"max_memories zero", key, map[string]any{"query": "x", "max_memories": 0}, 400, "max_memories", "max_memories must be"},
		{"max_memories too big", key, map[string]any{"query": "x", "max_memories": 101}, 400, "max_memories", "max_memories must be"},
		{"max_tokens too small", key, map[string]any{"query": "x", "max_tokens": 99}, 400, "max_tokens", "max_tokens must be"},
		{"max_tokens too big", key, map[string]any{"query": "x", "max_tokens": 128001}, 400, "max_tokens", "max_tokens must be"},
		{"max_tokens fraction", key, `{"query": "x", "max_tokens": 150.5}`, 400, "max_tokens", "max_tokens must be"},
		{"bad mode", key, map[string]any{"query": "x", "search_mode": "magic"}, 400, "search_mode", "search_mode must be"},
		{"exclude not array", key, map[string]any{"query": "x", "exclude_memory_ids": "id"}, 400, "exclude_memory_ids", "exclude_memory_ids must be"},
		{"no read scope", e.keys["delete"], map[string]any{"query": "x"}, 403, "", "Insufficient scope. Required: read"},
	} {
		for _, path := range []string{"/v2/context/build", "/v2/context"} {
			t.Run(c.name+" "+path, func(t *testing.T) {
				r := e.do("POST", path, c.key, c.body)
				typ := map[int]string{400: "validation_error", 403: "authorization_error"}[c.code]
				checkError(t, r, c.code, typ, c.msg)
				if c.field != "" {
					checkField(t, r, c.field)
				}
			})
		}
	}
	// The limits themselves are accepted.
	for _, body := range []map[string]any{
		{"query": query, "max_memories": 100, "max_tokens": 128000},
		{"query": query, "max_memories": 1, "max_tokens": 100},
	} {
		if r := e.do("POST", "/v2/context", key, body); r.status != 200 {
			t.Errorf("%v: %d %s", body, r.status, r.raw)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
