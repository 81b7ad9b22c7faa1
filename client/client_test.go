package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/client"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func TestNewNeedsKey(t *testing.T) {
	_, err := client.New(client.Options{Getenv: func(string) string { return "" }})
	if !errors.Is(err, client.ErrAuthentication) {
		t.Fatalf("got %v", err)
	}
	c, err := client.New(client.Options{Getenv: func(k string) string {
		return map[string]string{"MEMORYRELAY_API_KEY": "mem_x", "MEMORYRELAY_BASE_URL": "http://example.test/"}[k]
	}})
	if err != nil || c == nil {
		t.Fatalf("from env: %v", err)
	}
	if _, err := client.New(client.Options{APIKey: "k", BaseURL: "ftp://x"}); err == nil {
		t.Fatal("ftp base URL accepted")
	}
}

// scripted answers each request with the next (status, headers, body).
func scripted(t *testing.T, answers ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if r.Header.Get("Authorization") != "Bearer mem_test_key" {
			t.Errorf("auth header %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		if i >= len(answers) {
			t.Errorf("unexpected request %d", i)
			w.WriteHeader(500)
			return
		}
		answers[i](w)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func answer(status int, body string, hdr ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

func TestErrorsAndRetries(t *testing.T) {
	errBody := func(typ, msg string) string {
		return `{"type":"` + typ + `","message":"` + msg + `","request_id":"req_1"}`
	}
	cases := []struct {
		name     string
		call     func(*client.Client) error
		answers  []func(http.ResponseWriter)
		sentinel error
		requests int32
		slept    []time.Duration
	}{
		{"429 then ok honours Retry-After", func(c *client.Client) error { _, err := c.Memories.Get(context.Background(), "x"); return err },
			[]func(http.ResponseWriter){answer(429, errBody("rate_limit_error", "Rate limit exceeded. Try again in 7 seconds."), "Retry-After", "7"), answer(200, `{"id":"x"}`)},
			nil, 2, []time.Duration{7 * time.Second}},
		{"POST retried on 429", func(c *client.Client) error {
			_, err := c.Memories.Create(context.Background(), client.MemoryCreate{Content: "x"})
			return err
		},
			[]func(http.ResponseWriter){answer(429, errBody("rate_limit_error", "slow down"), "Retry-After", "1"), answer(201, `{"id":"x"}`)},
			nil, 2, []time.Duration{time.Second}},
		{"POST not retried on 500", func(c *client.Client) error {
			_, err := c.Memories.Create(context.Background(), client.MemoryCreate{Content: "x"})
			return err
		},
			[]func(http.ResponseWriter){answer(500, errBody("api_error", "Internal server error"))},
			client.ErrAPI, 1, nil},
		{"GET retried on 503 with backoff", func(c *client.Client) error { _, err := c.Memories.Get(context.Background(), "x"); return err },
			[]func(http.ResponseWriter){answer(503, errBody("api_error", "down")), answer(503, errBody("api_error", "down")), answer(200, `{"id":"x"}`)},
			nil, 3, nil},
		{"retries exhausted", func(c *client.Client) error { _, err := c.Memories.Get(context.Background(), "x"); return err },
			[]func(http.ResponseWriter){answer(429, "{}"), answer(429, "{}"), answer(429, "{}"), answer(429, "{}")},
			client.ErrRateLimit, 4, nil},
		{"401", func(c *client.Client) error { _, err := c.Memories.Get(context.Background(), "x"); return err },
			[]func(http.ResponseWriter){answer(401, errBody("authentication_error", "Invalid API key"))}, client.ErrAuthentication, 1, nil},
		{"403", func(c *client.Client) error { _, err := c.Memories.Delete(context.Background(), "x"); return err },
			[]func(http.ResponseWriter){answer(403, errBody("authorization_error", "Insufficient scope. Required: delete"))}, client.ErrForbidden, 1, nil},
		{"404", func(c *client.Client) error { _, err := c.Memories.Get(context.Background(), "x"); return err },
			[]func(http.ResponseWriter){answer(404, errBody("not_found_error", "Memory not found"))}, client.ErrNotFound, 1, nil},
		{"400", func(c *client.Client) error {
			_, err := c.Memories.Create(context.Background(), client.MemoryCreate{})
			return err
		},
			[]func(http.ResponseWriter){answer(400, errBody("validation_error", "content is required"))}, client.ErrValidation, 1, nil},
		{"409", func(c *client.Client) error {
			_, err := c.Projects.Create(context.Background(), client.ProjectCreate{Slug: "a", Name: "a"})
			return err
		},
			[]func(http.ResponseWriter){answer(409, errBody("conflict_error", "Project slug already exists"))}, client.ErrConflict, 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, n := scripted(t, c.answers...)
			var slept []time.Duration
			cl, err := client.New(client.Options{APIKey: "mem_test_key", BaseURL: srv.URL,
				Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			err = c.call(cl)
			if c.sentinel == nil && err != nil {
				t.Fatalf("got %v", err)
			}
			if c.sentinel != nil {
				var apiErr *client.Error
				if !errors.Is(err, c.sentinel) || !errors.As(err, &apiErr) {
					t.Fatalf("got %v, want %v", err, c.sentinel)
				}
				if apiErr.Message == "" {
					t.Errorf("no message in %v", apiErr)
				}
			}
			if got := n.Load(); got != c.requests {
				t.Errorf("%d requests, want %d", got, c.requests)
			}
			if c.slept != nil && (len(slept) != len(c.slept) || slept[0] != c.slept[0]) {
				t.Errorf("slept %v, want %v", slept, c.slept)
			}
		})
	}
}

func TestRateLimitErrorCarriesRetryAfter(t *testing.T) {
	srv, _ := scripted(t, answer(429, `{"type":"rate_limit_error","message":"Rate limit exceeded. Try again in 12 seconds."}`, "Retry-After", "12"))
	c, _ := client.New(client.Options{APIKey: "mem_test_key", BaseURL: srv.URL, MaxRetries: -1})
	_, err := c.Agents.List(context.Background(), client.Page{})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 12*time.Second || !errors.Is(err, client.ErrRateLimit) {
		t.Fatalf("got %#v", err)
	}
}

// server starts the real handler on a real SQLite file and returns a
// client holding an admin key.
func server(t *testing.T) *client.Client {
	t.Helper()
	ctx := context.Background()
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "c.db"), RateLimit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	if err := relay.WaitSearchIndex(ctx); err != nil { // health is degraded until it is built
		t.Fatal(err)
	}
	acct, _ := relay.CreateAccount(ctx, "acct")
	_, tok, err := relay.Keys().Create(ctx, acct.ID, keys.CreateParams{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(relay, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.New(client.Options{APIKey: tok.Reveal(), BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEndToEndMemories(t *testing.T) {
	ctx := context.Background()
	c := server(t)
	h, err := c.Health(ctx)
	if err != nil || h.Status != "healthy" || h.EmbeddingInfo.Dimension == 0 {
		t.Fatalf("health %+v %v", h, err)
	}
	m, err := c.Memories.Create(ctx, client.MemoryCreate{Content: "The user prefers TypeScript over JavaScript.", AgentID: "agent/with slash"})
	if err != nil || m.AgentID != "agent/with slash" {
		t.Fatalf("create %+v %v", m, err)
	}
	got, err := c.Memories.Get(ctx, m.ID)
	if err != nil || got.Content != m.Content || got.CreatedAt.Time().IsZero() {
		t.Fatalf("get %+v %v", got, err)
	}
	list, err := c.Memories.List(ctx, client.MemoryListOptions{AgentID: "agent/with slash"})
	if err != nil || list.Total != 1 {
		t.Fatalf("list %+v %v", list, err)
	}
	content := "The user prefers Go."
	up, err := c.Memories.Update(ctx, m.ID, client.MemoryUpdate{Content: &content})
	if err != nil || up.Content != content || up.UpdatedAt <= m.UpdatedAt {
		t.Fatalf("update %+v %v", up, err)
	}
	res, err := c.Memories.Search(ctx, client.SearchRequest{Query: "the user prefers go"})
	if err != nil || len(res.Data) != 1 || res.Data[0].Score < 0.8 {
		t.Fatalf("search %+v %v", res, err)
	}
	agents, err := c.Agents.List(ctx, client.Page{})
	if err != nil || len(agents.Data) != 1 || agents.Data[0].Name != "agent/with slash" {
		t.Fatalf("agents %+v %v", agents, err)
	}
	if _, err := c.Memories.Delete(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Memories.Get(ctx, m.ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestEndToEndKeys(t *testing.T) {
	ctx := context.Background()
	c := server(t)
	k, err := c.Keys.Create(ctx, client.KeyCreate{Name: "reader", Scopes: []string{"read"}})
	if err != nil || k.Secret == "" || k.Prefix != k.Secret[:12] {
		t.Fatalf("create %+v %v", k, err)
	}
	reader, err := client.New(client.Options{APIKey: k.Secret, BaseURL: client.BaseURL(t, c)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Memories.Create(ctx, client.MemoryCreate{Content: "x"}); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("reader wrote: %v", err)
	}
	list, err := c.Keys.List(ctx, client.Page{})
	if err != nil || list.Total != 2 {
		t.Fatalf("list %+v %v", list, err)
	}
	if _, err := c.Keys.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Agents.List(ctx, client.Page{}); !errors.Is(err, client.ErrAuthentication) {
		t.Fatalf("revoked key: %v", err)
	}
}

// TestEndToEndAgentIDs is the official SDKs' agent flow through this
// client: create with a chosen id, address the agent by it, write memories
// under it, rename it.
func TestEndToEndAgentIDs(t *testing.T) {
	ctx := context.Background()
	c := server(t)
	a, err := c.Agents.Create(ctx, client.AgentCreate{ID: "my-agent", Name: "My Agent"})
	if err != nil || a.ID != "my-agent" || a.Name != "My Agent" {
		t.Fatalf("create %+v %v", a, err)
	}
	if g, err := c.Agents.Get(ctx, "my-agent"); err != nil || g.ID != "my-agent" {
		t.Fatalf("get %+v %v", g, err)
	}
	m, err := c.Memories.Create(ctx, client.MemoryCreate{Content: "The user prefers TypeScript.", AgentID: "my-agent"})
	if err != nil || m.AgentID != "my-agent" {
		t.Fatalf("memory %+v %v", m, err)
	}
	if agents, err := c.Agents.List(ctx, client.Page{}); err != nil || agents.Total != 1 {
		t.Fatalf("agents %+v %v", agents, err)
	}
	if st, err := c.Agents.Stats(ctx, "my-agent"); err != nil || st.MemoryCount != 1 {
		t.Fatalf("stats %+v %v", st, err)
	}
	name := "Renamed"
	if r, err := c.Agents.Update(ctx, "my-agent", client.AgentUpdate{Name: &name}); err != nil || r.ID != "my-agent" || r.Name != "Renamed" {
		t.Fatalf("rename %+v %v", r, err)
	}
	for _, ref := range []string{"my-agent", "Renamed"} {
		if g, err := c.Agents.Get(ctx, ref); err != nil || g.ID != "my-agent" || g.MemoryCount != 1 {
			t.Errorf("get %q after the rename: %+v %v", ref, g, err)
		}
	}
	if list, err := c.Memories.List(ctx, client.MemoryListOptions{AgentID: "my-agent"}); err != nil || list.Total != 1 || list.Data[0].AgentID != "my-agent" {
		t.Errorf("memories after the rename: %+v %v", list, err)
	}
	again, err := c.Agents.Create(ctx, client.AgentCreate{ID: "my-agent", Name: "My Agent"})
	if err != nil || again.ID != "my-agent" || again.Name != "Renamed" || again.CreatedAt != a.CreatedAt {
		t.Errorf("create again %+v %v", again, err)
	}
	if _, err := c.Agents.Create(ctx, client.AgentCreate{ID: "other", Name: "Renamed"}); !errors.Is(err, client.ErrConflict) {
		t.Errorf("taken name: %v", err)
	}
	// Ids with slashes, spaces, dots only: one path segment each.
	for _, id := range []string{"team/agent 1", ".", "..", "ü?#%"} {
		if a, err := c.Agents.Create(ctx, client.AgentCreate{ID: id}); err != nil || a.ID != id {
			t.Errorf("create %q: %+v %v", id, a, err)
		}
		if g, err := c.Agents.Get(ctx, id); err != nil || g.ID != id {
			t.Errorf("get %q: %+v %v", id, g, err)
		}
		if st, err := c.Agents.Stats(ctx, id); err != nil || st.MemoryCount != 0 {
			t.Errorf("stats %q: %+v %v", id, st, err)
		}
		if _, err := c.Agents.Delete(ctx, id); err != nil {
			t.Errorf("delete %q: %v", id, err)
		}
	}
}
