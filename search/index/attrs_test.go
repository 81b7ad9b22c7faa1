package index

import (
	"math/rand/v2"
	"testing"
)

// TestAttrAgentColumn: the agent column agrees with the rows it copies
// after every edit, including copy-on-write edits of a published table,
// which stays as it was; rows past the end, removed or never set read 0.
func TestAttrAgentColumn(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const span = 5 * attrChunkRows
	check := func(tb *attrTable, want map[int64]uint32) {
		t.Helper()
		for id := int64(-1); id < span+attrChunkRows; id++ {
			got, ref := tb.agentOf(id), uint32(0)
			if a := tb.ref(id); a != nil {
				ref = a.agent
			}
			if got != want[id] || ref != want[id] {
				t.Fatalf("row %d: agentOf %d, ref %d, want %d", id, got, ref, want[id])
			}
		}
	}
	var base *attrTable
	want := map[int64]uint32{}
	for range 6 {
		before := map[int64]uint32{}
		for id, a := range want {
			before[id] = a
		}
		ed := newAttrEditor(base)
		for range 2000 {
			id := rng.Int64N(span)
			if rng.IntN(4) == 0 {
				ed.set(id, rowAttrs{})
				delete(want, id)
				continue
			}
			a := rowAttrs{agent: 1 + rng.Uint32N(9), tier: rng.Uint32N(3)}
			ed.set(id, a)
			want[id] = a.agent
		}
		check(ed.t, want)
		if base != nil {
			check(base, before) // the published table is untouched
		}
		base = ed.t
	}
}
