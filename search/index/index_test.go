package index

// The index over a feed kept in memory: what it needs of a store is only
// Feed and Store, whatever the database.

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// memStore is a store in memory with a change feed, for one account
// filter at a time: Feed (each view of it from feed) and Store.
type memStore struct {
	mu      sync.Mutex
	version int64 // bumped by every write, pruning included
	log     []Change
	next    int64 // the last position handed out
	rows    map[int64]memRow
}

type memRow struct {
	account, agent, tier string
	hidden               bool
	vec                  []float32
	text                 string
}

func newMemStore() *memStore { return &memStore{rows: map[int64]memRow{}} }

func (s *memStore) logged(id int64) {
	s.next++
	s.log = append(s.log, Change{Pos: s.next, ID: id})
	s.version++
}

// put writes row id and logs it.
func (s *memStore) put(id int64, r memRow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[id] = r
	s.logged(id)
}

// del deletes row id and logs it.
func (s *memStore) del(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rows, id)
	s.logged(id)
}

// logOnly logs n changes of row id, as writes of other rows since deleted.
func (s *memStore) logOnly(id int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.logged(id)
	}
}

// span returns the positions of the oldest and newest changes left, and
// how many there are.
func (s *memStore) span() (first, last int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) == 0 {
		return 0, 0, 0
	}
	return s.log[0].Pos, s.log[len(s.log)-1].Pos, len(s.log)
}

// feed is a view of a memStore as a Feed.
type feed struct{ s *memStore }

func (f feed) Version(context.Context) (int64, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return f.s.version, nil
}

func (f feed) Bounds(context.Context) (int64, int64, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	if len(f.s.log) == 0 {
		return 0, f.s.next, nil
	}
	return f.s.log[0].Pos, f.s.next, nil
}

func (f feed) Changes(_ context.Context, after int64, limit int) ([]Change, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	var out []Change
	for _, c := range f.s.log {
		if c.Pos > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f feed) row(id int64, r memRow) *Row {
	return &Row{ID: id, Account: []byte(r.account), Hidden: r.hidden, Vector: r.vec, Text: r.text,
		Attrs: Attrs{Agent: &r.agent, Tier: &r.tier, Scope: new(string)}}
}

func (f feed) Rows(_ context.Context, ids []int64, fn func(*Row) error) error {
	f.s.mu.Lock()
	var rows []*Row
	for _, id := range ids {
		if r, ok := f.s.rows[id]; ok {
			rows = append(rows, f.row(id, r))
		}
	}
	f.s.mu.Unlock()
	for _, r := range rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (f feed) Scan(ctx context.Context, fn func(*Row) error) error {
	f.s.mu.Lock()
	ids := make([]int64, 0, len(f.s.rows))
	for id := range f.s.rows {
		ids = append(ids, id)
	}
	f.s.mu.Unlock()
	slices.Sort(ids)
	return f.Rows(ctx, ids, fn)
}

func (f feed) Prune(_ context.Context, through int64) error {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.s.log = slices.DeleteFunc(f.s.log, func(c Change) bool { return c.Pos <= through })
	f.s.version++
	return nil
}

func (f feed) Close() error { return nil }

func (s *memStore) selects(f search.Filter, r memRow) bool {
	return r.account == f.AccountID && (!r.hidden || f.IncludeConfidential || f.IncludeArchived) &&
		(f.AgentID == nil || *f.AgentID == r.agent) && (f.Tier == nil || *f.Tier == r.tier)
}

func (s *memStore) Vectors(_ context.Context, ids []int64) (map[int64][]float32, error) {
	return s.FilterVectors(context.Background(), search.Filter{}, ids)
}

func (s *memStore) FilterVectors(_ context.Context, f search.Filter, ids []int64) (map[int64][]float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64][]float32{}
	for _, id := range ids {
		if r, ok := s.rows[id]; ok && (f.AccountID == "" || s.selects(f, r)) {
			out[id] = r.vec
		}
	}
	return out, nil
}

func (s *memStore) FilterIDs(_ context.Context, f search.Filter) (map[int64]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64]bool{}
	for id, r := range s.rows {
		if s.selects(f, r) {
			out[id] = true
		}
	}
	return out, nil
}

func (s *memStore) AgentKey(_ context.Context, _, ref string) (string, bool, error) {
	return ref, true, nil
}

