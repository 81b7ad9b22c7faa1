package clustertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/redistest"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// long reports whether the long variants run (MEMORYRELAY_LONG_TESTS set):
// more kills and rounds than the default runs, which stay well under a
// minute each.
func long() bool { return os.Getenv("MEMORYRELAY_LONG_TESTS") != "" }

// try is call for goroutines: it never stops the test, and returns the
// transport's error (a refused or cut connection) instead.
func try(method, url, key string, body any) (int, http.Header, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return resp.StatusCode, resp.Header, nil, fmt.Errorf("%d %s: %w", resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, out, nil
}

// hammer sends requests GETs of a fresh key of limit a minute over nodes
// (round robin) at once, and counts the admitted and the limited; a 429
// must carry Retry-After and no remaining requests.
func hammer(t *testing.T, nodes []*node, acct string, limit, requests int) (ok, limited int) {
	t.Helper()
	_, secret := key(t, nodes[0].relay, acct, limit, scopes.Read)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range requests {
		nd := nodes[i%len(nodes)]
		wg.Go(func() {
			code, h, _, err := try("GET", nd.url+"/v1/memories?limit=1", secret, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("GET on %s: %v", nd.url, err)
			case code == http.StatusOK:
				ok++
			case code == http.StatusTooManyRequests:
				limited++
				if h.Get("Retry-After") == "" || h.Get("X-RateLimit-Remaining") != "0" {
					t.Errorf("429 without Retry-After or with remaining %q", h.Get("X-RateLimit-Remaining"))
				}
			default:
				t.Errorf("status %d", code)
			}
		})
	}
	wg.Wait()
	return ok, limited
}

// halter returns a function that closes stop and waits for wg, once;
// it is a cleanup of t too, so that a test stopped early leaves no load
// goroutine running.
func halter(t *testing.T, stop chan struct{}, wg *sync.WaitGroup) func() {
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	t.Cleanup(halt)
	return halt
}

// procNodes are node processes that a test kills and restarts; a URL
// once killed stays in dead, so that a request that failed can be told to
// have gone to a killed node.
type procNodes struct {
	t     *testing.T
	pgURL string
	mu    sync.Mutex
	cmds  []*exec.Cmd
	urls  []string
	dead  map[string]bool
}

func (p *procNodes) start(i int) {
	cmd, u := startNodeProcess(p.t, p.pgURL, 0, 0, "127.0.0.1:1")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cmds[i], p.urls[i] = cmd, u
}

func (p *procNodes) url(i int) string { p.mu.Lock(); defer p.mu.Unlock(); return p.urls[i] }

// kill kills node i with SIGKILL, its URL marked dead first.
func (p *procNodes) kill(i int) {
	p.mu.Lock()
	cmd := p.cmds[i]
	p.dead[p.urls[i]] = true
	p.mu.Unlock()
	cmd.Process.Kill()
	cmd.Wait()
}

func (p *procNodes) isDead(u string) bool { p.mu.Lock(); defer p.mu.Unlock(); return p.dead[u] }

// TestCrashAcrossNodes: writers create, update and delete memories
// through three node processes at once while one node, drawn at random
// each time, is killed with SIGKILL at a random moment and started again
// (3 kills; 12 with MEMORYRELAY_LONG_TESTS). Afterwards every
// acknowledged write is there with its acknowledged content and every
// acknowledged delete is gone; the only failed requests are connection
// errors to the killed node (the others kept serving); and each
// restarted node's search (the vector index alone) finds the memories
// written through the others while it was down.
func TestCrashAcrossNodes(t *testing.T) {
	kills, writers := 3, 4
	if long() {
		kills = 12
	}
	pgURL := pgtest.NewDatabase(t)
	setup := openNode(t, memoryrelay.Options{PostgresURL: pgURL, Workers: -1, Embedder: embed.NewHashing(0), ExactSearch: true})
	_, admin := (&cluster{nodes: []*node{{relay: setup}}}).account(t)
	p := &procNodes{t: t, pgURL: pgURL, cmds: make([]*exec.Cmd, 3), urls: make([]string, 3), dead: map[string]bool{}}
	for i := range 3 {
		p.start(i)
	}

	// What the writers were told: content by id (an acknowledged create or
	// update), deleted ids (an acknowledged delete). An id whose last
	// request failed on a killed node has an unknown state: it is left out.
	var (
		mu       sync.Mutex
		content  = map[string]string{}
		deleted  = map[string]bool{}
		acked    atomic.Int64
		cutOff   atomic.Int64 // failed requests to a killed node
		bad      []string     // anything else that failed
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		failures = func(format string, args ...any) {
			mu.Lock()
			bad = append(bad, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
	)
	halt := halter(t, stop, &wg)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []string // ids in a known state, not deleted
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(3)
				u := p.url(i)
				var (
					method, path string
					body         any
					id           string
					text         = fmt.Sprintf("writer %d op %d: the wren %d sings from the hedge", w, n, rng.Uint32())
					want         = http.StatusOK
				)
				switch r := rng.Float64(); {
				case len(mine) < 3 || r < 0.5:
					method, path, body, want = "POST", "/v1/memories", map[string]any{"content": text}, http.StatusCreated
				case r < 0.8:
					id = mine[rng.IntN(len(mine))]
					method, path, body = "PATCH", "/v1/memories/"+id, map[string]any{"content": text}
				default:
					id = mine[rng.IntN(len(mine))]
					method, path = "DELETE", "/v1/memories/"+id
				}
				code, _, out, err := try(method, u+path, admin, body)
				if err != nil {
					if p.isDead(u) {
						cutOff.Add(1)
					} else {
						failures("%s %s on node %d, not killed: %v", method, path, i, err)
					}
					if id != "" { // unknown outcome: forget it
						mine = slices.DeleteFunc(mine, func(s string) bool { return s == id })
						mu.Lock()
						delete(content, id)
						mu.Unlock()
					}
					continue
				}
				if code != want {
					failures("%s %s on node %d: %d %v; want %d", method, path, i, code, out, want)
					continue
				}
				acked.Add(1)
				mu.Lock()
				switch method {
				case "POST":
					id, _ = out["id"].(string)
					content[id] = text
					mine = append(mine, id)
				case "PATCH":
					content[id] = text
				case "DELETE":
					delete(content, id)
					deleted[id] = true
					mine = slices.DeleteFunc(mine, func(s string) bool { return s == id })
				}
				mu.Unlock()
			}
		})
	}

	rng := rand.New(rand.NewPCG(1, 2))
	var catchUps []time.Duration
	for k := range kills {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		v := rng.IntN(3)
		p.kill(v)
		// Written through the others while v is down, and never touched
		// again: the restarted v must find them.
		var probes []string
		texts := map[string]string{}
		for j := range 3 {
			o := p.url((v + 1 + j%2) % 3)
			text := fmt.Sprintf("kill %d probe %d: the badger %d digs under the old oak", k, j, rng.Uint32())
			code, _, out, err := try("POST", o+"/v1/memories", admin, map[string]any{"content": text})
			if err != nil || code != http.StatusCreated {
				t.Fatalf("a write on a live node while node %d was down: %d %v %v", v, code, out, err)
			}
			id := out["id"].(string)
			probes = append(probes, id)
			texts[id] = text
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		p.start(v)
		restarted := time.Now()
		u := p.url(v)
		for _, id := range probes {
			if lag, ok := until(20*time.Second, func() bool {
				code, _, out, err := try("POST", u+"/v1/memories/search", admin, map[string]any{"query": texts[id], "search_mode": "semantic", "limit": 3})
				return err == nil && code == http.StatusOK && slices.Contains(hits(out), id)
			}); !ok {
				t.Fatalf("kill %d: node %d restarted does not find %s, written while it was down, after %v", k, v, id, lag)
			}
		}
		catchUps = append(catchUps, time.Since(restarted))
		mu.Lock()
		for _, id := range probes {
			content[id] = texts[id]
		}
		mu.Unlock()
	}
	time.Sleep(300 * time.Millisecond) // the writers on all nodes again
	halt()

	for _, b := range bad {
		t.Error(b)
	}
	checked := 0
	for id, want := range content {
		u := p.url(checked % 3)
		checked++
		code, _, out, err := try("GET", u+"/v1/memories/"+id, admin, nil)
		if err != nil || code != http.StatusOK || out["content"] != want {
			t.Errorf("acknowledged memory %s: %d %v %v; want content %q", id, code, out["content"], err, want)
		}
	}
	for id := range deleted {
		if code, _, out, err := try("GET", p.url(0)+"/v1/memories/"+id, admin, nil); err != nil || code != http.StatusNotFound {
			t.Errorf("acknowledged delete of %s: %d %v %v; want 404", id, code, out, err)
		}
	}
	med, worst := summary(catchUps)
	t.Logf("%d kills, %d acknowledged writes (%d memories and %d deletes checked), %d requests cut off on the killed node; restarted node found the writes made while it was down after start: median %s, worst %s",
		kills, acked.Load(), len(content), len(deleted), cutOff.Load(), ms(med), ms(worst))
	if acked.Load() < int64(10*kills) || len(deleted) == 0 {
		t.Errorf("too little load to show anything: %d acknowledged, %d deletes", acked.Load(), len(deleted))
	}
}

