package keysync_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/keysync"
	"github.com/memoryrelay/memoryrelay/internal/redistest"
	"github.com/memoryrelay/memoryrelay/keys"
)

// BenchmarkRevocationPropagation measures, per operation, the time from
// the start of Revoke on node A until node B, which held the key in its
// cache, refuses it (B polls Verify, which costs nothing but a map read
// while the key is cached). The reported ns/op is that time.
func BenchmarkRevocationPropagation(b *testing.B) {
	srv := redistest.Start(b)
	r := newRepo()
	a, nb := newNode(b, r, srv, keysync.Options{}), newNode(b, r, srv, keysync.Options{})
	waitUp(b, a, nb)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		b.StopTimer()
		k, tok, err := a.keys.Create(ctx, "acct", keys.CreateParams{Name: fmt.Sprint("k", i), Scopes: read})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := nb.keys.Verify(ctx, tok.Reveal()); err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
		start := time.Now()
		if _, err := a.keys.Revoke(ctx, "acct", k.ID); err != nil {
			b.Fatal(err)
		}
		for {
			_, err := nb.keys.Verify(ctx, tok.Reveal())
			if errors.Is(err, keys.ErrRevoked) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if time.Since(start) > 5*time.Second {
				b.Fatal("not refused after 5 s")
			}
		}
	}
}
