package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/redistest"
	"github.com/memoryrelay/memoryrelay/keys"
)

// served is a serve command running in this process until the test ends.
type served struct {
	addrs          map[string]string // "api", "metrics" → host:port
	stdout, stderr *syncBuffer
}

// startServe runs memoryrelay serve with args (on a free loopback port
// unless args set -addr) and the environment env, until the test ends,
// when it is stopped as by SIGTERM and must exit cleanly.
func startServe(t *testing.T, env map[string]string, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{addrs: map[string]string{}, stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	var mu sync.Mutex
	ready := make(chan struct{}, 2)
	sys := &system{getenv: func(k string) string { return env[k] }, stdout: s.stdout, stderr: s.stderr,
		listening: func(name, addr string) {
			mu.Lock()
			s.addrs[name] = addr
			mu.Unlock()
			ready <- struct{}{}
		}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), sys) }()
	listeners := 1
	if strings.Contains(strings.Join(args, " "), "-metrics-addr") {
		listeners = 2
	}
	for range listeners {
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, s.stderr)
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not start")
		}
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

func (s *served) url(name string) string { return "http://" + s.addrs[name] }

var keyRE = regexp.MustCompile(`mem_[a-z]+_[0-9A-Za-z]+`)

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	// Healthy once the search index, built in the background after Open,
	// is ready (vector_store is degraded until then).
	waitFor(t, 10*time.Second, "healthy", func() bool {
		st, body := call(t, "GET", base+"/v1/health", "", "")
		return st == 200 && body["status"] == "healthy"
	})
}

func TestServeBootstrapAndSession(t *testing.T) {
	db := filepath.Join(t.TempDir(), "server.db")
	s := startServe(t, nil, "-db", db)
	key := keyRE.FindString(s.stdout.String())
	if _, err := keys.Parse(key); err != nil {
		t.Fatalf("no valid admin key printed: %q", s.stdout.String())
	}
	base := s.url("api")
	waitHealthy(t, base)
	st, m := call(t, "POST", base+"/v1/memories", key, `{"agent_id":"agent-123","content":"The user prefers TypeScript over JavaScript for new projects."}`)
	if st != 201 {
		t.Fatalf("create %d %v", st, m)
	}
	st, res := call(t, "POST", base+"/v1/memories/search", key, `{"query":"What programming language does the user prefer?","agent_id":"agent-123","limit":5}`)
	if st != 200 || len(res["data"].([]any)) != 1 {
		t.Fatalf("search %d %v", st, res)
	}
	if st, _ := call(t, "GET", base+"/v1/agents", key, ""); st != 200 {
		t.Fatalf("agents %d", st)
	}
	// Without -metrics there is no /metrics: the API answers it, 404.
	if st, _ := call(t, "GET", base+"/metrics", "", ""); st != 404 {
		t.Fatalf("/metrics without -metrics: %d", st)
	}
}

func TestServePrintsKeyOnlyOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "server.db")
	{
		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		ready := make(chan struct{}, 1)
		done := make(chan error, 1)
		sys := &system{getenv: func(string) string { return "" }, stdout: out, stderr: io.Discard, listening: func(string, string) { ready <- struct{}{} }}
		go func() { done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db}, sys) }()
		<-ready
		cancel() // graceful shutdown, as on SIGTERM
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !keyRE.MatchString(out.String()) {
			t.Fatalf("first start printed no key: %q", out.String())
		}
	}
	s := startServe(t, nil, "-db", db)
	if keyRE.MatchString(s.stdout.String()) {
		t.Fatalf("second start printed a key: %q", s.stdout.String())
	}
}

func TestServeBootstrapKeyFromEnv(t *testing.T) {
	tok, err := keys.Generate("test")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "server.db")
	s := startServe(t, map[string]string{"MEMORYRELAY_BOOTSTRAP_KEY": tok.Reveal(), "MEMORYRELAY_DB": db})
	if strings.Contains(s.stdout.String(), tok.Reveal()) {
		t.Fatal("the bootstrap key was echoed")
	}
	if st, body := call(t, "GET", s.url("api")+"/v1/agents", tok.Reveal(), ""); st != 200 {
		t.Fatalf("bootstrap key rejected: %d %v", st, body)
	}
}

func TestServeRejectsMalformedBootstrapKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "server.db")
	_, stderr, code := cli(t, map[string]string{"MEMORYRELAY_BOOTSTRAP_KEY": "mem_live_tooshort"}, "serve", "-addr", "127.0.0.1:0", "-db", db)
	if code != 1 || strings.Contains(stderr, "tooshort") || !strings.Contains(stderr, "MEMORYRELAY_BOOTSTRAP_KEY") {
		t.Fatalf("exit %d: %q", code, stderr)
	}
}