// TestRedisRestartUnderLoad: Redis killed and restarted while clients
// hammer all three nodes: no request fails (fail open, the default:
// limits are kept per node meanwhile), none is a 500; once Redis is back
// the nodes share the limits again, exactly (as TestRateLimitAcrossNodes).
func TestRedisRestartUnderLoad(t *testing.T) {
	c := newCluster(t, 3, nil)
	acct, admin := c.account(t)
	rounds := 1
	if long() {
		rounds = 5
	}
	for round := range rounds {
		var (
			served [3]atomic.Int64 // while Redis is down
			down   atomic.Bool
			stop   = make(chan struct{})
			wg     sync.WaitGroup
		)
		halt := halter(t, stop, &wg)
		for w := range 6 {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					i := (w + n) % 3
					u := c.nodes[i].url
					var code int
					var out map[string]any
					var err error
					want := http.StatusOK
					switch n % 3 {
					case 0:
						code, _, out, err = try("GET", u+"/v1/memories?limit=5", admin, nil)
					case 1:
						code, _, out, err = try("POST", u+"/v1/memories/search", admin, map[string]any{"query": "the fox at the edge of the wood"})
					default:
						want = http.StatusCreated
						code, _, out, err = try("POST", u+"/v1/memories", admin, map[string]any{"content": fmt.Sprintf("round %d writer %d: the fox %d at the edge of the wood", round, w, n)})
					}
					if err != nil || code != want {
						t.Errorf("node %d with Redis down=%v: %d %v %v; want %d", i, down.Load(), code, out, err, want)
						continue
					}
					if down.Load() {
						served[i].Add(1)
					}
				}
			})
		}
		time.Sleep(300 * time.Millisecond)
		down.Store(true)
		c.redis.Kill(t)
		for _, nd := range c.nodes {
			if _, ok := until(10*time.Second, func() bool {
				return nd.relay.Health(t.Context()).Services["rate_limiter"] == memoryrelay.ServiceDegraded
			}); !ok {
				t.Errorf("rate limiter not degraded with Redis down: %+v", nd.relay.Health(t.Context()))
			}
		}
		time.Sleep(500 * time.Millisecond)
		c.redis.Restart(t)
		for _, nd := range c.nodes {
			if _, ok := until(10*time.Second, func() bool {
				h := nd.relay.Health(t.Context())
				return h.Services["rate_limiter"] == memoryrelay.ServiceUp && h.Services["key_sync"] == memoryrelay.ServiceUp
			}); !ok {
				t.Errorf("health with Redis back: %+v", nd.relay.Health(t.Context()))
			}
		}
		down.Store(false)
		time.Sleep(300 * time.Millisecond)
		halt()
		for i := range served {
			if served[i].Load() == 0 {
				t.Errorf("round %d: node %d served nothing while Redis was down", round, i)
			}
		}
		const limit, requests = 6, 30
		ok, limited := hammer(t, c.nodes, acct, limit, requests)
		t.Logf("round %d: served with Redis down %d/%d/%d; then one key of %d a minute over three nodes: %d admitted, %d limited",
			round, served[0].Load(), served[1].Load(), served[2].Load(), limit, ok, limited)
		if ok != limit || limited != requests-limit {
			t.Errorf("round %d: after Redis came back %d admitted, %d limited; want %d and %d", round, ok, limited, limit, requests-limit)
		}
	}
}

