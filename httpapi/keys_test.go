package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
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
		{"long name", "POST", "/v1/keys", admin, map[string]any{"name": strings.Repeat("n", 256), "scopes": []string{"read"}}, 400, "validation_error", "name must be"},
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

// TestKeysHostedShape: POST /v1/keys in the shape of API.md §10.2: name
// and scopes optional with their defaults, expires_days, the nested
// key_info beside §9's fields, the same fields flat on GET, and
// deprecated_at/auto_revoke_at on a rotation with grace.
func TestKeysHostedShape(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]
	infoFields := []string{"id", "name", "key_prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at",
		"deprecated_at", "auto_revoke_at", "is_active", "daily_spend_limit_usd", "monthly_spend_limit_usd", "spend_info"}

	for _, body := range []string{`{}`, ``, `{"name":null,"scopes":null}`} {
		r := e.do("POST", "/v1/keys", admin, body)
		if r.status != 201 {
			t.Fatalf("create %q: %d %s", body, r.status, r.raw)
		}
		raw := r.body["key"].(string)
		if r.body["name"] != "key-"+raw[:12] || r.body["key_prefix"] != raw[:12] || r.body["prefix"] != raw[:12] {
			t.Errorf("default name/prefix: %s", r.raw)
		}
		if sc, _ := json.Marshal(r.body["scopes"]); string(sc) != `["read","write"]` {
			t.Errorf("default scopes %s", sc)
		}
		info, ok := r.body["key_info"].(map[string]any)
		if !ok || len(info) != len(infoFields) {
			t.Fatalf("key_info %v, want exactly %v", r.body["key_info"], infoFields)
		}
		for _, f := range infoFields {
			a, _ := json.Marshal(info[f])
			b, _ := json.Marshal(r.body[f])
			if _, ok := r.body[f]; !ok || string(a) != string(b) {
				t.Errorf("%s: key_info %s, flat %s", f, a, b)
			}
		}
		if info["is_active"] != true || info["daily_spend_limit_usd"] != nil || info["monthly_spend_limit_usd"] != nil {
			t.Errorf("key_info %v", info)
		}
		sp, _ := json.Marshal(info["spend_info"])
		if string(sp) != `{"daily_limit_usd":null,"month_usd":0,"monthly_limit_usd":null,"today_usd":0}` {
			t.Errorf("spend_info %s", sp)
		}
		if strings.Contains(string(mustJSON(t, info)), raw) {
			t.Error("key_info holds the secret")
		}
	}

	// expires_days: that many days from now.
	r := e.do("POST", "/v1/keys", admin, map[string]any{"name": "month", "expires_days": 30, "scopes": []string{"read"}})
	if r.status != 201 || r.body["expires_at"] != e.clock.Now().Add(30*24*time.Hour).Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("expires_days 30: %d %s", r.status, r.raw)
	}
	id := r.body["id"].(string)
	g := e.do("GET", "/v1/keys/"+id, admin, nil)
	for _, f := range infoFields {
		if _, ok := g.body[f]; !ok {
			t.Errorf("GET lacks %s: %s", f, g.raw)
		}
	}
	if _, ok := g.body["key_info"]; ok {
		t.Errorf("GET nests key_info: %s", g.raw)
	}
	l := e.do("GET", "/v1/keys", admin, nil)
	for _, k := range l.body["data"].([]any) {
		if _, ok := k.(map[string]any)["is_active"]; !ok {
			t.Fatalf("listed key lacks is_active: %v", k)
		}
	}

	// Rotation with grace: the old secret's deprecation and end.
	rot := e.do("POST", "/v1/keys/"+id+"/rotate", admin, map[string]any{"grace_seconds": 600})
	now := e.clock.Now()
	if rot.status != 200 || rot.body["deprecated_at"] != now.Format("2006-01-02T15:04:05.000Z") ||
		rot.body["auto_revoke_at"] != now.Add(10*time.Minute).Format("2006-01-02T15:04:05.000Z") ||
		rot.body["key_info"].(map[string]any)["auto_revoke_at"] != rot.body["auto_revoke_at"] {
		t.Fatalf("rotate: %s", rot.raw)
	}

	// The end of grace is stored: GET reports it too.
	if g := e.do("GET", "/v1/keys/"+id, admin, nil); g.body["auto_revoke_at"] != rot.body["auto_revoke_at"] {
		t.Errorf("GET after rotate: auto_revoke_at %v, want %v", g.body["auto_revoke_at"], rot.body["auto_revoke_at"])
	}

	// Expired and revoked keys are not active.
	e.clock.Advance(31 * 24 * time.Hour)
	if g := e.do("GET", "/v1/keys/"+id, admin, nil); g.body["is_active"] != false {
		t.Errorf("expired key: %s", g.raw)
	}
	r = e.do("POST", "/v1/keys", admin, map[string]any{"scopes": []string{"read"}})
	id2 := r.body["id"].(string)
	e.do("DELETE", "/v1/keys/"+id2, admin, nil)
	if g := e.do("GET", "/v1/keys/"+id2, admin, nil); g.body["is_active"] != false || g.body["revoked_at"] == nil {
		t.Errorf("revoked key: %s", g.raw)
	}
}

