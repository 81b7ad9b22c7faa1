package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// BenchmarkRows reads ten random memories by sequence number, as a search
// reads its hits (the rows, then their entities), from a store of 20,000,
// with prepared statements kept per connection (the default) and without.
//
//	go test -run '^$' -bench BenchmarkRows -count 3 ./internal/store/sqlite
func BenchmarkRows(b *testing.B) {
	const n = 20_000
	for _, c := range []struct {
		name  string
		cache int
	}{{"statements=kept", 0}, {"statements=none", -1}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			st, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "rows.db"), Synchronous: "OFF", StatementCache: c.cache})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			acct, err := st.CreateAccount(ctx, "bench", t0)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i += 1000 {
				batch := make([]store.BatchItem, 1000)
				for j := range batch {
					id := fmt.Sprintf("m-%d", i+j)
					batch[j] = store.BatchItem{Memory: &store.Memory{ID: id, AccountID: acct.ID, AgentRef: "bot", Content: "memory " + id,
						Visibility: "private", Tier: "warm", Scope: "long-term", CreatedAt: t0, UpdatedAt: t0},
						Index: store.Indexed{Vector: vecOf(0, 1, 0, 0), Terms: id}}
				}
				if _, err := st.InsertMemories(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(1, 2))
			seqs := make([]int64, 10)
			b.ResetTimer()
			for range b.N {
				base := rng.Int64N(n)
				for i := range seqs { // distinct, scattered
					seqs[i] = 1 + (base+int64(i)*1999)%n
				}
				rows, err := st.Rows(ctx, acct.ID, seqs)
				if err != nil || len(rows) != len(seqs) {
					b.Fatal(len(rows), err)
				}
			}
		})
	}
}
