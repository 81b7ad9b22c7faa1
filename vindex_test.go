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

func semantic(t *testing.T, r *memoryrelay.Relay, acct, q string, p memory.SearchParams) []memory.Hit {
	t.Helper()
	p.Query, p.Mode = q, "semantic"
	hits, err := r.Account(acct).Memories().Search(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func has(hits []memory.Hit, id string) bool {
	for _, h := range hits {
		if h.Memory.ID == id {
			return true
		}
	}
	return false
}

// TestVectorIndexFollowsOtherWriters: two Relays on one file stand for
// two processes. Writes through one are seen by the other's in-process
// index at its next search, deletes and visibility changes included.
func TestVectorIndexFollowsOtherWriters(t *testing.T) {
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
	if hits := semantic(t, b, acct, "the lighthouse keeper feeds the gulls at dawn", memory.SearchParams{}); !has(hits, m.Memory.ID) || hits[0].Score < 0.99 {
		t.Fatalf("b does not see a's new memory: %+v", hits)
	}
	content := "the baker bakes sourdough bread at night"
	if _, err := a.Account(acct).Memories().Update(ctx, m.Memory.ID, memory.MemoryPatch{Content: &content}); err != nil {
		t.Fatal(err)
	}
	if hits := semantic(t, b, acct, content, memory.SearchParams{}); len(hits) == 0 || hits[0].Memory.ID != m.Memory.ID || hits[0].Score < 0.99 {
		t.Fatalf("b does not see a's update: %+v", hits)
	}
	conf := "confidential"
	if _, err := b.Account(acct).Memories().Update(ctx, m.Memory.ID, memory.MemoryPatch{Visibility: &conf}); err != nil {
		t.Fatal(err)
	}
	if hits := semantic(t, a, acct, content, memory.SearchParams{}); has(hits, m.Memory.ID) {
		t.Fatal("a confidential memory is found by a default search")
	}
	if hits := semantic(t, a, acct, content, memory.SearchParams{IncludeConfidential: true}); !has(hits, m.Memory.ID) {
		t.Fatal("include_confidential does not find it")
	}
	if err := b.Account(acct).Memories().Delete(ctx, m.Memory.ID); err != nil {
		t.Fatal(err)
	}
	if hits := semantic(t, a, acct, content, memory.SearchParams{IncludeConfidential: true}); has(hits, m.Memory.ID) {
		t.Fatal("a still finds a memory b deleted")
	}
}

// TestVectorIndexMatchesExactSearch: on a few thousand memories in two
// accounts, with and without filters, the index returns what the exact
// SQLite scan returns, with the same scores: to 1e-4 with float32
// vectors; to 3e-3 with int8 ones, where the scan compares the query's
// int8 code with each row's (the index, the query's float32 with the
// row's code).
func TestVectorIndexMatchesExactSearch(t *testing.T) {
	t.Run("int8", func(t *testing.T) { vectorIndexMatchesExact(t, "int8", 3e-3) })
	t.Run("float32", func(t *testing.T) { vectorIndexMatchesExact(t, "float32", 1e-4) })
}

func vectorIndexMatchesExact(t *testing.T, enc string, tol float64) {
	ctx := context.Background()
	fast, path := open(t, memoryrelay.Options{Synchronous: "OFF", VectorEncoding: enc})
	acct := account(t, fast)
	other := account(t, fast)
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega")
	text := func() string {
		ws := make([]string, 5+rng.IntN(8))
		for i := range ws {
			ws[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(ws, " ")
	}
	mine := map[string]bool{} // the ids of acct's memories
	for i := 0; i < 3000; i++ {
		a := acct
		if i%3 == 0 {
			a = other
		}
		imp := rng.Float64()
		user := fmt.Sprintf("user-%d", i%3)
		res, err := fast.Account(a).Memories().Create(ctx, memory.NewMemory{Content: text(), AgentID: fmt.Sprintf("agent-%d", i%7), Importance: &imp, UserID: &user})
		if err != nil {
			t.Fatal(err)
		}
		if a == acct {
			mine[res.Memory.ID] = true
		}
	}
	exact, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, ExactSearch: true, VectorEncoding: enc})
	if err != nil {
		t.Fatal(err)
	}
	defer exact.Close()
	// A second index, built from the database at Open (in the
	// background), must agree too.
	reopened, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, VectorEncoding: enc})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	for _, r := range []*memoryrelay.Relay{fast, reopened} {
		if err := r.WaitSearchIndex(ctx); err != nil {
			t.Fatal(err)
		}
	}
	same, total := 0, 0
	for q := 0; q < 60; q++ {
		p := memory.SearchParams{Limit: 10}
		agent, user, minImp, tier := fmt.Sprintf("agent-%d", q%7), fmt.Sprintf("user-%d", q%3), 0.5, "hot"
		switch q % 5 {
		case 1:
			p.AgentID = &agent
		case 2:
			p.UserID = &user
		case 3:
			p.AgentID, p.MinImportance = &agent, &minImp
		case 4:
			p.Tier = &tier // importance ≥ 0.8 made these hot
		}
		query := text()
		got := semantic(t, []*memoryrelay.Relay{fast, reopened}[q%2], acct, query, p)
		want := semantic(t, exact, acct, query, p)
		if len(got) != len(want) {
			t.Fatalf("query %d: %d hits, exact has %d", q, len(got), len(want))
		}
		wantIDs := map[string]bool{}
		for _, h := range want {
			wantIDs[h.Memory.ID] = true
		}
		for i, h := range got {
			if !mine[h.Memory.ID] {
				t.Fatalf("hit from another account")
			}
			if (p.AgentID != nil && h.Memory.AgentID != *p.AgentID) || (p.UserID != nil && *h.Memory.UserID != *p.UserID) ||
				(p.MinImportance != nil && h.Memory.Importance < *p.MinImportance) || (p.Tier != nil && h.Memory.Tier != *p.Tier) {
				t.Fatalf("filter ignored: %+v", h.Memory)
			}
			if d := h.Score - want[i].Score; d > tol || d < -tol {
				t.Errorf("query %d rank %d: score %.5f, exact %.5f", q, i, h.Score, want[i].Score)
			}
			if wantIDs[h.Memory.ID] {
				same++
			}
			total++
		}
	}
	if recall := float64(same) / float64(total); recall < 0.99 {
		t.Fatalf("recall@10 against exact search: %.3f", recall)
	}
}
