package lexical

import (
	"encoding/binary"
	"slices"
)

// docEntry is what the index keeps of a document besides its postings:
// its partition, its length, and where its distinct terms are in the
// table's arena (for deleting or replacing it).
type docEntry struct {
	ref    int64 // 1 + the offset of its terms in the arena; 0: no document
	part   uint32
	length uint32 // terms in the text, repeats included: BM25's document length
	nb     uint32 // bytes of its terms in the arena
}

// Documents with ids in [0, maxDense) are kept in chunks of a dense table
// (row ids of a store are mostly dense), the others in a map.
const (
	docChunkShift = 10
	docChunkRows  = 1 << docChunkShift
	maxDense      = 1 << 26
)

// docTable holds the documents of an index. Each document's distinct
// terms are kept, by their numbers in its partition, as ascending deltas
// in uvarints, back to back in one arena; a deleted document's bytes are
// garbage until the arena is compacted (when garbage exceeds half of it).
type docTable struct {
	chunks  []*[docChunkRows]docEntry
	far     map[int64]docEntry
	n       int
	arena   []byte
	garbage int
}

func (t *docTable) get(id int64) (docEntry, bool) {
	if id >= 0 && id < maxDense {
		ci := id >> docChunkShift
		if ci >= int64(len(t.chunks)) || t.chunks[ci] == nil {
			return docEntry{}, false
		}
		e := t.chunks[ci][id&(docChunkRows-1)]
		return e, e.ref != 0
	}
	e, ok := t.far[id]
	return e, ok
}

// put stores a document that the table does not hold.
func (t *docTable) put(id int64, part, length uint32, terms []uint32) {
	e := docEntry{ref: int64(len(t.arena)) + 1, part: part, length: length}
	prev := uint32(0)
	for _, num := range terms {
		t.arena = binary.AppendUvarint(t.arena, uint64(num-prev))
		prev = num
	}
	e.nb = uint32(int64(len(t.arena)) + 1 - e.ref)
	t.n++
	if id >= 0 && id < maxDense {
		ci := int(id >> docChunkShift)
		if ci >= len(t.chunks) {
			t.chunks = append(t.chunks, make([]*[docChunkRows]docEntry, ci+1-len(t.chunks))...)
		}
		if t.chunks[ci] == nil {
			t.chunks[ci] = new([docChunkRows]docEntry)
		}
		t.chunks[ci][id&(docChunkRows-1)] = e
		return
	}
	if t.far == nil {
		t.far = map[int64]docEntry{}
	}
	t.far[id] = e
}

// terms appends the term numbers of e to dst, ascending.
func (t *docTable) terms(e docEntry, dst []uint32) []uint32 {
	b := t.arena[e.ref-1 : e.ref-1+int64(e.nb)]
	var num uint32
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		b = b[n:]
		num += uint32(d)
		dst = append(dst, num)
	}
	return dst
}

// remove forgets the document id, which the table holds.
func (t *docTable) remove(id int64, e docEntry) {
	t.n--
	t.garbage += int(e.nb)
	if id >= 0 && id < maxDense {
		t.chunks[id>>docChunkShift][id&(docChunkRows-1)] = docEntry{}
	} else {
		delete(t.far, id)
	}
	if t.garbage > 1<<16 && t.garbage > len(t.arena)/2 {
		t.compact()
	}
}

// compact rewrites the arena without garbage.
func (t *docTable) compact() {
	arena := make([]byte, 0, len(t.arena)-t.garbage)
	move := func(e *docEntry) {
		if e.ref == 0 {
			return
		}
		start := len(arena)
		arena = append(arena, t.arena[e.ref-1:e.ref-1+int64(e.nb)]...)
		e.ref = int64(start) + 1
	}
	for _, c := range t.chunks {
		if c != nil {
			for i := range c {
				move(&c[i])
			}
		}
	}
	for id, e := range t.far {
		move(&e)
		t.far[id] = e
	}
	t.arena, t.garbage = slices.Clip(arena), 0
}
