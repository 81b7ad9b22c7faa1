package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Fuzz targets of the REST API: auth headers, every JSON request body and
// the search filters, through the real handler over a real relay. Each
// fuzz process (the coordinator and every worker) builds one relay,
// fixtures and handler before f.Fuzz and shares them across its inputs.
// Objects that differ per process (keys, ids) appear in seeds as
// placeholders such as {rw} or {memory}, expanded in each process.

// fuzzEnv is the shared state of one fuzz target in one process.
type fuzzEnv struct {
	*env
	fx    *fixtures
	h     http.Handler
	lc    *leakCheck        // the relay's and the handler's log
	keyPH *strings.Replacer // {name} → the raw key e.keys[name]
	idPH  *strings.Replacer // {memory}, {entity}… → the fixtures' ids
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	lc := newLeakCheck()
	e := newEnv(f, hostedOptions(memoryrelay.Options{RateLimit: 1 << 30, Synchronous: "NORMAL", Logger: lc.logger()}))
	fx := newFixtures(e)
	h, err := httpapi.New(e.relay, httpapi.Options{Now: e.clock.Now, Logger: lc.logger()})
	if err != nil {
		f.Fatal(err)
	}
	fe := &fuzzEnv{env: e, fx: fx, h: h, lc: lc}
	fe.setPlaceholders()
	return fe
}

// setPlaceholders registers every key of e.keys as a secret and sets the
// placeholders: {name} for it, {memory}, {entity}… for the fixtures' ids.
func (fe *fuzzEnv) setPlaceholders() {
	var pairs []string
	for name, k := range fe.keys {
		fe.lc.addSecret(k)
		pairs = append(pairs, "{"+name+"}", k)
	}
	fe.keyPH = strings.NewReplacer(pairs...)
	fx := fe.fx
	fe.idPH = strings.NewReplacer("{memory}", fx.memory, "{entity}", fx.entity, "{session}", fx.session,
		"{decision}", fx.decision, "{pattern}", fx.pattern, "{v2}", fx.v2)
}

// placeholders is the inverse of idPH for the fixtures' ids, to turn a
// valid body of this process into a seed for every process.
func (fe *fuzzEnv) placeholders(s string) string {
	fx := fe.fx
	return strings.NewReplacer(fx.memory, "{memory}", fx.entity, "{entity}", fx.session, "{session}",
		fx.decision, "{decision}", fx.pattern, "{pattern}", fx.v2, "{v2}").Replace(s)
}

// serve sends one request straight to the handler and checks what every
// response promises (contract §1.5, §2.5, §3): never a 5xx, a JSON object
// as UTF-8 with the JSON content type, a request id, the error body on
// non-2xx, no key in it (other than the one a key create or rotate
// returns, or a key-shaped token the request itself holds), and no key in
// the log.
func (fe *fuzzEnv) serve(t *testing.T, method, target string, body []byte, hdr ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header[http.CanonicalHeaderKey(hdr[i])] = []string{hdr[i+1]}
	}
	rec := httptest.NewRecorder()
	fe.h.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	where := method + " " + target
	if r.status >= 500 {
		t.Fatalf("%s: %d %s\nbody sent: %.400q\nlog: %.2000s", where, r.status, r.raw, body, fe.lc.logText())
	}
	switch r.status {
	case 200, 201, 202, 400, 401, 403, 404, 405, 409, 429:
	default:
		t.Fatalf("%s: status %d is not in the contract: %s", where, r.status, r.raw)
	}
	if err := json.Unmarshal(r.raw, &r.body); err != nil || r.body == nil {
		t.Fatalf("%s: %d body is not a JSON object (%v): %q", where, r.status, err, r.raw)
	}
	if !utf8.Valid(r.raw) {
		t.Fatalf("%s: %d body is not UTF-8: %q\nbody sent: %q", where, r.status, r.raw, body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: Content-Type %q", where, ct)
	}
	if r.header.Get("X-Request-ID") == "" {
		t.Fatalf("%s: no X-Request-ID", where)
	}
	if r.status >= 300 {
		checkErrorBody(t, where, r)
	}
	allow := ""
	if p := req.URL.Path; method == "POST" && r.status/100 == 2 && (p == "/v1/keys" || strings.HasPrefix(p, "/v1/keys/") && strings.HasSuffix(p, "/rotate")) {
		allow, _ = r.body["key"].(string)
		fe.lc.addSecret(allow) // a new key: it must show up nowhere else
	}
	var sent strings.Builder
	sent.Write(body)
	sent.WriteString(target)
	for _, v := range hdr {
		sent.WriteString(" " + v)
	}
	for _, leak := range fe.lc.scan("response to "+where, headerText(r.header)+string(r.raw), allow, sent.String()) {
		t.Fatal(leak)
	}
	fe.checkLog(t)
	return r
}

// checkErrorBody checks the contract's error body (§3).
func checkErrorBody(t *testing.T, where string, r response) {
	t.Helper()
	types := map[int]string{400: "validation_error", 401: "authentication_error", 403: "authorization_error", 404: "not_found_error",
		405: "validation_error", 409: "conflict_error", 429: "rate_limit_error"}
	msg, _ := r.body["message"].(string)
	code, _ := r.body["code"].(float64)
	switch {
	case r.body["type"] != types[r.status]:
		t.Fatalf("%s: %d with type %v: %s", where, r.status, r.body["type"], r.raw)
	case msg == "" || r.body["detail"] != msg || r.body["error"] != msg:
		t.Fatalf("%s: message/detail/error differ or are empty: %s", where, r.raw)
	case int(code) != r.status:
		t.Fatalf("%s: code %v, status %d", where, r.body["code"], r.status)
	case r.body["request_id"] != r.header.Get("X-Request-ID"):
		t.Fatalf("%s: request_id %v, header %q", where, r.body["request_id"], r.header.Get("X-Request-ID"))
	case r.status == 404 && !strings.Contains(strings.ToLower(msg), "not found"):
		t.Fatalf("%s: 404 message %q lacks \"not found\"", where, msg)
	}
	if r.status == 400 {
		checkDetails(t, r) // API.md §10.4
	}
	lower := strings.ToLower(msg)
	for _, bad := range []string{"timeout", "network", "fetch failed", "econnrefused", "enotfound", "502", "503", "504"} {
		if strings.Contains(lower, bad) {
			t.Fatalf("%s: 4xx message %q contains %q", where, msg, bad)
		}
	}
}

