package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
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
func searchIDs(t *testing.T, v *VectorIndex, f Filter, q ...float32) []int64 {
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
	add := func(id, agent, user string, vec ...float32) Memory {
		m := Memory{ID: id, AccountID: A, AgentRef: agent, UserID: &user, Content: id, Visibility: "private", Importance: 0.5, Tier: "warm",
			Scope: "long-term", CreatedAt: t0, UpdatedAt: t0}
		if err := st.InsertMemory(ctx, &m, Indexed{Vector: vecBlob(vec...), Terms: id}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	update := func(id string, apply func(*Memory), idx *Indexed) {
		if _, err := st.UpdateMemory(ctx, A, id, func(m *Memory) error { apply(m); return nil }, idx); err != nil {
			t.Fatal(err)
		}
	}
	all := Filter{AccountID: A, IncludeConfidential: true, IncludeArchived: true}
	visible := Filter{AccountID: A}
	var m1, m2, m3 Memory
	// check fails unless the log grew by logged rows of seq since the
	// last check, and a search of f for [1,0,0,0] finds want.
	check := func(name string, seq int64, logged int, f Filter, want ...int64) {
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

	update("m1", func(m *Memory) { m.Visibility = "confidential" }, nil)
	check("m1 confidential", m1.Seq, 1, visible, m2.Seq)
	if got := searchIDs(t, v, all, 1, 0, 0, 0); !slices.Equal(got, []int64{m1.Seq, m2.Seq}) {
		t.Fatalf("confidential included: %v", got)
	}
	update("m1", func(m *Memory) { m.Visibility = "private" }, nil)
	check("m1 private again", m1.Seq, 1, visible, m1.Seq, m2.Seq)

	update("m2", func(m *Memory) { m.ArchivedAt = ptr(t0) }, nil)
	check("m2 archived", m2.Seq, 1, visible, m1.Seq)
	update("m2", func(m *Memory) { m.ArchivedAt = nil }, nil)
	check("m2 unarchived", m2.Seq, 1, visible, m1.Seq, m2.Seq)

	// An attribute that filters read: the index's in-memory copy follows.
	update("m2", func(m *Memory) { m.Tier = "hot" }, nil)
	check("m2 hot", m2.Seq, 1, Filter{AccountID: A, Tier: ptr("hot")}, m2.Seq)

	// A new vector: the row update and the vector's replacement.
	update("m2", func(m *Memory) { m.Content = "moved" }, &Indexed{Vector: vecBlob(0, 0, 1, 0), Terms: "moved"})
	check("m2 new vector", m2.Seq, 2, visible, m1.Seq, m2.Seq)
	if got := searchIDs(t, v, visible, 0, 0, 1, 0); got[0] != m2.Seq {
		t.Fatalf("new vector not searched: %v", got)
	}

	// A re-embedding writes the vector alone.
	if err := st.SetEmbeddings(ctx, "memories", []int64{m1.Seq}, [][]byte{vecBlob(-1, 0, 0, 0)}, "ckpt"); err != nil {
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
	e := Entity{ID: "e", AccountID: A, Name: "n", Type: "t", CreatedAt: t0, UpdatedAt: t0}
	if err := st.InsertEntity(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if seqs, _ := logSince(t, st, last); len(seqs) != 0 {
		t.Fatalf("logged %v", seqs)
	}
}

// TestChangeFeedAcrossConnections: a write committed by another
// connection (another Store on the file, as another process) wakes the
// index through PRAGMA data_version, which a read leaves unchanged.
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
	ver := func() int64 {
		n, err := v.dataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := ver()
	if _, _, err := st2.ListMemories(ctx, Filter{AccountID: acct.ID}, 10, 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st1.GetMemory(ctx, acct.ID, "none"); err == nil {
		t.Fatal("found")
	}
	if ver() != before {
		t.Fatal("data_version moved without a commit")
	}
	// No commit: the search reads no log.
	if got := searchIDs(t, v, Filter{AccountID: acct.ID}, 1, 0, 0, 0); len(got) != 0 {
		t.Fatal(got)
	}

	m := Memory{ID: "by-2", AccountID: acct.ID, AgentRef: "bot", Content: "c", Visibility: "private", Tier: "warm", Scope: "long-term", CreatedAt: t0, UpdatedAt: t0}
	if err := st2.InsertMemory(ctx, &m, Indexed{Vector: vecBlob(1, 0, 0, 0), Terms: "c"}); err != nil {
		t.Fatal(err)
	}
	if ver() == before {
		t.Fatal("data_version did not move after another connection's commit")
	}
	if got := searchIDs(t, v, Filter{AccountID: acct.ID}, 1, 0, 0, 0); !slices.Equal(got, []int64{m.Seq}) {
		t.Fatalf("another connection's write not seen: %v", got)
	}
	// And this store's own writer is another connection too.
	before = ver()
	if _, err := st1.UpdateMemory(ctx, acct.ID, "by-2", func(m *Memory) error { m.Visibility = "confidential"; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if ver() == before {
		t.Fatal("data_version did not move after the writer's commit")
	}
	if got := searchIDs(t, v, Filter{AccountID: acct.ID}, 1, 0, 0, 0); len(got) != 0 {
		t.Fatalf("confidential memory found: %v", got)
	}
}

// TestChangeFeedPruning: once an index has caught up past maxLogRows
// rows, the log is pruned to the newest maxLogRows; an index that had
// fallen behind the pruned rows notices the gap and rebuilds, finding a
// memory whose log row is gone.
func TestChangeFeedPruning(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct, err := st.CreateAccount(ctx, "p", t0)
	if err != nil {
		t.Fatal(err)
	}
	A := acct.ID
	lagging := openTestIndex(t, st, 4)
	m := Memory{ID: "m", AccountID: A, AgentRef: "bot", Content: "c", Visibility: "private", Tier: "warm", Scope: "long-term", CreatedAt: t0, UpdatedAt: t0}
	if err := st.InsertMemory(ctx, &m, Indexed{Vector: vecBlob(1, 0, 0, 0), Terms: "c"}); err != nil {
		t.Fatal(err)
	}
	// Other writers' changes (of a memory since deleted), as many as the
	// log keeps and some more: m's own row is the first pruned.
	const extra = 500
	if _, err := st.db.W.ExecContext(ctx, `WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?)
		INSERT INTO vector_changes(seq) SELECT ? FROM c`, maxLogRows+extra, m.Seq+1000); err != nil {
		t.Fatal(err)
	}
	// An index opened now starts at the log's end; it prunes once it has
	// applied a change past maxLogRows.
	leader := openTestIndex(t, st, 4)
	if err := st.InsertMemory(ctx, &Memory{ID: "m2", AccountID: A, AgentRef: "bot", Content: "d", Visibility: "private", Tier: "warm",
		Scope: "long-term", CreatedAt: t0, UpdatedAt: t0}, Indexed{Vector: vecBlob(0, 1, 0, 0), Terms: "d"}); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, leader, Filter{AccountID: A}, 1, 0, 0, 0); len(got) != 2 {
		t.Fatalf("leader: %v", got)
	}
	type span struct{ first, last, n int64 }
	var s span
	if err := st.db.R.QueryRowContext(ctx, "SELECT min(id), max(id), count(*) FROM vector_changes").Scan(&s.first, &s.last, &s.n); err != nil {
		t.Fatal(err)
	}
	if s.n != maxLogRows || s.first != s.last-maxLogRows+1 {
		t.Fatalf("after pruning: %+v, want the newest %d rows", s, maxLogRows)
	}
	// The lagging index's next row is gone: it rebuilds and sees both.
	start := time.Now()
	if got := searchIDs(t, lagging, Filter{AccountID: A}, 1, 0, 0, 0); len(got) != 2 || got[0] != m.Seq {
		t.Fatalf("lagging: %v", got)
	}
	if lagging.last < s.last {
		t.Fatalf("lagging index at %d, log at %d", lagging.last, s.last)
	}
	t.Logf("lagging index caught up in %v", time.Since(start))
}
