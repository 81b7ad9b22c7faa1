package memoryrelay_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestMaxTextCandidates: reading SQLite's full-text table (ExactSearch),
// past the budget, keyword search matches only the query's rarest terms,
// so memories sharing nothing but a common term are not scored; within
// it, every term counts. The in-process index needs no budget: it scores
// every memory that could rank.
func TestMaxTextCandidates(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		budget int
		exact  bool
		want   int
	}{{5, true, 1}, {0, true, 11}, {5, false, 11}} {
		t.Run(fmt.Sprint("budget ", c.budget, " exact ", c.exact), func(t *testing.T) {
			r, _ := open(t, memoryrelay.Options{MaxTextCandidates: c.budget, ExactSearch: c.exact})
			if err := r.WaitSearchIndex(ctx); err != nil {
				t.Fatal(err)
			}
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