func headerText(h http.Header) string {
	var b strings.Builder
	for name, vs := range h {
		for _, v := range vs {
			b.WriteString(name + ": " + v + "\n")
		}
	}
	return b.String()
}

// checkLog scans what was logged since the last call, then drops it so
// that a long fuzz run does not grow the buffer.
func (fe *fuzzEnv) checkLog(t *testing.T) {
	t.Helper()
	fe.lc.mu.Lock()
	logs := fe.lc.logs.String()
	fe.lc.logs.Reset()
	fe.lc.mu.Unlock()
	for _, line := range strings.Split(logs, "\n") {
		for _, leak := range fe.lc.scan("log", line, "", "") {
			t.Fatal(leak)
		}
	}
}

// presentedKey is the contract's reading of the auth headers (§2.2):
// "Authorization: Bearer <key>", scheme in any case, wins over
// "X-API-Key: <key>"; another scheme presents no valid key.
func presentedKey(authz, xAPIKey string) (raw string, present bool) {
	if authz != "" {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(authz), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", true
		}
		return strings.TrimSpace(tok), true
	}
	if xAPIKey != "" {
		return strings.TrimSpace(xAPIKey), true
	}
	return "", false
}

// FuzzAuthHeader sends arbitrary Authorization and X-API-Key values (seeds
// mix in the process's real keys through placeholders) to GET /v1/agents.
// The status is exactly the one the presented key deserves; an error body
// is one of the contract's fixed messages and a 200 is byte for byte the
// account's agent list, so nothing of the header can be echoed; no header
// carries anything but the request id, the content type and rate-limit
// integers; no key reaches the log.
func FuzzAuthHeader(f *testing.F) {
	fe := newFuzzEnv(f)
	e := fe.env
	ctx := context.Background()
	e.keys["expired"] = e.expiredKey(e.acct, "expired", scopes.NewSet(scopes.Read))
	revoked := e.newKey(e.acct, keys.CreateParams{Name: "revoked", Scopes: scopes.NewSet(scopes.Read)})
	a, err := e.relay.Authorize(ctx, revoked)
	if err != nil {
		f.Fatal(err)
	}
	k := a.Key
	if _, err := e.relay.Account(e.acct).Keys().Revoke(ctx, k.ID); err != nil {
		f.Fatal(err)
	}
	e.keys["revoked"] = revoked
	e.keys["badsum"] = typo(e.keys["rw"], -1)
	e.keys["badbody"] = typo(e.keys["rw"], 20)
	fe.setPlaceholders()
	byKey := map[string]string{}
	for name, k := range e.keys {
		byKey[k] = name
	}
	// The agent lists a 200 must equal, once the fixtures' v2 create has
	// made its default agent.
	jobsWaitReady(f, e, e.acct, fe.fx.v2)
	want200 := map[string][]byte{}
	for _, name := range []string{"admin", "other"} {
		req := httptest.NewRequest("GET", "/v1/agents", nil)
		req.Header.Set("X-API-Key", e.keys[name])
		rec := httptest.NewRecorder()
		fe.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			f.Fatalf("agents of %s: %d %s", name, rec.Code, rec.Body)
		}
		want200[name] = rec.Body.Bytes()
	}

	for _, s := range [][2]string{
		{"Bearer {rw}", ""}, {"", "{read}"}, {"bearer {admin}", "junk"}, {"BEARER {other}", ""}, {"Basic {rw}", ""},
		{"Bearer  {delete} ", ""}, {"Bearer {expired}", ""}, {"Bearer {revoked}", "{rw}"}, {"", ""}, {"Bearer", "{rw}"},
		{" ", "{rw}"}, {"Bearer {badsum}", ""}, {"", "{badbody}"}, {"Bearer mem_live_", ""}, {"\x00", ""},
		{"Bearer {rw}\r\nX-Injected: 1", ""}, {"Bearer\t{rw}", ""}, {"Bearer {rw}{rw}", ""}, {strings.Repeat("A", 9000), ""},
		{"Bearer mem_" + strings.Repeat("z", 200), ""}, {"Bearer \u00a0{rw}\u00a0", ""}, {"", " {admin}\t"},
		{"Token {admin}", "{admin}"}, {"Bearer {rw} extra", ""}, {"Bearer \xff\xfe", "\xff"}, {"", "Bearer {rw}"},
		{"Bearer mem_LIVE_" + strings.Repeat("a", 38), ""}, {"Bearer mem_live_" + strings.Repeat("0", 38), "{rw}"},
	} {
		f.Add(s[0], s[1])
	}
	const (
		msgInvalid = "Invalid API key"
		msgMissing = "Invalid API key: provide one in the Authorization (Bearer) or X-API-Key header"
		msgExpired = "API key has expired"
		msgScope   = "Insufficient scope. Required: read"
	)
	f.Fuzz(func(t *testing.T, authz, xAPIKey string) {
		authz, xAPIKey = fe.keyPH.Replace(authz), fe.keyPH.Replace(xAPIKey)
		var hdr []string
		if authz != "" {
			hdr = append(hdr, "Authorization", authz)
		}
		if xAPIKey != "" {
			hdr = append(hdr, "X-API-Key", xAPIKey)
		}
		r := fe.serve(t, "GET", "/v1/agents", nil, hdr...)

		raw, present := presentedKey(authz, xAPIKey)
		wantStatus, wantMsg, wantBody := 401, msgInvalid, []byte(nil)
		switch name := byKey[raw]; {
		case !present:
			wantMsg = msgMissing
		case name == "admin" || name == "read" || name == "rw":
			wantStatus, wantBody = 200, want200["admin"]
		case name == "other":
			wantStatus, wantBody = 200, want200["other"]
		case name == "delete":
			wantStatus, wantMsg = 403, msgScope
		case name == "expired":
			wantMsg = msgExpired
		}
		if r.status != wantStatus {
			t.Fatalf("Authorization %q, X-API-Key %q: %d, want %d: %s", authz, xAPIKey, r.status, wantStatus, r.raw)
		}
		if wantBody != nil && !bytes.Equal(r.raw, wantBody) {
			t.Fatalf("Authorization %q, X-API-Key %q: 200 body differs from the agent list: %s", authz, xAPIKey, r.raw)
		}
		if wantBody == nil && r.body["message"] != wantMsg {
			t.Fatalf("Authorization %q, X-API-Key %q: message %q, want %q", authz, xAPIKey, r.body["message"], wantMsg)
		}
		for name, vs := range r.header {
			v := strings.Join(vs, ",")
			switch name {
			case "Content-Type":
			case "X-Request-Id":
				if len(v) != 28 || !strings.HasPrefix(v, "req_") || strings.Trim(v[4:], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
					t.Fatalf("generated X-Request-ID %q", v)
				}
			case "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset":
				if _, err := strconv.ParseUint(v, 10, 64); err != nil {
					t.Fatalf("%s: %q on a %d", name, v, r.status)
				}
			default:
				t.Fatalf("unexpected response header %s: %q", name, v)
			}
		}
	})
}