// keyMetadataOf returns a JSON object that takes exactly n bytes compacted.
func keyMetadataOf(n int) string {
	return `{"a": "` + strings.Repeat("x", n-len(`{"a":""}`)) + `"}`
}

// TestKeyFieldRulesOverHTTP: POST /v1/keys goes through the key store's
// rules (the same as an account's Keys and Relay.ImportKey): each limit at its value
// and one past it, and every refusal a 400 validation_error naming the
// field with today's message.
func TestKeyFieldRulesOverHTTP(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]
	body := func(extra string) string { return `{"name":"k","scopes":["read"]` + extra + `}` }
	cases := []struct {
		name  string
		body  string
		field string // "" when accepted
		msg   string
	}{
		{"name of 255 characters", `{"name":"` + strings.Repeat("ü", keys.MaxName) + `","scopes":["read"]}`, "", ""},
		{"name of 256 characters", `{"name":"` + strings.Repeat("ü", keys.MaxName+1) + `","scopes":["read"]}`, "name", "name must be 1-255 characters"},
		{"empty name", `{"name":"","scopes":["read"]}`, "name", "name must be 1-255 characters"},
		{"empty scopes", `{"name":"k","scopes":[]}`, "scopes", "scopes must be a non-empty list of read, write, delete, admin"},
		{"expiry in a minute", body(`,"expires_at":"` + e.clock.Now().Add(time.Minute).Format(time.RFC3339) + `"`), "", ""},
		{"expiry a second ago", body(`,"expires_at":"` + e.clock.Now().Add(-time.Second).Format(time.RFC3339) + `"`), "expires_at", "expires_at must be in the future"},
		{"metadata at the size limit", body(`,"metadata":` + keyMetadataOf(memory.MaxMetadataSize)), "", ""},
		{"metadata one byte past", body(`,"metadata":` + keyMetadataOf(memory.MaxMetadataSize+1)), "metadata", "metadata must be at most 10240 bytes when serialized"},
		{"metadata an array", body(`,"metadata":[1]`), "metadata", "metadata must be a JSON object"},
		{"metadata a string", body(`,"metadata":"owner=ops"`), "metadata", "metadata must be a JSON object"},
		{"metadata a number", body(`,"metadata":5`), "metadata", "metadata must be a JSON object"},
		{"rate limit at the maximum", body(`,"rate_limit":1000000`), "", ""},
		{"rate limit past the maximum", body(`,"rate_limit":1000001`), "rate_limit", "rate_limit must be at most 1000000"},
		{"negative rate limit", body(`,"rate_limit":-1`), "rate_limit", "rate_limit must be 0 or more"},
		{"expires_days 1", body(`,"expires_days":1`), "", ""},
		{"expires_days 365", body(`,"expires_days":365`), "", ""},
		{"expires_days 0", body(`,"expires_days":0`), "expires_days", "expires_days must be an integer between 1 and 365"},
		{"expires_days 366", body(`,"expires_days":366`), "expires_days", "expires_days must be an integer between 1 and 365"},
		{"expires_days negative", body(`,"expires_days":-3`), "expires_days", "expires_days must be an integer between 1 and 365"},
		{"expires_days huge", body(`,"expires_days":1e300`), "expires_days", "expires_days must be an integer between 1 and 365"},
		{"expires_days null", body(`,"expires_days":null`), "", ""},
		{"expires_days and expires_at", body(`,"expires_days":3,"expires_at":"2030-01-01T00:00:00Z"`), "expires_days", "expires_days and expires_at cannot both be given"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/v1/keys", admin, c.body)
			if c.field == "" {
				if r.status != 201 {
					t.Fatalf("%d %s", r.status, r.raw)
				}
				return
			}
			checkError(t, r, 400, "validation_error", c.msg)
			errs, _ := r.body["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != c.field || errs[0].(map[string]any)["message"] != c.msg {
				t.Errorf("errors %v, want one for %s", r.body["errors"], c.field)
			}
		})
	}
	if r := e.do("GET", "/v1/keys?limit=100", admin, nil); r.status != 200 {
		t.Fatalf("GET /v1/keys: %d %s", r.status, r.raw)
	}
}

