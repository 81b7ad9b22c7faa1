package storetest

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
)

// sameBits reports whether a and b hold the same float32 values bit for
// bit (NaN payloads and signed zeros included).
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// VectorEncoder is implemented by a store that may keep the vectors of
// memories in less than float32 precision: VectorEncoding returns "int8"
// when it keeps each one's int8 code (elements within half a step,
// max|v|/254, of what was stored, and float32 rounding), and anything else when it keeps them
// bit for bit. A store that does not implement it keeps them bit for bit.
type VectorEncoder interface {
	VectorEncoding() string
}

// sameVector reports whether st gave back want as got: bit for bit, or,
// for a store that keeps int8 codes, within half a step of each element.
func sameVector(st Store, got, want []float32) bool {
	if e, ok := st.(VectorEncoder); !ok || e.VectorEncoding() != "int8" {
		return sameBits(got, want)
	}
	if len(got) != len(want) {
		return false
	}
	var m float64
	for _, f := range want {
		m = max(m, math.Abs(float64(f)))
	}
	for i, f := range want {
		if d := math.Abs(float64(got[i]) - float64(f)); math.IsNaN(d) || d > m/127*0.501 {
			return false
		}
	}
	return true
}

// testVectors: vectors go in and come out as []float32, bit for bit
// (signed zero, subnormals, the largest float32), or, from a store that
// keeps int8 codes (see [VectorEncoder]), each element within half a step,
// through every path that stores one (insert, update, batch, re-embedding)
// and every path that reads or compares one (Vectors, FilterVectors,
// NearestVectors, a decision's candidates).
func testVectors(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	// In any encoding, a vector comes back as it was within its
	// precision, and ranks and dedups as before.
	typical := []float32{0.31, -0.77, 0.052, 0.55}
	mt := newMemory(A, "mt", "typical")
	if err := st.InsertMemory(ctx, mt, store.Indexed{Vector: typical, Terms: "typical"}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Vectors(ctx, []int64{mt.Seq}); err != nil || !sameVector(st, got[mt.Seq], typical) {
		t.Errorf("Vectors of %v = %v %v", typical, got[mt.Seq], err)
	}
	if err := st.DeleteMemory(ctx, A, "mt"); err != nil {
		t.Fatal(err)
	}
	odd := []float32{float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32, -0.25}
	m1 := newMemory(A, "m1", "one")
	if err := st.InsertMemory(ctx, m1, store.Indexed{Vector: odd, Terms: "one"}); err != nil {
		t.Fatal(err)
	}
	m2 := newMemory(A, "m2", "two")
	out, err := st.InsertMemories(ctx, []store.BatchItem{{Memory: m2, Index: idx("two", 0, 1, 0, 0)}})
	if err != nil || out[0].Err != nil {
		t.Fatalf("InsertMemories: %+v %v", out, err)
	}
	got, err := st.Vectors(ctx, []int64{m1.Seq, m2.Seq, m2.Seq + 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !sameVector(st, got[m1.Seq], odd) || !sameVector(st, got[m2.Seq], []float32{0, 1, 0, 0}) {
		t.Errorf("Vectors = %v, want m1 %v and m2 [0 1 0 0], no third", got, odd)
	}

	// An update with new index entries replaces the vector.
	if _, err := st.UpdateMemory(ctx, A, "m1", func(m *store.Memory) error { m.Content = "moved"; return nil }, &store.Indexed{Vector: []float32{1, 0, 0, 0}, Terms: "moved"}); err != nil {
		t.Fatal(err)
	}
	// A duplicate by vector is found by a batch's dedup.
	dup := newMemory(A, "m3", "again")
	out, err = st.InsertMemories(ctx, []store.BatchItem{{Memory: dup, Index: idx("again", 0, 2, 0, 0), Dedup: true, DedupThreshold: 0.99}})
	if err != nil || len(out) != 1 || out[0].DuplicateID != "m2" || math.Abs(out[0].Score-1) > 1e-6 {
		t.Errorf("dedup of a parallel vector: %+v %v, want duplicate m2, score 1", out, err)
	}

	f := search.Filter{AccountID: A}
	near, err := st.NearestVectors(ctx, f, []float32{0.9, 0.1, 0, 0}, 2)
	if err != nil || len(near) != 2 || near[0].ID != m1.Seq || near[1].ID != m2.Seq || near[0].Distance > near[1].Distance {
		t.Errorf("NearestVectors = %+v %v, want m1 then m2", near, err)
	}
	fv, err := st.FilterVectors(ctx, search.Filter{AccountID: account(t, st, "b")}, []int64{m1.Seq})
	if err != nil || len(fv) != 0 {
		t.Errorf("FilterVectors of another account: %v %v", fv, err)
	}
	fv, err = st.FilterVectors(ctx, f, []int64{m1.Seq})
	if err != nil || !sameVector(st, fv[m1.Seq], []float32{1, 0, 0, 0}) {
		t.Errorf("FilterVectors = %v %v, want the updated vector", fv, err)
	}

	// Re-embedding writes new vectors of the memories by row id.
	rows, err := st.TextsAfter(ctx, "memories", 0, 10)
	if err != nil || len(rows) != 2 {
		t.Fatalf("TextsAfter = %+v %v", rows, err)
	}
	ids := []int64{rows[0].RowID, rows[1].RowID}
	if err := st.SetEmbeddings(ctx, "memories", ids, [][]float32{{0, 0, 1, 0}, {0, 0, 0, 1}}, "storetest:ckpt"); err != nil {
		t.Fatal(err)
	}
	got, err = st.Vectors(ctx, []int64{m1.Seq, m2.Seq})
	if err != nil || !sameVector(st, got[m1.Seq], []float32{0, 0, 1, 0}) || !sameVector(st, got[m2.Seq], []float32{0, 0, 0, 1}) {
		t.Errorf("after SetEmbeddings: %v %v", got, err)
	}
	if v, ok, err := st.Meta(ctx, "storetest:ckpt"); err != nil || !ok || v == "" {
		t.Errorf("SetEmbeddings' checkpoint: %q %v %v", v, ok, err)
	}

	// A decision's vector ranks its candidates; none is fine too.
	for i, v := range [][]float32{{1, 0, 0, 0}, {0, 1, 0, 0}, nil} {
		d := store.Decision{ID: "d" + string(rune('0'+i)), AccountID: A, Title: "t", Rationale: "r", Status: "active", CreatedAt: t0, UpdatedAt: t0}
		if err := st.InsertDecision(ctx, &d, v); err != nil {
			t.Fatal(err)
		}
	}
	var order []string
	err = st.DecisionCandidates(ctx, store.DecisionFilter{AccountID: A}, []float32{0, 1, 0, 0}, 3, func(c store.RankCandidate) { order = append(order, c.ID) })
	if err != nil || len(order) != 3 {
		t.Fatalf("DecisionCandidates = %v %v", order, err)
	}
	if !slices.Contains(order, "d1") || !slices.Contains(order, "d2") {
		t.Errorf("DecisionCandidates = %v, want d0, d1 and d2", order)
	}
	var nearest []string
	err = st.DecisionCandidates(ctx, store.DecisionFilter{AccountID: A}, []float32{0, 1, 0, 0}, 1, func(c store.RankCandidate) { nearest = append(nearest, c.ID) })
	if err != nil || !slices.Equal(nearest, []string{"d1"}) {
		t.Errorf("the nearest decision: %v %v, want d1", nearest, err)
	}
}

// testChangeFeed: every committed change to a memory's vector or its
// filtered attributes, and its deletion, is a change of the feed, in
// commit order; Rows reads what the index keeps of a memory, with its
// vector as []float32 and its content; Version moves after a commit; Prune drops what it
// is told to, and Bounds says so.
func testChangeFeed(t *testing.T, open Opener) {
	ctx := context.Background()
	st := open(t)
	defer st.Close()
	A := account(t, st, "a")
	feed, err := st.OpenVectorFeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	v0, err := feed.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m1 := newMemory(A, "m1", "one")
	if err := st.InsertMemory(ctx, m1, idx("one", 1, 0, 0, 0)); err != nil {
		t.Fatal(err)
	}
	m2 := newMemory(A, "m2", "two")
	m2.UserID = ptr("u")
	if err := st.InsertMemory(ctx, m2, idx("two", 0, 1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if v1, err := feed.Version(ctx); err != nil || v1 == v0 {
		t.Errorf("Version after two commits: %d (was %d), %v", v1, v0, err)
	}
	if _, err := st.UpdateMemory(ctx, A, "m1", func(m *store.Memory) error { m.Visibility = "confidential"; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMemory(ctx, A, "m2"); err != nil {
		t.Fatal(err)
	}
	cs, err := feed.Changes(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, c := range cs {
		ids = append(ids, c.ID)
		if i > 0 && c.Pos <= cs[i-1].Pos {
			t.Errorf("positions out of order: %+v", cs)
		}
	}
	if want := []int64{m1.Seq, m2.Seq, m1.Seq, m2.Seq}; !slices.Equal(ids, want) {
		t.Errorf("changes name %v, want %v (insert, insert, hide, delete)", ids, want)
	}
	if cs2, err := feed.Changes(ctx, cs[0].Pos, 2); err != nil || len(cs2) != 2 || cs2[0] != cs[1] {
		t.Errorf("Changes after the first, 2 of them: %+v %v", cs2, err)
	}

	rows := map[int64]index.Row{}
	if err := feed.Rows(ctx, []int64{m1.Seq, m2.Seq}, func(r *index.Row) error {
		c := *r
		c.Account, c.Vector = slices.Clone(r.Account), slices.Clone(r.Vector)
		rows[r.ID] = c
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r1, ok := rows[m1.Seq]
	if len(rows) != 1 || !ok || string(r1.Account) != A || !r1.Hidden || !sameVector(st, r1.Vector, []float32{1, 0, 0, 0}) || r1.Text != "one" {
		t.Errorf("Rows = %+v, want m1 alone: hidden, its vector, its content, its account", rows)
	}
	n := 0
	if err := feed.Scan(ctx, func(*index.Row) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("Scan: %d rows, %v; want 1", n, err)
	}
	errStop := errors.New("stop")
	if err := feed.Scan(ctx, func(*index.Row) error { return errStop }); !errors.Is(err, errStop) {
		t.Errorf("Scan with fn failing: %v", err)
	}

	oldest, newest, err := feed.Bounds(ctx)
	if err != nil || oldest != cs[0].Pos || newest != cs[len(cs)-1].Pos {
		t.Fatalf("Bounds = %d, %d, %v; want %d, %d", oldest, newest, err, cs[0].Pos, cs[len(cs)-1].Pos)
	}
	if err := feed.Prune(ctx, newest); err != nil {
		t.Fatal(err)
	}
	if o, n, err := feed.Bounds(ctx); err != nil || o != 0 || n != newest {
		t.Errorf("Bounds after pruning all: %d, %d, %v; want 0, %d", o, n, err, newest)
	}
	if cs, err := feed.Changes(ctx, 0, 10); err != nil || len(cs) != 0 {
		t.Errorf("Changes after pruning all: %+v %v", cs, err)
	}
	// Pruning never brings the version back to one an index has seen
	// (the one of the empty feed, above): it would take the writes since
	// for nothing.
	if v, err := feed.Version(ctx); err != nil || v == v0 {
		t.Errorf("Version after pruning all: %d, %v; the empty feed's was %d", v, err, v0)
	}
}
