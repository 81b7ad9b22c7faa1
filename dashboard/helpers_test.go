package dashboard_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/dashboard"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// clock is a settable clock shared by the Relay and the dashboard.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer collects every log line of the Relay, the API and the
// dashboard, to check that no key reaches one.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is a Relay in a temporary directory with an account and its admin
// key, served over real HTTP: the REST API at / and the dashboard at
// /dashboard/.
type env struct {
	t        testing.TB
	relay    *memoryrelay.Relay
	acct     memory.Account
	accID    string
	admin    keys.Key
	adminRaw string
	srv      *httptest.Server
	clock    *clock
	logs     *logBuffer
}

type envConfig struct {
	opts  dashboard.Options
	relay memoryrelay.Options // Embedder and EmbeddingPrice are taken
	tls   bool
}

func newEnv(t testing.TB, cfgs ...func(*envConfig)) *env {
	t.Helper()
	var cfg envConfig
	for _, f := range cfgs {
		f(&cfg)
	}
	e := &env{t: t, clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}, logs: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{
		Path: filepath.Join(t.TempDir(), "dash.db"), Now: e.clock.Now, Logger: log, KeyCacheTTL: -1, Workers: -1,
		Embedder: cfg.relay.Embedder, EmbeddingPrice: cfg.relay.EmbeddingPrice,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	e.relay = r
	info, err := r.CreateAccount(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	e.accID = info.ID
	e.acct = r.Account(info.ID)
	k, tok, err := r.Account(info.ID).Keys().Create(ctx, memory.NewKey{Name: "bootstrap-admin", Scopes: scopes.NewSet(scopes.Admin)})
	if err != nil {
		t.Fatal(err)
	}
	e.admin, e.adminRaw = k, tok.Reveal()

	opts := cfg.opts
	opts.Logger, opts.Now = log, e.clock.Now
	if opts.ClientIP == nil {
		opts.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	}
	dash, err := dashboard.New(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(r, httpapi.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", dash))
	mux.Handle("/", api)
	if cfg.tls {
		e.srv = httptest.NewTLSServer(mux)
	} else {
		e.srv = httptest.NewServer(mux)
	}
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), e.adminRaw) {
			t.Errorf("the admin key reached a log line")
		}
	})
	return e
}

// key creates a key of the account directly.
func (e *env) key(name string, ss ...scopes.Scope) (keys.Key, string) {
	e.t.Helper()
	k, tok, err := e.relay.Account(e.accID).Keys().Create(context.Background(), memory.NewKey{Name: name, Scopes: scopes.NewSet(ss...)})
	if err != nil {
		e.t.Fatal(err)
	}
	return k, tok.Reveal()
}

// memory stores a memory.
func (e *env) memory(agent, content string, metadata string) memory.Memory {
	e.t.Helper()
	in := memory.NewMemory{AgentID: agent, Content: content}
	if metadata != "" {
		in.Metadata = []byte(metadata)
	}
	res, err := e.acct.Memories().Create(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Memory
}

// client is a browser without a browser: a cookie jar, redirects not
// followed, so that tests see each 303.
type client struct {
	e      *env
	c      *http.Client
	header http.Header // sent with every request
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	hc := *e.srv.Client() // a copy: the server's client is shared
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{e: e, c: &hc, header: http.Header{}}
}

// response is a read response.
type response struct {
	*http.Response
	body string
}

func (c *client) do(method, path string, form url.Values) response {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return response{resp, string(b)}
}

func (c *client) get(path string) response { return c.do(http.MethodGet, path, nil) }

func (c *client) post(path string, form url.Values) response {
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, path, form)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the forms of a page.
func csrf(t testing.TB, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", body)
	}
	return m[1]
}

// signInAs posts the sign-in form with raw and returns the answer.
func (c *client) signInAs(raw string) response {
	c.e.t.Helper()
	page := c.get("/dashboard/signin")
	return c.post("/dashboard/signin", url.Values{"csrf": {csrf(c.e.t, page.body)}, "key": {raw}})
}

// signIn signs in with the admin key and returns the CSRF token of the
// session.
func (c *client) signIn() string {
	c.e.t.Helper()
	r := c.signInAs(c.e.adminRaw)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/dashboard/keys" {
		c.e.t.Fatalf("sign-in: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	return c.token()
}

// token is the session's CSRF token, read from the keys page.
func (c *client) token() string {
	c.e.t.Helper()
	r := c.get("/dashboard/keys")
	if r.StatusCode != http.StatusOK {
		c.e.t.Fatalf("GET /dashboard/keys: %d\n%s", r.StatusCode, r.body)
	}
	return csrf(c.e.t, r.body)
}

// expect checks a response's status and that its body holds each of
// want.
func expect(t testing.TB, r response, status int, want ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	for _, w := range want {
		if !strings.Contains(r.body, w) {
			t.Errorf("%s %s: the page lacks %q\n%s", r.Request.Method, r.Request.URL.Path, w, r.body)
		}
	}
}

// expectRedirect checks a 303 to location.
func expectRedirect(t testing.TB, r response, location string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != location {
		t.Fatalf("%s %s: %d to %q, want 303 to %q\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Header.Get("Location"), location, r.body)
	}
}

// setCookie returns the Set-Cookie of the response named name.
func setCookie(r response, name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var secretRe = regexp.MustCompile(`mem_[a-z]{1,8}_[0-9A-Za-z]{38}`)

// newDashboard is a second dashboard over e's Relay, with defaults.
func newDashboard(e *env) (http.Handler, error) {
	return dashboard.New(e.relay, dashboard.Options{Now: e.clock.Now})
}

func newServer(t testing.TB, h http.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
