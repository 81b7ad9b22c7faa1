package limiter_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/limiter"
)

// BenchmarkAllow measures one existing key with the real clock: "allowed"
// has a limit high enough never to deny, "denied" is spent.
func BenchmarkAllow(b *testing.B) {
	for _, bc := range []struct {
		name  string
		limit int
	}{{"allowed", 1 << 40}, {"denied", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			l := newLocal(b, limiter.Options{})
			ctx := context.Background()
			l.Allow(ctx, "key", bc.limit)
			b.ReportAllocs()
			for b.Loop() {
				l.Allow(ctx, "key", bc.limit)
			}
		})
	}
}

// BenchmarkAllowAt is BenchmarkAllow without the cost of reading the clock.
func BenchmarkAllowAt(b *testing.B) {
	l := newLocal(b, limiter.Options{})
	now := time.Now()
	l.AllowAt("key", 0, now)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		l.AllowAt("key", 0, now)
	}
}

// BenchmarkAllowParallel spreads requests from all goroutines over 10,000
// existing keys.
func BenchmarkAllowParallel(b *testing.B) {
	const n = 10_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("mem_live_%032d", i)
	}
	l := newLocal(b, limiter.Options{})
	ctx := context.Background()
	for _, k := range keys {
		l.Allow(ctx, k, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(ctx, keys[i%n], 0)
			i += 7
		}
	})
}

// BenchmarkAllowNewKeys measures churn: every request is a key not tracked,
// with MaxKeys reached, so each one evicts.
func BenchmarkAllowNewKeys(b *testing.B) {
	const n = 1 << 16
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("mem_live_%032d", i)
	}
	l := newLocal(b, limiter.Options{MaxKeys: 1000})
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.AllowAt(keys[i%n], 0, now)
		i++
	}
}