// TestServeMetricsAndRequestLog: -metrics serves /metrics on the API's
// port, -metrics-addr on its own (and not on the API's); each request is
// one JSON log line with its route and key prefix, and no key is logged.
func TestServeMetricsAndRequestLog(t *testing.T) {
	tok, _ := keys.Generate("live")
	key := tok.Reveal()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"same port", []string{"-metrics"}},
		{"own port", []string{"-metrics-addr", "127.0.0.1:0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"MEMORYRELAY_BOOTSTRAP_KEY": key, "MEMORYRELAY_LOG_FORMAT": "json"}
			s := startServe(t, env, append([]string{"-db", filepath.Join(t.TempDir(), "m.db")}, c.args...)...)
			api := s.url("api")
			waitHealthy(t, api)
			if st, _ := call(t, "POST", api+"/v1/memories", key, `{"agent_id":"a","content":"metrics and logs"}`); st != 201 {
				t.Fatalf("create: %d", st)
			}
			if st, _ := call(t, "GET", api+"/v1/agents", "mem_live_"+strings.Repeat("x", 38), ""); st != 401 {
				t.Fatalf("bad key: %d", st)
			}
			metricsURL := api + "/metrics"
			if c.name == "own port" {
				metricsURL = s.url("metrics") + "/metrics"
				if st, _ := call(t, "GET", api+"/metrics", "", ""); st != 404 {
					t.Fatalf("/metrics on the API's port with -metrics-addr: %d", st)
				}
			}
			res, err := http.Get(metricsURL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			for _, want := range []string{
				`memoryrelay_http_requests_total{method="POST",route="/v1/memories",status="201"} 1`,
				`memoryrelay_auth_failures_total{reason="malformed"} 1`,
				`memoryrelay_index_ready 1`,
			} {
				if !strings.Contains(string(body), want) {
					t.Errorf("metrics lack %q", want)
				}
			}

			// The log: JSON lines; the create's line has the route, status and
			// the key's prefix; no line holds the key.
			var found bool
			sc := bufio.NewScanner(strings.NewReader(s.stderr.String()))
			for sc.Scan() {
				var line map[string]any
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
					t.Fatalf("not a JSON log line: %q", sc.Text())
				}
				if line["msg"] == "request" && line["route"] == "/v1/memories" && line["status"] == float64(201) && line["key"] == key[:12] {
					found = true
				}
			}
			if !found {
				t.Errorf("no request line for the create in:\n%s", s.stderr)
			}
			if strings.Contains(s.stderr.String(), key[12:]) || strings.Contains(s.stderr.String(), strings.Repeat("x", 38)) {
				t.Fatal("a key reached the log")
			}
		})
	}
}

// TestServeRequestLogOff: -request-log=false writes no request lines;
// -log-level warn hides the info lines.
func TestServeRequestLogOff(t *testing.T) {
	s := startServe(t, nil, "-db", filepath.Join(t.TempDir(), "q.db"), "-request-log=false")
	call(t, "GET", s.url("api")+"/v1/health", "", "")
	if strings.Contains(s.stderr.String(), "msg=request") {
		t.Fatalf("request lines with -request-log=false: %s", s.stderr)
	}
	w := startServe(t, nil, "-db", filepath.Join(t.TempDir(), "w.db"), "-log-level", "warn")
	call(t, "GET", w.url("api")+"/v1/health", "", "")
	if strings.Contains(w.stderr.String(), "level=INFO") {
		t.Fatalf("info lines at -log-level warn: %s", w.stderr)
	}
}

