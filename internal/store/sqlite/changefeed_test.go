package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
)

// logSince returns the seqs of the change-log rows after id, in log
// order, and the last id.
func logSince(t *testing.T, st *Store, id int64) ([]int64, int64) {
	t.Helper()
	type row struct{ id, seq int64 }
	rows, err := queryAll(context.Background(), st.db.R, func(r rowScanner) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.seq)
		return x, err
	}, "SELECT id, seq FROM vector_changes WHERE id > ? ORDER BY id", id)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, r := range rows {
		if r.id <= id {
			t.Fatalf("log ids out of order: %d after %d", r.id, id)
		}
		seqs, id = append(seqs, r.seq), r.id
	}
	return seqs, id
}

// searchIDs searches v for q and returns the seqs found, nearest first.
func searchIDs(t *testing.T, v *index.Index, f search.Filter, q ...float32) []int64 {
	t.Helper()
	ns, err := v.Search(context.Background(), f, q, 10)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids
}

// TestChangeFeed: every committed change to a memory's vector or to the
// attributes that searches filter on appends its seq to the change log,
// in commit order, and an index that follows the log sees each change at
// its next search: creations, attribute and visibility changes, new
// vectors, re-embeddings and deletions (direct, by user, by agent).
func TestChangeFeed(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct, err := st.CreateAccount(ctx, "feed", t0)
	if err != nil {
		t.Fatal(err)
	}
	A := acct.ID
	v := openTestIndex(t, st, 4)
	_, last := logSince(t, st, 0)
	add := func(id, agent, user string, vec ...float32) store.Memory {
		m := store.Memory{ID: id, AccountID: A, AgentRef: agent, UserID: &user, Content: id, Visibility: "private", Importance: 0.5, Tier: "warm",
			Scope: "long-term", CreatedAt: t0, UpdatedAt: t0}
		if err := st.InsertMemory(ctx, &m, store.Indexed{Vector: vecOf(vec...), Terms: id}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	update := func(id string, apply func(*store.Memory), idx *store.Indexed) {
		if _, err := st.UpdateMemory(ctx, A, id, func(m *store.Memory) error { apply(m); return nil }, idx); err != nil {
			t.Fatal(err)
		}
	}
	all := search.Filter{AccountID: A, IncludeConfidential: true, IncludeArchived: true}
	visible := search.Filter{AccountID: A}
	var m1, m2, m3 store.Memory
	// check fails unless the log grew by logged rows of seq since the
	// last check, and a search of f for [1,0,0,0] finds want.
	check := func(name string, seq int64, logged int, f search.Filter, want ...int64) {
		t.Helper()
		seqs, to := logSince(t, st, last)
		wantLog := slices.Repeat([]int64{seq}, logged)
		if !slices.Equal(seqs, wantLog) {
			t.Fatalf("%s: log %v, want %v", name, seqs, wantLog)
		}
		last = to
		if got := searchIDs(t, v, f, 1, 0, 0, 0); !slices.Equal(got, want) {
			t.Fatalf("%s: search %v, want %v", name, got, want)
		}
	}

	m1 = add("m1", "bot", "u1", 1, 0, 0, 0)
	check("create m1", m1.Seq, 1, visible, m1.Seq)
	m2 = add("m2", "bot", "u2", 0.5, 0.5, 0, 0)
	check("create m2", m2.Seq, 1, visible, m1.Seq, m2.Seq)

	update("m1", func(m *store.Memory) { m.Visibility = "confidential" }, nil)
	check("m1 confidential", m1.Seq, 1, visible, m2.Seq)
	if got := searchIDs(t, v, all, 1, 0, 0, 0); !slices.Equal(got, []int64{m1.Seq, m2.Seq}) {
		t.Fatalf("confidential included: %v", got)
	}
	update("m1", func(m *store.Memory) { m.Visibility = "private" }, nil)
	check("m1 private again", m1.Seq, 1, visible, m1.Seq, m2.Seq)

	update("m2", func(m *store.Memory) { m.ArchivedAt = ptr(t0) }, nil)
	check("m2 archived", m2.Seq, 1, visible, m1.Seq)
	update("m2", func(m *store.Memory) { m.ArchivedAt = nil }, nil)
	check("m2 unarchived", m2.Seq, 1, visible, m1.Seq, m2.Seq)

	// An attribute that filters read: the index's in-memory copy follows.
	update("m2", func(m *store.Memory) { m.Tier = "hot" }, nil)
	check("m2 hot", m2.Seq, 1, search.Filter{AccountID: A, Tier: ptr("hot")}, m2.Seq)

	// A new vector: the row update and the vector's replacement.
	update("m2", func(m *store.Memory) { m.Content = "moved" }, &store.Indexed{Vector: vecOf(0, 0, 1, 0), Terms: "moved"})
	check("m2 new vector", m2.Seq, 2, visible, m1.Seq, m2.Seq)
	if got := searchIDs(t, v, visible, 0, 0, 1, 0); got[0] != m2.Seq {
		t.Fatalf("new vector not searched: %v", got)
	}

	// A re-embedding writes the vector alone.
	if err := st.SetEmbeddings(ctx, "memories", []int64{m1.Seq}, [][]float32{vecOf(-1, 0, 0, 0)}, "ckpt"); err != nil {
		t.Fatal(err)
	}
	check("m1 re-embedded", m1.Seq, 1, visible, m2.Seq, m1.Seq)
	if got := searchIDs(t, v, visible, -1, 0, 0, 0); got[0] != m1.Seq {
		t.Fatalf("re-embedded vector not searched: %v", got)
	}

	if err := st.DeleteMemory(ctx, A, "m1"); err != nil {
		t.Fatal(err)
	}
	check("m1 deleted", m1.Seq, 1, visible, m2.Seq)

	m3 = add("m3", "helper", "u3", 1, 0, 0, 0.02)
	check("create m3", m3.Seq, 1, visible, m3.Seq, m2.Seq)
	if n, err := st.DeleteUserMemories(ctx, A, "u3"); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	check("user u3 erased", m3.Seq, 1, visible, m2.Seq)

	if _, _, err := st.DeleteAgent(ctx, A, "bot"); err != nil {
		t.Fatal(err)
	}
	check("agent bot deleted", m2.Seq, 1, visible)
	if v.Len() != 0 {
		t.Fatalf("index holds %d vectors", v.Len())
	}

	// Writes that touch no memory log nothing.
	e := store.Entity{ID: "e", AccountID: A, Name: "n", Type: "t", CreatedAt: t0, UpdatedAt: t0}
	if err := st.InsertEntity(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if seqs, _ := logSince(t, st, last); len(seqs) != 0 {
		t.Fatalf("logged %v", seqs)
	}
}

// TestChangeFeedAcrossConnections: a write committed by another
// connection (another Store on the file, as another process) moves the
// feed's Version (PRAGMA data_version), which a read leaves unchanged, and
// so wakes an index that follows the feed.
func TestChangeFeedAcrossConnections(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "two.db")
	open := func() *Store {
		st, err := Open(ctx, Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st1, st2 := open(), open()
	acct, err := st1.CreateAccount(ctx, "x", t0)
	if err != nil {
		t.Fatal(err)
	}
	v := openTestIndex(t, st1, 4)
	feed := openTestFeed(t, st1) // another connection, as the index's
	ver := func() int64 {
		n, err := feed.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := ver()
	if _, _, err := st2.ListMemories(ctx, store.Filter{AccountID: acct.ID}, 10, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st1.GetMemory(ctx, acct.ID, "none"); err == nil {
		t.Fatal("found")
	}
	if ver() != before {
		t.Fatal("data_version moved without a commit")
	}
	// No commit: the search reads no log.
	if got := searchIDs(t, v, search.Filter{AccountID: acct.ID}, 1, 0, 0, 0); len(got) != 0 {
		t.Fatal(got)
	}

	m := store.Memory{ID: "by-2", AccountID: acct.ID, AgentRef: "bot", Content: "c", Visibility: "private", Tier: "warm", Scope: "long-term", CreatedAt: t0, UpdatedAt: t0}
	if err := st2.InsertMemory(ctx, &m, store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "c"}); err != nil {
		t.Fatal(err)
	}
	if ver() == before {
		t.Fatal("data_version did not move after another connection's commit")
	}
	if got := searchIDs(t, v, search.Filter{AccountID: acct.ID}, 1, 0, 0, 0); !slices.Equal(got, []int64{m.Seq}) {
		t.Fatalf("another connection's write not seen: %v", got)
	}
	// And this store's own writer is another connection too.
	before = ver()
	if _, err := st1.UpdateMemory(ctx, acct.ID, "by-2", func(m *store.Memory) error { m.Visibility = "confidential"; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if ver() == before {
		t.Fatal("data_version did not move after the writer's commit")
	}
	if got := searchIDs(t, v, search.Filter{AccountID: acct.ID}, 1, 0, 0, 0); len(got) != 0 {
		t.Fatalf("confidential memory found: %v", got)
	}
}

// TestVectorFeed: the feed's reads, directly: Bounds, Changes in order
// and bounded, Rows and Scan with each memory's attributes (NULL as nil,
// hidden when confidential or archived, an undecodable vector as nil), and
// Prune, after which Bounds still knows the newest position, even of an
// empty log (sqlite_sequence).
func TestVectorFeed(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct, err := st.CreateAccount(ctx, "feed", t0)
	if err != nil {
		t.Fatal(err)
	}
	A := acct.ID
	feed := openTestFeed(t, st)
	if o, n, err := feed.Bounds(ctx); err != nil || o != 0 || n != 0 {
		t.Fatalf("new store: bounds %d, %d, %v", o, n, err)
	}
	// add stores a memory whose embedding is stored as blob: one that
	// InsertMemory encodes, or one that is not a float32 BLOB.
	add := func(id string, blob []byte, user *string) store.Memory {
		m := store.Memory{ID: id, AccountID: A, AgentRef: "bot", UserID: user, Content: id, Visibility: "private", Importance: 0.25, Tier: "warm",
			Scope: "long-term", Project: ptr("web"), CreatedAt: t0, UpdatedAt: t0}
		if err := st.insertMemory(ctx, &m, blob, id); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m1 := add("m1", vecBlob(1, 0, 0, 0), ptr("u1"))
	m2 := add("m2", vecBlob(0, 1, 0, 0), nil)
	bad := add("bad", []byte{1, 2, 3}, nil) // not a float32 BLOB
	if _, err := st.UpdateMemory(ctx, A, "m2", func(m *store.Memory) error { m.Visibility = "confidential"; return nil }, nil); err != nil {
		t.Fatal(err)
	}

	oldest, newest, err := feed.Bounds(ctx)
	if err != nil || oldest != 1 || newest != 4 {
		t.Fatalf("bounds %d, %d, %v; want 1, 4", oldest, newest, err)
	}
	cs, err := feed.Changes(ctx, 0, 10)
	want := []index.Change{{Pos: 1, ID: m1.Seq}, {Pos: 2, ID: m2.Seq}, {Pos: 3, ID: bad.Seq}, {Pos: 4, ID: m2.Seq}}
	if err != nil || !slices.Equal(cs, want) {
		t.Fatalf("changes %v %v, want %v", cs, err, want)
	}
	if cs, err := feed.Changes(ctx, 1, 2); err != nil || !slices.Equal(cs, want[1:3]) {
		t.Fatalf("changes after 1, 2 of them: %v %v", cs, err)
	}

	type got struct {
		acct          string
		hidden        bool
		vec           []float32
		agent         *string
		user, project string
		tier, scope   string
		importance    float64
	}
	deref := func(s *string) string {
		if s == nil {
			return "<nil>"
		}
		return *s
	}
	collect := func(read func(func(*index.Row) error) error) map[int64]got {
		t.Helper()
		out := map[int64]got{}
		if err := read(func(r *index.Row) error {
			out[r.ID] = got{string(r.Account), r.Hidden, slices.Clone(r.Vector), r.Attrs.Agent, deref(r.Attrs.User), deref(r.Attrs.Project),
				deref(r.Attrs.Tier), deref(r.Attrs.Scope), r.Attrs.Importance}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	scanned := collect(func(fn func(*index.Row) error) error { return feed.Scan(ctx, fn) })
	if len(scanned) != 3 {
		t.Fatalf("scan: %+v", scanned)
	}
	g1 := scanned[m1.Seq]
	if g1.acct != A || g1.hidden || !slices.Equal(g1.vec, []float32{1, 0, 0, 0}) || g1.user != "u1" || g1.project != "web" ||
		g1.tier != "warm" || g1.scope != "long-term" || g1.importance != 0.25 || g1.agent == nil {
		t.Fatalf("m1: %+v", g1)
	}
	key, ok, err := st.AgentKey(ctx, A, "bot")
	if err != nil || !ok || *g1.agent != key {
		t.Fatalf("agent attribute %q, AgentKey %q %v %v", deref(g1.agent), key, ok, err)
	}
	if _, ok, err := st.AgentKey(ctx, A, "nobody"); ok || err != nil {
		t.Fatalf("AgentKey of no agent: %v %v", ok, err)
	}
	if g2 := scanned[m2.Seq]; !g2.hidden || g2.user != "<nil>" {
		t.Fatalf("m2: %+v", g2)
	}
	if g := scanned[bad.Seq]; g.vec != nil {
		t.Fatalf("undecodable vector: %+v", g)
	}
	rows := collect(func(fn func(*index.Row) error) error { return feed.Rows(ctx, []int64{m2.Seq, 999}, fn) })
	if len(rows) != 1 || !rows[m2.Seq].hidden {
		t.Fatalf("rows: %+v", rows)
	}
	stop := errors.New("stop")
	n := 0
	if err := feed.Scan(ctx, func(*index.Row) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("a callback's error: %v after %d rows", err, n)
	}

	if err := feed.Prune(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if o, n, err := feed.Bounds(ctx); err != nil || o != 3 || n != 4 {
		t.Fatalf("pruned through 2: bounds %d, %d, %v", o, n, err)
	}
	if err := feed.Prune(ctx, newest); err != nil {
		t.Fatal(err)
	}
	if o, n, err := feed.Bounds(ctx); err != nil || o != 0 || n != newest {
		t.Fatalf("pruned to nothing: bounds %d, %d, %v; want 0, %d", o, n, err, newest)
	}
	if cs, err := feed.Changes(ctx, 0, 10); err != nil || len(cs) != 0 {
		t.Fatalf("changes of an empty log: %v %v", cs, err)
	}
}
