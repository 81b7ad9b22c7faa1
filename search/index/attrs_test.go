package index

import (
	"math/rand/v2"
	"testing"
)

// TestAttrAgentColumn: the agent column and agentFilter agree with the
// rows they copy after every edit, including copy-on-write edits of a
// published table, which stays as it was; rows past the end, removed or
// never set read 0. Chunks 3 and 4 hold more than maxChunkAgents agents
// (no bitmaps: agentFilter reads the column there), the others fewer.
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
		for a := uint32(0); a <= 4*maxChunkAgents; a++ {
			allow := tb.agentFilter(a)
			for id := int64(-1); id < span+attrChunkRows; id++ {
				if got := allow(id); got != (a != 0 && want[id] == a) {
					t.Fatalf("agentFilter(%d)(%d) = %v, row's agent %d", a, id, got, want[id])
				}
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
			agents := uint32(9)
			if id>>attrChunkShift >= 3 {
				agents = 4 * maxChunkAgents
			}
			a := rowAttrs{agent: 1 + rng.Uint32N(agents), tier: rng.Uint32N(3)}
			ed.set(id, a)
			want[id] = a.agent
		}
		tb := ed.done()
		check(tb, want)
		if base != nil {
			check(base, before) // the published table is untouched
		}
		base = tb
	}
}