func openMem(t *testing.T, s *memStore) *Index {
	t.Helper()
	v, err := Open(context.Background(), feed{s}, s, vector.IndexOptions{Dim: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func ids(t *testing.T, v *Index, f search.Filter, q ...float32) []int64 {
	t.Helper()
	ns, err := v.Search(context.Background(), f, q, 10)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// TestIndexFollowsFeed: an index sees each change of its feed at its next
// search: new rows, new vectors, attributes that filters read in memory,
// hidden rows, deletions.
func TestIndexFollowsFeed(t *testing.T) {
	s := newMemStore()
	s.put(1, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{1, 0, 0, 0}})
	v := openMem(t, s)
	all := search.Filter{AccountID: "a"}
	if got := ids(t, v, all, 1, 0, 0, 0); !slices.Equal(got, []int64{1}) {
		t.Fatalf("built: %v", got)
	}
	s.put(2, memRow{account: "a", agent: "helper", tier: "hot", vec: []float32{0.5, 0.5, 0, 0}})
	s.put(3, memRow{account: "b", agent: "bot", tier: "hot", vec: []float32{1, 0, 0, 0}})
	if got := ids(t, v, all, 1, 0, 0, 0); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("after creations: %v", got)
	}
	hot, bot := "hot", "bot"
	if got := ids(t, v, search.Filter{AccountID: "a", Tier: &hot}, 1, 0, 0, 0); !slices.Equal(got, []int64{2}) {
		t.Fatalf("tier filter: %v", got)
	}
	if got := ids(t, v, search.Filter{AccountID: "a", AgentID: &bot}, 1, 0, 0, 0); !slices.Equal(got, []int64{1}) {
		t.Fatalf("agent filter: %v", got)
	}
	s.put(1, memRow{account: "a", agent: "bot", tier: "hot", vec: []float32{0, 0, 1, 0}})
	if got := ids(t, v, search.Filter{AccountID: "a", Tier: &hot}, 0, 0, 1, 0); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("new vector and tier: %v", got)
	}
	s.put(2, memRow{account: "a", agent: "helper", tier: "hot", hidden: true, vec: []float32{0.5, 0.5, 0, 0}})
	if got := ids(t, v, all, 1, 0, 0, 0); !slices.Equal(got, []int64{1}) {
		t.Fatalf("hidden: %v", got)
	}
	if got := ids(t, v, search.Filter{AccountID: "a", IncludeConfidential: true}, 1, 0, 0, 0); !slices.Equal(got, []int64{2, 1}) {
		t.Fatalf("hidden included: %v", got)
	}
	s.del(1)
	if got := ids(t, v, all, 1, 0, 0, 0); len(got) != 0 || v.Len() != 2 {
		t.Fatalf("deleted: %v, Len %d", got, v.Len())
	}
}

// TestIndexPrunesFeed: once an index has caught up past maxLogRows
// changes, it prunes the feed to the newest maxLogRows; an index that had
// fallen behind the pruned changes notices the gap and rebuilds, finding a
// row whose change is gone.
func TestIndexPrunesFeed(t *testing.T) {
	s := newMemStore()
	lagging := openMem(t, s)
	s.put(1, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{1, 0, 0, 0}})
	// Other writers' changes (of a row since deleted), as many as the
	// feed keeps and some more: row 1's own change is the first pruned.
	const extra = 500
	s.logOnly(1000, maxLogRows+extra)
	// An index opened now starts at the feed's end; it prunes once it has
	// applied a change past maxLogRows.
	leader := openMem(t, s)
	s.put(2, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{0, 1, 0, 0}})
	if got := ids(t, leader, search.Filter{AccountID: "a"}, 1, 0, 0, 0); len(got) != 2 {
		t.Fatalf("leader: %v", got)
	}
	first, last, n := s.span()
	if n != maxLogRows || first != last-maxLogRows+1 {
		t.Fatalf("after pruning: %d changes from %d to %d, want the newest %d", n, first, last, maxLogRows)
	}
	// The lagging index's next change is gone: it rebuilds and sees both.
	rebuilds := 0
	SetRebuildHook(lagging, func() { rebuilds++ })
	if got := ids(t, lagging, search.Filter{AccountID: "a"}, 1, 0, 0, 0); len(got) != 2 || got[0] != 1 {
		t.Fatalf("lagging: %v", got)
	}
	if rebuilds != 1 || lagging.last < last {
		t.Fatalf("lagging index: %d rebuilds, at %d, feed at %d", rebuilds, lagging.last, last)
	}
	// Caught up: the next change is applied without a rebuild.
	s.del(2)
	if got := ids(t, lagging, search.Filter{AccountID: "a"}, 1, 0, 0, 0); !slices.Equal(got, []int64{1}) || rebuilds != 1 {
		t.Fatalf("after a deletion: %v, %d rebuilds", got, rebuilds)
	}
}

