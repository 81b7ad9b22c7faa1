package memoryrelay_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// BenchmarkAuthorize is the per-request cost of auth: key verification
// with a warm cache, scope check and a rate-limit token.
func BenchmarkAuthorize(b *testing.B) {
	ctx := context.Background()
	r, _ := open(b, memoryrelay.Options{RateLimit: 1 << 30})
	acct := account(b, r)
	_, tok, err := r.Account(acct).Keys().Create(ctx, memory.NewKey{Name: "bench", Scopes: scopes.NewSet(scopes.Read, scopes.Write)})
	if err != nil {
		b.Fatal(err)
	}
	raw := tok.Reveal()
	if _, err := r.Authorize(ctx, raw, scopes.Read); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Authorize(ctx, raw, scopes.Write); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := r.Authorize(ctx, raw, scopes.Write); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkCreateMemory stores ~100-character memories with the built-in
// embedder, at each synchronous setting, and reports the median latency.
func BenchmarkCreateMemory(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			ctx := context.Background()
			r, _ := open(b, memoryrelay.Options{Synchronous: sync})
			acct := account(b, r)
			lat := make([]time.Duration, 0, b.N)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				text := fmt.Sprintf("Memory %d: the user mentioned that project %d ships on day %d and prefers terse reviews.", i, i%97, i%31)
				i++
				t0 := time.Now()
				if _, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: text, AgentID: "bench"}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
