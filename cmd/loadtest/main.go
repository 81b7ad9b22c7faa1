// Command loadtest drives the memoryrelay HTTP API with concurrent clients
// on loopback and reports latency per request class, requests per second,
// 5xx answers and "database is locked" errors, beside a bare net/http
// server that does nothing, measured in the same run.
//
//	go run ./cmd/loadtest -clients 50 -duration 30s
//
// It starts its own server on 127.0.0.1 with a database in a temporary
// directory. Every loop is bounded by -duration and -max-requests; it only
// ever talks to the loopback address it listens on.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// Config is what one run does.
type Config struct {
	Clients     int
	Duration    time.Duration
	MaxRequests int64
	Seed        int      // memories stored before the run
	Sync        string   // SQLite synchronous
	Mix         []weight // request classes and their weights
}

type weight struct {
	class string
	w     int
}

// Result is what a run measured.
type Result struct {
	Classes   map[string]*classStats
	Total     int64
	Elapsed   time.Duration
	Status5xx int64
	Locked    int64
	Errors    int64
}

type classStats struct {
	mu  sync.Mutex
	lat []time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	cfg := Config{}
	fs.IntVar(&cfg.Clients, "clients", 50, "concurrent clients")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long each phase runs")
	fs.Int64Var(&cfg.MaxRequests, "max-requests", 2_000_000, "stop after this many requests per phase")
	fs.IntVar(&cfg.Seed, "seed", 2000, "memories stored before the run")
	fs.StringVar(&cfg.Sync, "sync", "FULL", "SQLite synchronous: FULL or NORMAL")
	mix := fs.String("mix", "search=40,create=20,list=15,get=20,batch=5", "request mix, class=weight")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, part := range strings.Split(*mix, ",") {
		var w weight
		name, val, _ := strings.Cut(part, "=")
		if _, err := fmt.Sscan(val, &w.w); err != nil || w.w < 0 {
			return fmt.Errorf("bad -mix entry %q", part)
		}
		w.class = name
		cfg.Mix = append(cfg.Mix, w)
	}
	bare, err := runBare(ctx, cfg)
	if err != nil {
		return err
	}
	api, err := runAPI(ctx, cfg)
	if err != nil {
		return err
	}
	report(out, cfg, bare, api)
	if api.Status5xx > 0 || api.Locked > 0 {
		return fmt.Errorf("%d 5xx answers, %d 'database is locked'", api.Status5xx, api.Locked)
	}
	return nil
}

// serve starts h on a loopback port and returns its base URL and a stop func.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func newClient(n int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
}

func runBare(ctx context.Context, cfg Config) (*Result, error) {
	base, stop, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}))
	if err != nil {
		return nil, err
	}
	defer stop()
	hc := newClient(cfg.Clients)
	return drive(ctx, cfg, []weight{{"bare", 1}}, func(_ *rand.Rand, _ string) (*http.Request, error) {
		return http.NewRequest("GET", base+"/", nil)
	}, hc), nil
}

func runAPI(ctx context.Context, cfg Config) (*Result, error) {
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "load.db"), Synchronous: cfg.Sync, RateLimit: 1 << 30})
	if err != nil {
		return nil, err
	}
	defer relay.Close()
	acct, err := relay.CreateAccount(ctx, "load")
	if err != nil {
		return nil, err
	}
	_, tok, err := relay.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "load", Scopes: scopes.NewSet(scopes.Read, scopes.Write)})
	if err != nil {
		return nil, err
	}
	key := tok.Reveal()
	var ids []string
	for i := 0; i < cfg.Seed; i++ {
		m, err := relay.Account(acct.ID).Memories().Create(ctx, memory.NewMemory{Content: sentence(rand.New(rand.NewPCG(uint64(i), 1))), AgentID: fmt.Sprintf("agent-%d", i%10)})
		if err != nil {
			return nil, err
		}
		ids = append(ids, m.Memory.ID)
	}
	h, err := httpapi.New(relay, httpapi.Options{})
	if err != nil {
		return nil, err
	}
	base, stop, err := serve(h)
	if err != nil {
		return nil, err
	}
	defer stop()
	hc := newClient(cfg.Clients)
	return drive(ctx, cfg, cfg.Mix, func(rng *rand.Rand, class string) (*http.Request, error) {
		var req *http.Request
		var err error
		switch class {
		case "search":
			req, err = jsonReq("POST", base+"/v1/memories/search", map[string]any{"query": sentence(rng), "limit": 10, "agent_id": fmt.Sprintf("agent-%d", rng.IntN(10))})
		case "create":
			req, err = jsonReq("POST", base+"/v1/memories", map[string]any{"content": sentence(rng), "agent_id": fmt.Sprintf("agent-%d", rng.IntN(10))})
		case "list":
			req, err = http.NewRequest("GET", fmt.Sprintf("%s/v1/memories?limit=20&offset=%d", base, rng.IntN(100)), nil)
		case "get":
			req, err = http.NewRequest("GET", base+"/v1/memories/"+ids[rng.IntN(len(ids))], nil)
		case "batch":
			items := make([]map[string]any, 10)
			for i := range items {
				items[i] = map[string]any{"content": sentence(rng)}
			}
			req, err = jsonReq("POST", base+"/v1/memories/batch", map[string]any{"memories": items, "agent_id": "batch"})
		default:
			return nil, fmt.Errorf("unknown request class %q", class)
		}
		if req != nil {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		return req, err
	}, hc), nil
}

