package httpapi_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// heldEmbedder blocks every Embed until released, so v2 jobs stay
// unfinished while the test reads.
type heldEmbedder struct {
	embed.Embedder
	release chan struct{}
}

func (h heldEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	select {
	case <-h.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return h.Embedder.Embed(ctx, texts)
}

func (h heldEmbedder) Lexical() bool { return embed.IsLexical(h.Embedder) }

// TestV2ReadAfterAccept (API.md §10.1): a memory accepted by POST
// /v2/memories is returned by GET /v1/memories/{id} and listed the moment
// the 202 is sent, with every stored field, many times and under
// concurrent writes, while its job has not run; only search waits for it
// to be ready.
func TestV2ReadAfterAccept(t *testing.T) {
	held := heldEmbedder{Embedder: embed.NewHashing(0), release: make(chan struct{})}
	e := newEnv(t, memoryrelay.Options{Embedder: held, RateLimit: 1_000_000})
	key := e.keys["rw"]
	var released sync.Once
	release := func() { released.Do(func() { close(held.release) }) }
	defer release()

	const writers, each = 8, 10
	var wg sync.WaitGroup
	ids := make(chan string, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				content := fmt.Sprintf("accepted memory %d-%d about zanzibar", w, i)
				r := e.do("POST", "/v2/memories", key, map[string]any{"content": content, "agent_id": "reader",
					"metadata": map[string]any{"w": w, "i": i}, "importance": 0.9, "project": "alpha"})
				if r.status != 202 {
					t.Errorf("accept: %d %s", r.status, r.raw)
					return
				}
				id := r.body["id"].(string)
				for range 3 { // at once, and again, while other writers run
					g := e.do("GET", "/v1/memories/"+id, key, nil)
					if g.status != 200 || g.body["content"] != content || g.body["tier"] != "hot" || g.body["project"] != "alpha" ||
						string(mustJSON(t, g.body["metadata"])) != fmt.Sprintf(`{"i":%d,"w":%d}`, i, w) {
						t.Errorf("GET right after the 202: %d %s", g.status, g.raw)
						return
					}
				}
				ids <- id
			}
		}()
	}
	wg.Wait()
	close(ids)
	accepted := map[string]bool{}
	for id := range ids {
		accepted[id] = true
	}
	// Listed, all of them, while no job has run.
	l := e.do("GET", "/v1/memories?agent_id=reader&limit=100", key, nil)
	listed := 0
	for _, m := range l.body["data"].([]any) {
		if accepted[m.(map[string]any)["id"].(string)] {
			listed++
		}
	}
	if listed != writers*each {
		t.Fatalf("listed %d of %d accepted memories", listed, writers*each)
	}
	for id := range accepted {
		if st := e.do("GET", "/v2/memories/"+id+"/status", key, nil); st.body["status"] == "ready" {
			t.Fatalf("a job finished while the embedder was held: %s", st.raw)
		}
		break
	}
	// Not searchable until ready.
	s := e.do("POST", "/v1/memories/search", key, map[string]any{"query": "zanzibar", "search_mode": "keyword"})
	if n := len(s.body["data"].([]any)); s.status != 200 || n != 0 {
		t.Fatalf("search found %d pending memories: %s", n, s.raw)
	}
	release()
	for id := range accepted {
		jobsWaitReady(t, e, e.acct, id)
	}
	s = e.do("POST", "/v1/memories/search", key, map[string]any{"query": "zanzibar", "search_mode": "keyword", "limit": 100})
	if n := len(s.body["data"].([]any)); n != writers*each {
		t.Fatalf("search found %d of %d ready memories", n, writers*each)
	}
}