// TestKeysMadeInGoCannotBreakListing is the case: keys made in Go
// (an account's Keys, the package's own Examples' path) with a
// 5,000-character name, an expiry in the past or metadata that is not JSON
// are refused, so GET /v1/keys keeps answering 200.
func TestKeysMadeInGoCannotBreakListing(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	past := e.clock.Now().Add(-time.Hour)
	read := scopes.NewSet(scopes.Read)
	for _, p := range []keys.CreateParams{
		{Name: strings.Repeat("n", 5000), Scopes: read},
		{Name: "past", Scopes: read, ExpiresAt: &past},
		{Name: "not-json", Scopes: read, Metadata: []byte(`owner=ops`)},
		{Name: "not-an-object", Scopes: read, Metadata: []byte(`[1]`)},
	} {
		in := memory.NewKey{Name: p.Name, Scopes: p.Scopes, ExpiresAt: p.ExpiresAt, Metadata: p.Metadata}
		if _, _, err := e.relay.Account(e.acct).Keys().Create(context.Background(), in); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("Keys().Create(%.20q): %v, want a keys.ErrInvalid", p.Name, err)
		}
	}
	if r := e.do("GET", "/v1/keys?limit=100", e.keys["admin"], nil); r.status != 200 {
		t.Fatalf("GET /v1/keys: %d %s", r.status, r.raw)
	}
}

