package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu    sync.Mutex
	infos []httpapi.RequestInfo
}

func (r *recorder) ObserveRequest(_ context.Context, in httpapi.RequestInfo) {
	r.mu.Lock()
	r.infos = append(r.infos, in)
	r.mu.Unlock()
}

func (r *recorder) last(t *testing.T) httpapi.RequestInfo {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.infos) == 0 {
		t.Fatal("nothing observed")
	}
	return r.infos[len(r.infos)-1]
}

// TestObservers: each request reaches every observer once, with its
// route pattern, status, key prefix and account, the reason its key was
// refused, a rate-limit refusal and the mode of a search; the request log
// writes one line per request and never a key.
func TestObservers(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)}
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "obs.db"), Now: clk.Now, KeyCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	acct, err := relay.CreateAccount(ctx, "obs")
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	newKey := func(p memory.NewKey) (keys.Key, string) {
		k, tok, err := relay.Account(acct.ID).Keys().Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, tok.Reveal())
		return k, tok.Reveal()
	}
	rwKey, rw := newKey(memory.NewKey{Name: "rw", Scopes: scopes.NewSet(scopes.Read, scopes.Write)})
	_, read := newKey(memory.NewKey{Name: "read", Scopes: scopes.NewSet(scopes.Read)})
	_, slow := newKey(memory.NewKey{Name: "slow", Scopes: scopes.NewSet(scopes.Read), RateLimit: 1})
	revokedKey, revoked := newKey(memory.NewKey{Name: "revoked", Scopes: scopes.NewSet(scopes.Read)})
	if _, err := relay.Account(acct.ID).Keys().Revoke(ctx, revokedKey.ID); err != nil {
		t.Fatal(err)
	}
	soon := clk.Now().Add(time.Minute)
	_, expiring := newKey(memory.NewKey{Name: "expiring", Scopes: scopes.NewSet(scopes.Read), ExpiresAt: &soon})
	unknownTok, _ := keys.Generate("live")
	unknown := unknownTok.Reveal()
	secrets = append(secrets, unknown)

	rec := &recorder{}
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	h, err := httpapi.New(relay, httpapi.Options{Now: clk.Now, Observers: []httpapi.Observer{rec, httpapi.RequestLog(logger)}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	send := func(method, path, auth, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	create := `{"agent_id":"bot","content":"observed memories are logged"}`
	clk.Advance(2 * time.Minute) // "expiring" has expired
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		want                           httpapi.RequestInfo // Method, Route, Status, AuthFailure, RateLimited, SearchMode; KeyPrefix when withKey
		withKey                        string              // the raw key whose prefix and account the info must carry
	}{
		{name: "health", method: "GET", path: "/v1/health", status: 200, want: httpapi.RequestInfo{Route: "/v1/health"}},
		{name: "missing key", method: "GET", path: "/v1/agents", status: 401, want: httpapi.RequestInfo{Route: "/v1/agents", AuthFailure: httpapi.AuthMissing}},
		{name: "other scheme", method: "GET", path: "/v1/agents", auth: "Basic " + rw, status: 401, want: httpapi.RequestInfo{Route: "/v1/agents", AuthFailure: httpapi.AuthMalformed}},
		{name: "malformed", method: "GET", path: "/v1/agents", auth: "Bearer mem_live_nope", status: 401, want: httpapi.RequestInfo{Route: "/v1/agents", AuthFailure: httpapi.AuthMalformed}},
		{name: "unknown", method: "GET", path: "/v1/agents", auth: "Bearer " + unknown, status: 401, want: httpapi.RequestInfo{Route: "/v1/agents", AuthFailure: httpapi.AuthUnknown}},
		{name: "revoked", method: "GET", path: "/v1/agents", auth: "Bearer " + revoked, status: 401, want: httpapi.RequestInfo{Route: "/v1/agents", AuthFailure: httpapi.AuthRevoked}},
		{name: "expired", method: "GET", path: "/v1/agents", auth: "Bearer " + expiring, status: 401, want: httpapi.RequestInfo{Route: "/v1/agents", AuthFailure: httpapi.AuthExpired}},
		{name: "scope", method: "POST", path: "/v1/memories", auth: "Bearer " + read, body: create, status: 403, want: httpapi.RequestInfo{Route: "/v1/memories", AuthFailure: httpapi.AuthScope}, withKey: read},
		{name: "create", method: "POST", path: "/v1/memories", auth: "Bearer " + rw, body: create, status: 201, want: httpapi.RequestInfo{Route: "/v1/memories"}, withKey: rw},
		{name: "search default", method: "POST", path: "/v1/memories/search", auth: "Bearer " + rw, body: `{"query":"observed"}`, status: 200, want: httpapi.RequestInfo{Route: "/v1/memories/search", SearchMode: "hybrid"}, withKey: rw},
		{name: "search semantic", method: "POST", path: "/v1/memories/search", auth: "Bearer " + rw, body: `{"query":"observed","search_mode":"semantic"}`, status: 200, want: httpapi.RequestInfo{Route: "/v1/memories/search", SearchMode: "semantic"}, withKey: rw},
		{name: "search bad mode", method: "POST", path: "/v1/memories/search", auth: "Bearer " + rw, body: `{"query":"observed","search_mode":"nonsense"}`, status: 400, want: httpapi.RequestInfo{Route: "/v1/memories/search"}, withKey: rw},
		{name: "context keyword", method: "POST", path: "/v2/context/build", auth: "Bearer " + rw, body: `{"query":"observed","search_mode":"keyword"}`, status: 200, want: httpapi.RequestInfo{Route: "/v2/context/build", SearchMode: "keyword"}, withKey: rw},
		{name: "text context", method: "POST", path: "/v1/memories/context", auth: "Bearer " + rw, body: `{"query":"observed"}`, status: 200, want: httpapi.RequestInfo{Route: "/v1/memories/context", SearchMode: "hybrid"}, withKey: rw},
		{name: "capture", method: "GET", path: "/v1/memories/00000000-0000-4000-8000-000000000000", auth: "Bearer " + rw, status: 404, want: httpapi.RequestInfo{Route: "/v1/memories/{id}"}, withKey: rw},
		{name: "no route", method: "GET", path: "/v1/nowhere", status: 404, want: httpapi.RequestInfo{}},
		{name: "wrong method", method: "PUT", path: "/v1/health", status: 405, want: httpapi.RequestInfo{}},
		{name: "within limit", method: "GET", path: "/v1/agents", auth: "Bearer " + slow, status: 200, want: httpapi.RequestInfo{Route: "/v1/agents"}, withKey: slow},
		{name: "rate limited", method: "GET", path: "/v1/agents", auth: "Bearer " + slow, status: 429, want: httpapi.RequestInfo{Route: "/v1/agents", RateLimited: true}, withKey: slow},
	}
	for _, c := range cases {
		if st := send(c.method, c.path, c.auth, c.body); st != c.status {
			t.Fatalf("%s: status %d, want %d", c.name, st, c.status)
		}
		got := rec.last(t)
		want := c.want
		want.Method, want.Status = c.method, c.status
		if c.withKey != "" {
			want.KeyPrefix, want.AccountID = c.withKey[:12], acct.ID
		}
		if got.Method != want.Method || got.Route != want.Route || got.Status != want.Status || got.AuthFailure != want.AuthFailure ||
			got.RateLimited != want.RateLimited || got.SearchMode != want.SearchMode || got.KeyPrefix != want.KeyPrefix || got.AccountID != want.AccountID {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, want)
		}
		if got.Duration <= 0 || !strings.HasPrefix(got.RequestID, "req_") {
			t.Errorf("%s: duration %v, request id %q", c.name, got.Duration, got.RequestID)
		}
		if (got.SearchMode != "") != (got.SearchDuration > 0) || got.SearchDuration > got.Duration {
			t.Errorf("%s: search %q took %v of %v", c.name, got.SearchMode, got.SearchDuration, got.Duration)
		}
		if c.name == "create" && got.KeyID != rwKey.ID {
			t.Errorf("create: key id %q, want %q", got.KeyID, rwKey.ID)
		}
	}
	if len(rec.infos) != len(cases) {
		t.Fatalf("%d requests observed, %d sent", len(rec.infos), len(cases))
	}

	// The log: one JSON line per request, matching what was observed,
	// and no key, whole or any 8-character piece of a secret.
	logMu.Lock()
	text := logs.String()
	logMu.Unlock()
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		in := rec.infos[n]
		route := in.Route
		if route == "" {
			route = "-"
		}
		if line["msg"] != "request" || line["level"] != "INFO" || line["request_id"] != in.RequestID || line["route"] != route ||
			line["status"] != float64(in.Status) || line["method"] != in.Method {
			t.Errorf("line %d: %v for %+v", n, line, in)
		}
		if in.KeyPrefix != "" && (line["key"] != in.KeyPrefix || line["account"] != in.AccountID) {
			t.Errorf("line %d: key %v account %v", n, line["key"], line["account"])
		}
		if in.AuthFailure != "" && line["auth_failure"] != in.AuthFailure {
			t.Errorf("line %d: auth_failure %v", n, line["auth_failure"])
		}
		n++
	}
	if n != len(cases) {
		t.Fatalf("%d log lines for %d requests:\n%s", n, len(cases), text)
	}
	for _, s := range secrets {
		body := s[strings.LastIndexByte(s, '_')+1:]
		for i := 0; i+8 <= len(body); i++ {
			if strings.Contains(text, body[i:i+8]) {
				t.Fatalf("the log holds a piece of key %s…: %q", s[:12], body[i:i+8])
			}
		}
	}
}

