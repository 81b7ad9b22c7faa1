package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// testTextStats: the lexical side's counts, exactly: TermDocs over every
// account, and each candidate's statistics (the table's rows and their
// average length, rounded; the row's length and hits; each term's rows
// and occurrences in all rows), in the order of the query's terms; and
// they follow updates, deletions and rolled-back writes.
func testTextStats(t *testing.T, open Opener) {
	ctx := context.Background()
	st := openStore(t, open)
	A, B := account(t, st, "a"), account(t, st, "b")
	insert := func(ctx context.Context, acct, id, terms string) *store.Memory {
		t.Helper()
		m := newMemory(acct, id, terms)
		if err := st.InsertMemory(ctx, m, idx(terms, 1, 0, 0, 0)); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m1 := insert(ctx, A, "m1", "apple banana apple")
	m2 := insert(ctx, A, "m2", "banana cherry")
	insert(ctx, B, "m3", "apple")

	docs := func(want map[string]int, terms ...string) {
		t.Helper()
		got, err := st.TermDocs(ctx, terms)
		if err != nil || !maps.Equal(got, want) {
			t.Fatalf("TermDocs(%v) = %v, %v; want %v", terms, got, err, want)
		}
	}
	stats := func(terms []string, want map[int64]lexical.Stats) {
		t.Helper()
		cs, err := st.TextCandidates(ctx, search.Filter{AccountID: A}, terms)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]lexical.Stats{}
		for _, c := range cs {
			got[c.ID] = c.Stats
		}
		if !maps.EqualFunc(got, want, func(a, b lexical.Stats) bool {
			return a.Rows == b.Rows && a.AvgLength == b.AvgLength && a.Length == b.Length && slices.Equal(a.Terms, b.Terms)
		}) {
			t.Fatalf("TextCandidates(%v):\n got %+v\nwant %+v", terms, got, want)
		}
	}
	docs(map[string]int{"apple": 2, "banana": 2}, "apple", "banana", "zzz")
	// Three rows of 6 terms in all: an average of 2.
	stats([]string{"apple", "cherry", "zzz"}, map[int64]lexical.Stats{
		m1.Seq: {Rows: 3, AvgLength: 2, Length: 3, Terms: []lexical.TermStats{{Hits: 2, AllHits: 3, Docs: 2}, {Hits: 0, AllHits: 1, Docs: 1}, {}}},
		m2.Seq: {Rows: 3, AvgLength: 2, Length: 2, Terms: []lexical.TermStats{{Hits: 0, AllHits: 3, Docs: 2}, {Hits: 1, AllHits: 1, Docs: 1}, {}}},
	})

	// A write rolled back changes no count.
	errNo := errors.New("storetest: roll back")
	if err := st.InTx(ctx, func(ctx context.Context) error { insert(ctx, A, "m4", "apple apple apple apple"); return errNo }); !errors.Is(err, errNo) {
		t.Fatal(err)
	}
	docs(map[string]int{"apple": 2, "banana": 2}, "apple", "banana")

	// New terms for m2, m1 deleted: two rows of 4 terms.
	if _, err := st.UpdateMemory(ctx, A, "m2", func(m *store.Memory) error { m.Content = "cherry cherry date"; return nil },
		&store.Indexed{Vector: []float32{0, 1, 0, 0}, Terms: "cherry cherry date"}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMemory(ctx, A, "m1"); err != nil {
		t.Fatal(err)
	}
	docs(map[string]int{"apple": 1, "cherry": 1, "date": 1}, "apple", "banana", "cherry", "date")
	stats([]string{"date", "cherry", "apple"}, map[int64]lexical.Stats{
		m2.Seq: {Rows: 2, AvgLength: 2, Length: 3, Terms: []lexical.TermStats{{Hits: 1, AllHits: 1, Docs: 1}, {Hits: 2, AllHits: 2, Docs: 1}, {Hits: 0, AllHits: 1, Docs: 1}}},
	})
	// Terms that are not terms are not matched; a query of none matches
	// nothing.
	stats([]string{"date", "not a term", ""}, map[int64]lexical.Stats{
		m2.Seq: {Rows: 2, AvgLength: 2, Length: 3, Terms: []lexical.TermStats{{Hits: 1, AllHits: 1, Docs: 1}}},
	})
	stats([]string{"two words"}, map[int64]lexical.Stats{})
}
