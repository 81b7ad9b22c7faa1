package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/client"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/memory"
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
	if got := client.BaseURL(t, c); got != "http://example.test" {
		t.Errorf("base URL %q", got)
	}
	if _, err := client.New(client.Options{APIKey: "k", BaseURL: "ftp://x"}); err == nil {
		t.Fatal("ftp base URL accepted")
	}
}

// seen is a request as a scripted server received it.
type seen struct {
	method, path, query string
	body                string
}

// scripted answers each request with the next (status, headers, body) and
// records what it received.
func scripted(t *testing.T, answers ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32, func() []seen) {
	t.Helper()
	var (
		n   atomic.Int32
		mu  sync.Mutex
		log []seen
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if r.Header.Get("Authorization") != "Bearer mem_test_key" {
			t.Errorf("auth header %q", r.Header.Get("Authorization"))
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		log = append(log, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(body)})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if i >= len(answers) {
			t.Errorf("unexpected request %d: %s %s", i, r.Method, r.URL)
			w.WriteHeader(500)
			return
		}
		answers[i](w)
	}))
	t.Cleanup(srv.Close)
	return srv, &n, func() []seen { mu.Lock(); defer mu.Unlock(); return append([]seen(nil), log...) }
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

// scriptedAccount is the account of a client of srv that never sleeps.
func scriptedAccount(t *testing.T, srv *httptest.Server, opts client.Options) memory.Account {
	t.Helper()
	opts.APIKey, opts.BaseURL = "mem_test_key", srv.URL
	if opts.Sleep == nil {
		opts.Sleep = func(context.Context, time.Duration) error { return nil }
	}
	c, err := client.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c.Account()
}

func errBody(typ, msg string) string {
	return `{"type":"` + typ + `","message":"` + msg + `","detail":"` + msg + `","error":"` + msg + `","request_id":"req_1"}`
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	get := func(a memory.Account) error { _, err := a.Memories().Get(ctx, "x"); return err }
	create := func(a memory.Account) error {
		_, err := a.Memories().Create(ctx, memory.NewMemory{Content: "x"})
		return err
	}
	cases := []struct {
		name     string
		call     func(memory.Account) error
		answers  []func(http.ResponseWriter)
		sentinel error
		requests int32
		slept    []time.Duration
	}{
		{"429 then ok honours Retry-After", get,
			[]func(http.ResponseWriter){answer(429, errBody("rate_limit_error", "Rate limit exceeded. Try again in 7 seconds."), "Retry-After", "7"), answer(200, `{"id":"x"}`)},
			nil, 2, []time.Duration{7 * time.Second}},
		{"POST retried on 429", create,
			[]func(http.ResponseWriter){answer(429, errBody("rate_limit_error", "slow down"), "Retry-After", "1"), answer(201, `{"id":"x"}`)},
			nil, 2, []time.Duration{time.Second}},
		{"POST not retried on 500", create,
			[]func(http.ResponseWriter){answer(500, errBody("api_error", "Internal server error"))},
			client.ErrAPI, 1, nil},
		{"POST not retried on 503", create,
			[]func(http.ResponseWriter){answer(503, errBody("api_error", "The storage is busy; try again later"), "Retry-After", "5")},
			memory.ErrUnavailable, 1, nil},
		{"GET retried on 503 with backoff", get,
			[]func(http.ResponseWriter){answer(503, errBody("api_error", "down")), answer(503, errBody("api_error", "down")), answer(200, `{"id":"x"}`)},
			nil, 3, nil},
		{"Retry-After capped at MaxBackoff", get,
			[]func(http.ResponseWriter){answer(503, errBody("api_error", "down"), "Retry-After", "3600"), answer(200, `{"id":"x"}`)},
			nil, 2, []time.Duration{client.DefaultMaxBackoff}},
		{"retries exhausted", get,
			[]func(http.ResponseWriter){answer(429, "{}"), answer(429, "{}"), answer(429, "{}"), answer(429, "{}")},
			client.ErrRateLimit, 4, nil},
		{"404 not retried", get,
			[]func(http.ResponseWriter){answer(404, errBody("not_found_error", "Memory not found"))}, memory.ErrNotFound, 1, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, n, _ := scripted(t, c.answers...)
			var slept []time.Duration
			acct := scriptedAccount(t, srv, client.Options{Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }})
			err := c.call(acct)
			if c.sentinel == nil && err != nil {
				t.Fatalf("got %v", err)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Fatalf("got %v, want %v", err, c.sentinel)
			}
			if got := n.Load(); got != c.requests {
				t.Errorf("%d requests, want %d", got, c.requests)
			}
			if c.slept != nil && (len(slept) != len(c.slept) || slept[0] != c.slept[0]) {
				t.Errorf("slept %v, want %v", slept, c.slept)
			}
			if c.slept == nil && int32(len(slept)) != c.requests-1 {
				t.Errorf("slept %d times for %d requests", len(slept), c.requests)
			}
		})
	}
}

