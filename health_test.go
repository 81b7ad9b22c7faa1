package memoryrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/embed/openai"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// probedEmbedder is the built-in embedder behind a wrapper that counts
// calls and fails them while failing is set. It does not name a provider.
type probedEmbedder struct {
	embed.Embedder
	calls   atomic.Int32
	failing atomic.Bool
}

func (p *probedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	p.calls.Add(1)
	if p.failing.Load() {
		return nil, errors.New("embedder unreachable")
	}
	return p.Embedder.Embed(ctx, texts)
}

// namedEmbedder forwards the provider of what it wraps.
type namedEmbedder struct{ *probedEmbedder }

func (n namedEmbedder) Provider() string { return embed.ProviderOf(n.Embedder) }

func TestHealthServices(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{Workers: 3})
	if err := r.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	h := r.Health(ctx)
	want := map[string]string{"database": "up", "vector_store": "up", "embeddings": "up", "task_queue": "up"}
	if h.Status != "healthy" || !maps.Equal(h.Services, want) || len(h.Problems) != 0 {
		t.Fatalf("health %+v", h)
	}
	if h.Provider != "builtin" || h.Model != "memoryrelay-hash-v1-384" || h.Dimension != 384 {
		t.Errorf("embedder %q %q %d", h.Provider, h.Model, h.Dimension)
	}
	if h.Jobs.Workers != 3 || h.Jobs.Running != 3 || h.Jobs.Pending != 0 {
		t.Errorf("jobs %+v", h.Jobs)
	}

	// With ExactSearch the vector store is the database's table.
	r2, _ := open(t, memoryrelay.Options{ExactSearch: true})
	if h := r2.Health(ctx); h.Status != "healthy" || h.Services["vector_store"] != "up" {
		t.Errorf("ExactSearch health %+v", h)
	}
}

// The embeddings check embeds a probe, at most once per
// EmbedCheckInterval however often health is asked; a failing embedder is
// down and the status degraded (not unhealthy: reads still work).
func TestHealthEmbeddingsCheck(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	emb := &probedEmbedder{Embedder: embed.NewHashing(0)}
	r, _ := open(t, memoryrelay.Options{Embedder: emb, Now: clock.Now})
	if err := r.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	base := emb.calls.Load()
	for range 20 {
		if h := r.Health(ctx); h.Services["embeddings"] != "up" || h.Status != "healthy" {
			t.Fatalf("health %+v", h)
		}
	}
	if n := emb.calls.Load() - base; n != 1 {
		t.Errorf("20 health checks embedded %d probes, want 1", n)
	}
	if h := r.Health(ctx); h.Provider != "custom" {
		t.Errorf("provider of a wrapper that does not say: %q", h.Provider)
	}

	emb.failing.Store(true)
	clock.Advance(memoryrelay.EmbedCheckInterval - time.Second)
	if h := r.Health(ctx); h.Services["embeddings"] != "up" {
		t.Errorf("result not reused within the interval: %+v", h)
	}
	clock.Advance(time.Second)
	h := r.Health(ctx)
	if h.Services["embeddings"] != "down" || h.Status != "degraded" || !strings.Contains(strings.Join(h.Problems, "\n"), "embedder unreachable") {
		t.Errorf("failing embedder: %+v", h)
	}
	if n := emb.calls.Load() - base; n != 2 {
		t.Errorf("%d probes, want 2", n)
	}

	// A check cut short by its caller is not kept.
	emb.failing.Store(false)
	clock.Advance(memoryrelay.EmbedCheckInterval)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	r.Health(cancelled)
	if h := r.Health(ctx); h.Services["embeddings"] != "up" || h.Status != "healthy" {
		t.Errorf("after recovery: %+v", h)
	}
}

func TestHealthProviderOfWrappedEmbedder(t *testing.T) {
	emb := namedEmbedder{&probedEmbedder{Embedder: embed.NewHashing(0)}}
	r, _ := open(t, memoryrelay.Options{Embedder: emb})
	if h := r.Health(context.Background()); h.Provider != "builtin" {
		t.Errorf("provider %q", h.Provider)
	}
}

// A remote embedder is probed once per interval, not per health request,
// and is reported down when its server fails.
func TestHealthOpenAIEmbedder(t *testing.T) {
	var requests atomic.Int32
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if failing.Load() {
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
			return
		}
		var req struct {
			Input []string `json:"input"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		data := make([]map[string]any, len(req.Input))
		for i := range req.Input {
			data[i] = map[string]any{"index": i, "embedding": []float32{3, 4}}
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer srv.Close()
	emb, err := openai.New(openai.Options{BaseURL: srv.URL, Model: "tiny", Dimension: 2, APIKeyEnv: "-", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	r, _ := open(t, memoryrelay.Options{Embedder: emb, Now: clock.Now})
	ctx := context.Background()
	for range 10 {
		if h := r.Health(ctx); h.Services["embeddings"] != "up" || h.Provider != "openai-compatible" || h.Model != "openai:tiny" || h.Dimension != 2 {
			t.Fatalf("health %+v", h)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("10 health checks sent %d requests to the embeddings server, want 1", n)
	}
	failing.Store(true)
	clock.Advance(memoryrelay.EmbedCheckInterval)
	if h := r.Health(ctx); h.Services["embeddings"] != "down" || h.Status != "degraded" {
		t.Errorf("failing server: %+v", h)
	}
}

// heldEmbedder is the built-in embedder that holds every text but the
// health probe until gate closes (or its context ends), announcing each
// held call on entered.
type heldEmbedder struct {
	embed.Embedder
	entered chan struct{}
	gate    chan struct{}
}

func (h *heldEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 1 && texts[0] == "queued" {
		h.entered <- struct{}{}
		select {
		case <-h.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h.Embedder.Embed(ctx, texts)
}

// task_queue reports the workers and the queue's depth; a pending job
// older than StalledJobAge makes it degraded, no worker running makes it
// down.
func TestHealthTaskQueue(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	g := &heldEmbedder{Embedder: embed.NewHashing(0), entered: make(chan struct{}, 3), gate: make(chan struct{})}
	r, _ := open(t, memoryrelay.Options{Embedder: g, Workers: 1, Now: clock.Now})
	if err := r.WaitSearchIndex(ctx); err != nil { // else vector_store may still be degraded
		t.Fatal(err)
	}
	acct := account(t, r)
	h := r.Health(ctx)
	if h.Services["task_queue"] != "up" || h.Jobs.Workers != 1 || h.Jobs.Running != 1 {
		t.Fatalf("health %+v", h)
	}
	for range 3 {
		if _, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: "queued"}, memory.AsyncOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	<-g.entered // the worker holds the first job
	h = r.Health(ctx)
	if h.Jobs.Pending != 2 || h.Jobs.Processing != 1 || h.Services["task_queue"] != "up" || h.Status != "healthy" {
		t.Fatalf("queue of three, one claimed: %+v", h)
	}
	clock.Advance(memoryrelay.StalledJobAge + time.Second)
	h = r.Health(ctx)
	if h.Services["task_queue"] != "degraded" || h.Status != "degraded" || h.Services["embeddings"] != "up" ||
		!slices.ContainsFunc(h.Problems, func(p string) bool { return strings.Contains(p, "2 v2 jobs are pending") }) {
		t.Fatalf("stalled queue: %+v", h)
	}
	close(g.gate)
	r.Close()
	if h := r.Health(ctx); h.Services["task_queue"] != "down" || h.Jobs.Running != 0 {
		t.Errorf("after Close: %+v", h)
	}
}