// bodyRoute is a route that takes a JSON body: a row of the contract walk
// (or a key-management route) and the fields its body may hold.
type bodyRoute struct {
	rw row
}

// field is a body field and its kind: s string, n number, i integer, b
// bool, o object, a array of strings, t string or array of strings, j any
// JSON, m the batch's memories.
type field struct{ name, kind string }

func fieldsOf(spec string) []field {
	var out []field
	for _, f := range strings.Fields(spec) {
		name, kind, _ := strings.Cut(f, ":")
		out = append(out, field{name, kind})
	}
	return out
}

const memoryFieldSpec = "content:s agent_id:s session_id:s user_id:s metadata:o memory_type:s visibility:s importance:n tier:s scope:s project:s project_id:s deduplicate:b dedup_threshold:n"

// bodyFields maps a request path to the fields of its body.
func bodyFields(method, path string) string {
	switch {
	case path == "/v1/memories" || path == "/v2/memories":
		return memoryFieldSpec + " webhook_url:s auto_extract_entities:b"
	case path == "/v1/memories/search":
		return "query:s limit:i threshold:n min_score:n agent_id:s user_id:s tier:s min_importance:n project:s metadata_filter:o search_mode:s include_confidential:b include_archived:b scope:s session_id:s namespace:s"
	case path == "/v1/memories/batch":
		return "memories:m agent_id:s parallel_embeddings:j"
	case path == "/v1/memories/context":
		return "query:s agent_id:s limit:i threshold:n min_score:n max_tokens:i project:s"
	case strings.HasSuffix(path, "/importance"):
		return "importance:n tier:s"
	case strings.HasPrefix(path, "/v1/memories/"):
		return memoryFieldSpec
	case strings.HasPrefix(path, "/v2/context"):
		return "query:s agent_id:s max_memories:i max_tokens:i search_mode:s exclude_memory_ids:a ranking_version:s ai_enhanced:b llm_api_url:s llm_model:s"
	case path == "/v1/entities":
		return "name:s type:s entity_type:s metadata:o agent_id:s"
	case path == "/v1/entities/links":
		return "entity_id:s memory_id:s relationship:s"
	case strings.HasSuffix(path, "/link"):
		return "memory_id:s relationship:s"
	case strings.HasPrefix(path, "/v1/agents"):
		return "id:s name:s description:s metadata:o"
	case strings.HasSuffix(path, "/end"):
		return "summary:s"
	case strings.HasPrefix(path, "/v1/sessions"):
		return "agent_id:s external_id:s title:s project:s metadata:o"
	case path == "/v1/decisions":
		return "title:s rationale:s alternatives:t project_slug:s project:s tags:a status:s metadata:o agent_id:s session_id:s"
	case strings.HasSuffix(path, "/supersede"):
		return "title:s rationale:s alternatives:t tags:a status:s metadata:o"
	case path == "/v1/patterns":
		return "title:s name:s description:s category:s example_code:s scope:s tags:a source_project:s source_project_slug:s metadata:o"
	case strings.HasSuffix(path, "/adopt"):
		return "project:s project_slug:s"
	case path == "/v1/projects/impact-analysis":
		return "project:s change_description:s"
	case path == "/v1/projects":
		return "slug:s name:s description:s stack:j repo_url:s metadata:o"
	case strings.HasSuffix(path, "/relationships"):
		return "target_project:s relationship_type:s metadata:o"
	case path == "/v1/embed":
		return "text:s prefix:s"
	case path == "/v1/keys":
		return "name:s scopes:a expires_at:s expires_days:i rate_limit:i metadata:o daily_spend_limit_usd:n monthly_spend_limit_usd:n"
	case strings.HasSuffix(path, "/rotate"):
		return "grace_seconds:i"
	case strings.HasPrefix(path, "/v1/keys/"):
		return "name:s metadata:o daily_spend_limit_usd:n monthly_spend_limit_usd:n"
	case strings.HasPrefix(path, "/v1/webhooks"):
		return "url:s event_types:a enabled:b secret:s description:s"
	case path == "/v1/extraction/keys":
		return "provider:s api_key:s model:s label:s base_url:s"
	}
	return ""
}

