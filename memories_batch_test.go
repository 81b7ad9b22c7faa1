package memoryrelay_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// countingEmbedder is the built-in embedder, counting Embed calls and
// texts.
type countingEmbedder struct {
	embed.Embedder
	calls, texts atomic.Int64
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.calls.Add(1)
	c.texts.Add(int64(len(texts)))
	return c.Embedder.Embed(ctx, texts)
}

const (
	darkMode    = "The user prefers dark mode in every editor."
	darkModeAll = "The user prefers dark mode in all editors." // cosine ≈ 0.89 with darkMode
)

func pointerTo[T any](v T) *T { return &v }

func TestAddMemoryDedup(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	orig, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: darkMode, AgentID: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		in        memory.NewMemory
		duplicate bool
	}{
		{"no dedup asked", memory.NewMemory{Content: darkMode, AgentID: "bot"}, false},
		{"identical", memory.NewMemory{Content: darkMode, AgentID: "bot", Deduplicate: true}, true},
		{"identical at threshold 1", memory.NewMemory{Content: darkMode, AgentID: "bot", Deduplicate: true, DedupThreshold: pointerTo(1.0)}, true},
		{"same text, punctuation differs", memory.NewMemory{Content: strings.TrimSuffix(darkMode, ".") + "!", AgentID: "bot", Deduplicate: true}, true},
		{"similar below default", memory.NewMemory{Content: darkModeAll, AgentID: "bot", Deduplicate: true}, false},
		{"similar above 0.85", memory.NewMemory{Content: darkModeAll + " ", AgentID: "bot", Deduplicate: true, DedupThreshold: pointerTo(0.85)}, true},
		{"other agent", memory.NewMemory{Content: darkMode, AgentID: "other-bot", Deduplicate: true}, false},
		{"unrelated", memory.NewMemory{Content: "Deploys happen on Tuesdays after review.", AgentID: "bot", Deduplicate: true, DedupThreshold: pointerTo(0.5)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := r.Account(acct).Memories().Create(ctx, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if res.IsDuplicate != c.duplicate {
				t.Fatalf("IsDuplicate %v, want %v", res.IsDuplicate, c.duplicate)
			}
			if c.duplicate {
				if res.Memory.ID != orig.Memory.ID && !strings.HasPrefix(c.name, "similar") {
					t.Errorf("duplicate %s, want the original %s", res.Memory.ID, orig.Memory.ID)
				}
				if res.Memory.Content == "" || res.Memory.CreatedAt.IsZero() {
					t.Errorf("duplicate is not the full memory: %+v", res.Memory)
				}
			} else if res.Memory.ID == orig.Memory.ID {
				t.Error("a new memory has the original's id")
			}
		})
	}
	// CreateMemory deduplicates too, returning the existing memory.
	m, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: darkMode, AgentID: "bot", Deduplicate: true})
	if err != nil || m.Memory.ID != orig.Memory.ID {
		t.Fatalf("CreateMemory with Deduplicate: %v %v", m.Memory.ID, err)
	}
}

func TestDedupThresholdRange(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	for _, v := range []float64{0.49, 1.01, -1, math.NaN(), math.Inf(1)} {
		for _, dedup := range []bool{true, false} {
			_, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "x", Deduplicate: dedup, DedupThreshold: pointerTo(v)})
			var verr *memory.ValidationError
			if !errors.As(err, &verr) || verr.Field() != "DedupThreshold" {
				t.Errorf("threshold %v (dedup %v): %v", v, dedup, err)
			}
		}
	}
	for _, v := range []float64{0.5, 1} {
		if _, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "x", Deduplicate: true, DedupThreshold: pointerTo(v)}); err != nil {
			t.Errorf("threshold %v: %v", v, err)
		}
	}
}

// Concurrent identical creates with dedup store one memory: the check and
// the insert share a write transaction.
func TestDedupConcurrent(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	var wg sync.WaitGroup
	var dups atomic.Int64
	for range 8 {
		wg.Go(func() {
			res, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: darkMode, AgentID: "bot", Deduplicate: true})
			if err != nil {
				t.Error(err)
			}
			if res.IsDuplicate {
				dups.Add(1)
			}
		})
	}
	wg.Wait()
	page, err := r.Account(acct).Memories().List(ctx, memory.ListParams{})
	if err != nil || page.Total != 1 || dups.Load() != 7 {
		t.Fatalf("%d memories, %d duplicates, %v", page.Total, dups.Load(), err)
	}
}

