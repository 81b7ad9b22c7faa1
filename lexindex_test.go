package memoryrelay_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

func keyword(t *testing.T, r *memoryrelay.Relay, acct, q string, p memory.SearchParams) []memory.Hit {
	t.Helper()
	p.Query, p.Mode = q, "keyword"
	hits, err := r.Account(acct).Memories().Search(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestLexicalIndexFollowsOtherWriters: two Relays on one file stand for
// two processes; the text one writes, rewrites, hides or deletes is what
// the other's keyword search finds next.
func TestLexicalIndexFollowsOtherWriters(t *testing.T) {
	ctx := context.Background()
	a, path := open(t, memoryrelay.Options{})
	b, _ := open(t, memoryrelay.Options{Path: path})
	for _, r := range []*memoryrelay.Relay{a, b} {
		if err := r.WaitSearchIndex(ctx); err != nil {
			t.Fatal(err)
		}
	}
	acct := account(t, a)
	m, err := a.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "the lighthouse keeper feeds the gulls at dawn"})
	if err != nil {
		t.Fatal(err)
	}
	if hits := keyword(t, b, acct, "lighthouse keeper", memory.SearchParams{}); !has(hits, m.Memory.ID) {
		t.Fatalf("b does not find a's new memory: %+v", hits)
	}
	content := "the baker bakes sourdough bread at night"
	if _, err := a.Account(acct).Memories().Update(ctx, m.Memory.ID, memory.MemoryPatch{Content: &content}); err != nil {
		t.Fatal(err)
	}
	if hits := keyword(t, b, acct, "lighthouse keeper", memory.SearchParams{}); has(hits, m.Memory.ID) {
		t.Fatalf("b finds a's old text: %+v", hits)
	}
	if hits := keyword(t, b, acct, "sourdough", memory.SearchParams{}); !has(hits, m.Memory.ID) {
		t.Fatalf("b does not find a's new text: %+v", hits)
	}
	conf := "confidential"
	if _, err := b.Account(acct).Memories().Update(ctx, m.Memory.ID, memory.MemoryPatch{Visibility: &conf}); err != nil {
		t.Fatal(err)
	}
	if hits := keyword(t, a, acct, "sourdough", memory.SearchParams{}); has(hits, m.Memory.ID) {
		t.Fatal("a confidential memory is found by a default keyword search")
	}
	if hits := keyword(t, a, acct, "sourdough", memory.SearchParams{IncludeConfidential: true}); !has(hits, m.Memory.ID) {
		t.Fatal("include_confidential does not find it")
	}
	if err := b.Account(acct).Memories().Delete(ctx, m.Memory.ID); err != nil {
		t.Fatal(err)
	}
	if hits := keyword(t, a, acct, "sourdough", memory.SearchParams{IncludeConfidential: true}); has(hits, m.Memory.ID) {
		t.Fatal("a still finds a memory b deleted")
	}
}

// TestLexicalIndexMatchesFTS4: on a few thousand memories in two
// accounts, keyword and hybrid search through the in-process index (built
// while writing, and built at Open) score exactly what ExactSearch scores
// from every FTS4 match, with and without filters.
func TestLexicalIndexMatchesFTS4(t *testing.T) {
	ctx := context.Background()
	fast, path := open(t, memoryrelay.Options{Synchronous: "OFF"})
	acct := account(t, fast)
	other := account(t, fast)
	rng := rand.New(rand.NewPCG(5, 6))
	words := strings.Fields("harbour lantern ferry noon dawn river stone bridge garden market tower bell rain keeper gull " +
		"sourdough baker night tide lighthouse cliff storm sail anchor rope")
	text := func(lo, hi int) string {
		ws := make([]string, lo+rng.IntN(hi-lo+1))
		for i := range ws {
			ws[i] = words[min(rng.IntN(len(words)), rng.IntN(len(words)))] // skewed: some words common
		}
		return strings.Join(ws, " ")
	}
	for i := 0; i < 2000; i++ {
		a := acct
		if i%3 == 0 {
			a = other
		}
		imp := rng.Float64()
		if _, err := fast.Account(a).Memories().Create(ctx, memory.NewMemory{Content: text(3, 14), AgentID: fmt.Sprintf("agent-%d", i%7), Importance: &imp}); err != nil {
			t.Fatal(err)
		}
	}
	exact, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, ExactSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer exact.Close()
	reopened, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	for _, r := range []*memoryrelay.Relay{fast, reopened} {
		if err := r.WaitSearchIndex(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for q := 0; q < 40; q++ {
		p := memory.SearchParams{Limit: 10, Mode: []string{"keyword", "hybrid"}[q%2]}
		agent, minImp := fmt.Sprintf("agent-%d", q%7), 0.5
		switch q % 4 {
		case 1:
			p.AgentID = &agent
		case 2:
			p.AgentID, p.MinImportance = &agent, &minImp
		}
		p.Query = text(1, 4)
		got, err := []*memoryrelay.Relay{fast, reopened}[q%3%2].Account(acct).Memories().Search(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := exact.Account(acct).Memories().Search(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("query %d %+v: %d hits, FTS4 has %d", q, p, len(got), len(want))
		}
		for i := range got {
			if got[i].Score != want[i].Score {
				t.Fatalf("query %d %q (%s) rank %d: score %v, FTS4 %v", q, p.Query, p.Mode, i, got[i].Score, want[i].Score)
			}
			if p.AgentID != nil && got[i].Memory.AgentID != *p.AgentID {
				t.Fatalf("filter ignored: %+v", got[i].Memory)
			}
		}
	}
}
