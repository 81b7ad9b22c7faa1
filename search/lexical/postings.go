package lexical

import (
	"math"
	"slices"
	"sort"
)

// Postings are kept in blocks of about blockSize, ascending by id. A new
// memory's postings (the common write: ids only grow) are appended to the
// last block of each of its terms; an update of an older memory inserts
// into the middle of a block, which is split past 2·blockSize.
const blockSize = 128

// maxTF is the largest term frequency a posting records: a term repeated
// more often in one text (65,535 times needs a text of at least 128 KiB)
// counts as repeated maxTF times.
const maxTF = math.MaxUint16

// block is a run of one term's postings, ids ascending. Its bounds hold
// for every posting in it: maxTF is at least each tf (exact but for
// deletions, which may leave it above), minLen at most each document's
// length (deletions may leave it below). That is all the bounds of a search need.
type block struct {
	// first is at most the smallest id in the block and above every id
	// of the block before: a deletion may leave it below the smallest.
	first  int64
	ids    []uint32 // id − first
	tfs    []uint16 // nil in a list of documents that hold the term once
	maxTF  uint16
	minLen uint32
}

// tf returns the term frequency of posting i.
func (b *block) tf(i int) uint16 {
	if b.tfs == nil {
		return 1
	}
	return b.tfs[i]
}

func (b *block) id(i int) int64 { return b.first + int64(b.ids[i]) }
func (b *block) last() int64    { return b.id(len(b.ids) - 1) }

// fits reports whether id can be stored in b as an offset from b.first.
func (b *block) fits(id int64) bool { return id >= b.first && id-b.first <= math.MaxUint32 }

// search returns the position of id in b, or where it would go.
func (b *block) search(id int64) (int, bool) {
	if id < b.first {
		return 0, false
	}
	if id-b.first > math.MaxUint32 {
		return len(b.ids), false
	}
	off := uint32(id - b.first)
	i := sort.Search(len(b.ids), func(i int) bool { return b.ids[i] >= off })
	return i, i < len(b.ids) && b.ids[i] == off
}

func (b *block) recomputeMaxTF() {
	if b.tfs == nil {
		b.maxTF = 1
		return
	}
	b.maxTF = 0
	for _, tf := range b.tfs {
		b.maxTF = max(b.maxTF, tf)
	}
}

// postings is a postings list of one term in one partition: of the
// documents that hold it once (unit, which stores no term frequencies),
// or of those that hold it more often. Keeping the two apart halves the
// memory of most postings (a term mostly occurs once in a memory) and
// gives the far longer list of single occurrences a bound of one
// occurrence's weight, which lets searches skip more.
type postings struct {
	blocks []block
	df     int  // postings in all blocks: the documents of the list
	unit   bool // every tf is 1, and blocks keep no tfs
}

// termLists are a term's two postings lists in a partition.
type termLists struct {
	once, more postings
}

func newTermLists() termLists { return termLists{once: postings{unit: true}} }

// df is the number of documents holding the term.
func (tl *termLists) df() int { return tl.once.df + tl.more.df }

// list returns the list of a posting of term frequency tf.
func (tl *termLists) list(tf uint16) *postings {
	if tf == 1 {
		return &tl.once
	}
	return &tl.more
}

// remove deletes id from whichever list holds it.
func (tl *termLists) remove(id int64) {
	if !tl.once.remove(id) {
		tl.more.remove(id)
	}
}

// newBlock returns a block of one posting, with room for cap postings.
func (pl *postings) newBlock(id int64, tf uint16, dl uint32, capacity int) block {
	b := block{first: id, ids: append(make([]uint32, 0, capacity), 0), maxTF: tf, minLen: dl}
	if !pl.unit {
		b.tfs = append(make([]uint16, 0, capacity), tf)
	}
	return b
}

// find returns the index of the block whose range holds id: the last
// block whose first is at most id, or −1 when id is below them all.
func (pl *postings) find(id int64) int {
	return sort.Search(len(pl.blocks), func(i int) bool { return pl.blocks[i].first > id }) - 1
}

// tf returns the term frequency of id, 0 when id does not hold the term.
func (pl *postings) tf(id int64) int {
	j := pl.find(id)
	if j < 0 {
		return 0
	}
	b := &pl.blocks[j]
	if i, ok := b.search(id); ok {
		return int(b.tf(i))
	}
	return 0
}