func TestCreateMemoriesItemsStandAlone(t *testing.T) {
	ctx := context.Background()
	emb := &countingEmbedder{Embedder: embed.NewHashing(0)}
	r, path := open(t, memoryrelay.Options{Embedder: emb})
	acct := account(t, r)
	existing, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: darkMode, AgentID: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	emb.calls.Store(0)
	const unknownSession = "6f1c2f4e-8a47-4c1e-9d8e-3b0f6f4a2b11"
	in := []memory.NewMemory{
		0: {Content: "First fact about the build system."},
		1: {Content: "   "},
		2: {Content: "Uses a session nobody has.", AgentID: "ghost-agent", SessionID: pointerTo(unknownSession)},
		3: {Content: darkMode, Deduplicate: true},
		4: {Content: "Second fact, for its own agent.", AgentID: "own"},
		5: {Content: "Repeated within the batch.", Deduplicate: true},
		6: {Content: "Repeated within the batch.", Deduplicate: true},
		7: {Content: "bad importance", Importance: pointerTo(2.0)},
		8: {Content: "bad threshold", DedupThreshold: pointerTo(0.1)},
	}
	res, err := r.Account(acct).Memories().CreateBatch(ctx, memory.BatchParams{Memories: in, AgentID: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status string
		field  string // of the ValidationError, for failures
	}{
		{memory.BatchSuccess, ""},
		{memory.BatchFailed, "Content"},
		{memory.BatchFailed, "SessionID"},
		{memory.BatchSkipped, ""},
		{memory.BatchSuccess, ""},
		{memory.BatchSuccess, ""},
		{memory.BatchSkipped, ""},
		{memory.BatchFailed, "Importance"},
		{memory.BatchFailed, "DedupThreshold"},
	}
	if len(res.Items) != len(want) {
		t.Fatalf("%d results", len(res.Items))
	}
	for i, w := range want {
		it := res.Items[i]
		if it.Status != w.status {
			t.Errorf("item %d: status %s, want %s (%v)", i, it.Status, w.status, it.Err)
			continue
		}
		var verr *memory.ValidationError
		switch w.status {
		case memory.BatchFailed:
			if !errors.As(it.Err, &verr) || verr.Field() != w.field || it.MemoryID != "" {
				t.Errorf("item %d: err %v, id %q; want a validation error for %s", i, it.Err, it.MemoryID, w.field)
			}
		default:
			if it.Err != nil || it.MemoryID == "" {
				t.Errorf("item %d: err %v, id %q", i, it.Err, it.MemoryID)
			}
		}
	}
	if res.Items[3].MemoryID != existing.Memory.ID || res.Items[6].MemoryID != res.Items[5].MemoryID {
		t.Errorf("skipped items name %s and %s", res.Items[3].MemoryID, res.Items[6].MemoryID)
	}
	if res.Succeeded != 3 || res.Failed != 4 || res.Skipped != 2 {
		t.Errorf("counts %d/%d/%d", res.Succeeded, res.Failed, res.Skipped)
	}
	if n := emb.calls.Load(); n != 1 {
		t.Errorf("%d embedder calls, want 1", n)
	}
	if res.Timing.Total <= 0 || res.Timing.Embedding <= 0 || res.Timing.Database <= 0 || res.Timing.Total < res.Timing.Database {
		t.Errorf("timing %+v", res.Timing)
	}
	// Stored items are readable at once, with their agents.
	for i, agent := range map[int]string{0: "bot", 4: "own", 5: "bot"} {
		m, err := r.Account(acct).Memories().Get(ctx, res.Items[i].MemoryID)
		if err != nil || m.Content != in[i].Content || m.AgentID != agent {
			t.Errorf("item %d: %+v %v", i, m, err)
		}
	}
	// The failed session item created nothing, not even its agent.
	db := rawDB(t, path)
	if n := count(t, db, "SELECT count(*) FROM agents WHERE name = 'ghost-agent'"); n != 0 {
		t.Errorf("the failed item's agent was created")
	}
	if n := count(t, db, "SELECT count(*) FROM memories"); n != 4 {
		t.Errorf("%d memories, want 4", n)
	}
}

func TestCreateMemoriesLimits(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	for _, n := range []int{0, memory.MaxBatch + 1} {
		_, err := r.Account(acct).Memories().CreateBatch(ctx, memory.BatchParams{Memories: make([]memory.NewMemory, n)})
		var verr *memory.ValidationError
		if !errors.As(err, &verr) || verr.Field() != "Memories" {
			t.Errorf("%d items: %v", n, err)
		}
	}
	full := make([]memory.NewMemory, memory.MaxBatch)
	for i := range full {
		full[i].Content = fmt.Sprintf("memory number %d", i)
	}
	res, err := r.Account(acct).Memories().CreateBatch(ctx, memory.BatchParams{Memories: full})
	if err != nil || res.Succeeded != memory.MaxBatch {
		t.Fatalf("%d succeeded, %v", res.Succeeded, err)
	}
}

func TestCreateMemoriesEmbedderFailure(t *testing.T) {
	unit := func(n int) []float32 { v := make([]float32, n); v[0] = 1; return v }
	for _, c := range []struct {
		name    string
		embed   func([]string) ([][]float32, error)
		wantErr bool
		failed  int
	}{
		{"error", func([]string) ([][]float32, error) { return nil, errors.New("down") }, true, 0},
		{"too few vectors", func(t []string) ([][]float32, error) { return [][]float32{unit(4)}, nil }, true, 0},
		{"one bad vector", func(t []string) ([][]float32, error) {
			out := make([][]float32, len(t))
			for i := range out {
				out[i] = unit(4)
				out[i][1] = float32(i)
			}
			out[1][2] = float32(math.NaN())
			return out, nil
		}, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			r, path := open(t, memoryrelay.Options{Embedder: fakeEmbedder{dim: 4, embed: c.embed}})
			acct := account(t, r)
			in := []memory.NewMemory{{Content: "a"}, {Content: "b"}, {Content: "c"}}
			res, err := r.Account(acct).Memories().CreateBatch(ctx, memory.BatchParams{Memories: in})
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v", err)
			}
			stored := count(t, rawDB(t, path), "SELECT count(*) FROM memories")
			if c.wantErr {
				if stored != 0 {
					t.Errorf("%d memories stored after a failed batch", stored)
				}
				return
			}
			if res.Failed != c.failed || res.Items[1].Status != memory.BatchFailed || errors.Is(res.Items[1].Err, memoryrelay.ErrInvalid) {
				t.Errorf("%+v", res)
			}
			if stored != len(in)-c.failed {
				t.Errorf("%d stored", stored)
			}
		})
	}
}