// TestServeDashboard: the dashboard is served at /dashboard/ by default
// (its sign-in page, /dashboard redirecting there), and -dashboard=false
// leaves /dashboard/ to the API, which answers 404.
func TestServeDashboard(t *testing.T) {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(t *testing.T, c *http.Client, url string) (int, http.Header, string) {
		t.Helper()
		res, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	t.Run("on by default", func(t *testing.T) {
		s := startServe(t, nil, "-db", filepath.Join(t.TempDir(), "d.db"))
		base := s.url("api")
		st, _, body := get(t, http.DefaultClient, base+"/dashboard/signin")
		if st != 200 || !strings.Contains(body, "<form") || !strings.Contains(body, "admin") {
			t.Fatalf("GET /dashboard/signin: %d %.200q", st, body)
		}
		if st, h, _ := get(t, noRedirect, base+"/dashboard"); st != http.StatusMovedPermanently || h.Get("Location") != "/dashboard/" {
			t.Fatalf("GET /dashboard: %d Location %q", st, h.Get("Location"))
		}
		if key := keyRE.FindString(s.stdout.String()); key != "" && strings.Contains(body, key) {
			t.Fatal("the sign-in page shows the bootstrap key")
		}
	})
	t.Run("off by flag", func(t *testing.T) {
		s := startServe(t, map[string]string{}, "-db", filepath.Join(t.TempDir(), "d.db"), "-dashboard=false")
		if st, _, body := get(t, http.DefaultClient, s.url("api")+"/dashboard/signin"); st != 404 || strings.Contains(body, "<form") {
			t.Fatalf("GET /dashboard/signin with -dashboard=false: %d %.200q", st, body)
		}
	})
	t.Run("off by environment", func(t *testing.T) {
		s := startServe(t, map[string]string{"MEMORYRELAY_DASHBOARD": "false"}, "-db", filepath.Join(t.TempDir(), "d.db"))
		if st, _, _ := get(t, http.DefaultClient, s.url("api")+"/dashboard/signin"); st != 404 {
			t.Fatalf("GET /dashboard/signin with MEMORYRELAY_DASHBOARD=false: %d", st)
		}
	})
}

// TestServeSeveralNodes: two serve commands on one PostgreSQL database and
// one Redis (-postgres-url, -redis-url) start at once: exactly one prints
// the bootstrap admin key, which both accept; a memory created through one
// is found by a search through the other; and the key's rate limit is
// shared (MEMORYRELAY_RATE_LIMIT=40: about 40 requests across the two
// nodes, where two separate buckets would admit about 80).
func TestServeSeveralNodes(t *testing.T) {
	pg := pgtest.NewDatabase(t)
	rd := redistest.Start(t)
	env := map[string]string{"MEMORYRELAY_POSTGRES_URL": pg, "MEMORYRELAY_REDIS_URL": rd.URL(), "MEMORYRELAY_RATE_LIMIT": "40"}
	var nodes [2]*served
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { nodes[i] = startServe(t, env) })
	}
	wg.Wait()
	var key string
	printed := 0
	for _, n := range nodes {
		if k := keyRE.FindString(n.stdout.String()); k != "" {
			key = k
			printed++
		}
	}
	if printed != 1 {
		t.Fatalf("%d nodes printed a bootstrap key, want 1", printed)
	}
	a, b := nodes[0].url("api"), nodes[1].url("api")
	waitHealthy(t, a)
	waitHealthy(t, b)
	if st, m := call(t, "POST", a+"/v1/memories", key, `{"agent_id":"agent-1","content":"The deploy runs every Friday at noon from the release branch."}`); st != 201 {
		t.Fatalf("create on node A: %d %v", st, m)
	}
	waitFor(t, 5*time.Second, "the memory found on node B", func() bool {
		st, res := call(t, "POST", b+"/v1/memories/search", key, `{"query":"when does the deploy run","agent_id":"agent-1"}`)
		d, _ := res["data"].([]any)
		return st == 200 && len(d) == 1
	})
	// The key's bucket (40 a minute, burst 40) is one for both nodes: the
	// requests so far and the ones below add up across them.
	refused := 0
	for i := range 60 {
		base := a
		if i%2 == 1 {
			base = b
		}
		if st, _ := call(t, "GET", base+"/v1/agents", key, ""); st == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused < 20 {
		t.Fatalf("%d of 60 requests refused across two nodes with a shared limit of 40 a minute; want at least 20", refused)
	}
}

// MEMORYRELAY_SERVER_SECRET turns on the extraction-keys API (503
// without it), -auto-extract extracts the entities of creates that do not
// say, and -embedding-price meters the embedder for the keys' spend
// limits.
func TestServeHostedSettings(t *testing.T) {
	s := startServe(t, nil, "-db", filepath.Join(t.TempDir(), "plain.db"))
	key := keyRE.FindString(s.stdout.String())
	xkey := `{"provider":"openai","model":"gpt-4o-mini","api_key":"sk-test-1234567890abcdef"}`
	if st, body := call(t, "POST", s.url("api")+"/v1/extraction/keys", key, xkey); st != 503 {
		t.Errorf("extraction key without a secret: %d %v", st, body)
	}
	if st, m := call(t, "POST", s.url("api")+"/v1/memories", key, `{"content":"Ada Lovelace moved to Berlin."}`); st != 201 || m["extraction_status"] != nil {
		t.Errorf("create without -auto-extract: %d %v", st, m)
	}

	s = startServe(t, map[string]string{"MEMORYRELAY_SERVER_SECRET": strings.Repeat("s", 32)},
		"-db", filepath.Join(t.TempDir(), "hosted.db"), "-auto-extract", "-embedding-price", "1000")
	key = keyRE.FindString(s.stdout.String())
	base := s.url("api")
	if st, body := call(t, "POST", base+"/v1/extraction/keys", key, xkey); st != 201 {
		t.Errorf("extraction key with a secret: %d %v", st, body)
	}
	// Without an active key the server's built-in extractor runs.
	if st, m := call(t, "POST", base+"/v1/extraction/keys/deactivate-all", key, ""); st != 200 {
		t.Errorf("deactivate-all: %d %v", st, m)
	}
	if st, m := call(t, "POST", base+"/v1/memories", key, `{"content":"Ada Lovelace moved to Berlin."}`); st != 201 || m["extraction_status"] != "completed" {
		t.Errorf("create with -auto-extract: %d %v", st, m)
	}
	// At $1,000 per million tokens the create cost something.
	st, k := call(t, "GET", base+"/v1/keys", key, "")
	if st != 200 {
		t.Fatalf("keys: %d %v", st, k)
	}
	info := k["data"].([]any)[0].(map[string]any)["spend_info"].(map[string]any)
	if info["today_usd"].(float64) <= 0 {
		t.Errorf("spend_info %v after a metered create", info)
	}
}
