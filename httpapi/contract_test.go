package httpapi_test

import (
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Required fields of the contract's objects (§4).
var (
	memoryFields = []string{"id", "object", "content", "agent_id", "user_id", "metadata", "entities", "memory_type", "visibility",
		"importance", "salience_score", "tier", "scope", "is_duplicate", "session_id", "project_id", "project",
		"extraction_model", "extraction_method", "extraction_status", "archived_at", "created_at", "updated_at"}
	listFields     = []string{"object", "data", "has_more", "total", "total_count", "limit", "offset", "next_cursor"}
	entityFields   = []string{"id", "object", "name", "type", "entity_type", "agent_id", "metadata", "memory_count", "relationship_count", "created_at", "updated_at"}
	agentFields    = []string{"id", "object", "name", "description", "config", "metadata", "memory_count", "session_count", "project_count", "last_active_at", "created_at", "updated_at"}
	sessionFields  = []string{"id", "agent_id", "external_id", "project", "status", "title", "summary", "metadata", "memory_count", "started_at", "ended_at", "created_at", "updated_at"}
	decisionFields = []string{"id", "agent_id", "session_id", "project_slug", "title", "rationale", "alternatives", "status", "superseded_by", "tags", "metadata", "created_at", "updated_at"}
	patternFields  = []string{"id", "title", "name", "description", "scope", "category", "tags", "example_code", "source_project_id", "source_project_slug", "metadata", "adoption_count", "created_at", "updated_at"}
	projectFields  = []string{"id", "slug", "name", "description", "stack", "repo_url", "metadata", "memory_count", "created_at", "updated_at"}
	ackFields      = []string{"success", "deleted", "id"}
	// API.md §9, §10.
	keyFields = []string{"id", "name", "prefix", "key_prefix", "scopes", "metadata", "created_at", "expires_at", "last_used_at", "revoked_at",
		"deprecated_at", "auto_revoke_at", "is_active", "daily_spend_limit_usd", "monthly_spend_limit_usd", "spend_info"}
	webhookFields = []string{"id", "object", "url", "event_types", "enabled", "description", "created_at"}
	xkeyFields    = []string{"id", "provider", "label", "model", "base_url", "is_active", "masked_key", "last_validated_at", "last_used_at", "created_at", "updated_at"}
)

// hostedOptions are what the walks need of a server for the routes of
// API.md §10: a secret for the extraction keys, room for the many
// webhooks and keys the walks make.
func hostedOptions(o memoryrelay.Options) memoryrelay.Options {
	o.ServerSecret = []byte("the walk's server secret, 32 bytes or more")
	o.Webhooks.MaxPerAccount = 1000
	o.Extraction.MaxKeysPerAccount = 1000
	return o
}

// fixtures are objects the contract walk refers to, created by the admin key.
type fixtures struct {
	e                              *env
	memory, entity, agent, session string
	decision, pattern, project, v2 string
	webhook                        string
	n                              atomic.Int64
	keysMade                       atomic.Int64 // by key()
}

func (f *fixtures) uniq() string { return fmt.Sprint(f.n.Add(1)) }

// xkey makes a fresh extraction key of the account and returns its id.
func (f *fixtures) xkey() string {
	return f.create("/v1/extraction/keys", map[string]any{"provider": "openai", "api_key": "sk-walk-fixture-0123456789", "model": "m"}, 201)["id"].(string)
}

// key makes a fresh key of the account and returns its id.
func (f *fixtures) key() string {
	f.keysMade.Add(1)
	return f.create("/v1/keys", map[string]any{"name": "walk key " + f.uniq(), "scopes": []string{"read"}}, 201)["id"].(string)
}

func (f *fixtures) create(path string, body map[string]any, status int) map[string]any {
	f.e.t.Helper()
	r := f.e.do("POST", path, f.e.keys["admin"], body)
	if r.status != status {
		f.e.t.Fatalf("fixture POST %s: %d %s", path, r.status, r.raw)
	}
	return r.body
}

func newFixtures(e *env) *fixtures {
	f := &fixtures{e: e}
	f.memory = f.create("/v1/memories", map[string]any{"content": "The user prefers TypeScript", "agent_id": "walker", "project": "alpha", "importance": 0.9}, 201)["id"].(string)
	f.entity = f.create("/v1/entities", map[string]any{"name": "TypeScript", "type": "concept"}, 201)["id"].(string)
	f.create("/v1/entities/links", map[string]any{"entity_id": f.entity, "memory_id": f.memory}, 201)
	f.agent = "walker"
	f.session = f.create("/v1/sessions", map[string]any{"agent_id": "walker", "title": "t"}, 201)["id"].(string)
	f.decision = f.create("/v1/decisions", map[string]any{"title": "Use TypeScript", "rationale": "types", "project_slug": "alpha"}, 201)["id"].(string)
	f.pattern = f.create("/v1/patterns", map[string]any{"title": "Typed APIs", "description": "use types"}, 201)["id"].(string)
	f.project = "alpha"
	f.create("/v1/projects", map[string]any{"slug": "beta", "name": "Beta"}, 201)
	f.create("/v1/projects/beta/relationships", map[string]any{"target_project": "alpha", "relationship_type": "depends_on"}, 201)
	f.webhook = f.create("/v1/webhooks", map[string]any{"url": "https://hooks.example.com/walk"}, 201)["id"].(string)
	f.v2 = f.create("/v2/memories", map[string]any{"content": "async memory"}, 202)["id"].(string)
	// Wait for the job, so that it does not change the account under a
	// test that compares snapshots.
	for i := 0; ; i++ {
		r := e.do("GET", "/v2/memories/"+f.v2+"/status", e.keys["admin"], nil)
		if r.body["status"] == "ready" {
			break
		}
		if r.body["status"] == "failed" || i == 10000 {
			e.t.Fatalf("fixture v2 job: %s", r.raw)
		}
		runtime.Gosched()
	}
	return f
}

// row is one line of the contract's endpoint index (§5.0).
type row struct {
	n      string // the index number
	method string
	scope  string // "" for none
	status int
	fields []string
	req    func(f *fixtures) (path string, body any)
}

func rows() []row {
	static := func(path string, body any) func(*fixtures) (string, any) {
		return func(*fixtures) (string, any) { return path, body }
	}
	memBody := map[string]any{"content": "walk memory", "agent_id": "walker"}
	return []row{
		{"1", "GET", "", 200, []string{"status", "version", "api_version", "environment", "timestamp", "uptime_seconds", "services", "embedding_info"}, static("/v1/health", nil)},
		{"1", "GET", "", 200, []string{"status", "version"}, static("/health", nil)},
		{"2", "POST", "write", 201, memoryFields, static("/v1/memories", memBody)},
		{"3", "GET", "read", 200, listFields, static("/v1/memories", nil)},
		{"4", "GET", "read", 200, memoryFields, func(f *fixtures) (string, any) { return "/v1/memories/" + f.memory, nil }},
		{"5", "PUT", "write", 200, memoryFields, func(f *fixtures) (string, any) { return "/v1/memories/" + f.memory, map[string]any{"importance": 0.9} }},
		{"5", "PATCH", "write", 200, memoryFields, func(f *fixtures) (string, any) { return "/v1/memories/" + f.memory, map[string]any{"importance": 0.9} }},
		{"6", "DELETE", "delete", 200, ackFields, func(f *fixtures) (string, any) {
			return "/v1/memories/" + f.create("/v1/memories", memBody, 201)["id"].(string), nil
		}},
		{"7", "POST", "read", 200, []string{"data", "total", "query"}, static("/v1/memories/search", map[string]any{"query": "TypeScript"})},
		{"8", "POST", "write", 200, []string{"success", "total", "succeeded", "failed", "skipped", "results", "timing"}, static("/v1/memories/batch", map[string]any{"memories": []any{memBody}})},
		{"9", "PUT", "write", 200, memoryFields, func(f *fixtures) (string, any) {
			return "/v1/memories/" + f.memory + "/importance", map[string]any{"importance": 0.95}
		}},
		{"10", "POST", "read", 200, []string{"context", "memories_used", "total_chars", "memories"}, static("/v1/memories/context", map[string]any{"query": "TypeScript"})},
		{"11", "POST", "write", 202, []string{"id", "status", "job_id", "estimated_completion_seconds", "created_at", "updated_at"}, static("/v2/memories", memBody)},
		{"12", "GET", "read", 200, []string{"id", "status", "created_at", "updated_at", "error"}, func(f *fixtures) (string, any) { return "/v2/memories/" + f.v2 + "/status", nil }},
		{"13", "POST", "read", 200, []string{"context", "memories", "summary", "token_count", "ranking_version", "ai_enhanced", "latency_ms"}, static("/v2/context/build", map[string]any{"query": "TypeScript"})},
		{"13", "POST", "read", 200, []string{"context", "memories", "token_count"}, static("/v2/context", map[string]any{"query": "TypeScript"})},
		{"14", "POST", "write", 201, entityFields, func(f *fixtures) (string, any) { return "/v1/entities", map[string]any{"name": "E" + f.uniq()} }},
		{"15", "GET", "read", 200, listFields, static("/v1/entities", nil)},
		{"16", "GET", "read", 200, entityFields, func(f *fixtures) (string, any) { return "/v1/entities/" + f.entity, nil }},
		{"17", "DELETE", "delete", 200, ackFields, func(f *fixtures) (string, any) {
			return "/v1/entities/" + f.create("/v1/entities", map[string]any{"name": "gone" + f.uniq()}, 201)["id"].(string), nil
		}},
		{"18", "POST", "write", 201, []string{"success", "entity_id", "memory_id", "relationship", "created_at"}, func(f *fixtures) (string, any) {
			return "/v1/entities/links", map[string]any{"entity_id": f.create("/v1/entities", map[string]any{"name": "L" + f.uniq()}, 201)["id"], "memory_id": f.memory}
		}},
		{"18", "POST", "write", 201, []string{"success", "entity_id", "memory_id", "relationship", "created_at"}, func(f *fixtures) (string, any) {
			return "/v1/entities/" + f.create("/v1/entities", map[string]any{"name": "L" + f.uniq()}, 201)["id"].(string) + "/link", map[string]any{"memory_id": f.memory}
		}},
		{"19", "GET", "read", 200, []string{"entity", "neighbors", "total_neighbors"}, func(f *fixtures) (string, any) { return "/v1/entities/" + f.entity + "/neighborhood", nil }},
		{"20", "GET", "read", 200, listFields, static("/v1/agents", nil)},
		{"21", "POST", "write", 201, agentFields, func(f *fixtures) (string, any) { return "/v1/agents", map[string]any{"name": "agent " + f.uniq()} }},
		{"22", "GET", "read", 200, agentFields, func(f *fixtures) (string, any) { return "/v1/agents/" + f.agent, nil }},
		{"23", "PUT", "write", 200, agentFields, func(f *fixtures) (string, any) { return "/v1/agents/" + f.agent, map[string]any{"description": "d"} }},
		{"23", "PATCH", "write", 200, agentFields, func(f *fixtures) (string, any) { return "/v1/agents/" + f.agent, map[string]any{"description": "d"} }},
		{"24", "DELETE", "delete", 200, append([]string{"deleted_memories"}, ackFields...), func(f *fixtures) (string, any) {
			return "/v1/agents/" + f.create("/v1/agents", map[string]any{"name": "doomed" + f.uniq()}, 201)["id"].(string), nil
		}},
		{"25", "GET", "read", 200, []string{"memory_count", "entity_count", "total_memories", "last_updated", "data"}, func(f *fixtures) (string, any) { return "/v1/agents/" + f.agent + "/stats", nil }},
		{"26", "POST", "write", 201, sessionFields, static("/v1/sessions", map[string]any{"title": "s"})},
		{"27", "POST", "write", 201, append([]string{"created"}, sessionFields...), func(f *fixtures) (string, any) {
			return "/v1/sessions/get-or-create", map[string]any{"external_id": "ext-" + f.uniq()}
		}},
		{"28", "PUT", "write", 200, sessionFields, func(f *fixtures) (string, any) {
			return "/v1/sessions/" + f.session + "/end", map[string]any{"summary": "done"}
		}},
		{"29", "GET", "read", 200, append([]string{"memories"}, sessionFields...), func(f *fixtures) (string, any) { return "/v1/sessions/" + f.session, nil }},
		{"30", "GET", "read", 200, listFields, static("/v1/sessions", nil)},
		{"31", "POST", "write", 201, decisionFields, static("/v1/decisions", map[string]any{"title": "t", "rationale": "r"})},
		{"32", "GET", "read", 200, listFields, static("/v1/decisions", nil)},
		{"33", "POST", "write", 201, decisionFields, func(f *fixtures) (string, any) {
			old := f.create("/v1/decisions", map[string]any{"title": "old", "rationale": "r"}, 201)["id"].(string)
			return "/v1/decisions/" + old + "/supersede", map[string]any{"title": "new", "rationale": "better"}
		}},
		{"34", "GET", "read", 200, []string{"data", "query", "total"}, static("/v1/decisions/check?query=TypeScript", nil)},
		{"35", "POST", "write", 201, patternFields, static("/v1/patterns", map[string]any{"title": "p", "description": "d"})},
		{"36", "GET", "read", 200, []string{"data", "query", "total"}, static("/v1/patterns/search?query=types", nil)},
		{"37", "POST", "write", 200, patternFields, func(f *fixtures) (string, any) {
			return "/v1/patterns/" + f.pattern + "/adopt", map[string]any{"project": "alpha"}
		}},
		{"38", "GET", "read", 200, []string{"data", "project", "total"}, static("/v1/patterns/suggest?project=alpha", nil)},
		{"39", "POST", "write", 201, projectFields, func(f *fixtures) (string, any) {
			return "/v1/projects", map[string]any{"slug": "p-" + f.uniq(), "name": "P"}
		}},
		{"40", "GET", "read", 200, listFields, static("/v1/projects", nil)},
		{"41", "GET", "read", 200, projectFields, static("/v1/projects/alpha", nil)},
		{"42", "GET", "read", 200, []string{"project", "hot_memories", "recent_decisions", "active_patterns", "context", "markdown"}, static("/v1/projects/alpha/context", nil)},
		{"43", "POST", "write", 201, []string{"id", "source_project", "target_project", "relationship_type", "metadata", "created_at"}, func(f *fixtures) (string, any) {
			return "/v1/projects/alpha/relationships", map[string]any{"target_project": "t-" + f.uniq(), "relationship_type": "depends_on"}
		}},
		{"44", "GET", "read", 200, []string{"project", "data", "total"}, static("/v1/projects/beta/dependencies", nil)},
		{"45", "GET", "read", 200, []string{"project", "data", "total"}, static("/v1/projects/alpha/dependents", nil)},
		{"46", "GET", "read", 200, []string{"project", "data", "total"}, static("/v1/projects/alpha/related", nil)},
		{"47", "POST", "read", 200, []string{"project", "change_description", "affected_projects", "total_affected"}, static("/v1/projects/impact-analysis", map[string]any{"project": "alpha", "change_description": "drop TypeScript"})},
		{"48", "GET", "read", 200, []string{"data", "a", "b", "total"}, static("/v1/projects/shared-patterns?a=alpha&b=beta", nil)},
		{"49", "GET", "read", 200, []string{"used", "limit", "remaining", "resetAt"}, static("/v1/quota", nil)},
		{"50", "POST", "read", 200, []string{"embedding", "dimension", "model"}, static("/v1/embed", map[string]any{"text": "hello"})},
		// Our extensions, for the Go client (extensions_test.go).
		{"x1", "GET", "read", 200, decisionFields, func(f *fixtures) (string, any) { return "/v1/decisions/" + f.decision, nil }},
		{"x2", "GET", "read", 200, patternFields, func(f *fixtures) (string, any) { return "/v1/patterns/" + f.pattern, nil }},
		{"x3", "DELETE", "delete", 200, []string{"success", "deleted", "user_id", "deleted_memories"}, func(f *fixtures) (string, any) {
			return "/v1/users/walk-user-" + f.uniq() + "/memories", nil
		}},
		// Keys (§9, in the hosted shape of §10.2) and webhooks (§10.3): admin.
		{"K1", "POST", "admin", 201, append([]string{"key", "key_info"}, keyFields...), static("/v1/keys", map[string]any{})},
		{"K2", "GET", "admin", 200, listFields, static("/v1/keys", nil)},
		{"K3", "GET", "admin", 200, keyFields, func(f *fixtures) (string, any) { return "/v1/keys/" + f.key(), nil }},
		{"K4", "PATCH", "admin", 200, keyFields, func(f *fixtures) (string, any) { return "/v1/keys/" + f.key(), map[string]any{"name": "patched"} }},
		{"K5", "POST", "admin", 200, append([]string{"key", "key_info"}, keyFields...), func(f *fixtures) (string, any) { return "/v1/keys/" + f.key() + "/rotate", nil }},
		{"K6", "DELETE", "admin", 200, append([]string{"success", "deleted"}, keyFields...), func(f *fixtures) (string, any) { return "/v1/keys/" + f.key(), nil }},
		{"W1", "POST", "admin", 201, webhookFields, static("/v1/webhooks", map[string]any{"url": "https://hooks.example.com/new"})},
		{"W2", "GET", "admin", 200, listFields, static("/v1/webhooks", nil)},
		{"W3", "GET", "admin", 200, webhookFields, func(f *fixtures) (string, any) { return "/v1/webhooks/" + f.webhook, nil }},
		{"W4", "PATCH", "admin", 200, webhookFields, func(f *fixtures) (string, any) {
			return "/v1/webhooks/" + f.webhook, map[string]any{"description": "d"}
		}},
		{"W5", "GET", "admin", 200, listFields, func(f *fixtures) (string, any) { return "/v1/webhooks/" + f.webhook + "/deliveries", nil }},
		{"W6", "DELETE", "admin", 200, ackFields, func(f *fixtures) (string, any) {
			return "/v1/webhooks/" + f.create("/v1/webhooks", map[string]any{"url": "https://hooks.example.com/gone"}, 201)["id"].(string), nil
		}},
		// Extraction settings and keys (§10.7): admin.
		{"E1", "GET", "admin", 200, []string{"tier", "extractor", "byok_enabled_globally", "byok_configured", "byok_active", "masked_api_key",
			"preferred_model", "base_url", "last_validated_at", "plan_limits", "keys"}, static("/v1/extraction/settings", nil)},
		{"E2", "POST", "admin", 201, xkeyFields, static("/v1/extraction/keys", map[string]any{"provider": "openai", "api_key": "sk-walk-0123456789abcdef", "model": "gpt-4o-mini"})},
		{"E3", "POST", "admin", 200, xkeyFields, func(f *fixtures) (string, any) { return "/v1/extraction/keys/" + f.xkey() + "/activate", nil }},
		{"E4", "POST", "admin", 200, []string{"status", "message", "deactivated_count"}, static("/v1/extraction/keys/deactivate-all", nil)},
		{"E5", "DELETE", "admin", 200, ackFields, func(f *fixtures) (string, any) { return "/v1/extraction/keys/" + f.xkey(), nil }},
	}
}

// TestContractIndex walks every row of the endpoint index (§5.0): with a
// key holding exactly the row's scope it gets the success status and every
// required field; with a key lacking that scope it gets 403 naming it.
func TestContractIndex(t *testing.T) {
	e := newEnv(t, hostedOptions(memoryrelay.Options{RateLimit: 1 << 20}))
	f := newFixtures(e)
	only := map[string]string{"read": e.keys["read"], "write": e.newKey(e.acct, keys.CreateParams{Name: "write-only", Scopes: scopes.NewSet(scopes.Write)}), "delete": e.keys["delete"], "": "",
		"admin": e.keys["admin"]}
	lacking := map[string]string{"read": e.keys["delete"], "write": e.keys["read"], "delete": e.keys["rw"], "admin": e.keys["rw"]}
	seen := map[string]bool{}
	for _, rw := range rows() {
		seen[rw.n] = true
		t.Run(rw.n+" "+rw.method, func(t *testing.T) {
			path, body := rw.req(f)
			if rw.scope != "" {
				checkError(t, e.do(rw.method, path, lacking[rw.scope], body), 403, "authorization_error", "Insufficient scope. Required: "+rw.scope)
				path, body = rw.req(f) // a fresh fixture where the first one may be used up
			}
			r := e.do(rw.method, path, only[rw.scope], body)
			if r.status != rw.status {
				t.Fatalf("%s %s: %d, want %d: %s", rw.method, path, r.status, rw.status, r.raw)
			}
			for _, field := range rw.fields {
				if _, ok := r.body[field]; !ok {
					t.Errorf("%s %s: no %q in %s", rw.method, path, field, r.raw)
				}
			}
			if rw.scope != "" && r.header.Get("X-RateLimit-Limit") == "" {
				t.Errorf("no rate-limit headers")
			}
		})
	}
	for i := 1; i <= 50; i++ {
		n := fmt.Sprint(i)
		if !seen[n] {
			t.Errorf("index row %d is not walked", i)
		}
	}
}

// TestAliasesAndCollisions checks the aliases and reserved segments of §6.
func TestAliasesAndCollisions(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 1 << 20})
	f := newFixtures(e)
	key := e.keys["admin"]
	same := func(a, b response, field string) {
		t.Helper()
		if a.status != b.status || fmt.Sprint(a.body[field]) != fmt.Sprint(b.body[field]) {
			t.Errorf("alias differs: %d %v vs %d %v", a.status, a.body[field], b.status, b.body[field])
		}
	}
	same(e.do("GET", "/health", "", nil), e.do("GET", "/v1/health", "", nil), "status")
	same(e.do("GET", "//v1//agents/", key, nil), e.do("GET", "/v1/agents", key, nil), "total")
	same(e.do("PUT", "/v1/memories/"+f.memory, key, map[string]any{"tier": "cold"}), e.do("PATCH", "/v1/memories/"+f.memory, key, map[string]any{"tier": "cold"}), "tier")
	same(e.do("POST", "/v2/context/build", key, map[string]any{"query": "TypeScript"}), e.do("POST", "/v2/context", key, map[string]any{"query": "TypeScript"}), "token_count")
	r1 := e.do("POST", "/v1/entities", key, map[string]any{"name": "X1", "type": "person"})
	r2 := e.do("POST", "/v1/entities", key, map[string]any{"name": "X2", "entity_type": "person"})
	if r1.body["type"] != "person" || r1.body["entity_type"] != "person" || r2.body["type"] != "person" {
		t.Errorf("type/entity_type: %s %s", r1.raw, r2.raw)
	}
	for _, body := range []map[string]any{{"query": "TypeScript", "threshold": 0.99}, {"query": "TypeScript", "min_score": 0.99}} {
		r := e.do("POST", "/v1/memories/search", key, body)
		for _, d := range r.body["data"].([]any) {
			if d.(map[string]any)["score"].(float64) < 0.99 {
				t.Errorf("%v: threshold alias ignored", body)
			}
		}
	}
	if r := e.do("POST", "/v1/memories/search?q=TypeScript", key, nil); r.status != 200 || r.body["query"] != "TypeScript" {
		t.Errorf("?q=: %d %s", r.status, r.raw)
	}
	d1 := e.do("POST", "/v1/decisions", key, map[string]any{"title": "a", "rationale": "r", "project_slug": "gamma"})
	d2 := e.do("POST", "/v1/decisions", key, map[string]any{"title": "b", "rationale": "r", "project": "gamma"})
	if d1.body["project_slug"] != "gamma" || d2.body["project_slug"] != "gamma" {
		t.Errorf("project_slug/project: %s %s", d1.raw, d2.raw)
	}
	// agent id ≡ name: an agent created by name has a UUID id.
	a := e.do("POST", "/v1/agents", key, map[string]any{"name": "aliased"})
	if b := e.do("GET", "/v1/agents/"+a.body["id"].(string), key, nil); b.body["name"] != "aliased" || !kindUUIDRE.MatchString(a.body["id"].(string)) {
		t.Errorf("agent by UUID: %s", b.raw)
	}
	if b := e.do("GET", "/v1/agents/aliased", key, nil); b.body["id"] != a.body["id"] {
		t.Errorf("agent by name: %s", b.raw)
	}
	// Literal segments win over captures.
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/v1/memories/search", map[string]any{"query": "x"}, 200},
		{"POST", "/v1/memories/batch", map[string]any{"memories": []any{map[string]any{"content": "x"}}}, 200},
		{"POST", "/v1/memories/context", map[string]any{"query": "x"}, 200},
		{"POST", "/v1/sessions/get-or-create", map[string]any{"external_id": "lit"}, 201},
		{"POST", "/v1/entities/links", map[string]any{"entity_id": f.entity, "memory_id": f.memory}, 200},
		{"GET", "/v1/decisions/check?query=x", nil, 200},
		{"GET", "/v1/patterns/search", nil, 200},
		{"GET", "/v1/patterns/suggest?project=alpha", nil, 200},
		{"POST", "/v1/projects/impact-analysis", map[string]any{"project": "alpha", "change_description": "x"}, 200},
		{"GET", "/v1/projects/shared-patterns?a=alpha&b=beta", nil, 200},
	} {
		if r := e.do(c.method, c.path, key, c.body); r.status != c.want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.status, c.want, r.raw)
		}
	}
	// The reserved slugs can never be created as projects.
	for _, slug := range []string{"impact-analysis", "shared-patterns"} {
		checkError(t, e.do("POST", "/v1/projects", key, map[string]any{"slug": slug, "name": "x"}), 400, "validation_error", "")
	}
	// A wrong method on a literal route gets 404 or 405, never 2xx or 5xx.
	for _, c := range [][2]string{{"GET", "/v1/memories/search"}, {"GET", "/v1/memories/batch"}, {"GET", "/v1/sessions/get-or-create"}, {"DELETE", "/v1/entities/links"}, {"POST", "/v1/decisions/check"}} {
		if r := e.do(c[0], c[1], key, nil); r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", c[0], c[1], r.status)
		}
	}
}