// wrongValues are JSON values of the wrong type for a field of kind k, or
// out of its range.
func wrongValues(k string) []string {
	switch k {
	case "s":
		return []string{`7`, `{}`, `["x"]`}
	case "n":
		return []string{`"0.5"`, `[]`, `true`, `-1e308`, `1e400`}
	case "i":
		return []string{`1.5`, `"3"`, `1e10`, `-0`, `123456789012345678901234567890`}
	case "b":
		return []string{`"true"`, `1`}
	case "o":
		return []string{`[1]`, `"x"`, `7`}
	case "a", "t":
		return []string{`"x"`, `[1]`, `{}`, `[null]`}
	case "j":
		return []string{`[1,"x",{}]`, `null`}
	case "m":
		return []string{`{}`, `[]`, `[5]`, `[{"content":5}]`, `[null]`, `"x"`, `[{}]`, `[{"content":"x","importance":"high"}]`}
	}
	return nil
}

// deep nests n arrays, or objects when obj, around 1.
func deep(n int, obj bool) string {
	if obj {
		return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
	}
	return strings.Repeat("[", n) + "1" + strings.Repeat("]", n)
}

// bodyRoutes lists the routes of rows() that take a JSON body, plus key
// creation and rotation (§9), which rows() leaves out.
func bodyRoutes(rotating string) []bodyRoute {
	var out []bodyRoute
	for _, rw := range rows() {
		if rw.method == "POST" || rw.method == "PUT" || rw.method == "PATCH" {
			out = append(out, bodyRoute{rw: rw})
		}
	}
	keyFields := []string{"id", "name", "prefix", "scopes", "metadata", "created_at", "expires_at", "last_used_at", "revoked_at", "key"}
	out = append(out,
		bodyRoute{rw: row{"keys", "POST", "admin", 201, keyFields, func(*fixtures) (string, any) {
			return "/v1/keys", map[string]any{"name": "fuzz", "scopes": []string{"read"}}
		}}},
		bodyRoute{rw: row{"keys", "POST", "admin", 200, keyFields, func(*fixtures) (string, any) {
			return "/v1/keys/" + rotating + "/rotate", map[string]any{"grace_seconds": 0}
		}}},
	)
	return out
}

// followUp is a read that must answer 200 with fields after a write.
type followUp struct {
	method, path, body string
	fields             []string
}

// followUps are the reads that must still work after a 2xx on path that
// answered body: the object it made and the lists and searches that hold
// it, filters over metadata included.
func followUps(path string, body map[string]any) []followUp {
	id, _ := body["id"].(string)
	esc := url.PathEscape
	var out []followUp
	add := func(p string, fields ...string) { out = append(out, followUp{"GET", p, "", fields}) }
	searches := func() {
		for _, b := range []string{`{"query":"x","namespace":"ns1"}`, `{"query":"x","metadata_filter":{"k":"v"}}`} {
			out = append(out, followUp{"POST", "/v1/memories/search", b, []string{"data"}})
		}
	}
	switch {
	case path == "/v1/memories" || strings.HasPrefix(path, "/v1/memories/") && path != "/v1/memories/search" && path != "/v1/memories/context" && path != "/v1/memories/batch":
		add("/v1/memories/"+esc(id), memoryFields...)
		add("/v1/memories?limit=3", listFields...)
		searches()
	case path == "/v1/memories/batch":
		add("/v1/memories?limit=3", listFields...)
		searches()
	case path == "/v2/memories":
		add("/v2/memories/"+esc(id)+"/status", "id", "status")
	case path == "/v1/entities":
		add("/v1/entities/"+esc(id), entityFields...)
		add("/v1/entities/"+esc(id)+"/neighborhood", "entity", "neighbors")
		add("/v1/entities?limit=3", listFields...)
	case strings.HasPrefix(path, "/v1/entities/"):
		e, _ := body["entity_id"].(string)
		add("/v1/entities/"+esc(e)+"/neighborhood", "entity", "neighbors")
		add("/v1/memories?limit=3", listFields...)
	case strings.HasPrefix(path, "/v1/agents"):
		add("/v1/agents/"+esc(id), agentFields...)
		add("/v1/agents/"+esc(id)+"/stats", "memory_count")
		add("/v1/agents?limit=3", listFields...)
	case strings.HasPrefix(path, "/v1/sessions"):
		add("/v1/sessions/"+esc(id), sessionFields...)
		add("/v1/sessions?limit=3", listFields...)
	case strings.HasPrefix(path, "/v1/decisions"):
		add("/v1/decisions?limit=3", listFields...)
		add("/v1/decisions/check?query=use", "data")
		add("/v1/projects/alpha/context", "project", "markdown")
	case strings.HasPrefix(path, "/v1/patterns"):
		add("/v1/patterns/search?query=typed", "data")
		add("/v1/patterns/suggest?project=alpha", "data")
	case path == "/v1/projects":
		slug, _ := body["slug"].(string)
		add("/v1/projects/"+esc(slug), projectFields...)
		add("/v1/projects/"+esc(slug)+"/context", "project", "markdown")
		add("/v1/projects?limit=3", listFields...)
	case strings.HasSuffix(path, "/relationships"):
		tgt, _ := body["target_project"].(string)
		add("/v1/projects/alpha/related", "data")
		add("/v1/projects/alpha/dependencies", "data")
		add("/v1/projects/"+esc(tgt)+"/dependents", "data")
	case strings.HasPrefix(path, "/v1/keys"):
		add("/v1/keys/"+esc(id), "id", "prefix", "scopes")
		add("/v1/keys?limit=3", listFields...)
	}
	return out
}