// textIDs returns the ids of SearchText's hits for query, best first.
func textIDs(t *testing.T, v *Index, f search.Filter, query string) []int64 {
	t.Helper()
	hs, err := v.SearchText(context.Background(), f, lexical.Terms(query), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

// TestLexicalFollowsFeed: the lexical index sees each change of the feed
// at the next search, like the vector index: new texts, changed texts,
// filtered attributes, hidden rows, deletions, rows whose vector is not
// of the index's dimension (found by their text all the same); and its
// scores are lexical.Score's over every row.
func TestLexicalFollowsFeed(t *testing.T) {
	s := newMemStore()
	s.put(1, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{1, 0, 0, 0}, text: "the ferry leaves at noon"})
	v := openMem(t, s)
	all := search.Filter{AccountID: "a"}
	if got := textIDs(t, v, all, "ferry"); !slices.Equal(got, []int64{1}) {
		t.Fatalf("built: %v", got)
	}
	s.put(2, memRow{account: "a", agent: "helper", tier: "hot", vec: []float32{0, 1, 0, 0}, text: "ferry tickets are cheap"})
	s.put(3, memRow{account: "b", agent: "bot", tier: "hot", vec: []float32{1, 0, 0, 0}, text: "ferry ferry ferry"})
	s.put(4, memRow{account: "a", agent: "bot", tier: "hot", vec: []float32{1, 0}, text: "a ferry of another model's vector"})
	if got := textIDs(t, v, all, "ferry"); !slices.Equal(got, []int64{2, 1, 4}) {
		t.Fatalf("after creations: %v", got)
	}
	if got := ids(t, v, all, 1, 0, 0, 0); slices.Contains(got, 4) {
		t.Fatalf("the vector index holds a vector of another dimension: %v", got)
	}
	hot, bot := "hot", "bot"
	if got := textIDs(t, v, search.Filter{AccountID: "a", Tier: &hot}, "ferry"); !slices.Equal(got, []int64{2, 4}) {
		t.Fatalf("tier filter: %v", got)
	}
	if got := textIDs(t, v, search.Filter{AccountID: "a", AgentID: &bot, Tier: &hot}, "ferry"); !slices.Equal(got, []int64{4}) {
		t.Fatalf("agent and tier filter: %v", got)
	}
	s.put(1, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{1, 0, 0, 0}, text: "the bus leaves at noon"})
	if got := textIDs(t, v, all, "ferry"); !slices.Equal(got, []int64{2, 4}) {
		t.Fatalf("changed text: %v", got)
	}
	if got := textIDs(t, v, all, "bus noon"); !slices.Equal(got, []int64{1}) {
		t.Fatalf("the new text: %v", got)
	}
	s.put(2, memRow{account: "a", agent: "helper", tier: "hot", hidden: true, vec: []float32{0, 1, 0, 0}, text: "ferry tickets are cheap"})
	if got := textIDs(t, v, all, "ferry"); !slices.Equal(got, []int64{4}) {
		t.Fatalf("hidden: %v", got)
	}
	if got := textIDs(t, v, search.Filter{AccountID: "a", IncludeArchived: true}, "ferry"); !slices.Equal(got, []int64{2, 4}) {
		t.Fatalf("hidden included: %v", got)
	}
	// Scores: lexical.Score over every row the index holds, as ScoreText
	// gives them too.
	q := lexical.Terms("ferry tickets")
	hs, err := v.SearchText(context.Background(), search.Filter{AccountID: "a", IncludeArchived: true}, q, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	ref := lexical.NewIndex()
	for id, r := range s.rows {
		ref.Upsert(id, 1, r.text)
	}
	want := ref.Score(1, lexical.Query{Terms: q}, []int64{2, 4})
	got, err := v.ScoreText(context.Background(), search.Filter{AccountID: "a", IncludeArchived: true}, q, []int64{2, 4, 3})
	if err != nil || len(hs) != 2 || hs[0].Score != want[0] || hs[1].Score != want[1] || got[0] != want[0] || got[1] != want[1] || got[2] != 0 {
		t.Fatalf("SearchText %v, ScoreText %v %v, want %v (and 0 for another account's)", hs, got, err, want)
	}
	if got, _ := v.ScoreText(context.Background(), all, q, []int64{2}); got[0] != 0 {
		t.Fatalf("ScoreText of a hidden memory without it included: %v", got)
	}
	s.del(4)
	if got := textIDs(t, v, all, "ferry"); len(got) != 0 {
		t.Fatalf("deleted: %v", got)
	}
	// A rebuild (the feed pruned past the index) indexes the texts anew.
	s.put(5, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{0, 0, 1, 0}, text: "ferry at dawn"})
	s.logOnly(1000, maxLogRows+10)
	other := openMem(t, s) // its catch-up prunes what v has not seen
	s.put(6, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{0, 0, 1, 0}, text: "ferry at dusk"})
	if got := textIDs(t, other, all, "ferry"); !slices.Equal(got, []int64{6, 5}) {
		t.Fatalf("after a prune: %v", got)
	}
	rebuilds := 0
	SetRebuildHook(v, func() { rebuilds++ })
	if got := textIDs(t, v, all, "ferry"); !slices.Equal(got, []int64{6, 5}) || rebuilds != 1 {
		t.Fatalf("after a rebuild: %v (%d rebuilds)", got, rebuilds)
	}
}

