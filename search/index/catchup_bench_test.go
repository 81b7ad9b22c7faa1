package index_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// BenchmarkCatchUp measures the index's catch-up work per memory written
// (issue 12 item 5: ≤ 1 ms): each round commits a batch of 100 memories
// (384 dimensions, ~16 words of text) to a SQLite store holding 2,000,
// untimed, then times the first search after it, which applies the batch
// (vectors, attributes and, where the index has one, the lexical index).
// "search-only" times the same search with nothing to apply; the
// difference, over 100, is the work per memory.
func BenchmarkCatchUp(b *testing.B) {
	const dim, preload, batch = 384, 2000, 100
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "store.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	acct, err := st.CreateAccount(ctx, "acct", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	insert := func(count int) {
		items := make([]store.BatchItem, count)
		now := time.Now().UTC()
		for i := range items {
			vec := make([]float32, dim)
			for j := range vec {
				vec[j] = rng.Float32() - 0.5
			}
			content := fmt.Sprintf("memory %d: the user mentioned that project %d ships on day %d and prefers terse reviews of lighthouse %d", n, n%97, n%31, n%1013)
			n++
			items[i] = store.BatchItem{Memory: &store.Memory{ID: uuid.New(), AccountID: acct.ID, AgentRef: "agent", Content: content,
				Visibility: "private", Importance: 0.5, Tier: "hot", Scope: "long-term", CreatedAt: now, UpdatedAt: now},
				Index: store.Indexed{Vector: vec, Terms: content}}
		}
		if _, err := st.InsertMemories(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
	for range preload / batch {
		insert(batch)
	}
	feed, err := st.OpenVectorFeed(ctx)
	if err != nil {
		b.Fatal(err)
	}
	v, err := index.Open(ctx, feed, st, vector.IndexOptions{Dim: dim})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	f := search.Filter{AccountID: acct.ID}
	q := make([]float32, dim)
	for j := range q {
		q[j] = rng.Float32() - 0.5
	}
	deadline := time.Now().Add(time.Minute)
	for v.Len() < preload && time.Now().Before(deadline) {
		if _, err := v.Search(ctx, f, q, 10); err != nil {
			b.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Run("search-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.Search(ctx, f, q, 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("after-100-writes", func(b *testing.B) {
		var spent time.Duration
		rounds := 0
		for b.Loop() {
			b.StopTimer()
			insert(batch)
			b.StartTimer()
			t0 := time.Now()
			if _, err := v.Search(ctx, f, q, 10); err != nil {
				b.Fatal(err)
			}
			spent += time.Since(t0)
			rounds++
		}
		b.ReportMetric(float64(spent.Microseconds())/float64(rounds*batch), "µs/memory")
	})
}