// FuzzRequestBodies sends arbitrary bytes as the body of every route that
// takes JSON, chosen by the first argument. Beyond what serve checks for
// every response: a 2xx has the route's status (or 200, for an idempotent
// create) and its required fields, and afterwards the object it made and
// the lists that hold it still read back as 200 with their fields.
func FuzzRequestBodies(f *testing.F) {
	fe := newFuzzEnv(f)
	admin := fe.keys["admin"]
	k, tok, err := fe.relay.Account(fe.acct).Keys().Create(context.Background(), memory.NewKey{Name: "rotating", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		f.Fatal(err)
	}
	fe.lc.addSecret(tok.Reveal())
	routes := bodyRoutes(k.ID)

	for i, br := range routes {
		path, body := br.rw.req(fe.fx)
		valid, err := json.Marshal(body)
		if err != nil {
			f.Fatal(err)
		}
		seeds := []string{fe.placeholders(string(valid)), "", "null", "[]", "{}", `"x"`, "7", "{", `{"a":1}{"b":2}`, "\xef\xbb\xbf{}",
			`{"metadata":` + deep(1100, false) + `}`, `{"metadata":` + deep(1100, true) + `}`, `{"x":` + deep(10001, false) + `}`,
			deep(200, false), `{"metadata":{"k":"\ud800"},"content":"a\u0000b"}`}
		// Valid bodies with metadata that Go's decoder accepts but a
		// strict reader may not: raw invalid UTF-8, nesting at and past
		// memory.MaxJSONDepth, past SQLite's JSON depth limit of
		// 1000 and past httpapi.MaxRequestDepth.
		if m, ok := body.(map[string]any); ok {
			rest := map[string]any{}
			for k, v := range m {
				if k != "metadata" {
					rest[k] = v
				}
			}
			b, _ := json.Marshal(rest)
			for _, meta := range []string{"{\"k\":\"\xff\xfe\"}", "{\"\xc3\":1}", `{"k":` + deep(memory.MaxJSONDepth-1, true) + `}`, `{"k":` + deep(memory.MaxJSONDepth, true) + `}`,
				`{"k":` + deep(httpapi.MaxRequestDepth, true) + `}`, `{"k":` + deep(1200, false) + `}`} {
				if len(rest) == 0 {
					seeds = append(seeds, `{"metadata":`+meta+`}`)
				} else {
					seeds = append(seeds, fe.placeholders(`{"metadata":`+meta+`,`+string(b[1:])))
				}
			}
		}
		switch path {
		case "/v1/projects":
			seeds = append(seeds, "{\"slug\":\"u8\",\"name\":\"U\",\"stack\":{\"go\":\"\xff\"}}", `{"slug":"d","name":"D","stack":{"k":`+deep(1001, false)+`}}`)
		case "/v1/memories/batch":
			seeds = append(seeds, "{\"memories\":[{\"content\":\"x\",\"client_id\":\"\xff\"},{\"content\":\"y\",\"client_id\":{\"n\":"+deep(1001, false)+"}}]}")
		}
		fields := fieldsOf(bodyFields(br.rw.method, path))
		for _, fl := range fields {
			for _, v := range wrongValues(fl.kind) {
				seeds = append(seeds, `{"`+fl.name+`":`+v+`}`)
			}
			seeds = append(seeds, `{"`+fl.name+`":"\xff\xfe\xfd"}`, `{"`+fl.name+`":null}`)
		}
		if len(fields) > 0 {
			// A valid body with one field replaced, so that a wrong type
			// is met after everything else has passed.
			var m map[string]any
			if json.Unmarshal(valid, &m) == nil && m != nil {
				for _, fl := range fields {
					if _, ok := m[fl.name]; !ok {
						continue
					}
					for _, v := range wrongValues(fl.kind)[:min(1, len(wrongValues(fl.kind)))] {
						mm := map[string]json.RawMessage{}
						json.Unmarshal(valid, &mm)
						mm[fl.name] = json.RawMessage(v)
						b, _ := json.Marshal(mm)
						seeds = append(seeds, fe.placeholders(string(b)))
					}
				}
			}
		}
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}

	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		br := routes[int(pick)%len(routes)]
		et := *fe.env
		et.t = t
		fe.fx.e = &et // rows' builders may create fixtures: through t now
		path, _ := br.rw.req(fe.fx)
		body = []byte(fe.idPH.Replace(string(body)))
		r := fe.serve(t, br.rw.method, path, body, "Authorization", "Bearer "+admin)
		defer fe.tidy(t, path, r)
		if r.status/100 != 2 {
			return
		}
		if r.status != br.rw.status && r.status != 200 {
			t.Fatalf("%s %s: %d, want %d: %s\nbody sent: %q", br.rw.method, path, r.status, br.rw.status, r.raw, body)
		}
		for _, fl := range br.rw.fields {
			if _, ok := r.body[fl]; !ok {
				t.Fatalf("%s %s: %d without %q: %s\nbody sent: %q", br.rw.method, path, r.status, fl, r.raw, body)
			}
		}
		for _, fu := range followUps(path, r.body) {
			g := fe.serve(t, fu.method, fu.path, []byte(fu.body), "X-API-Key", admin)
			if g.status != 200 {
				t.Fatalf("after %s %s (%d %.300s)\nwith body %.300q:\n%s %s: %d %s", br.rw.method, path, r.status, r.raw, body, fu.method, fu.path, g.status, g.raw)
			}
			for _, fl := range fu.fields {
				if _, ok := g.body[fl]; !ok {
					t.Fatalf("after %s %s with body %.300q: %s %s lacks %q: %s", br.rw.method, path, body, fu.method, fu.path, fl, g.raw)
				}
			}
		}
	})
}

// tidy deletes what a run made of the objects an account may hold only
// so many of (webhooks, extraction keys), so that a long fuzzing session
// never meets the limit: the webhook or key a create returned, and the
// key a route's fixture made for its path.
func (fe *fuzzEnv) tidy(t *testing.T, path string, r response) {
	admin := fe.keys["admin"]
	id, _ := r.body["id"].(string)
	switch {
	case (path == "/v1/webhooks" || path == "/v1/extraction/keys") && r.status == 201 && id != "":
		fe.serve(t, "DELETE", path+"/"+id, nil, "X-API-Key", admin)
	case strings.HasPrefix(path, "/v1/extraction/keys/") && strings.HasSuffix(path, "/activate"):
		fe.serve(t, "DELETE", strings.TrimSuffix(path, "/activate"), nil, "X-API-Key", admin)
	}
}