// add records that id holds the term tf times and has length dl. id must
// not be in the list already, and tf must be 1 in a unit list.
func (pl *postings) add(id int64, tf uint16, dl uint32) {
	pl.df++
	n := len(pl.blocks)
	if n == 0 || id > pl.blocks[n-1].last() {
		if n > 0 {
			if b := &pl.blocks[n-1]; len(b.ids) < blockSize && b.fits(id) {
				b.ids = append(b.ids, uint32(id-b.first))
				if b.tfs != nil {
					b.tfs = append(b.tfs, tf)
				}
				b.maxTF, b.minLen = max(b.maxTF, tf), min(b.minLen, dl)
				return
			}
		}
		// A term's first block grows as it fills; once it has filled, the
		// term is common enough that its next blocks are made whole.
		capacity := 1
		if n > 0 {
			capacity = blockSize
		}
		pl.blocks = append(pl.blocks, pl.newBlock(id, tf, dl, capacity))
		return
	}
	j := max(pl.find(id), 0)
	b := &pl.blocks[j]
	switch {
	case id < b.first: // below every block: rebase the first one
		if b.last()-id > math.MaxUint32 {
			pl.insertBlock(j, pl.newBlock(id, tf, dl, 1))
			return
		}
		shift := uint32(b.first - id)
		for i := range b.ids {
			b.ids[i] += shift
		}
		b.first = id
	case !b.fits(id): // beyond the reach of an offset, and so past b's last id
		pl.insertBlock(j+1, pl.newBlock(id, tf, dl, 1))
		return
	}
	i, _ := b.search(id)
	b.ids = slices.Insert(b.ids, i, uint32(id-b.first))
	if b.tfs != nil {
		b.tfs = slices.Insert(b.tfs, i, tf)
	}
	b.maxTF, b.minLen = max(b.maxTF, tf), min(b.minLen, dl)
	if len(b.ids) > 2*blockSize {
		pl.split(j)
	}
}

func (pl *postings) insertBlock(j int, b block) { pl.blocks = slices.Insert(pl.blocks, j, b) }

// split cuts block j in two halves.
func (pl *postings) split(j int) {
	b := &pl.blocks[j]
	mid := len(b.ids) / 2
	hi := block{first: b.id(mid), minLen: b.minLen}
	hi.ids = make([]uint32, len(b.ids)-mid, max(len(b.ids)-mid, blockSize))
	for i, off := range b.ids[mid:] {
		hi.ids[i] = off - b.ids[mid]
	}
	if b.tfs != nil {
		hi.tfs = append(make([]uint16, 0, cap(hi.ids)), b.tfs[mid:]...)
		b.tfs = slices.Clip(b.tfs[:mid])
	}
	hi.recomputeMaxTF()
	b.ids = slices.Clip(b.ids[:mid])
	b.recomputeMaxTF()
	pl.insertBlock(j+1, hi)
}

// remove deletes id from the list and reports whether it was there.
func (pl *postings) remove(id int64) bool {
	j := pl.find(id)
	if j < 0 {
		return false
	}
	b := &pl.blocks[j]
	i, ok := b.search(id)
	if !ok {
		return false
	}
	pl.df--
	tf := b.tf(i)
	b.ids = slices.Delete(b.ids, i, i+1)
	if b.tfs != nil {
		b.tfs = slices.Delete(b.tfs, i, i+1)
	}
	switch {
	case len(b.ids) == 0:
		pl.blocks = slices.Delete(pl.blocks, j, j+1)
		return true
	case tf == b.maxTF:
		b.recomputeMaxTF()
	}
	// b.first may now lie below b's smallest id, which is allowed. A
	// block shrunk to a quarter is merged into a neighbour it fits in.
	if len(b.ids) < blockSize/4 {
		if j+1 < len(pl.blocks) && pl.merge(j) {
			return true
		}
		if j > 0 {
			pl.merge(j - 1)
		}
	}
	return true
}

// merge moves block j+1 into block j when the two hold at most blockSize
// postings and every id fits as an offset from block j's first; it
// reports whether it did.
func (pl *postings) merge(j int) bool {
	a, b := &pl.blocks[j], &pl.blocks[j+1]
	if len(a.ids)+len(b.ids) > blockSize || !a.fits(b.last()) {
		return false
	}
	shift := uint32(b.first - a.first)
	for _, off := range b.ids {
		a.ids = append(a.ids, off+shift)
	}
	if a.tfs != nil {
		a.tfs = append(a.tfs, b.tfs...)
	}
	a.maxTF, a.minLen = max(a.maxTF, b.maxTF), min(a.minLen, b.minLen)
	pl.blocks = slices.Delete(pl.blocks, j+1, j+2)
	return true
}
