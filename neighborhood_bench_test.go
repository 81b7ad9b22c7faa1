package memoryrelay_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

var neighborhoodEntities = flag.Int("neighborhood.entities", 1000, "entities in BenchmarkNeighborhood's graph (BENCHMARKS.md uses 10000)")

// BenchmarkNeighborhood measures an entity neighbourhood query of depth 3
// (at most 50 neighbours) on a graph of -neighborhood.entities entities,
// each linked to 3 of 2×entities memories, so that entities meet through
// shared memories. It reports the median latency.
func BenchmarkNeighborhood(b *testing.B) {
	ctx := context.Background()
	r, _ := open(b, memoryrelay.Options{Synchronous: "OFF"})
	acct := account(b, r)
	n := *neighborhoodEntities
	var memIDs []string
	for len(memIDs) < 2*n {
		batch := make([]memory.NewMemory, 0, 1000)
		for i := 0; i < 1000 && len(memIDs)+len(batch) < 2*n; i++ {
			batch = append(batch, memory.NewMemory{Content: fmt.Sprintf("memory %d", len(memIDs)+i)})
		}
		res, err := r.Account(acct).Memories().CreateBatch(ctx, memory.BatchParams{Memories: batch, AgentID: "graph"})
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range res.Items {
			memIDs = append(memIDs, it.MemoryID)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ents := make([]string, n)
	for i := range ents {
		e, err := r.Account(acct).Entities().Create(ctx, memory.NewEntity{Name: fmt.Sprintf("entity %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		ents[i] = e.ID
		for j := 0; j < 3; j++ {
			if _, _, err := r.Account(acct).Entities().Link(ctx, memory.NewEntityLink{EntityID: e.ID, MemoryID: memIDs[rng.IntN(len(memIDs))]}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var lat []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := r.Account(acct).Entities().Neighborhood(ctx, ents[i%n], memory.NeighborhoodParams{Depth: 3}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		i += 7
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}

// denseGraph gives the account n entities and n memories, every entity
// linked to every memory (n² links, written in one statement below the
// API), and returns the entity ids. It is the graph of issue 8 §4: at
// n = 220 and depth 5 an unbounded walk took seconds.
func denseGraph(tb testing.TB, r *memoryrelay.Relay, path, acct string, n int) []string {
	tb.Helper()
	ctx := context.Background()
	batch := make([]memory.NewMemory, n)
	for i := range batch {
		batch[i] = memory.NewMemory{Content: fmt.Sprintf("dense memory %d", i), AgentID: "graph"}
	}
	if _, err := r.Account(acct).Memories().CreateBatch(ctx, memory.BatchParams{Memories: batch}); err != nil {
		tb.Fatal(err)
	}
	ents := make([]string, n)
	for i := range ents {
		e, err := r.Account(acct).Entities().Create(ctx, memory.NewEntity{Name: fmt.Sprintf("dense entity %03d", i)})
		if err != nil {
			tb.Fatal(err)
		}
		ents[i] = e.ID
	}
	writeDB(tb, path, `INSERT INTO entity_links(entity_id, memory_id, relationship, created_at)
		SELECT e.id, m.id, 'mentioned_in', 0 FROM entities e, memories m WHERE e.account_id = ?1 AND m.account_id = ?1`, acct)
	return ents
}

// BenchmarkNeighborhoodDense measures the walk of issue 8 §4: depth 5, at
// most 100 neighbours, from one entity of a complete graph of 220 entities
// and 220 memories (48,400 links). It reports the median latency and the
// links the walk read.
func BenchmarkNeighborhoodDense(b *testing.B) {
	ctx := context.Background()
	r, path := open(b, memoryrelay.Options{Synchronous: "OFF"})
	acct := account(b, r)
	ents := denseGraph(b, r, path, acct, 220)
	var lat []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		n, err := r.Account(acct).Entities().Neighborhood(ctx, ents[i%len(ents)], memory.NeighborhoodParams{Depth: 5, MaxNeighbors: 100})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		if len(n.Neighbors) != 100 {
			b.Fatalf("%d neighbours", len(n.Neighbors))
		}
		i += 7
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