// FuzzSearchFilters sends POST /v1/memories/search with every filter
// present, absent, null or of the wrong type (two bits of mask each), and
// ?q=, ?threshold= and ?scope=. Never a 5xx; a threshold outside [0,1], a
// limit below 1 or fractional and a blank query are 400 (§5.2, §7); a 200
// holds at most limit items, each with a score in [0,1] and ≥ the
// threshold, best first, that satisfies every filter given.
func FuzzSearchFilters(f *testing.F) {
	fe := newFuzzEnv(f)
	fx := fe.fx
	admin := fe.keys["admin"]
	for _, m := range []map[string]any{
		{"content": "Deployments run every Friday from the release branch", "agent_id": "deployer", "user_id": "u1", "tier": "cold",
			"importance": 0.3, "metadata": map[string]any{"category": "ops", "namespace": "ns1", "n": 1, "tags": []any{"a", "b"}, "obj": map[string]any{"k": "v"}}},
		{"content": "The user's dog is called Biscuit and loves TypeScript walks", "agent_id": "walker", "scope": "session", "session_id": fx.session,
			"metadata": map[string]any{"namespace": "ns2", "n": 1.0, "flag": true, "nothing": nil}},
		{"content": "TypeScript secret plans", "visibility": "confidential", "metadata": map[string]any{"category": "lang"}},
		{"content": "unicode 我喜欢机器学习 café TypeScript", "project": "beta", "user_id": "u2", "metadata": map[string]any{"namespace": 5, "ünï": "çødé", "": "empty"}},
	} {
		if r := fe.do("POST", "/v1/memories", admin, m); r.status != 201 {
			f.Fatalf("fixture: %d %s", r.status, r.raw)
		}
	}
	agents := fe.do("GET", "/v1/agents?limit=100", admin, nil)
	agentName := map[string]string{} // id → name
	var pairs []string
	for _, a := range agents.body["data"].([]any) {
		a := a.(map[string]any)
		agentName[a["id"].(string)] = a["name"].(string)
		pairs = append(pairs, "{"+a["name"].(string)+"_id}", a["id"].(string))
	}
	expandIDs := strings.NewReplacer(pairs...)

	type args struct {
		mask                               uint64
		query                              string
		limit, threshold, minScore, minImp float64
		agentID, userID, tier, project     string
		metadataFilter                     []byte
		mode, scope, sessionID, namespace  string
		qQuery, qThreshold, qScope         string
	}
	const (
		present = 1
		null    = 2
		wrong   = 3
	)
	// mask: 2 bits per body field in this order, then bits 28–32 for
	// ?q=, ?threshold=, ?scope=, include_archived and include_confidential.
	seed := func(a args) {
		f.Add(a.mask, a.query, a.limit, a.threshold, a.minScore, a.minImp, a.agentID, a.userID, a.tier, a.project,
			a.metadataFilter, a.mode, a.scope, a.sessionID, a.namespace, a.qQuery, a.qThreshold, a.qScope)
	}
	bits := func(modes ...int) uint64 {
		var m uint64
		for i, v := range modes {
			m |= uint64(v) << (2 * i)
		}
		return m
	}
	all := bits(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	base := args{query: "TypeScript", limit: 10, threshold: 0, minScore: 0, minImp: 0, agentID: "walker", userID: "u1", tier: "hot",
		project: "alpha", metadataFilter: []byte(`{"category":"lang"}`), mode: "hybrid", scope: "all", sessionID: "{session}", namespace: "ns1",
		qQuery: "TypeScript", qThreshold: "0.5", qScope: "session"}
	for _, a := range []args{
		{mask: bits(1), query: "TypeScript"},
		{mask: bits(1, 1, 1), query: "TypeScript", limit: 1, threshold: 0.2},
		{mask: bits(1, 0, 0, 1), query: "user", minScore: 0.99},
		{mask: 1 << 28, qQuery: "TypeScript"},
		{mask: 1<<28 | 1<<29, qQuery: "dog", qThreshold: "0.3"},
		{mask: 1<<28 | 1<<29 | 1<<30, qQuery: "dog", qThreshold: "NaN", qScope: "session"},
		{mask: bits(1) | 1<<29, query: "x", qThreshold: "Inf"},
		{mask: bits(1, 0, 1), query: "x", threshold: 1.0000001},
		{mask: bits(1, 0, 1), query: "x", threshold: math.Inf(1)},
		{mask: bits(1, 1), query: "x", limit: 0},
		{mask: bits(1, 1), query: "x", limit: 1e300},
		{mask: bits(1, 1), query: "x", limit: -1},
		{mask: bits(1, 1), query: "x", limit: 2.5},
		{mask: bits(1, 0, 0, 0, 1), query: "TypeScript", agentID: "{walker_id}"},
		{mask: bits(1, 0, 0, 0, 1), query: "TypeScript", agentID: "WALKER"},
		{mask: bits(1, 0, 0, 0, 0, 1, 1), query: "Friday", userID: "u1", tier: "cold"},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 1), query: "TypeScript", minImp: 0.5},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 1), query: "TypeScript", minImp: -0.1},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 1), query: "TypeScript", project: "beta"},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "Friday", metadataFilter: []byte(`{"namespace":"ns1","n":1.0}`)},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "Friday", metadataFilter: []byte(`{"obj":{"k":"v"},"tags":["a","b"]}`)},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "dog", metadataFilter: []byte(`{"flag":true,"nothing":null}`)},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "x", metadataFilter: []byte(`{"a.b":1,"$[0]":2,"'":3,"\"":4,"":"empty"}`)},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "x", metadataFilter: []byte(`{"n":` + deep(1100, false) + `}`)},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "x", metadataFilter: []byte(`{"n":1e400,"m":-0,"big":123456789012345678901234567890}`)},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "x", metadataFilter: []byte(`[1]`)},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "x", metadataFilter: []byte("{\"\xff\":\"\xfe\"}")},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "x", mode: "keyword"},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "x", mode: "semantic"},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "x", mode: "magic"},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1), query: "dog", scope: "session", sessionID: "{session}"},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "dog", sessionID: "not-a-uuid"},
		{mask: bits(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), query: "Friday", namespace: "ns1"},
		{mask: bits(1) | 1<<31 | 1<<32, query: "TypeScript"},
		{mask: bits(1), query: " \t\n"},
		{mask: bits(1), query: `"unbalanced * OR NEAR( -x`},
		{mask: bits(1), query: strings.Repeat("é", 51201)},
		{mask: bits(2), qQuery: "x"},
		{mask: bits(3)},
		{mask: bits(3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3)},
		{mask: bits(2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2), query: "x"},
	} {
		seed(a)
	}
	b := base
	b.mask = all | 1<<28 | 1<<29 | 1<<30
	seed(b)

	f.Fuzz(func(t *testing.T, mask uint64, query string, limit, threshold, minScore, minImp float64, agentID, userID, tier, project string,
		metadataFilter []byte, mode, scope, sessionID, namespace, qQuery, qThreshold, qScope string) {
		sessionID, qScope = fe.idPH.Replace(sessionID), fe.idPH.Replace(qScope)
		agentID = expandIDs.Replace(agentID)
		num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		str := func(s string) string { b, _ := json.Marshal(s); return string(b) }
		type fv struct {
			name, value, wrong string
		}
		mf := string(metadataFilter)
		if !json.Valid(metadataFilter) {
			mf = str(mf)
		}
		fields := []fv{
			{"query", str(query), num(float64(len(query)))},
			{"limit", num(limit), str(num(limit))},
			{"threshold", num(threshold), str(num(threshold))},
			{"min_score", num(minScore), `[` + num(minScore) + `]`},
			{"agent_id", str(agentID), `{"id":` + str(agentID) + `}`},
			{"user_id", str(userID), `[` + str(userID) + `]`},
			{"tier", str(tier), num(float64(len(tier)))},
			{"min_importance", num(minImp), str(num(minImp))},
			{"project", str(project), `true`},
			{"metadata_filter", mf, str(mf)},
			{"search_mode", str(mode), `[]`},
			{"scope", str(scope), `0`},
			{"session_id", str(sessionID), `{}`},
			{"namespace", str(namespace), `false`},
		}
		var body strings.Builder
		body.WriteString("{")
		for i, fl := range fields {
			var v string
			switch (mask >> (2 * i)) & 3 {
			case present:
				v = fl.value
			case null:
				v = "null"
			case wrong:
				v = fl.wrong
			default:
				continue
			}
			if body.Len() > 1 {
				body.WriteString(",")
			}
			body.WriteString(`"` + fl.name + `":` + v)
		}
		for i, name := range []string{"include_archived", "include_confidential"} {
			if mask&(1<<(31+i)) != 0 {
				if body.Len() > 1 {
					body.WriteString(",")
				}
				body.WriteString(`"` + name + `":true`)
			}
		}
		body.WriteString("}")
		q := url.Values{}
		for i, p := range []struct{ name, v string }{{"q", qQuery}, {"threshold", qThreshold}, {"scope", qScope}} {
			if mask&(1<<(28+i)) != 0 {
				q.Set(p.name, p.v)
			}
		}
		target := "/v1/memories/search"
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		r := fe.serve(t, "POST", target, []byte(body.String()), "X-API-Key", fe.keys["read"])
		if r.status != 200 {
			return
		}

		// What the request asked for, by the contract's precedence.
		var sent map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body.String()), &sent); err != nil {
			t.Fatalf("200 to a body that is not JSON: %q", body.String())
		}
		given := func(name string) (json.RawMessage, bool) {
			v, ok := sent[name]
			return v, ok && string(v) != "null"
		}
		getStr := func(name string) (string, bool) {
			var s string
			v, ok := given(name)
			if !ok || json.Unmarshal(v, &s) != nil {
				return "", false
			}
			return s, true
		}
		getNum := func(name string) (float64, bool) {
			var x float64
			v, ok := given(name)
			if !ok || json.Unmarshal(v, &x) != nil {
				return 0, false
			}
			return x, true
		}
		qv := func(name string) string {
			vals, _ := url.ParseQuery(strings.TrimPrefix(target, "/v1/memories/search?"))
			return vals.Get(name)
		}
		effQuery, ok := getStr("query")
		if !ok {
			effQuery = qv("q")
		}
		if strings.TrimSpace(effQuery) == "" {
			t.Fatalf("200 for a blank query: %q %s", body.String(), target)
		}
		if utf8.ValidString(effQuery) && r.body["query"] != effQuery {
			t.Fatalf("query echoed as %q, sent %q", r.body["query"], effQuery)
		}
		thr, ok := getNum("threshold")
		if !ok {
			if thr, ok = getNum("min_score"); !ok && qv("threshold") != "" {
				var err error
				if thr, err = strconv.ParseFloat(qv("threshold"), 64); err != nil {
					t.Fatalf("200 for ?threshold=%q", qv("threshold"))
				}
			}
		}
		if math.IsNaN(thr) || thr < 0 || thr > 1 {
			t.Fatalf("threshold %v is out of [0,1] but got 200: %s %s", thr, body.String(), target)
		}
		lim := 10.0
		if l, ok := getNum("limit"); ok {
			lim = l
		}
		if lim < 1 || lim != math.Trunc(lim) {
			t.Fatalf("limit %v got 200: %s", lim, body.String())
		}
		lim = math.Min(lim, 100)
		data, _ := r.body["data"].([]any)
		if float64(len(data)) > lim {
			t.Fatalf("%d items for limit %v", len(data), lim)
		}
		if total, _ := r.body["total"].(float64); int(total) != len(data) {
			t.Fatalf("total %v for %d items", r.body["total"], len(data))
		}
		if m, _ := getStr("search_mode"); m != "" && m != "hybrid" && m != "semantic" && m != "keyword" {
			t.Fatalf("search_mode %q got 200", m)
		}
		effScope, ok := getStr("scope")
		if !ok {
			effScope = qv("scope")
		}
		if effScope != "" && effScope != "all" && effScope != "session" && effScope != "long-term" {
			t.Fatalf("scope %q got 200", effScope)
		}
		effSession, hasSession := getStr("session_id")
		if _, inBody := given("session_id"); !inBody && qv("session_id") != "" {
			effSession, hasSession = qv("session_id"), true
		}
		prev := math.Inf(1)
		for i, d := range data {
			item, _ := d.(map[string]any)
			score, ok := item["score"].(float64)
			switch {
			case !ok || score < 0 || score > 1:
				t.Fatalf("item %d: score %v outside [0,1]", i, item["score"])
			case score < thr:
				t.Fatalf("item %d: score %v below threshold %v", i, score, thr)
			case score > prev:
				t.Fatalf("item %d: score %v after %v: not best first", i, score, prev)
			case item["similarity"] != score || item["distance"] != 1-score:
				t.Fatalf("item %d: similarity %v, distance %v for score %v", i, item["similarity"], item["distance"], score)
			}
			prev = score
			m, _ := item["memory"].(map[string]any)
			if m == nil || m["id"] != item["id"] {
				t.Fatalf("item %d: memory %v, id %v", i, m, item["id"])
			}
			fail := func(what string, want any) {
				t.Fatalf("item %d does not match %s %v: %v\nbody %s, target %s", i, what, want, m, body.String(), target)
			}
			if s, ok := getStr("agent_id"); ok && s != "" && m["agent_id"] != s && m["agent_id"] != agentName[strings.ToLower(s)] {
				fail("agent_id", s)
			}
			for _, name := range []string{"user_id", "tier", "project"} {
				if s, ok := getStr(name); ok && m[name] != s {
					fail(name, s)
				}
			}
			if x, ok := getNum("min_importance"); ok && m["importance"].(float64) < x {
				fail("min_importance", x)
			}
			if effScope == "session" || effScope == "long-term" {
				if m["scope"] != effScope {
					fail("scope", effScope)
				}
			}
			if hasSession && m["session_id"] != effSession {
				fail("session_id", effSession)
			}
			meta, _ := m["metadata"].(map[string]any)
			ns, hasNS := getStr("namespace")
			if _, inBody := given("namespace"); !inBody && qv("namespace") != "" {
				ns, hasNS = qv("namespace"), true
			}
			if hasNS && meta["namespace"] != ns {
				fail("namespace", ns)
			}
			if v, ok := given("metadata_filter"); ok {
				var filter map[string]any
				if json.Unmarshal(v, &filter) != nil {
					t.Fatalf("metadata_filter %s is not an object but got 200", v)
				}
				for k, want := range filter {
					if got, ok := meta[k]; !ok || !reflect.DeepEqual(got, want) {
						fail("metadata_filter", string(v))
					}
				}
			}
			if v, _ := given("include_confidential"); string(v) != "true" && m["visibility"] == "confidential" {
				fail("include_confidential", false)
			}
			if v, _ := given("include_archived"); string(v) != "true" && m["archived_at"] != nil {
				fail("include_archived", false)
			}
		}
	})
}

