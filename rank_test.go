package memoryrelay_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/rank"
	"github.com/memoryrelay/memoryrelay/memory"
)

// rankRows is how many patterns and decisions the ranking-memory tests
// store, each with its big column (example_code, alternatives) at its
// maximum: 200 × 50,000 characters, 10 MB in all.
const rankRows = 200

// bigRanked stores rankRows patterns and decisions whose example_code and
// alternatives are at their maximum, titles and bodies short.
func bigRanked(tb testing.TB, r *memoryrelay.Relay, acct string) {
	tb.Helper()
	ctx := context.Background()
	code := strings.Repeat("x", memory.MaxPatternExampleCode)
	alts := strings.Repeat("y", memory.MaxDecisionAlternatives)
	for i := range rankRows {
		if _, err := r.Account(acct).Patterns().Create(ctx, memory.NewPattern{Title: fmt.Sprintf("retry pattern %d", i),
			Description: "Retry idempotent calls with exponential backoff.", ExampleCode: &code}); err != nil {
			tb.Fatal(err)
		}
		if _, err := r.Account(acct).Decisions().Create(ctx, memory.NewDecision{Title: fmt.Sprintf("use postgres %d", i),
			Rationale: "We need transactions and a mature ecosystem.", Alternatives: &alts}); err != nil {
			tb.Fatal(err)
		}
	}
}

// allocated returns the bytes the Go heap allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestRankingReadsOnlyWhatItRanks is issue 8 §4: pattern search and
// decision check read every candidate row whole (30 patterns with 8 MiB of
// example_code and four concurrent searches of limit 1 reached 2.29 GB
// RSS). Now the candidates are bounded (rank.MaxCandidates) and streamed,
// and only their titles and bodies are read; the big column is read for
// the hit alone. With 200 rows whose example_code or alternatives are at
// their 50,000-character maximum (10 MB in all), a search of limit 1
// allocates a small fraction of that: well under one tenth (the figure
// is logged; about 0.2 MB when this was written, against more than 10 MB
// before).
func TestRankingReadsOnlyWhatItRanks(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{Synchronous: "OFF"})
	acct := account(t, r)
	bigRanked(t, r, acct)
	const sum = rankRows * 50_000
	var hits int
	pat := allocated(func() {
		ps, err := r.Account(acct).Patterns().Search(ctx, memory.PatternSearchParams{Query: "retry pattern 7", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		hits = len(ps)
		if hits == 1 && (ps[0].Pattern.ExampleCode == nil || len(*ps[0].Pattern.ExampleCode) != memory.MaxPatternExampleCode) {
			t.Errorf("the hit's example_code was not read whole")
		}
	})
	if hits != 1 {
		t.Fatalf("%d pattern hits", hits)
	}
	dec := allocated(func() {
		ds, err := r.Account(acct).Decisions().Check(ctx, memory.DecisionCheckParams{Query: "use postgres 7", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		hits = len(ds)
	})
	if hits != 1 {
		t.Fatalf("%d decision hits", hits)
	}
	t.Logf("search of limit 1 over %d rows of %d bytes (%d in all): patterns allocated %d bytes, decisions %d bytes", rankRows, 50_000, sum, pat, dec)
	if pat > sum/10 || dec > sum/10 {
		t.Errorf("allocated %d (patterns) and %d (decisions) bytes; the rows hold %d", pat, dec, sum)
	}
}

// BenchmarkPatternSearchBigRows reports the bytes one pattern search of
// limit 1 allocates (B/op) over 200 patterns whose example_code is at its
// 50,000-character maximum (10 MB in all).
func BenchmarkPatternSearchBigRows(b *testing.B) {
	ctx := context.Background()
	r, _ := open(b, memoryrelay.Options{Synchronous: "OFF"})
	acct := account(b, r)
	bigRanked(b, r, acct)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Account(acct).Patterns().Search(ctx, memory.PatternSearchParams{Query: "retry pattern 7", Limit: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRankingCandidatesAreBounded: decision check ranks only the
// rank.MaxCandidates decisions whose embeddings are nearest the query. A
// decision quoting the query as its title (a lexical score of 1) but whose
// long rationale puts its embedding farthest of all is found while it is
// among them, and no longer once rank.MaxCandidates nearer ones exist.
func TestRankingCandidatesAreBounded(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{Synchronous: "OFF"})
	acct := account(t, r)
	const query = "store sessions in postgres"
	far, err := r.Account(acct).Decisions().Create(ctx, memory.NewDecision{Title: query,
		Rationale: strings.Repeat("zebra quantum violin harbour meadow lantern ", 300)})
	if err != nil {
		t.Fatal(err)
	}
	first := func() string {
		hits, err := r.Account(acct).Decisions().Check(ctx, memory.DecisionCheckParams{Query: query, Limit: 1})
		if err != nil || len(hits) != 1 {
			t.Fatalf("check: %v %v", hits, err)
		}
		return hits[0].Decision.ID
	}
	for i := range rank.MaxCandidates {
		if _, err := r.Account(acct).Decisions().Create(ctx, memory.NewDecision{Title: fmt.Sprintf("sessions %d", i),
			Rationale: "store sessions in postgres tables"}); err != nil {
			t.Fatal(err)
		}
		if i == rank.MaxCandidates-2 && first() != far.ID {
			t.Fatalf("with %d nearer decisions the verbatim title is not first", i+1)
		}
	}
	if first() == far.ID {
		t.Errorf("with %d nearer decisions the farthest one was still ranked", rank.MaxCandidates)
	}
}
