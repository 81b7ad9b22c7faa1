package clustertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/internal/pgtest"
)

// TestPostgresRestart: while PostgreSQL is down, a node answers 503 with
// Retry-After (never a 500) and reports the database down; once it is
// back the node serves again without being restarted, and its index
// follows the writes made after the outage.
func TestPostgresRestart(t *testing.T) {
	srv := pgtest.Start(t)
	r := openNode(t, memoryrelay.Options{PostgresURL: srv.URL("postgres"), RateLimit: 1_000_000})
	api, err := httpapi.New(r, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(api)
	defer web.Close()
	c := &cluster{nodes: []*node{{relay: r, url: web.URL}}}
	_, admin := c.account(t)
	must(t, http.StatusCreated, "POST", web.URL+"/v1/memories", admin, map[string]any{"content": "before the outage"})

	srv.Stop(t)
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/memories", map[string]any{"content": "during the outage"}},
		{"POST", "/v1/memories/search", map[string]any{"query": "outage"}},
		{"GET", "/v1/memories?limit=5", nil},
	} {
		code, h, out := call(t, req.method, web.URL+req.path, admin, req.body)
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
			t.Errorf("%s %s with PostgreSQL down: %d %v (Retry-After %q); want 503 with Retry-After", req.method, req.path, code, out, h.Get("Retry-After"))
		}
	}
	if h := r.Health(context.Background()); h.Status != "unhealthy" || h.Services["database"] != memoryrelay.ServiceDown {
		t.Errorf("health with PostgreSQL down: %+v", h)
	}

	srv.Restart(t)
	var id string
	if lag, ok := until(30*time.Second, func() bool {
		code, _, out := call(t, "POST", web.URL+"/v1/memories", admin, map[string]any{"content": "the kestrel hovers over the field after the outage"})
		if code == http.StatusCreated {
			id = out["id"].(string)
		}
		return code == http.StatusCreated
	}); !ok {
		t.Fatalf("no write accepted %v after PostgreSQL came back", lag)
	}
	if _, ok := until(10*time.Second, func() bool {
		out := must(t, http.StatusOK, "POST", web.URL+"/v1/memories/search", admin,
			map[string]any{"query": "the kestrel hovers over the field after the outage", "search_mode": "semantic", "limit": 3})
		return slices.Contains(hits(out), id)
	}); !ok {
		t.Fatal("the index does not follow the writes made after the outage")
	}
	if h := r.Health(context.Background()); h.Services["database"] != memoryrelay.ServiceUp {
		t.Errorf("health after the restart: %+v", h)
	}
}
