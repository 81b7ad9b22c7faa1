package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/redistest"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// openNode opens a Relay (a node) with opts and closes it when t ends;
// it waits for its search index, so that a test measures the feed, not
// the first build.
func openNode(t testing.TB, opts memoryrelay.Options) *memoryrelay.Relay {
	t.Helper()
	ctx := context.Background()
	r, err := memoryrelay.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.WaitSearchIndex(wctx); err != nil {
		t.Fatal(err)
	}
	return r
}

// node is one node of a cluster: a Relay and the REST API over it.
type node struct {
	relay *memoryrelay.Relay
	url   string
}

// cluster is n nodes on one PostgreSQL database and one Redis.
type cluster struct {
	pgURL string
	redis *redistest.Server
	nodes []*node
	opts  memoryrelay.Options // what each node was opened with
}

// newCluster starts a Redis, makes a database and opens n nodes on them;
// tweak, when not nil, changes the options of every node.
func newCluster(t testing.TB, n int, tweak func(*memoryrelay.Options)) *cluster {
	t.Helper()
	c := &cluster{pgURL: pgtest.NewDatabase(t), redis: redistest.Start(t)}
	// The tests poll: the default limit of keys without their own is out
	// of their way.
	c.opts = memoryrelay.Options{PostgresURL: c.pgURL, RedisURL: c.redis.URL(), RateLimit: 1_000_000}
	if tweak != nil {
		tweak(&c.opts)
	}
	for range n {
		c.add(t)
	}
	return c
}

// add opens one more node.
func (c *cluster) add(t testing.TB) *node {
	t.Helper()
	r := openNode(t, c.opts)
	api, err := httpapi.New(r, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	nd := &node{relay: r, url: srv.URL}
	c.nodes = append(c.nodes, nd)
	return nd
}

// account makes an account on the first node with an admin key, and
// returns its id and the key's secret.
func (c *cluster) account(t testing.TB) (string, string) {
	t.Helper()
	ctx := context.Background()
	r := c.nodes[0].relay
	a, err := r.CreateAccount(ctx, "cluster")
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := r.Account(a.ID).Keys().Create(ctx, memory.NewKey{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, tok.Reveal()
}

// key makes a key of the account with the scopes and per-minute limit
// (0: the default), through node r.
func key(t testing.TB, r *memoryrelay.Relay, acct string, limit int, sc ...scopes.Scope) (keys.Key, string) {
	t.Helper()
	k, tok, err := r.Account(acct).Keys().Create(context.Background(), memory.NewKey{Name: "k", Scopes: scopes.NewSet(sc...), RateLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return k, tok.Reveal()
}

// client is the HTTP client of the tests: no retries, a bound on each call.
var client = &http.Client{Timeout: 10 * time.Second}

// call makes a request with the key and returns the status, the headers
// and the decoded JSON body (nil when there is none).
func call(t testing.TB, method, url, key string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, out
}

// must is call that fails the test unless the status is want.
func must(t testing.TB, want int, method, url, key string, body any) map[string]any {
	t.Helper()
	code, _, out := call(t, method, url, key, body)
	if code != want {
		t.Fatalf("%s %s: %d %v; want %d", method, url, code, out, want)
	}
	return out
}

// hits returns the ids of a search answer's items.
func hits(out map[string]any) []string {
	var ids []string
	items, _ := out["data"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if id, ok := m["id"].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// until polls f every millisecond until it reports true or the bound
// passes, and returns how long it took; ok is false at the bound.
func until(bound time.Duration, f func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if f() {
			return time.Since(start), true
		}
		if time.Since(start) > bound {
			return time.Since(start), false
		}
		time.Sleep(time.Millisecond)
	}
}

// summary is the median and the maximum of ds, for the logs.
func summary(ds []time.Duration) (median, worst time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
