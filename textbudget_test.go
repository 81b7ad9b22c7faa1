package memoryrelay_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestMaxTextCandidates: past the budget, keyword search matches only the
// query's rarest terms, so memories sharing nothing but a common term are
// not scored; within it, every term counts.
func TestMaxTextCandidates(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		budget int
		want   int
	}{{5, 1}, {0, 11}} {
		t.Run(fmt.Sprint("budget ", c.budget), func(t *testing.T) {
			r, _ := open(t, memoryrelay.Options{MaxTextCandidates: c.budget})
			acct := account(t, r)
			for i := 0; i < 10; i++ {
				if _, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: fmt.Sprintf("ordinary filler note number %d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "ordinary zebra sighting"}); err != nil {
				t.Fatal(err)
			}
			hits, err := r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "ordinary zebra", Mode: "keyword", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != c.want || hits[0].Memory.Content != "ordinary zebra sighting" || hits[0].Score < 0.8 {
				t.Fatalf("%d hits, want %d; top %+v", len(hits), c.want, hits)
			}
		})
	}
}
