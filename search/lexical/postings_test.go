package lexical

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkInvariants fails unless pl's blocks are what searches assume:
// ordered and disjoint, firsts at most their smallest id and above the
// previous block's ids, bounds that hold for every posting, df the count.
func checkInvariants(t *testing.T, pl *postings, want map[int64]uint16, lengths map[int64]uint32) {
	t.Helper()
	n := 0
	prev := int64(-1 << 62)
	for j := range pl.blocks {
		b := &pl.blocks[j]
		if len(b.ids) == 0 || (pl.unit && b.tfs != nil) || (!pl.unit && len(b.ids) != len(b.tfs)) {
			t.Fatalf("block %d: %d ids, %d tfs (unit %v)", j, len(b.ids), len(b.tfs), pl.unit)
		}
		if b.first <= prev {
			t.Fatalf("block %d: first %d not above the previous id %d", j, b.first, prev)
		}
		for i := range b.ids {
			id := b.id(i)
			if id <= prev {
				t.Fatalf("block %d: id %d after %d", j, id, prev)
			}
			prev = id
			if tf, ok := want[id]; !ok || tf != b.tf(i) {
				t.Fatalf("block %d: id %d tf %d, want %d (present %v)", j, id, b.tf(i), tf, ok)
			}
			if b.tf(i) > b.maxTF || lengths[id] < b.minLen {
				t.Fatalf("block %d: id %d (tf %d, length %d) exceeds the bounds (%d, %d)", j, id, b.tf(i), lengths[id], b.maxTF, b.minLen)
			}
			n++
		}
		if len(b.ids) > 2*blockSize {
			t.Fatalf("block %d holds %d postings", j, len(b.ids))
		}
	}
	if n != len(want) || pl.df != n {
		t.Fatalf("%d postings, df %d, want %d", n, pl.df, len(want))
	}
}

// TestPostingsRandom applies random adds and removes, some at ids far
// apart (beyond an offset's reach), and checks the invariants and tf
// lookups after each.
func TestPostingsRandom(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		pl := postings{unit: seed%2 == 1} // odd seeds: a list of single occurrences
		want := map[int64]uint16{}
		lengths := map[int64]uint32{}
		spread := int64(1000 + rng.IntN(100_000))
		for step := range 3000 {
			id := rng.Int64N(spread)
			if rng.IntN(10) == 0 {
				id += int64(rng.IntN(4)) << 32
			}
			if step < 1000 && rng.IntN(2) == 0 {
				id = int64(step) // appends
			}
			if _, ok := want[id]; ok || rng.IntN(3) == 0 {
				if got := pl.remove(id); got != (want[id] != 0) {
					t.Fatalf("seed %d: remove(%d) = %v", seed, id, got)
				}
				delete(want, id)
				continue
			}
			tf := uint16(1 + rng.IntN(5))
			if pl.unit {
				tf = 1
			}
			dl := uint32(1 + rng.IntN(40))
			pl.add(id, tf, dl)
			want[id], lengths[id] = tf, dl
			if step%100 == 0 {
				checkInvariants(t, &pl, want, lengths)
			}
		}
		checkInvariants(t, &pl, want, lengths)
		ids := make([]int64, 0, len(want))
		for id := range want {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if pl.tf(id) != int(want[id]) || pl.tf(id+1) != int(want[id+1]) {
				t.Fatalf("seed %d: tf(%d) = %d, want %d", seed, id, pl.tf(id), want[id])
			}
		}
	}
}

// TestDocTable: documents put and removed at random, dense ids and far
// ones, keep their terms through compactions of the arena.
func TestDocTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var dt docTable
	want := map[int64][]uint32{}
	compactions := 0
	for step := range 200_000 {
		id := rng.Int64N(5000)
		if step%7 == 0 {
			id = maxDense + rng.Int64N(1000) - 10
		}
		if e, ok := dt.get(id); ok {
			if got := dt.terms(e, nil); !slices.Equal(got, want[id]) {
				t.Fatalf("step %d: id %d terms %v, want %v", step, id, got, want[id])
			}
			g := len(dt.arena)
			dt.remove(id, e)
			if len(dt.arena) < g {
				compactions++
			}
			delete(want, id)
			continue
		}
		terms := make([]uint32, rng.IntN(30))
		for i := range terms {
			terms[i] = uint32(rng.IntN(1 << uint(1+rng.IntN(20))))
		}
		slices.Sort(terms)
		terms = slices.Compact(terms)
		dt.put(id, 1, uint32(len(terms)), terms)
		want[id] = terms
	}
	if compactions == 0 {
		t.Error("the arena was never compacted")
	}
	if dt.n != len(want) {
		t.Errorf("n = %d, want %d", dt.n, len(want))
	}
	for id, terms := range want {
		e, ok := dt.get(id)
		if !ok || !slices.Equal(dt.terms(e, nil), terms) || e.length != uint32(len(terms)) {
			t.Fatalf("id %d: present %v, terms %v, want %v", id, ok, dt.terms(e, nil), terms)
		}
	}
}

// TestStretch: the stretch of Score's scale is continuous, strictly
// increasing, keeps 0, 1 and scores up to 0.85, puts raw 0.97 at 0.9,
// and unstretch undoes it.
func TestStretch(t *testing.T) {
	prev := -1.0
	for i := 0; i <= 10000; i++ {
		raw := float64(i) / 10000
		s := stretch(raw)
		if s <= prev || s < 0 || s > 1 {
			t.Fatalf("stretch(%v) = %v after %v", raw, s, prev)
		}
		if i > 0 && s-prev > 0.0005 {
			t.Fatalf("stretch jumps at %v: %v → %v", raw, prev, s)
		}
		if u := unstretch(s); math.Abs(u-raw) > 1e-12 {
			t.Fatalf("unstretch(stretch(%v)) = %v", raw, u)
		}
		if raw <= 0.85 && s != raw {
			t.Fatalf("stretch(%v) = %v, want it unchanged", raw, s)
		}
		prev = s
	}
	if stretch(0) != 0 || stretch(1) != 1 || math.Abs(stretch(0.97)-0.9) > 1e-12 {
		t.Errorf("stretch(0, 0.97, 1) = %v, %v, %v", stretch(0), stretch(0.97), stretch(1))
	}
}