// TestPostgresRestartUnderLoad: PostgreSQL killed and restarted while
// clients write and search through three nodes: while it is down every
// request is answered 503 with Retry-After (never a 500 or a cut
// connection); once it is back every node serves again without being
// restarted, and every acknowledged write is there.
func TestPostgresRestartUnderLoad(t *testing.T) {
	srv := pgtest.Start(t)
	c := &cluster{pgURL: srv.URL("postgres"), redis: redistest.Start(t)}
	c.opts = memoryrelay.Options{PostgresURL: c.pgURL, RedisURL: c.redis.URL(), RateLimit: 1_000_000}
	for range 3 {
		c.add(t)
	}
	_, admin := c.account(t)
	rounds := 1
	if long() {
		rounds = 4
	}
	var mu sync.Mutex
	written := map[string]string{}
	for round := range rounds {
		var (
			unavailable [3]atomic.Int64
			after       [3]atomic.Int64 // served after the restart
			up          atomic.Bool
			stop        = make(chan struct{})
			wg          sync.WaitGroup
		)
		up.Store(true)
		halt := halter(t, stop, &wg)
		for w := range 6 {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					i := (w + n) % 3
					u := c.nodes[i].url
					text := fmt.Sprintf("round %d writer %d op %d: the lark rises over the barley", round, w, n)
					var code int
					var h http.Header
					var out map[string]any
					var err error
					want := http.StatusCreated
					if n%3 == 2 {
						want = http.StatusOK
						code, h, out, err = try("POST", u+"/v1/memories/search", admin, map[string]any{"query": "the lark rises"})
					} else {
						code, h, out, err = try("POST", u+"/v1/memories", admin, map[string]any{"content": text})
					}
					switch {
					case err != nil:
						t.Errorf("node %d: %v", i, err)
					case code == want:
						if want == http.StatusCreated {
							mu.Lock()
							written[out["id"].(string)] = text
							mu.Unlock()
						}
						if up.Load() {
							after[i].Add(1)
						}
					case code == http.StatusServiceUnavailable && h.Get("Retry-After") != "":
						unavailable[i].Add(1)
					default:
						t.Errorf("node %d: %d %v (Retry-After %q); want %d, or 503 with Retry-After", i, code, out, h.Get("Retry-After"), want)
					}
				}
			})
		}
		time.Sleep(300 * time.Millisecond)
		up.Store(false)
		srv.Kill(t)
		for i := range c.nodes {
			if _, ok := until(10*time.Second, func() bool { return unavailable[i].Load() > 0 }); !ok {
				t.Errorf("round %d: node %d never answered 503 with PostgreSQL down", round, i)
			}
		}
		time.Sleep(300 * time.Millisecond)
		srv.Restart(t)
		for i := range after {
			after[i].Store(0)
		}
		up.Store(true)
		back := time.Now()
		for i := range c.nodes {
			if _, ok := until(30*time.Second, func() bool { return after[i].Load() > 0 }); !ok {
				t.Errorf("round %d: node %d serves nothing 30 s after PostgreSQL came back", round, i)
			}
		}
		recovered := time.Since(back)
		halt()
		t.Logf("round %d: 503 while down %d/%d/%d; every node serving again %s after the restart",
			round, unavailable[0].Load(), unavailable[1].Load(), unavailable[2].Load(), ms(recovered))
	}
	n := 0
	for id, want := range written {
		u := c.nodes[n%3].url
		n++
		if code, _, out, err := try("GET", u+"/v1/memories/"+id, admin, nil); err != nil || code != http.StatusOK || out["content"] != want {
			t.Errorf("acknowledged memory %s: %d %v %v", id, code, out["content"], err)
		}
	}
	t.Logf("%d acknowledged writes, all there", len(written))
}