// TestRequestLogLevel: 5xx lines are errors, others info, so the handler's
// level filters them; text lines carry the same fields.
func TestRequestLogLevel(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o := httpapi.RequestLog(l)
	o.ObserveRequest(context.Background(), httpapi.RequestInfo{RequestID: "req_a", Method: "GET", Route: "/v1/agents", Status: 200})
	if buf.Len() != 0 {
		t.Fatalf("an info line at level warn: %q", buf.String())
	}
	o.ObserveRequest(context.Background(), httpapi.RequestInfo{RequestID: "req_b", Method: "POST", Route: "/v1/memories", Status: 503, Duration: 1500 * time.Microsecond, KeyPrefix: "mem_live_abc", AccountID: "acct-1"})
	got := buf.String()
	for _, want := range []string{"level=ERROR", "msg=request", "request_id=req_b", "method=POST", "route=/v1/memories", "status=503", "duration=1.5ms", "key=mem_live_abc", "account=acct-1"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestObserverSeesPanic: a request whose handler panics is observed with
// the 500 it was answered.
func TestObserverSeesPanic(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	rec := &recorder{}
	h, err := httpapi.New(panicky{e.relay}, httpapi.Options{Observers: []httpapi.Observer{rec}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/v1/memories/00000000-0000-4000-8000-000000000000", nil)
	req.Header.Set("X-API-Key", e.keys["read"])
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got := rec.last(t); got.Status != 500 || got.Route != "/v1/memories/{id}" || got.KeyPrefix != e.keys["read"][:12] {
		t.Fatalf("%+v", got)
	}
}
