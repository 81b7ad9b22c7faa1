package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/metrics"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// server is a relay behind the API and /metrics, as `memoryrelay serve
// -metrics` mounts them.
type server struct {
	t     *testing.T
	relay *memoryrelay.Relay
	srv   *httptest.Server
	acct  string
}

func newServer(t *testing.T) *server {
	t.Helper()
	ctx := context.Background()
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "m.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	m, err := metrics.New(relay, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(relay, httpapi.Options{Observers: []httpapi.Observer{m}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("/", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	acct, err := relay.CreateAccount(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	return &server{t: t, relay: relay, srv: srv, acct: acct.ID}
}

func (s *server) key(p memory.NewKey) string {
	s.t.Helper()
	_, tok, err := s.relay.Account(s.acct).Keys().Create(context.Background(), p)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok.Reveal()
}

func (s *server) send(method, path, key, body string, want int) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != want {
		s.t.Fatalf("%s %s: %d, want %d", method, path, res.StatusCode, want)
	}
}

// scrape reads /metrics and parses it as Prometheus's own parser does.
func (s *server) scrape() map[string]*dto.MetricFamily {
	s.t.Helper()
	res, err := s.srv.Client().Get(s.srv.URL + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		s.t.Fatalf("scrape: %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return fams
}

// value is the value of the series of family name whose labels are
// exactly labels (name=value pairs); ok false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, count uint64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, 0, false
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), 0, true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), 0, true
		case m.Histogram != nil:
			return m.Histogram.GetSampleSum(), m.Histogram.GetSampleCount(), true
		}
	}
	return 0, 0, false
}

// TestScrape: after a known sequence of requests, every counter has the
// value the sequence implies, the histograms counted each request, and
// the gauges report the state of the relay.
func TestScrape(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	if err := s.relay.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	rw := s.key(memory.NewKey{Name: "rw", Scopes: scopes.NewSet(scopes.Read, scopes.Write)})
	read := s.key(memory.NewKey{Name: "read", Scopes: scopes.NewSet(scopes.Read)})
	slow := s.key(memory.NewKey{Name: "slow", Scopes: scopes.NewSet(scopes.Read), RateLimit: 1})
	unknown, _ := keys.Generate("live")

	for range 3 {
		s.send("POST", "/v1/memories", rw, `{"agent_id":"a","content":"metrics count what happened"}`, 201)
	}
	s.send("POST", "/v1/memories", read, `{"agent_id":"a","content":"x"}`, 403)
	s.send("GET", "/v1/agents", "", "", 401)
	s.send("GET", "/v1/agents", "", "", 401)
	s.send("GET", "/v1/agents", unknown.Reveal(), "", 401)
	s.send("GET", "/v1/agents", "mem_live_short", "", 401)
	s.send("POST", "/v1/memories/search", rw, `{"query":"metrics"}`, 200)
	s.send("POST", "/v1/memories/search", rw, `{"query":"metrics","search_mode":"keyword"}`, 200)
	s.send("POST", "/v1/memories/search", rw, `{"query":"metrics","search_mode":"keyword"}`, 200)
	s.send("GET", "/v1/memories/00000000-0000-4000-8000-000000000000", rw, "", 404)
	s.send("GET", "/v1/agents", slow, "", 200)
	s.send("GET", "/v1/agents", slow, "", 429)
	s.send("GET", "/v1/agents", slow, "", 429)
	s.send("GET", "/nowhere", "", "", 404)
	// Writes after the last search: the index has not applied them yet.
	s.send("POST", "/v1/memories", rw, `{"agent_id":"a","content":"one more"}`, 201)
	s.send("POST", "/v1/memories", rw, `{"agent_id":"a","content":"and another"}`, 201)

	fams := s.scrape()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"memoryrelay_http_requests_total", []string{"route", "/v1/memories", "method", "POST", "status", "201"}, 5},
		{"memoryrelay_http_requests_total", []string{"route", "/v1/memories", "method", "POST", "status", "403"}, 1},
		{"memoryrelay_http_requests_total", []string{"route", "/v1/agents", "method", "GET", "status", "401"}, 4},
		{"memoryrelay_http_requests_total", []string{"route", "/v1/agents", "method", "GET", "status", "200"}, 1},
		{"memoryrelay_http_requests_total", []string{"route", "/v1/agents", "method", "GET", "status", "429"}, 2},
		{"memoryrelay_http_requests_total", []string{"route", "/v1/memories/search", "method", "POST", "status", "200"}, 3},
		{"memoryrelay_http_requests_total", []string{"route", "/v1/memories/{id}", "method", "GET", "status", "404"}, 1},
		{"memoryrelay_http_requests_total", []string{"route", "unmatched", "method", "GET", "status", "404"}, 1},
		{"memoryrelay_auth_failures_total", []string{"reason", "missing"}, 2},
		{"memoryrelay_auth_failures_total", []string{"reason", "unknown"}, 1},
		{"memoryrelay_auth_failures_total", []string{"reason", "malformed"}, 1},
		{"memoryrelay_auth_failures_total", []string{"reason", "scope"}, 1},
		{"memoryrelay_rate_limited_total", []string{"route", "/v1/agents"}, 2},
		{"memoryrelay_status", []string{"status", "healthy"}, 1},
		{"memoryrelay_status", []string{"status", "degraded"}, 0},
		{"memoryrelay_service_status", []string{"service", "database", "status", "up"}, 1},
		{"memoryrelay_service_status", []string{"service", "vector_store", "status", "up"}, 1},
		{"memoryrelay_service_status", []string{"service", "task_queue", "status", "down"}, 0},
		{"memoryrelay_index_ready", nil, 1},
		{"memoryrelay_index_vectors", nil, 3},
		{"memoryrelay_index_lag_changes", nil, 2},
		{"memoryrelay_jobs_pending", nil, 0},
		{"memoryrelay_jobs_workers", nil, memoryrelay.DefaultWorkers},
		{"memoryrelay_build_info", []string{"version", memoryrelay.Version, "goversion", goVersion(t)}, 1},
	} {
		got, _, ok := value(fams, c.name, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   uint64
	}{
		{"memoryrelay_http_request_duration_seconds", []string{"route", "/v1/memories", "method", "POST"}, 6},
		{"memoryrelay_http_request_duration_seconds", []string{"route", "/v1/agents", "method", "GET"}, 7},
		{"memoryrelay_search_duration_seconds", []string{"mode", "hybrid"}, 1},
		{"memoryrelay_search_duration_seconds", []string{"mode", "keyword"}, 2},
	} {
		sum, n, ok := value(fams, c.name, c.labels...)
		if !ok || n != c.want || sum <= 0 {
			t.Errorf("%s%v: %d observations summing to %v (present %v), want %d", c.name, c.labels, n, sum, ok, c.want)
		}
	}
	if _, _, ok := value(fams, "memoryrelay_search_duration_seconds", "mode", "semantic"); ok {
		t.Error("a semantic search series without a semantic search")
	}
	for _, name := range []string{"memoryrelay_database_bytes", "memoryrelay_database_wal_bytes", "memoryrelay_uptime_seconds", "go_goroutines", "process_resident_memory_bytes"} {
		if v, _, ok := value(fams, name); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v)", name, v, ok)
		}
	}
	// The scrape is not itself counted: /metrics is the host's route.
	if _, _, ok := value(fams, "memoryrelay_http_requests_total", "route", "unmatched", "method", "GET", "status", "200"); ok {
		t.Error("the scrape was counted as an API request")
	}
}

