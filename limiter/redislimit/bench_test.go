package redislimit_test

import (
	"context"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/redistest"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/limiter/redislimit"
)

// BenchmarkAllow compares one decision in process (Local) with one in
// Redis on loopback (a script call), serial and parallel, for a key with
// a limit high enough never to deny.
func BenchmarkAllow(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	const limit = 1 << 40
	local, err := limiter.NewLocal(limiter.Options{})
	if err != nil {
		b.Fatal(err)
	}
	remote := newLimiter(b, newClient(b, srv), redislimit.Options{Prefix: freshPrefix()})
	for _, bc := range []struct {
		name string
		lim  limiter.Limiter
	}{{"local", local}, {"redis", remote}} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := bc.lim.Allow(ctx, "key", limit); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.lim.Allow(ctx, "key", limit); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bc.lim.Allow(ctx, "key", limit); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