func jsonReq(method, url string, body any) (*http.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return http.NewRequest(method, url, bytes.NewReader(b))
}

var words = strings.Fields(`the user prefers typescript javascript go rust python deploy release friday
monday meeting notes design review database postgres backup nightly storage dog cat walks beach coffee
tea project alpha beta launch budget travel paris berlin tokyo flight hotel doctor appointment gym
running swimming book novel author music guitar piano concert birthday party gift family sister brother`)

func sentence(rng *rand.Rand) string {
	n := 6 + rng.IntN(10)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = words[rng.IntN(len(words))]
	}
	return strings.Join(ws, " ")
}

// drive runs cfg.Clients loops until the duration or the request budget is
// spent, picking a class by weight for each request.
func drive(ctx context.Context, cfg Config, mix []weight, build func(*rand.Rand, string) (*http.Request, error), hc *http.Client) *Result {
	res := &Result{Classes: map[string]*classStats{}}
	total := 0
	for _, w := range mix {
		res.Classes[w.class] = &classStats{}
		total += w.w
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var count atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 42))
			for ctx.Err() == nil && count.Add(1) <= cfg.MaxRequests {
				pick := rng.IntN(total)
				class := mix[0].class
				for _, w := range mix {
					if pick < w.w {
						class = w.class
						break
					}
					pick -= w.w
				}
				req, err := build(rng, class)
				if err != nil {
					atomic.AddInt64(&res.Errors, 1)
					continue
				}
				t0 := time.Now()
				resp, err := hc.Do(req.WithContext(ctx))
				if err != nil {
					if !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
						atomic.AddInt64(&res.Errors, 1)
					}
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				st := res.Classes[class]
				st.mu.Lock()
				st.lat = append(st.lat, d)
				st.mu.Unlock()
				if resp.StatusCode >= 500 {
					atomic.AddInt64(&res.Status5xx, 1)
				}
				if bytes.Contains(body, []byte("database is locked")) {
					atomic.AddInt64(&res.Locked, 1)
				}
				atomic.AddInt64(&res.Total, 1)
			}
		}(uint64(c))
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

func pct(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	return lat[int(float64(len(lat)-1)*p)]
}

func report(out io.Writer, cfg Config, bare, api *Result) {
	fmt.Fprintf(out, "%d clients, %v per phase, synchronous=%s, %d memories seeded\n\n", cfg.Clients, cfg.Duration, cfg.Sync, cfg.Seed)
	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "server\tclass\trequests\treq/s\tp50 ms\tp95 ms\tp99 ms\t")
	for _, r := range []struct {
		name string
		res  *Result
	}{{"bare net/http", bare}, {"memoryrelay", api}} {
		classes := make([]string, 0, len(r.res.Classes))
		for c := range r.res.Classes {
			classes = append(classes, c)
		}
		slices.Sort(classes)
		for _, c := range classes {
			st := r.res.Classes[c]
			slices.Sort(st.lat)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t\n", r.name, c, len(st.lat), float64(len(st.lat))/r.res.Elapsed.Seconds(),
				ms(pct(st.lat, 0.5)), ms(pct(st.lat, 0.95)), ms(pct(st.lat, 0.99)))
		}
		fmt.Fprintf(tw, "%s\tall\t%d\t%.0f\t\t\t\t\n", r.name, r.res.Total, float64(r.res.Total)/r.res.Elapsed.Seconds())
	}
	tw.Flush()
	fmt.Fprintf(out, "\nmemoryrelay: %d 5xx, %d 'database is locked', %d client errors\n", api.Status5xx, api.Locked, api.Errors)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