// BenchmarkCreateMemories stores batches of 100 and 1000 memories of ~100
// characters with the built-in embedder, end to end through the facade.
func BenchmarkCreateMemories(b *testing.B) {
	for _, c := range []struct {
		n    int
		sync string
	}{{100, "FULL"}, {100, "NORMAL"}, {1000, "FULL"}, {1000, "NORMAL"}} {
		b.Run(fmt.Sprintf("n=%d/sync=%s", c.n, c.sync), func(b *testing.B) {
			ctx := context.Background()
			r, _ := open(b, memoryrelay.Options{Synchronous: c.sync})
			acct := account(b, r)
			batch := make([]memory.NewMemory, c.n)
			round := 0
			var emb, db float64
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					batch[i] = memory.NewMemory{AgentID: "bench",
						Content: fmt.Sprintf("Memory %d/%d: the user mentioned that project %d ships on day %d and prefers terse reviews.", round, i, i%97, i%31)}
				}
				round++
				res, err := r.Account(acct).Memories().CreateBatch(ctx, memory.BatchParams{Memories: batch})
				if err != nil || res.Succeeded != len(batch) {
					b.Fatal(res.Failed, err)
				}
				emb += float64(res.Timing.Embedding.Microseconds()) / 1000
				db += float64(res.Timing.Database.Microseconds()) / 1000
			}
			b.ReportMetric(emb/float64(round), "embed-ms/op")
			b.ReportMetric(db/float64(round), "db-ms/op")
			b.ReportMetric(float64(round*c.n)/b.Elapsed().Seconds(), "memories/s")
		})
	}
}

// Example_batch stores several memories with one embedder call: items
// stand alone, and a duplicate is skipped.
func Example_batch() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "memoryrelay-example")
	defer os.RemoveAll(dir)
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	acct, _ := r.CreateAccount(ctx, "acme")

	res, err := r.Account(acct.ID).Memories().CreateBatch(ctx, memory.BatchParams{AgentID: "assistant", Memories: []memory.NewMemory{
		{Content: "The user prefers TypeScript."},
		{Content: " "},
		{Content: "The user prefers TypeScript!", Deduplicate: true},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, it := range res.Items {
		fmt.Println(i, it.Status, it.Err)
	}
	fmt.Println(res.Succeeded, res.Failed, res.Skipped)
	// Output:
	// 0 success <nil>
	// 1 failed Content must be 1-51200 characters and not blank
	// 2 skipped <nil>
	// 1 1 1
}