// TestListKeysToleratesBadRows: rows an older version stored without the
// checks (inserted here with SQL) do not make GET /v1/keys answer 500: the
// keys are listed, metadata that is not a JSON object reads as {}, the rest
// as stored.
func TestListKeysToleratesBadRows(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]
	now := e.clock.Now().UnixMilli()
	rows := []struct {
		id, name, meta string
		expires        any
		rate           int
		wantMeta       string
	}{
		{"00000000-0000-4000-8000-000000000001", "not json", `owner=ops`, nil, 0, `{}`},
		{"00000000-0000-4000-8000-000000000002", "cut short", `{"a":`, nil, 0, `{}`},
		{"00000000-0000-4000-8000-000000000003", "array", `[1,2]`, nil, 0, `{}`},
		{"00000000-0000-4000-8000-000000000004", "null", `null`, nil, 0, `{}`},
		{"00000000-0000-4000-8000-000000000005", strings.Repeat("n", 5000), `{"ok":true}`, now - 60_000, -5, `{"ok":true}`},
	}
	for i, r := range rows {
		e.exec(`INSERT INTO api_keys(id, account_id, name, prefix, scopes, metadata, rate_limit, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.id, e.acct, r.name, "mem_live_old", 1, r.meta, r.rate, now+int64(i), r.expires)
	}
	list := e.do("GET", "/v1/keys?limit=100", admin, nil)
	if list.status != 200 {
		t.Fatalf("GET /v1/keys: %d %s", list.status, list.raw)
	}
	listed := map[string]map[string]any{}
	for _, k := range list.body["data"].([]any) {
		k := k.(map[string]any)
		listed[k["id"].(string)] = k
	}
	for _, r := range rows {
		one := e.do("GET", "/v1/keys/"+r.id, admin, nil)
		if one.status != 200 {
			t.Fatalf("GET /v1/keys/%s: %d %s", r.id, one.status, one.raw)
		}
		for where, k := range map[string]map[string]any{"list": listed[r.id], "get": one.body} {
			meta, _ := json.Marshal(k["metadata"])
			if k == nil || k["name"] != r.name || string(meta) != r.wantMeta {
				t.Errorf("%s: key %s reads as %.200v, want name %.20q metadata %s", where, r.id, k, r.name, r.wantMeta)
			}
		}
	}
}

// badKeyJSON is a Service whose keys carry metadata that cannot be
// encoded, with a raw key inside it: a response that fails to encode.
type badKeyJSON struct {
	httpapi.Service
	secret string
}

func (b badKeyJSON) AccountFor(k keys.Key) memory.Account {
	return badKeyAccount{b.Service.AccountFor(k), b.secret}
}

type badKeyAccount struct {
	memory.Account
	secret string
}

func (a badKeyAccount) Keys() memory.Keys { return badKeys{a.Account.Keys(), a.secret} }

type badKeys struct {
	memory.Keys
	secret string
}

func (b badKeys) Get(ctx context.Context, id string) (keys.Key, error) {
	k, err := b.Keys.Get(ctx, id)
	k.Metadata = []byte(`{"owner": ` + b.secret + `}`)
	return k, err
}

// TestEncodeFailureIsLogged: a response that cannot be encoded is a 500
// with the contract's body and one log line with the request id, the route
// and the error, and no key (the env's check of every log line).
func TestEncodeFailureIsLogged(t *testing.T) {
	e, lc := newCheckedEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]
	h, err := httpapi.New(badKeyJSON{Service: e.relay, secret: admin}, httpapi.Options{Logger: lc.logger(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(lc.middleware(h))
	defer srv.Close()
	bad := *e
	bad.srv = srv
	var id string
	for _, k := range e.do("GET", "/v1/keys", admin, nil).body["data"].([]any) {
		if k := k.(map[string]any); k["name"] == "admin" {
			id = k["id"].(string)
		}
	}
	r := bad.do("GET", "/v1/keys/"+id, admin, nil, "X-Request-ID", "req-encode-failure")
	checkError(t, r, 500, "api_error", "Internal server error")
	if r.body["request_id"] != "req-encode-failure" {
		t.Errorf("request_id %v", r.body["request_id"])
	}
	var found bool
	for _, line := range strings.Split(lc.logText(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "httpapi: response could not be encoded" {
			continue
		}
		found = true
		if rec["level"] != "ERROR" || rec["request_id"] != "req-encode-failure" || rec["route"] != "GET /v1/keys/{id}" || rec["method"] != "GET" {
			t.Errorf("log line %s: want level ERROR, the request id, the route GET /v1/keys/{id}", line)
		}
		if msg, _ := rec["err"].(string); !strings.Contains(msg, "json") {
			t.Errorf("log line %s: the error is not the encoder's", line)
		}
	}
	if !found {
		t.Errorf("no log line for the failed encoding; log:\n%s", lc.logText())
	}
}
