package httpapi_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// The secrets check (issue: "a check fails if any raw key, or the secret
// part of one, appears in any log line, error body, panic message or
// response other than the one that creates it").
//
// A leakCheck is the log sink of a relay and its handler and, through its
// middleware, the recorder of every response. It knows the raw keys of the
// test (registered with addSecret, plus every key a create or rotate
// response returns) and reports, for every log line and every response:
//   - any key-shaped token (mem_<env>_<30 or more base62>), known or not;
//   - any 8-character window of a known key's secret part, the part after
//     "mem_<env>_", so that a partial or mangled echo is caught too.
//
// The only exception is the create or rotate response that returns a key:
// it may contain that key. A client-supplied X-Request-ID is echoed
// unchanged by contract (§2.5); a client that puts its key there leaks it
// itself, so no test here sends a key as X-Request-ID.

// leakWindow is the length of the secret fragments searched for.
const leakWindow = 8

// leakCheck is safe for concurrent use; its zero value is not usable (see
// newLeakCheck).
type leakCheck struct {
	mu      sync.Mutex
	windows map[string][]string // 8-byte window of a secret body → raw keys having it
	secrets map[string]bool
	logs    bytes.Buffer
	outs    []emitted
}

// emitted is one response, headers and body, as the client saw it.
type emitted struct {
	where string // method, path and status
	data  string
	allow string // the one raw key this response may contain, or ""
}

func newLeakCheck() *leakCheck {
	return &leakCheck{windows: map[string][]string{}, secrets: map[string]bool{}}
}

// secretBody returns the part of a key-shaped raw key after "mem_<env>_".
func secretBody(raw string) (string, bool) {
	rest, ok := strings.CutPrefix(raw, "mem_")
	if !ok {
		return "", false
	}
	env, body, ok := strings.Cut(rest, "_")
	if !ok || env == "" || len(body) < leakWindow {
		return "", false
	}
	return body, true
}

// addSecret registers raw keys (well-formed or not; only those of the form
// mem_<env>_<body> have windows).
func (lc *leakCheck) addSecret(raws ...string) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for _, raw := range raws {
		if raw == "" || lc.secrets[raw] {
			continue
		}
		lc.secrets[raw] = true
		body, ok := secretBody(raw)
		if !ok {
			continue
		}
		for i := 0; i+leakWindow <= len(body); i++ {
			w := body[i : i+leakWindow]
			lc.windows[w] = append(lc.windows[w], raw)
		}
	}
}

// Write is the log sink: slog handlers write one record per call.
func (lc *leakCheck) Write(p []byte) (int, error) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.logs.Write(p)
}

// logger returns a debug-level JSON logger writing to lc.
func (lc *leakCheck) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(lc, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// logText returns everything logged so far.
func (lc *leakCheck) logText() string {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.logs.String()
}

// record keeps one response. A 2xx to POST /v1/keys or POST
// /v1/keys/{id}/rotate registers the key it returns, which that response
// alone may contain.
func (lc *leakCheck) record(r *http.Request, status int, hdr http.Header, body []byte) {
	allow := ""
	p := strings.Trim(r.URL.Path, "/")
	if r.Method == http.MethodPost && status/100 == 2 && (p == "v1/keys" || strings.HasPrefix(p, "v1/keys/") && strings.HasSuffix(p, "/rotate")) {
		var out struct {
			Key string `json:"key"`
		}
		if json.Unmarshal(body, &out) == nil && out.Key != "" {
			lc.addSecret(out.Key)
			allow = out.Key
		}
	}
	var b strings.Builder
	names := make([]string, 0, len(hdr))
	for name := range hdr {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range hdr[name] {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	b.Write(body)
	lc.mu.Lock()
	lc.outs = append(lc.outs, emitted{where: fmt.Sprintf("%s %s → %d", r.Method, r.URL.Path, status), data: b.String(), allow: allow})
	lc.mu.Unlock()
}

// middleware records every response next writes.
func (lc *leakCheck) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(cw, r)
		lc.record(r, cw.status, w.Header(), cw.body.Bytes())
	})
}

type captureWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(status int) {
	if !c.wrote {
		c.status, c.wrote = status, true
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(p []byte) (int, error) {
	c.wrote = true
	c.body.Write(p)
	return c.ResponseWriter.Write(p)
}

// keyShaped returns the key-shaped tokens of s: "mem_", 1 to 8 lowercase
// letters, "_", then 30 or more base62 characters.
func keyShaped(s string) []string {
	var out []string
	for i := 0; ; {
		j := strings.Index(s[i:], "mem_")
		if j < 0 {
			return out
		}
		start := i + j
		k := start + len("mem_")
		envEnd := k
		for envEnd < len(s) && envEnd-k <= 8 && 'a' <= s[envEnd] && s[envEnd] <= 'z' {
			envEnd++
		}
		end := envEnd + 1
		if envEnd > k && envEnd-k <= 8 && envEnd < len(s) && s[envEnd] == '_' {
			for end < len(s) && isBase62(s[end]) {
				end++
			}
			if end-(envEnd+1) >= 30 {
				out = append(out, s[start:end])
			}
		}
		i = start + 1
	}
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// scan reports the secrets in data other than allow. A key-shaped token
// that ignore (the request, when a fuzzer wrote it) holds is not reported
// as such: echoing a caller's own content is no leak. Parts of registered
// keys are reported whatever ignore holds.
func (lc *leakCheck) scan(where, data, allow, ignore string) []string {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	var out []string
	for _, tok := range keyShaped(data) {
		if tok != allow && (ignore == "" || !strings.Contains(ignore, tok)) {
			out = append(out, fmt.Sprintf("%s: key-shaped token %.16s… in %q", where, tok, clip(data, tok)))
		}
	}
	seen := map[string]bool{}
	for i := 0; i+leakWindow <= len(data); i++ {
		owners := lc.windows[data[i:i+leakWindow]]
		if len(owners) == 0 {
			continue
		}
		ok := false
		for _, o := range owners {
			ok = ok || o == allow
		}
		if !ok && !seen[owners[0]] {
			seen[owners[0]] = true
			out = append(out, fmt.Sprintf("%s: part %q of the secret of key %.12s… in %q", where, data[i:i+leakWindow], owners[0], clip(data, data[i:i+leakWindow])))
		}
	}
	return out
}

// clip returns up to 60 bytes of data on either side of needle.
func clip(data, needle string) string {
	i := strings.Index(data, needle)
	lo, hi := max(0, i-60), min(len(data), i+len(needle)+60)
	return data[lo:hi]
}

// findings lists every leak in the logs and responses recorded so far.
func (lc *leakCheck) findings() []string {
	lc.mu.Lock()
	logs, outs := lc.logs.String(), lc.outs
	lc.mu.Unlock()
	var out []string
	for n, line := range strings.Split(logs, "\n") {
		out = append(out, lc.scan(fmt.Sprintf("log line %d", n+1), line, "", "")...)
	}
	for _, o := range outs {
		out = append(out, lc.scan("response to "+o.where, o.data, o.allow, "")...)
	}
	return out
}

// assertNoSecrets fails t for every leak recorded so far.
func (lc *leakCheck) assertNoSecrets(t testing.TB) {
	t.Helper()
	for _, f := range lc.findings() {
		t.Error("secret leaked: " + f)
	}
}

// newCheckedEnv is newEnv with the secrets check: the relay and the
// handler log at debug level into a leakCheck, the server records every
// response, and when the test ends it fails if any key of e.keys, any key
// a test registers with lc.addSecret or any key created or rotated over
// HTTP leaks. Every helper of env (do, newFixtures, rows…) works on it;
// a test opts in by calling it instead of newEnv.
func newCheckedEnv(t testing.TB, opts memoryrelay.Options) (*env, *leakCheck) {
	t.Helper()
	lc := newLeakCheck()
	e := &env{t: t, clock: &clock{t: time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)}, keys: map[string]string{}}
	// Registered first, so it runs last: after the server and the relay
	// have closed and flushed whatever they log on the way out.
	t.Cleanup(func() {
		for _, k := range e.keys {
			lc.addSecret(k)
		}
		lc.assertNoSecrets(t)
	})
	ctx := context.Background()
	opts.Path = filepath.Join(t.TempDir(), "api.db")
	e.path = opts.Path
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	opts.Logger = lc.logger()
	relay, err := memoryrelay.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	h, err := httpapi.New(relay, httpapi.Options{Now: e.clock.Now, Logger: lc.logger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(lc.middleware(h))
	srv.Config.ErrorLog = log.New(lc, "http: ", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	e.relay, e.srv, e.path = relay, srv, opts.Path
	acct, err := relay.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	other, err := relay.CreateAccount(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	e.acct = acct.ID
	for name, set := range map[string]scopes.Set{
		"admin":  scopes.NewSet(scopes.Admin),
		"read":   scopes.NewSet(scopes.Read),
		"rw":     scopes.NewSet(scopes.Read, scopes.Write),
		"delete": scopes.NewSet(scopes.Delete),
	} {
		e.keys[name] = e.newKey(acct.ID, keys.CreateParams{Name: name, Scopes: set})
	}
	e.keys["other"] = e.newKey(other.ID, keys.CreateParams{Name: "other", Scopes: scopes.NewSet(scopes.Admin)})
	for _, k := range e.keys {
		lc.addSecret(k)
	}
	return e, lc
}

// leaky is a Service whose failures carry a raw key in their error text or
// panic value, as a careless wrapper or a driver error might.
type leaky struct {
	httpapi.Service
	secret  string // the key its errors mention
	failKey string // Authorize of this raw key fails with an internal error naming it
}

func (l leaky) Authorize(ctx context.Context, raw string, required ...scopes.Scope) (memoryrelay.Auth, error) {
	if raw == l.failKey {
		return memoryrelay.Auth{}, fmt.Errorf("memoryrelay: verifying key %q: %w", raw, io.ErrUnexpectedEOF)
	}
	return l.Service.Authorize(ctx, raw, required...)
}

func (l leaky) AccountFor(k keys.Key) memory.Account {
	return leakyAccount{l.Service.AccountFor(k), l.secret}
}

// leakyAccount and its groups wrap the memory interfaces, as a host would.
type leakyAccount struct {
	memory.Account
	secret string
}

func (a leakyAccount) Memories() memory.Memories {
	return leakyMemories{a.Account.Memories(), a.secret}
}
func (a leakyAccount) Agents() memory.Agents { return leakyAgents{a.Account.Agents(), a.secret} }
func (a leakyAccount) Sessions() memory.Sessions {
	return leakySessions{a.Account.Sessions(), a.secret}
}

type leakyMemories struct {
	memory.Memories
	secret string
}

func (l leakyMemories) Get(context.Context, string) (memory.Memory, error) {
	return memory.Memory{}, fmt.Errorf("store: row for token %s: %w", l.secret, io.ErrUnexpectedEOF)
}

func (l leakyMemories) List(context.Context, memory.ListParams) (memory.Page[memory.Memory], error) {
	panic("listing memories for " + l.secret)
}

type leakyAgents struct {
	memory.Agents
	secret string
}

func (l leakyAgents) List(context.Context, memory.PageParams) (memory.Page[memory.Agent], error) {
	panic(fmt.Errorf("agents of key %s: %w", l.secret, io.ErrClosedPipe))
}

type leakySessions struct {
	memory.Sessions
	secret string
}

func (l leakySessions) List(context.Context, memory.SessionListParams) (memory.Page[memory.Session], error) {
	return memory.Page[memory.Session]{}, &memory.UnavailableError{Reason: "The database is busy", Err: errors.New("locked while checking " + l.secret)}
}

// send is one request through h (recorded by lc when h is its middleware).
func send(t *testing.T, h http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// authHeader sends raw in the Authorization header (Bearer) or in
// X-API-Key.
func authHeader(raw string, xAPIKey bool) []string {
	if xAPIKey {
		return []string{"X-API-Key", raw}
	}
	return []string{"Authorization", "Bearer " + raw}
}

// typo changes the character at i (negative: from the end) of raw.
func typo(raw string, i int) string {
	if i < 0 {
		i += len(raw)
	}
	c := byte('a')
	if raw[i] == 'a' {
		c = 'b'
	}
	return raw[:i] + string(c) + raw[i+1:]
}

func TestNoSecretsInLogsOrResponses(t *testing.T) {
	e, lc := newCheckedEnv(t, hostedOptions(memoryrelay.Options{RateLimit: 1 << 20}))
	// The extraction keys the walk stores never come back, not even in
	// the create's answer.
	lc.addSecret("sk-walk-0123456789abcdef", "sk-walk-fixture-0123456789")
	f := newFixtures(e)
	admin := e.keys["admin"]

	// Keys created and rotated over HTTP: each raw key is in its own
	// create or rotate response, and nowhere else.
	created := map[string]map[string]any{}
	for _, body := range []map[string]any{
		{"name": "http-rw", "scopes": []string{"read", "write"}},
		{"name": "http-expiring", "scopes": []string{"read"}, "expires_at": e.clock.Now().Add(time.Hour).Format(time.RFC3339)},
		{"name": "http-graceful", "scopes": []string{"read", "delete"}},
		{"name": "http-rotated", "scopes": []string{"read"}},
		{"name": "http-revoked", "scopes": []string{"read"}},
	} {
		r := e.do("POST", "/v1/keys", admin, body)
		if r.status != 201 {
			t.Fatalf("create key %v: %d %s", body["name"], r.status, r.raw)
		}
		created[body["name"].(string)] = r.body
	}
	raw := func(name string) string { return created[name]["key"].(string) }
	id := func(name string) string { return created[name]["id"].(string) }
	graceOld := raw("http-graceful")
	r := e.do("POST", "/v1/keys/"+id("http-graceful")+"/rotate", admin, map[string]any{"grace_seconds": 60})
	if r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}
	graceNew := r.body["key"].(string)
	rotatedOld := raw("http-rotated")
	r = e.do("POST", "/v1/keys/"+id("http-rotated")+"/rotate", admin, nil)
	if r.status != 200 {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}
	rotatedNew := r.body["key"].(string)
	if r := e.do("DELETE", "/v1/keys/"+id("http-revoked"), admin, nil); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	for _, path := range []string{"/v1/keys", "/v1/keys/" + id("http-rw"), "/v1/keys/" + id("http-graceful")} {
		if r := e.do("GET", path, admin, nil); r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.raw)
		}
	}
	expired := e.expiredKey(e.acct, "expired", scopes.NewSet(scopes.Read))
	writeOnly := e.newKey(e.acct, keys.CreateParams{Name: "write-only", Scopes: scopes.NewSet(scopes.Write)})
	lc.addSecret(expired, writeOnly)

	// Every key type, good and bad. Each bad form of a real key is
	// registered too: echoing "a key with a typo" leaks nearly all of it.
	good := []string{admin, e.keys["read"], e.keys["rw"], e.keys["delete"], e.keys["other"], writeOnly,
		raw("http-rw"), raw("http-expiring"), graceOld, graceNew, rotatedNew}
	var bad []string
	for _, k := range []string{admin, e.keys["rw"], raw("http-rw")} {
		bad = append(bad,
			typo(k, -1),                    // checksum typo
			typo(k, 20),                    // body typo: the checksum no longer matches
			"mem_test"+k[len("mem_live"):], // another env
			k+"x",                          // one character too many
			k[:len(k)-1],                   // one too few
			k[:20]+" "+k[20:],              // split by a space
			strings.ToUpper(k),             // case-mangled
		)
	}
	bad = append(bad, rotatedOld, raw("http-revoked"), expired, "not-a-key", "mem_", "mem_live_", "Bearer", "mem_live_"+strings.Repeat("0", 38))
	lc.addSecret(bad...)

	// Every route of the contract, with every key, alternating headers.
	// The key routes' creates and rotations answer with a new key each
	// (walkKeys of them).
	walkKeys := 0
	count := func(r response) response {
		if _, ok := r.body["key"].(string); ok && r.status < 300 {
			walkKeys++
		}
		return r
	}
	for i, rw := range rows() {
		path, body := rw.req(f)
		for j, k := range append(append([]string{}, good...), bad...) {
			if r := count(e.do(rw.method, path, "", body, authHeader(k, (i+j)%2 == 1)...)); r.status >= 500 {
				t.Errorf("%s %s with key %d: %d %s", rw.method, path, j, r.status, r.raw)
			}
		}
		// Both headers: the Authorization one wins, valid or not.
		count(e.do(rw.method, path, "", body, "Authorization", "Bearer "+bad[0], "X-API-Key", admin))
		count(e.do(rw.method, path, "", body, "Authorization", "Bearer "+admin, "X-API-Key", bad[1]))
		count(e.do(rw.method, path, "", body, "Authorization", "Basic "+admin))
	}

	// Keys inside bodies the decoder rejects: no error message echoes a value.
	for _, body := range []string{
		`{"content": ` + admin + `}`,
		`{"content": "x", "importance": "` + admin + `"}`,
		`{"content": "x", "metadata": "` + admin + `"}`,
		`["` + admin + `"]`,
		`"` + admin + `"`,
		`{"content": "x", "session_id": 5, "agent_id": {"` + admin + `": 1}}`,
	} {
		r := e.do("POST", "/v1/memories", e.keys["rw"], body)
		if r.status != 400 {
			t.Errorf("%s: %d %s", body, r.status, r.raw)
		}
	}
	for _, body := range []string{
		`{"name": "k", "scopes": ["` + admin + `"]}`,
		`{"name": "k", "scopes": ["read"], "expires_at": "` + admin + `"}`,
		`{"name": "k", "scopes": ["read"], "rate_limit": "` + admin + `"}`,
	} {
		if r := e.do("POST", "/v1/keys", admin, body); r.status != 400 {
			t.Errorf("%s: %d %s", body, r.status, r.raw)
		}
	}

	// Oversized bodies, on a handler with a small limit over the same relay.
	small, err := httpapi.New(e.relay, httpapi.Options{MaxBodyBytes: 4096, Logger: lc.logger(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	smallH := lc.middleware(small)
	big := `{"content": "` + strings.Repeat(admin+" ", 300) + `"}`
	for j, k := range []string{e.keys["rw"], typo(admin, -1)} {
		rec := send(t, smallH, "POST", "/v1/memories", big, authHeader(k, j == 1)...)
		if rec.Code != 400 && rec.Code != 401 {
			t.Errorf("oversized body: %d %s", rec.Code, rec.Body)
		}
	}

	// 500s and 503s whose internal errors and panics carry a raw key: the
	// client gets the generic message, and the log must not carry it either.
	lh, err := httpapi.New(leaky{Service: e.relay, secret: admin, failKey: e.keys["read"]}, httpapi.Options{Logger: lc.logger(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	leakyH := lc.middleware(lh)
	for _, c := range []struct {
		method, path, key string
		status            int
	}{
		{"GET", "/v1/memories/" + f.memory, e.keys["rw"], 500},
		{"GET", "/v1/memories", e.keys["rw"], 500},
		{"GET", "/v1/agents", admin, 500},
		{"GET", "/v1/sessions", admin, 503},
		{"GET", "/v1/agents", e.keys["read"], 500},
		{"GET", "/v1/nothing", e.keys["read"], 500},
	} {
		for _, x := range []bool{false, true} {
			rec := send(t, leakyH, c.method, c.path, "", authHeader(c.key, x)...)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), `"type":"api_error"`) {
				t.Errorf("%s %s via leaky service: %d %s", c.method, c.path, rec.Code, rec.Body)
			}
		}
	}
	if logs := lc.logText(); !strings.Contains(logs, "internal error") || !strings.Contains(logs, "panic") || !strings.Contains(logs, admin[:12]+"…") {
		t.Errorf("the 500s were not logged with the key redacted; the check of the log saw nothing:\n%s", logs)
	}

	// Time passes: the expiring key expires, the graceful rotation ends.
	e.clock.Advance(2 * time.Hour)
	for j, k := range []string{raw("http-expiring"), graceOld, rotatedOld, raw("http-revoked"), expired} {
		if r := e.do("GET", "/v1/agents", "", nil, authHeader(k, j%2 == 0)...); r.status != 401 {
			t.Errorf("key %d after 2h: %d %s", j, r.status, r.raw)
		}
	}
	if r := e.do("GET", "/v1/agents", "", nil, authHeader(graceNew, true)...); r.status != 200 {
		t.Errorf("rotated key: %d %s", r.status, r.raw)
	}

	// The check saw what it should: every request, and the create and
	// rotate responses hold their keys.
	lc.mu.Lock()
	n, allowed := len(lc.outs), 0
	for _, o := range lc.outs {
		if o.allow != "" {
			allowed++
		}
	}
	lc.mu.Unlock()
	wantKeys := 7 + walkKeys + int(f.keysMade.Load())
	if want := len(rows()) * (len(good) + len(bad)); n < want || allowed != wantKeys {
		t.Errorf("recorded %d responses (want at least %d), %d holding a new key (want %d)", n, want, allowed, wantKeys)
	}
	for _, k := range append(good, bad...) {
		if strings.HasPrefix(k, "mem_") && len(k) > 20 {
			if !lc.secrets[k] {
				t.Errorf("key %.12s… is not checked", k)
			}
		}
	}
	lc.assertNoSecrets(t)
}

// TestLeakCheckCatches checks the checker: each kind of leak is reported,
// and a create response may hold its own key only.
func TestLeakCheckCatches(t *testing.T) {
	tok, err := keys.Generate("live")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := keys.Generate("test")
	k := tok.Reveal()
	body, _ := secretBody(k)
	for _, c := range []struct {
		name, data, allow string
		want              bool
	}{
		{"whole key", "x " + k + " y", "", true},
		{"secret part", `{"secret":"` + body + `"}`, "", true},
		{"8 characters of it", "…" + body[10:18] + "…", "", true},
		{"7 characters of it", "…" + body[10:17] + "…", "", false},
		{"an unknown key", "Bearer " + other.Reveal(), "", true},
		{"its own create response", `{"key":"` + k + `"}`, k, false},
		{"another key's create response", `{"key":"` + other.Reveal() + `","x":"` + k + `"}`, other.Reveal(), true},
		{"the redacted form", tok.String() + " " + fmt.Sprint(tok), "", false},
		{"the prefix", tok.Prefix(), "", false},
	} {
		lc := newLeakCheck()
		lc.addSecret(k)
		if got := len(lc.scan(c.name, c.data, c.allow, "")) > 0; got != c.want {
			t.Errorf("%s: reported %v, want %v", c.name, got, c.want)
		}
	}
}

// TestKeyValuesNeverPrintSecret: keys.Token, keys.Key and memoryrelay.Auth
// under every fmt verb, slog and encoding/json.
func TestKeyValuesNeverPrintSecret(t *testing.T) {
	ctx := context.Background()
	lc := newLeakCheck()
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "k.db"), Logger: lc.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	acct, err := relay.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	k, tok, err := relay.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(scopes.Read), Metadata: []byte(`{"owner":"ops"}`)})
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Reveal()
	lc.addSecret(raw)
	auth, err := relay.Authorize(ctx, raw, scopes.Read)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Key.ID != k.ID {
		t.Fatalf("Authorize gave key %s, want %s", auth.Key.ID, k.ID)
	}
	_, parseErr := keys.Parse(typo(raw, -1))
	_, verifyErr := relay.Authorize(ctx, typo(raw, 20))
	_, authErr := relay.Authorize(ctx, raw, scopes.Admin)
	values := map[string]any{
		"Token": tok, "*Token": &tok, "Key": k, "*Key": &k, "Auth": auth, "*Auth": &auth,
		"[]Token":          []keys.Token{tok},
		"map[string]Token": map[string]keys.Token{"k": tok},
		"struct{Token}":    struct{ T keys.Token }{tok},
		"struct{Auth,Token}": struct {
			A memoryrelay.Auth
			T *keys.Token
		}{auth, &tok},
		"Decision":      auth.Decision,
		"parse error":   parseErr,
		"verify error":  verifyErr,
		"scope error":   authErr,
		"limited error": &limiter.LimitedError{Decision: auth.Decision},
	}
	var out strings.Builder
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10.40s", "%-50v"} {
			fmt.Fprintf(&out, "%s %s: "+verb+"\n", name, verb, v)
		}
		fmt.Fprintln(&out, name, "Sprint:", fmt.Sprint(v), fmt.Sprintln(v))
		if b, err := json.Marshal(v); err == nil {
			fmt.Fprintf(&out, "%s json: %s\n", name, b)
		}
		lc.logger().Info("value", "name", name, "v", v)
		slog.New(slog.NewTextHandler(lc, nil)).Info("value", "name", name, "v", v)
	}
	for _, f := range lc.scan("formatted values", out.String(), "", "") {
		t.Error(f)
	}
	// %x and %X would hide a leak from the scan: look for the secret in hex.
	body, _ := secretBody(raw)
	lower := strings.ToLower(out.String())
	for i := 0; i+leakWindow <= len(body); i++ {
		if h := hex.EncodeToString([]byte(body[i : i+leakWindow])); strings.Contains(lower, h) {
			t.Errorf("the secret's part %q is printed in hex", body[i:i+leakWindow])
		}
	}
	lc.assertNoSecrets(t)
	if !strings.Contains(out.String(), tok.Prefix()+"…") {
		t.Errorf("the redacted form is not printed at all:\n%.2000s", out.String())
	}
}
