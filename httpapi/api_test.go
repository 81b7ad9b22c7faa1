package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// clock is a settable time source for the relay under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a relay on a real SQLite file behind a real HTTP server, with keys
// of several scopes in one account and an admin key in another.
type env struct {
	t     testing.TB
	relay *memoryrelay.Relay
	path  string // the database file
	srv   *httptest.Server
	clock *clock
	acct  string
	keys  map[string]string // name → raw key
}

func newEnv(t testing.TB, opts memoryrelay.Options) *env {
	t.Helper()
	// Every test on this env also checks, at its end, that no key reached
	// a log line or a response other than the one that created it
	// (secrets_test.go).
	e, _ := newCheckedEnv(t, opts)
	return e
}

func (e *env) newKey(acct string, p keys.CreateParams) string {
	e.t.Helper()
	_, tok, err := e.relay.Account(acct).Keys().Create(context.Background(), memory.NewKey{
		Name: p.Name, Scopes: p.Scopes, ExpiresAt: p.ExpiresAt, RateLimit: p.RateLimit, Metadata: p.Metadata})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.Reveal()
}

// expiredKey returns a key of the account that expired a minute ago. The
// key store refuses an expiry in the past, so the key is made with one in
// the future that is then moved back in the database, as time would.
func (e *env) expiredKey(acct, name string, set scopes.Set) string {
	e.t.Helper()
	exp := e.clock.Now().Add(time.Hour)
	k, tok, err := e.relay.Account(acct).Keys().Create(context.Background(), memory.NewKey{Name: name, Scopes: set, ExpiresAt: &exp})
	if err != nil {
		e.t.Fatal(err)
	}
	e.exec("UPDATE api_keys SET expires_at = ? WHERE id = ?", e.clock.Now().Add(-time.Minute).UnixMilli(), k.ID)
	return tok.Reveal()
}

// exec runs a statement on the database file through a connection of its
// own, as another program would: for rows the API would refuse to write.
func (e *env) exec(query string, args ...any) {
	e.t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.path+"?_busy_timeout=5000")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends a request; body may be nil, a string (sent verbatim) or a value