// TestIndexLag: Lag counts the feed's changes past the last one applied,
// grows with writes, drops to zero when a search catches up, and applies
// nothing itself.
func TestIndexLag(t *testing.T) {
	s := newMemStore()
	s.put(1, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{1, 0, 0, 0}})
	v := openMem(t, s)
	ctx := context.Background()
	lag := func() int64 {
		t.Helper()
		n, err := v.Lag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := lag(); n != 0 {
		t.Fatalf("after Open: lag %d", n)
	}
	s.put(2, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{0, 1, 0, 0}})
	s.put(3, memRow{account: "a", agent: "bot", tier: "warm", vec: []float32{0, 0, 1, 0}})
	s.del(2)
	if n := lag(); n != 3 {
		t.Fatalf("three changes unseen: lag %d", n)
	}
	if n := lag(); n != 3 || v.Len() != 1 {
		t.Fatalf("Lag applied something: lag %d, Len %d", n, v.Len())
	}
	ids(t, v, search.Filter{AccountID: "a"}, 1, 0, 0, 0)
	if n := lag(); n != 0 || v.Len() != 2 {
		t.Fatalf("after a search: lag %d, Len %d", n, v.Len())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	v.setState(true, false) // a catch-up in progress: Lag waits for it, within ctx
	if _, err := v.Lag(cctx); err == nil {
		t.Fatal("Lag did not give up with its context")
	}
	v.setState(false, false)
}

// TestAttrFilterAgrees: the in-memory filters select exactly the rows the
// store's filter does, for an agent alone (its own fast path), an agent
// with a tier, a tier alone, and an agent no row has, over random rows
// (row ids past the table's first chunk, and gaps, included).
func TestAttrFilterAgrees(t *testing.T) {
	s := newMemStore()
	agents, tiers := []string{"bot", "helper", "scribe"}, []string{"hot", "warm"}
	for id := int64(1); id <= 3000; id++ {
		if id%7 == 0 {
			continue // a gap
		}
		s.put(id, memRow{account: "a", agent: agents[int(id*31)%3], tier: tiers[int(id*17)%2], vec: []float32{1, 0, 0, 0}})
	}
	v := openMem(t, s)
	ids(t, v, search.Filter{AccountID: "a"}, 1, 0, 0, 0) // caught up
	bot, hot, nobody := "bot", "hot", "nobody"
	for _, f := range []search.Filter{
		{AccountID: "a", AgentID: &bot},
		{AccountID: "a", AgentID: &bot, Tier: &hot},
		{AccountID: "a", Tier: &hot},
		{AccountID: "a", AgentID: &nobody},
	} {
		allow, err := v.attrFilter(context.Background(), f, false)
		if err != nil || allow == nil {
			t.Fatalf("%+v: no in-memory filter (%v)", f, err)
		}
		for id := int64(0); id <= 3100; id++ {
			r, ok := s.rows[id]
			if want := ok && s.selects(f, r); allow(id) != want {
				t.Fatalf("%+v: row %d allowed %v, want %v", f, id, allow(id), want)
			}
		}
	}
}