// gated is the built-in embedder whose embeddings of queued texts wait
// until gate is closed, so that v2 jobs stay in the queue.
type gated struct {
	embed.Embedder
	gate chan struct{}
}

func (g gated) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if strings.HasPrefix(texts[0], "queued") {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Embedder.Embed(ctx, texts)
}

// TestQueueDepth: v2 jobs waiting for the one worker, which is busy, are
// reported pending, the busy one processing, with the oldest's age; a
// Relay without workers reports no queue gauges at all.
func TestQueueDepth(t *testing.T) {
	ctx := context.Background()
	g := gated{Embedder: embed.NewHashing(0), gate: make(chan struct{})}
	at := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "q.db"), Workers: 1, Embedder: g, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	defer close(g.gate)
	acct, err := relay.CreateAccount(ctx, "q")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := relay.Account(acct.ID).Memories().CreateAsync(ctx, memory.NewMemory{AgentID: "a", Content: fmt.Sprintf("queued %d", i)}, memory.AsyncOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := metrics.New(relay, metrics.Options{Now: func() time.Time { return at.Add(90 * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	s := &server{t: t, srv: srv}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		fams := s.scrape()
		pending, _, _ := value(fams, "memoryrelay_jobs_pending")
		processing, _, _ := value(fams, "memoryrelay_jobs_processing")
		if pending == 3 && processing == 1 {
			for name, want := range map[string]float64{"memoryrelay_jobs_oldest_pending_age_seconds": 90, "memoryrelay_jobs_workers": 1, "memoryrelay_jobs_workers_running": 1} {
				if v, _, ok := value(fams, name); !ok || v != want {
					t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending %v, processing %v", pending, processing)
		}
	}

	idle, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "idle.db"), Workers: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	mi, err := metrics.New(idle, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srvIdle := httptest.NewServer(mi.Handler())
	defer srvIdle.Close()
	if _, _, ok := value((&server{t: t, srv: srvIdle}).scrape(), "memoryrelay_jobs_pending"); ok {
		t.Error("queue gauges of a Relay without a task queue")
	}
}

func goVersion(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Skip("no go command")
	}
	return strings.TrimSpace(string(out))
}

// TestLibraryDoesNotLinkPrometheus: a program that imports only the
// library and its HTTP handler does not link client_golang.
func TestLibraryDoesNotLinkPrometheus(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/memoryrelay/memoryrelay", "github.com/memoryrelay/memoryrelay/httpapi", "github.com/memoryrelay/memoryrelay/client").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "github.com/memoryrelay/memoryrelay/httpapi\n") {
		t.Fatalf("go list listed nothing useful:\n%s", out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/prometheus/") {
			t.Errorf("the library links %s", dep)
		}
	}
}