func TestNoRetriesWhenDisabled(t *testing.T) {
	srv, n, _ := scripted(t, answer(429, `{"type":"rate_limit_error","message":"Rate limit exceeded. Try again in 12 seconds."}`, "Retry-After", "12"))
	acct := scriptedAccount(t, srv, client.Options{MaxRetries: -1})
	_, err := acct.Agents().List(context.Background(), memory.PageParams{})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 12*time.Second || !errors.Is(err, client.ErrRateLimit) || n.Load() != 1 {
		t.Fatalf("got %#v after %d requests", err, n.Load())
	}
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	srv, n, _ := scripted(t, answer(503, errBody("api_error", "down")), answer(200, `{"id":"x"}`))
	ctx, cancel := context.WithCancel(context.Background())
	acct := scriptedAccount(t, srv, client.Options{Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }})
	if _, err := acct.Memories().Get(ctx, "x"); !errors.Is(err, context.Canceled) || n.Load() != 1 {
		t.Fatalf("got %v after %d requests", err, n.Load())
	}
}

// env is a relay on a real SQLite file behind httpapi on a real HTTP
// server, with an admin key of one account and one of another.
type env struct {
	relay       *memoryrelay.Relay
	url         string
	acct, other string // account ids
	admin       *client.Client
	otherAdmin  *client.Client
}

// server starts the env.
func server(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "c.db"), RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	if err := relay.WaitSearchIndex(ctx); err != nil { // health is degraded until it is built
		t.Fatal(err)
	}
	h, err := httpapi.New(relay, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{relay: relay, url: srv.URL}
	a, _ := relay.CreateAccount(ctx, "acct")
	b, _ := relay.CreateAccount(ctx, "other")
	e.acct, e.other = a.ID, b.ID
	e.admin = e.client(t, a.ID, scopes.NewSet(scopes.Admin))
	e.otherAdmin = e.client(t, b.ID, scopes.NewSet(scopes.Admin))
	return e
}

// client returns a client with a new key of the account and scopes.
func (e *env) client(t *testing.T, acct string, set scopes.Set) *client.Client {
	t.Helper()
	_, tok, err := e.relay.Account(acct).Keys().Create(context.Background(), memory.NewKey{Name: "k-" + set.String(), Scopes: set})
	if err != nil {
		t.Fatal(err)
	}
	return e.clientOf(t, tok.Reveal())
}

func (e *env) clientOf(t *testing.T, raw string) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{APIKey: raw, BaseURL: e.url, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHealth(t *testing.T) {
	e := server(t)
	h, err := e.admin.Health(context.Background())
	if err != nil || h.Status != "healthy" || h.Dimension == 0 || h.Provider == "" || h.APIVersion != "v1" ||
		h.Services["database"] != "up" || h.Timestamp.Location() != time.UTC || time.Since(h.Timestamp) > time.Minute {
		t.Fatalf("health %+v %v", h, err)
	}
}