// encoded as JSON. key is sent as a Bearer token unless empty.
func (e *env) do(method, path, key string, body any, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := response{status: res.StatusCode, header: res.Header, raw: raw}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		e.t.Fatalf("%s %s: body is not a JSON object: %v: %q", method, path, err, raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if res.Header.Get("X-Request-ID") == "" {
		e.t.Errorf("%s %s: no X-Request-ID", method, path)
	}
	return out
}

func (e *env) createMemory(key string, body map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/v1/memories", key, body)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create memory: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string)
}

// checkError asserts the contract's error body (§3).
func checkError(t testing.TB, r response, status int, typ, msgPrefix string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if r.body["type"] != typ {
		t.Errorf("type %v, want %s", r.body["type"], typ)
	}
	msg, _ := r.body["message"].(string)
	if !strings.HasPrefix(msg, msgPrefix) {
		t.Errorf("message %q, want prefix %q", msg, msgPrefix)
	}
	if r.body["detail"] != msg || r.body["error"] != msg {
		t.Errorf("detail/error differ from message: %s", r.raw)
	}
	if code, _ := r.body["code"].(float64); int(code) != status {
		t.Errorf("code %v, want %d", r.body["code"], status)
	}
	if r.body["request_id"] != r.header.Get("X-Request-ID") {
		t.Errorf("request_id %v, header %q", r.body["request_id"], r.header.Get("X-Request-ID"))
	}
	if status == http.StatusBadRequest && typ == "validation_error" {
		checkDetails(t, r)
	} else if _, ok := r.body["details"]; ok {
		t.Errorf("details on a %d %v: %s", status, typ, r.raw)
	}
	lower := strings.ToLower(msg)
	for _, bad := range []string{"timeout", "network", "fetch failed", "econnrefused", "enotfound", "502", "503", "504"} {
		if status < 500 && strings.Contains(lower, bad) {
			t.Errorf("4xx message %q contains %q", msg, bad)
		}
	}
}

func TestErrorsTable(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	mine := e.createMemory(e.keys["rw"], map[string]any{"content": "mine", "agent_id": "bot"})
	theirs := e.createMemory(e.keys["other"], map[string]any{"content": "theirs", "agent_id": "bot"})

	tok, err := keys.Generate("live")
	if err != nil {
		t.Fatal(err)
	}
	unknown := tok.Reveal()
	badSum := e.keys["rw"][:len(e.keys["rw"])-1] + flip(e.keys["rw"][len(e.keys["rw"])-1])
	expired := e.expiredKey(e.acct, "expired", scopes.NewSet(scopes.Read))
	revoked := e.newKey(e.acct, keys.CreateParams{Name: "revoked", Scopes: scopes.NewSet(scopes.Read)})
	a, err := e.relay.Authorize(context.Background(), revoked)
	if err != nil {
		t.Fatal(err)
	}
	k := a.Key
	if _, err := e.relay.Account(e.acct).Keys().Revoke(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}

	long := strings.Repeat("é", memory.MaxContentChars+1)
	bigMeta := map[string]any{"content": "x", "metadata": map[string]any{"blob": strings.Repeat("a", 10<<10)}}

	cases := []struct {
		name         string
		method, path string
		key          string
		body         any
		hdr          []string
		status       int
		typ          string
		msg          string
	}{
		{"no key", "GET", "/v1/memories", "", nil, nil, 401, "authentication_error", "Invalid API key"},
		{"blank bearer", "GET", "/v1/memories", "", nil, []string{"Authorization", "Bearer  "}, 401, "authentication_error", "Invalid API key"},
		{"basic scheme", "GET", "/v1/memories", "", nil, []string{"Authorization", "Basic " + e.keys["rw"]}, 401, "authentication_error", "Invalid API key"},
		{"junk key", "GET", "/v1/memories", "not-a-key", nil, nil, 401, "authentication_error", "Invalid API key"},
		{"bad checksum", "GET", "/v1/memories", badSum, nil, nil, 401, "authentication_error", "Invalid API key"},
		{"unknown key", "GET", "/v1/memories", unknown, nil, nil, 401, "authentication_error", "Invalid API key"},
		{"revoked key", "GET", "/v1/memories", revoked, nil, nil, 401, "authentication_error", "Invalid API key"},
		{"expired key", "GET", "/v1/memories", expired, nil, nil, 401, "authentication_error", "API key has expired"},
		{"authorization wins over x-api-key", "GET", "/v1/memories", "", nil, []string{"Authorization", "Bearer " + unknown, "X-API-Key", e.keys["rw"]}, 401, "authentication_error", "Invalid API key"},
		{"read key cannot write", "POST", "/v1/memories", e.keys["read"], map[string]any{"content": "x"}, nil, 403, "authorization_error", "Insufficient scope. Required: write"},
		{"rw key cannot delete", "DELETE", "/v1/memories/" + mine, e.keys["rw"], nil, nil, 403, "authorization_error", "Insufficient scope. Required: delete"},
		{"delete key cannot read", "GET", "/v1/memories", e.keys["delete"], nil, nil, 403, "authorization_error", "Insufficient scope. Required: read"},
		{"invalid json", "POST", "/v1/memories", e.keys["rw"], `{"content": `, nil, 400, "validation_error", "Request body is not valid JSON"},
		{"array body", "POST", "/v1/memories", e.keys["rw"], `[1,2]`, nil, 400, "validation_error", "Request body must be a JSON object"},
		{"wrong type content", "POST", "/v1/memories", e.keys["rw"], `{"content": 5}`, nil, 400, "validation_error", "content must be a string"},
		{"wrong type importance", "POST", "/v1/memories", e.keys["rw"], `{"content": "x", "importance": "high"}`, nil, 400, "validation_error", "importance must be a number"},
		{"missing content", "POST", "/v1/memories", e.keys["rw"], `{}`, nil, 400, "validation_error", "content is required"},
		{"null content", "POST", "/v1/memories", e.keys["rw"], `{"content": null}`, nil, 400, "validation_error", "content is required"},
		{"blank content", "POST", "/v1/memories", e.keys["rw"], map[string]any{"content": " \n\t "}, nil, 400, "validation_error", "content must be"},
		{"content too long", "POST", "/v1/memories", e.keys["rw"], map[string]any{"content": long}, nil, 400, "validation_error", "content must be"},
		{"metadata too big", "POST", "/v1/memories", e.keys["rw"], bigMeta, nil, 400, "validation_error", "metadata must be at most"},
		{"metadata not object", "POST", "/v1/memories", e.keys["rw"], `{"content": "x", "metadata": [1]}`, nil, 400, "validation_error", "metadata must be a JSON object"},
		{"bad memory_type", "POST", "/v1/memories", e.keys["rw"], map[string]any{"content": "x", "memory_type": "poem"}, nil, 400, "validation_error", "memory_type must be"},
		{"importance out of range", "POST", "/v1/memories", e.keys["rw"], map[string]any{"content": "x", "importance": 1.5}, nil, 400, "validation_error", "importance must be"},
		{"unknown session", "POST", "/v1/memories", e.keys["rw"], map[string]any{"content": "x", "session_id": "00000000-0000-4000-8000-000000000000"}, nil, 400, "validation_error", "session_id"},
		{"limit zero", "GET", "/v1/memories?limit=0", e.keys["rw"], nil, nil, 400, "validation_error", "limit must be"},
		{"limit negative", "GET", "/v1/memories?limit=-1", e.keys["rw"], nil, nil, 400, "validation_error", "limit must be"},
		{"limit not integer", "GET", "/v1/memories?limit=2.5", e.keys["rw"], nil, nil, 400, "validation_error", "limit must be"},
		{"limit text", "GET", "/v1/agents?limit=ten", e.keys["rw"], nil, nil, 400, "validation_error", "limit must be"},
		{"offset negative", "GET", "/v1/memories?offset=-3", e.keys["rw"], nil, nil, 400, "validation_error", "offset must be"},
		{"bad cursor", "GET", "/v1/memories?cursor=zzz", e.keys["rw"], nil, nil, 400, "validation_error", "cursor"},
		{"search limit zero", "POST", "/v1/memories/search", e.keys["rw"], map[string]any{"query": "x", "limit": 0}, nil, 400, "validation_error", "limit must be"},
		{"search limit fraction", "POST", "/v1/memories/search", e.keys["rw"], `{"query": "x", "limit": 1.5}`, nil, 400, "validation_error", "limit must be"},
		{"search no query", "POST", "/v1/memories/search", e.keys["rw"], `{}`, nil, 400, "validation_error", "query is required"},
		{"search blank query", "POST", "/v1/memories/search", e.keys["rw"], map[string]any{"query": "   "}, nil, 400, "validation_error", "query is required"},
		{"search threshold range", "POST", "/v1/memories/search", e.keys["rw"], map[string]any{"query": "x", "threshold": 1.5}, nil, 400, "validation_error", "threshold must be"},
		{"search bad mode", "POST", "/v1/memories/search", e.keys["rw"], map[string]any{"query": "x", "search_mode": "magic"}, nil, 400, "validation_error", "search_mode must be"},
		{"unknown memory", "GET", "/v1/memories/00000000-0000-4000-8000-000000000000", e.keys["rw"], nil, nil, 404, "not_found_error", "Memory not found"},
		{"nil uuid", "GET", "/v1/memories/00000000-0000-0000-0000-000000000000", e.keys["rw"], nil, nil, 404, "not_found_error", "Memory not found"},
		{"malformed id", "GET", "/v1/memories/nope", e.keys["rw"], nil, nil, 404, "not_found_error", "Memory not found"},
		{"other account get", "GET", "/v1/memories/" + theirs, e.keys["rw"], nil, nil, 404, "not_found_error", "Memory not found"},
		{"other account update", "PATCH", "/v1/memories/" + theirs, e.keys["rw"], map[string]any{"content": "hijack"}, nil, 404, "not_found_error", "Memory not found"},
		{"other account delete", "DELETE", "/v1/memories/" + theirs, e.keys["admin"], nil, nil, 404, "not_found_error", "Memory not found"},
		{"unknown route", "GET", "/v1/nothing", e.keys["rw"], nil, nil, 404, "not_found_error", "Route not found"},
		{"wrong method", "DELETE", "/v1/memories", e.keys["admin"], nil, nil, 405, "validation_error", "Method not allowed"},
		{"wrong method on literal", "GET", "/v1/memories/search", e.keys["rw"], nil, nil, 404, "not_found_error", "Memory not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.key, c.body, c.hdr...)
			checkError(t, r, c.status, c.typ, c.msg)
			if c.status != 401 && r.header.Get("X-RateLimit-Limit") == "" {
				t.Errorf("no X-RateLimit-Limit on an authenticated %d", c.status)
			}
		})
	}
	// Nothing of the failed writes was stored, and the other account's
	// memory is untouched.
	r := e.do("GET", "/v1/memories", e.keys["rw"], nil)
	if n := len(r.body["data"].([]any)); n != 1 {
		t.Errorf("account a has %d memories after the bad requests, want 1: %s", n, r.raw)
	}
	r = e.do("GET", "/v1/memories/"+theirs, e.keys["other"], nil)
	if r.body["content"] != "theirs" {
		t.Errorf("other account's memory changed: %s", r.raw)
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestWrongMethodHasAllow(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	r := e.do("POST", "/v1/quota", e.keys["rw"], map[string]any{})
	checkError(t, r, 405, "validation_error", "Method not allowed")
	if got := r.header.Get("Allow"); got != "GET" {
		t.Errorf("Allow %q, want GET", got)
	}
	r = e.do("POST", "/v1/memories/"+"00000000-0000-4000-8000-000000000000", e.keys["rw"], nil)
	checkError(t, r, 405, "validation_error", "Method not allowed")
	if got := r.header.Get("Allow"); got != "GET, PUT, PATCH, DELETE" {
		t.Errorf("Allow %q", got)
	}
}

func TestOversizedBody(t *testing.T) {
	ctx := context.Background()
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	acct, _ := relay.CreateAccount(ctx, "a")
	_, tok, _ := relay.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(scopes.Admin)})
	h, err := httpapi.New(relay, httpapi.Options{MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"content": "` + strings.Repeat("a", 2000) + `"}`
	req := httptest.NewRequest("POST", "/v1/memories", strings.NewReader(body))
	req.Header.Set("X-API-Key", tok.Reveal())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "Request body must be at most 1024 bytes") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	page, err := relay.Account(acct.ID).Memories().List(ctx, memory.ListParams{})
	if err != nil || page.Total != 0 {
		t.Fatalf("stored %d memories from an oversized body (%v)", page.Total, err)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{RateLimit: 3})
	key := e.keys["rw"]
	for i := 0; i < 3; i++ {
		r := e.do("GET", "/v1/agents", key, nil)
		if r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(2-i) {
			t.Errorf("request %d: remaining %q, want %d", i, got, 2-i)
		}
		if got := r.header.Get("X-RateLimit-Limit"); got != "3" {
			t.Errorf("limit %q", got)
		}
	}
	r := e.do("GET", "/v1/agents", key, nil)
	checkError(t, r, 429, "rate_limit_error", "Rate limit exceeded. Try again in 20 seconds.")
	if got := r.header.Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After %q, want 20 (one token per 20s)", got)
	}
	if ra, _ := r.body["retry_after"].(float64); ra != 20 {
		t.Errorf("retry_after %v", r.body["retry_after"])
	}
	if got := r.header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("remaining on 429: %q", got)
	}
	reset, _ := strconv.ParseInt(r.header.Get("X-RateLimit-Reset"), 10, 64)
	if want := e.clock.Now().Add(time.Minute).Unix(); reset != want {
		t.Errorf("reset %d, want %d", reset, want)
	}
	// Another key of the same account is not affected.
	if r := e.do("GET", "/v1/agents", e.keys["read"], nil); r.status != 200 {
		t.Errorf("other key: %d", r.status)
	}
	// Time passes: a token comes back.
	e.clock.Advance(20 * time.Second)
	if r := e.do("GET", "/v1/agents", key, nil); r.status != 200 {
		t.Errorf("after 20s: %d", r.status)
	}
}

func TestBearerSchemeAnyCaseAndXAPIKey(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	for _, hdr := range [][]string{
		{"Authorization", "Bearer " + e.keys["read"]},
		{"Authorization", "bearer " + e.keys["read"]},
		{"Authorization", "BEARER " + e.keys["read"]},
		{"X-API-Key", e.keys["read"]},
		{"Authorization", "Bearer " + e.keys["read"], "X-API-Key", "junk"},
	} {
		if r := e.do("GET", "/v1/agents", "", nil, hdr...); r.status != 200 {
			t.Errorf("%v: %d %s", hdr[0], r.status, r.raw)
		}
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	r := e.do("GET", "/v1/health", "", nil, "X-Request-ID", "my-trace-id-123")
	if got := r.header.Get("X-Request-ID"); got != "my-trace-id-123" {
		t.Errorf("echo: %q", got)
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 129), ""} {
		r := e.do("GET", "/v1/memories/nope", e.keys["read"], nil, "X-Request-ID", bad)
		got := r.header.Get("X-Request-ID")
		if !strings.HasPrefix(got, "req_") || len(got) < 24 || got == bad {
			t.Errorf("for %q generated %q", bad, got)
		}
		if r.body["request_id"] != got {
			t.Errorf("body request_id %v, header %q", r.body["request_id"], got)
		}
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	if err := e.relay.WaitSearchIndex(context.Background()); err != nil { // vector_store is degraded until then
		t.Fatal(err)
	}
	for _, path := range []string{"/health", "/v1/health", "//v1//health/"} {
		for _, key := range []string{"", "junk"} {
			r := e.do("GET", path, key, nil)
			if r.status != 200 || r.body["status"] != "healthy" || r.body["api_version"] != "v1" {
				t.Fatalf("%s: %d %s", path, r.status, r.raw)
			}
			for _, f := range []string{"version", "environment", "timestamp", "uptime_seconds", "services", "embedding_info"} {
				if _, ok := r.body[f]; !ok {
					t.Errorf("%s: no %s", path, f)
				}
			}
			if r.body["timestamp"] != float64(e.clock.Now().UnixMilli()) {
				t.Errorf("timestamp %v", r.body["timestamp"])
			}
			info := r.body["embedding_info"].(map[string]any)
			if info["dimension"] != float64(e.relay.Embedder().Dimension()) || info["provider"] != "builtin" || info["model"] != e.relay.Embedder().Model() {
				t.Errorf("embedding_info %v", info)
			}
			// One key per component this server really has: no redis or
			// cache on a SQLite-only server.
			want := map[string]any{"database": "up", "vector_store": "up", "embeddings": "up", "task_queue": "up"}
			if got := r.body["services"].(map[string]any); !maps.Equal(got, want) {
				t.Errorf("services %v, want %v", got, want)
			}
		}
	}
}

func TestMemoryLifecycle(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["admin"]
	r := e.do("POST", "/v1/memories", key, map[string]any{
		"content": "The user prefers TypeScript over JavaScript for new projects.", "agent_id": "agent-123",
		"metadata": map[string]any{"source": "chat", "n": 1}, "importance": 0.9, "user_id": nil, "tier": nil,
		"unknown_flag": true,
	})
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	m := r.body
	id := m["id"].(string)
	for field, want := range map[string]any{
		"object": "memory", "agent_id": "agent-123", "user_id": nil, "visibility": "private", "importance": 0.9,
		"tier": "hot", "scope": "long-term", "is_duplicate": false, "memory_type": nil, "session_id": nil,
		"project": nil, "archived_at": nil, "salience_score": nil,
	} {
		if got, ok := m[field]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", field, got, ok, want)
		}
	}
	if ents, ok := m["entities"].([]any); !ok || len(ents) != 0 {
		t.Errorf("entities %v", m["entities"])
	}
	created := m["created_at"].(float64)
	if created != float64(e.clock.Now().UnixMilli()) || m["updated_at"] != created {
		t.Errorf("timestamps %v %v", m["created_at"], m["updated_at"])
	}

	// Read-your-writes, through an encoded and a doubled-slash path.
	if r := e.do("GET", "//v1//memories/"+id+"/", key, nil); r.status != 200 || r.body["id"] != id {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}

	// PUT and PATCH are the same partial update; metadata merges, null deletes.
	e.clock.Advance(time.Second)
	r = e.do("PUT", "/v1/memories/"+id, key, map[string]any{"metadata": map[string]any{"n": nil, "topic": "lang"}})
	if r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.raw)
	}
	if got := r.body["metadata"].(map[string]any); len(got) != 2 || got["source"] != "chat" || got["topic"] != "lang" {
		t.Errorf("merged metadata %v", got)
	}
	if r.body["content"] != m["content"] || r.body["updated_at"].(float64) <= created {
		t.Errorf("put changed content or kept updated_at: %s", r.raw)
	}
	r = e.do("PATCH", "/v1/memories/"+id, key, map[string]any{"content": "The user prefers Go for backend services.", "importance": 0.2})
	if r.status != 200 || r.body["content"] != "The user prefers Go for backend services." || r.body["tier"] != "warm" {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	prev := r.body["updated_at"].(float64)
	r = e.do("PATCH", "/v1/memories/"+id, key, nil) // empty body: nothing changes but updated_at
	if r.status != 200 || r.body["content"] != "The user prefers Go for backend services." || r.body["updated_at"].(float64) <= prev {
		t.Fatalf("empty patch: %d %s", r.status, r.raw)
	}
	// The new content is what search finds.
	r = e.do("POST", "/v1/memories/search", key, map[string]any{"query": "The user prefers Go for backend services"})
	if data := r.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["id"] != id {
		t.Fatalf("search after update: %s", r.raw)
	}
	r = e.do("POST", "/v1/memories/search", key, map[string]any{"query": "TypeScript JavaScript", "search_mode": "keyword"})
	if data := r.body["data"].([]any); len(data) != 0 {
		t.Fatalf("old content still indexed: %s", r.raw)
	}

	// Delete: a JSON ack, then 404.
	r = e.do("DELETE", "/v1/memories/"+id, key, nil, "Content-Type", "application/json")
	if r.status != 200 || r.body["success"] != true || r.body["deleted"] != true || r.body["id"] != id {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	checkError(t, e.do("GET", "/v1/memories/"+id, key, nil), 404, "not_found_error", "Memory not found")
	checkError(t, e.do("DELETE", "/v1/memories/"+id, key, nil), 404, "not_found_error", "Memory not found")
}

func TestListPagination(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, e.createMemory(key, map[string]any{"content": "memory number " + strconv.Itoa(i), "agent_id": []string{"x", "y"}[i%2]}))
		e.clock.Advance(time.Millisecond)
	}
	r := e.do("GET", "/v1/memories?limit=2", key, nil)
	data := r.body["data"].([]any)
	if len(data) != 2 || r.body["has_more"] != true || r.body["total"] != 5.0 || r.body["total_count"] != 5.0 || r.body["limit"] != 2.0 {
		t.Fatalf("page 1: %s", r.raw)
	}
	if data[0].(map[string]any)["id"] != ids[4] || data[1].(map[string]any)["id"] != ids[3] {
		t.Errorf("not newest first: %s", r.raw)
	}
	var seen []string
	cursor := ""
	for page := 0; page < 5; page++ {
		r := e.do("GET", "/v1/memories?limit=2&cursor="+cursor, key, nil)
		for _, d := range r.body["data"].([]any) {
			seen = append(seen, d.(map[string]any)["id"].(string))
		}
		if r.body["has_more"] != (r.body["next_cursor"] != nil) {
			t.Fatalf("has_more and next_cursor disagree: %s", r.raw)
		}
		if r.body["has_more"] == false {
			break
		}
		cursor = r.body["next_cursor"].(string)
	}
	if strings.Join(seen, ",") != strings.Join([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}, ",") {
		t.Errorf("cursor walk %v", seen)
	}
	r = e.do("GET", "/v1/memories?offset=4&limit=2", key, nil)
	if len(r.body["data"].([]any)) != 1 || r.body["has_more"] != false {
		t.Errorf("last page: %s", r.raw)
	}
	r = e.do("GET", "/v1/memories?limit=1000", key, nil)
	if r.status != 200 || r.body["limit"] != 100.0 {
		t.Errorf("limit not clamped: %s", r.raw)
	}
	r = e.do("GET", "/v1/memories?agent_id=x", key, nil)
	if r.body["total"] != 3.0 {
		t.Errorf("agent filter: %s", r.raw)
	}
	r = e.do("GET", "/v1/memories?agent_id=nobody", key, nil)
	if r.status != 200 || len(r.body["data"].([]any)) != 0 {
		t.Errorf("unknown agent: %s", r.raw)
	}
	r = e.do("GET", "/v1/agents", key, nil)
	if r.body["total"] != 2.0 {
		t.Fatalf("agents: %s", r.raw)
	}
	for _, a := range r.body["data"].([]any) {
		a := a.(map[string]any)
		if a["config"] == nil || a["metadata"] == nil || a["memory_count"] == 0.0 {
			t.Errorf("agent %v", a)
		}
	}
}

func TestSearchScores(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	target := e.createMemory(key, map[string]any{"content": "The user prefers TypeScript over JavaScript for new projects.", "agent_id": "agent-123", "metadata": map[string]any{"category": "lang"}})
	e.createMemory(key, map[string]any{"content": "Deployments run every Friday at 5pm from the release branch.", "agent_id": "agent-123"})
	e.createMemory(key, map[string]any{"content": "The user's dog is called Biscuit and loves long walks.", "agent_id": "agent-123"})
	e.createMemory(key, map[string]any{"content": "The user prefers TypeScript over JavaScript for new projects.", "agent_id": "someone-else"})

	for _, mode := range []string{"hybrid", "semantic", "keyword"} {
		r := e.do("POST", "/v1/memories/search", key, map[string]any{
			"query": "the user prefers typescript over javascript for new projects", "agent_id": "agent-123", "search_mode": mode,
		})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", mode, r.status, r.raw)
		}
		data := r.body["data"].([]any)
		if len(data) == 0 {
			t.Fatalf("%s: no hits", mode)
		}
		top := data[0].(map[string]any)
		score := top["score"].(float64)
		if top["id"] != target || score < 0.8 {
			t.Errorf("%s: top %v score %.3f", mode, top["id"], score)
		}
		if top["similarity"] != score || top["distance"] != 1-score || top["memory"].(map[string]any)["id"] != target {
			t.Errorf("%s: item forms disagree: %v", mode, top)
		}
		if top["category"] != "lang" || top["content"] == nil || top["created_at"] == nil {
			t.Errorf("%s: flat fields: %v", mode, top)
		}
		for _, d := range data[1:] {
			if s := d.(map[string]any)["score"].(float64); s >= 0.3 {
				t.Errorf("%s: unrelated memory %v scored %.3f", mode, d.(map[string]any)["content"], s)
			}
		}
		if r.body["query"] == nil || r.body["total"] != float64(len(data)) {
			t.Errorf("%s: envelope %s", mode, r.raw)
		}
	}
	// threshold filters, min_score is its alias, ?threshold= the fallback.
	for _, body := range []map[string]any{
		{"query": "dog walks", "threshold": 0.99},
		{"query": "dog walks", "min_score": 0.99},
	} {
		r := e.do("POST", "/v1/memories/search", key, body)
		if n := len(r.body["data"].([]any)); n != 0 {
			t.Errorf("%v: %d hits above 0.99", body, n)
		}
	}
	r := e.do("POST", "/v1/memories/search?threshold=0.99", key, map[string]any{"query": "dog walks"})
	if n := len(r.body["data"].([]any)); n != 0 {
		t.Errorf("?threshold: %d hits", n)
	}
	// query from ?q=, limit honoured, unknown agent gives nothing.
	r = e.do("POST", "/v1/memories/search?q=user", key, map[string]any{"limit": 1})
	if n := len(r.body["data"].([]any)); n != 1 {
		t.Errorf("?q with limit 1: %d hits: %s", n, r.raw)
	}
	r = e.do("POST", "/v1/memories/search", key, map[string]any{"query": "user", "agent_id": "nobody"})
	if r.status != 200 || len(r.body["data"].([]any)) != 0 {
		t.Errorf("unknown agent: %s", r.raw)
	}
	// Full-text syntax in queries is just text.
	for _, q := range []string{`"unbalanced`, `* OR NEAR ( - )`, `AND`, `typescript*`, `"-"`} {
		r := e.do("POST", "/v1/memories/search", key, map[string]any{"query": q, "search_mode": "keyword"})
		if r.status != 200 {
			t.Errorf("%q: %d %s", q, r.status, r.raw)
		}
	}
	// Another account finds nothing of ours.
	r = e.do("POST", "/v1/memories/search", e.keys["other"], map[string]any{"query": "TypeScript"})
	if len(r.body["data"].([]any)) != 0 {
		t.Errorf("cross-account search: %s", r.raw)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	h, err := httpapi.New(e.relay, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /own", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "host") })
	mux.Handle("/memory/", http.StripPrefix("/memory", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post, err := http.NewRequest("POST", srv.URL+"/memory/v1/memories", strings.NewReader(`{"content":"mounted memory","agent_id":"a b/c"}`))
	if err != nil {
		t.Fatal(err)
	}
	post.Header.Set("X-API-Key", e.keys["rw"])
	res, err := srv.Client().Do(post)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	res.Body.Close()
	if res.StatusCode != 201 || m["agent_id"] != "a b/c" {
		t.Fatalf("%d %v", res.StatusCode, m)
	}
	for path, want := range map[string]int{
		"/memory/v1/health":                        200,
		"/memory//v1/memories/" + m["id"].(string): 200,
		"/memory/v1/agents":                        200,
		"/memory/v1/nothing":                       404,
		"/own":                                     200,
	} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-API-Key", e.keys["rw"])
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, want)
		}
	}
}

func TestRequireKey(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	protected := httpapi.RequireKey(e.relay, scopes.Write)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, ok := httpapi.KeyFromContext(r.Context())
		if !ok {
			t.Error("no key in context")
		}
		io.WriteString(w, k.Name)
	}))
	for _, c := range []struct {
		key    string
		status int
		body   string
	}{
		{e.keys["rw"], 200, "rw"},
		{e.keys["admin"], 200, "admin"},
		{e.keys["read"], 403, "Insufficient scope. Required: write"},
		{"", 401, "Invalid API key"},
	} {
		req := httptest.NewRequest("GET", "/own", nil)
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		rec := httptest.NewRecorder()
		protected.ServeHTTP(rec, req)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("key %q: %d %s", c.key, rec.Code, rec.Body)
		}
		if c.status != 401 && rec.Header().Get("X-RateLimit-Remaining") == "" {
			t.Errorf("no rate-limit headers")
		}
	}
}

// panicky is a Service whose memory reads panic: it wraps the memory
// interfaces, as a host would.
type panicky struct{ httpapi.Service }

func (p panicky) AccountFor(k keys.Key) memory.Account {
	return panickyAccount{p.Service.AccountFor(k)}
}

type panickyAccount struct{ memory.Account }

func (a panickyAccount) Memories() memory.Memories { return panickyMemories{a.Account.Memories()} }

type panickyMemories struct{ memory.Memories }

func (panickyMemories) Get(context.Context, string) (memory.Memory, error) {
	panic("secret internal detail")
}

func TestPanicBecomes500(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	h, err := httpapi.New(panicky{e.relay}, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/v1/memories/00000000-0000-4000-8000-000000000000", nil)
	req.Header.Set("X-API-Key", e.keys["read"])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") || !strings.Contains(rec.Body.String(), `"type":"api_error"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