// TestMetadataStrictJSON pins what FuzzRequestBodies and FuzzSearchFilters
// found: metadata nested past SQLite's JSON depth limit, stored, made every
// search of the account by namespace or metadata_filter a 500, as did such
// a metadata_filter value; metadata with raw invalid UTF-8 came back
// verbatim, so the response was not UTF-8. Both are 400 now (nesting past
// memory.MaxJSONDepth, which every client parses), and the deepest
// metadata accepted is stored and searchable.
func TestMetadataStrictJSON(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	key := e.keys["rw"]
	create := func(meta string) response {
		return e.do("POST", "/v1/memories", key, `{"content":"deep metadata","metadata":`+meta+`}`)
	}
	max := memory.MaxJSONDepth
	if r := create(`{"namespace":"ns1","k":` + deep(max-1, true) + `}`); r.status != 201 {
		t.Fatalf("metadata %d levels deep: %d %s", max, r.status, r.raw)
	}
	checkError(t, create(`{"k":`+deep(max, true)+`}`), 400, "validation_error", fmt.Sprintf("metadata must be nested at most %d levels deep", max))
	checkError(t, create(`{"k":`+deep(5000, false)+`}`), 400, "validation_error", "Request body must be nested at most")
	checkError(t, create("{\"k\":\"\xff\"}"), 400, "validation_error", "metadata must be valid UTF-8")
	checkError(t, create("{\"\xc3\":1}"), 400, "validation_error", "metadata must be valid UTF-8")
	for _, body := range []string{
		`{"query":"deep metadata","namespace":"ns1"}`,
		`{"query":"deep metadata","metadata_filter":{"namespace":"ns1"}}`,
		`{"query":"deep metadata","metadata_filter":{"k":` + deep(max-1, true) + `}}`,
	} {
		r := e.do("POST", "/v1/memories/search", key, body)
		if r.status != 200 || len(r.body["data"].([]any)) != 1 {
			t.Errorf("%.80s: %d %.300s", body, r.status, r.raw)
		}
	}
	checkError(t, e.do("POST", "/v1/memories/search", key, `{"query":"x","metadata_filter":{"k":`+deep(max, false)+`}}`),
		400, "validation_error", fmt.Sprintf("metadata_filter must be nested at most %d levels deep", max))
	// The other raw JSON a client sends: a project's stack is stored, a
	// batch item's client_id echoed.
	checkError(t, e.do("POST", "/v1/projects", key, "{\"slug\":\"s\",\"name\":\"S\",\"stack\":{\"k\":\"\xff\"}}"),
		400, "validation_error", "stack must be valid UTF-8")
	r := e.do("POST", "/v1/memories/batch", key, "{\"memories\":[{\"content\":\"x\",\"client_id\":\"a\xffb\"}]}")
	if r.status != 200 || !utf8.Valid(r.raw) || !strings.Contains(string(r.raw), "\"client_id\":\"a\uFFFDb\"") {
		t.Errorf("batch client_id: %d %q", r.status, r.raw)
	}
}
