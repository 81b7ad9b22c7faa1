package lexical

import (
	"math"
	"slices"
	"sync"
)

// Index is an in-memory inverted index of texts, for ranked keyword
// search: each document (a memory, named by a row id) is the [Terms] of
// its text, in a partition (an account, say) whose documents are searched
// together and whose BM25 statistics (document count, average length,
// document frequency of each term) are its own.
//
// Documents are added, replaced and deleted one at a time ([Index.Upsert],
// [Index.Delete]), and the postings and statistics change with them: a
// search sees every change made before it began and never returns a
// deleted document. [Index.Search] answers top-k queries by block-max WAND
// ([Query]); it scores only the documents whose bounds could reach the
// top k, never every match.
//
// An Index is safe for concurrent use: searches share a read lock, and
// each write holds the write lock for the time it takes to change one
// document's postings (microseconds).
type Index struct {
	mu    sync.RWMutex
	parts map[uint32]*partition
	docs  map[int64]doc
}

// doc is what the index keeps of a document besides its postings.
type doc struct {
	part   uint32
	length uint32   // terms in the text, repeats included: BM25's document length
	terms  []uint32 // its distinct terms, by their numbers in the partition, ascending
}

// partition is the index of one partition's documents.
type partition struct {
	n        int   // documents
	totalLen int64 // sum of their lengths
	numbers  map[string]uint32
	lists    []*postings // by term number; nil: a free number
	names    []string    // by term number
	free     []uint32
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{parts: map[uint32]*partition{}, docs: map[int64]doc{}}
}

// Len returns the number of documents in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.docs)
}

// PartitionStats are a partition's BM25 statistics.
type PartitionStats struct {
	Docs        int     // documents
	AvgLength   float64 // their average length, in terms
	Terms       int     // distinct terms
	TotalLength int64   // their total length
}

// Stats returns the statistics of a partition (zero for one without
// documents).
func (x *Index) Stats(part uint32) PartitionStats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.parts[part]
	if p == nil {
		return PartitionStats{}
	}
	return PartitionStats{Docs: p.n, AvgLength: p.avg(), Terms: len(p.numbers), TotalLength: p.totalLen}
}

func (p *partition) avg() float64 {
	if p.n == 0 {
		return 0
	}
	return float64(p.totalLen) / float64(p.n)
}

// Upsert makes the document id hold text, in partition part, replacing
// what it held before (in any partition). Its terms are [Terms](text); its
// length, for BM25, is their number. A text without terms makes a
// document that no query matches but that counts in the partition's
// statistics, as a row of a full-text table does.
func (x *Index) Upsert(id int64, part uint32, text string) {
	var tb Buffer
	tb.Tokenize(text)
	x.upsert(id, part, &tb)
}

// UpsertTerms is [Index.Upsert] with text already split by a [Buffer]:
// the document holds tb's terms. It is for loading many texts with one
// Buffer.
func (x *Index) UpsertTerms(id int64, part uint32, tb *Buffer) { x.upsert(id, part, tb) }

// termCount is a distinct term of a text and how often it occurs.
type termCount struct {
	term []byte
	n    int
}

func (x *Index) upsert(id int64, part uint32, tb *Buffer) {
	counts := countTerms(tb)
	length := uint32(min(tb.Len(), math.MaxUint32))

	x.mu.Lock()
	defer x.mu.Unlock()
	x.deleteLocked(id)
	p := x.parts[part]
	if p == nil {
		p = &partition{numbers: map[string]uint32{}}
		x.parts[part] = p
	}
	d := doc{part: part, length: length, terms: make([]uint32, len(counts))}
	for i, c := range counts {
		num, ok := p.numbers[string(c.term)]
		if !ok {
			num = p.newTerm(string(c.term))
		}
		p.lists[num].add(id, uint16(min(c.n, maxTF)), length)
		d.terms[i] = num
	}
	slices.Sort(d.terms)
	p.n++
	p.totalLen += int64(length)
	x.docs[id] = d
}

// countTerms returns the distinct terms of tb with their counts, in no
// particular order.
func countTerms(tb *Buffer) []termCount {
	out := make([]termCount, 0, tb.Len())
	for i := range tb.Len() {
		out = append(out, termCount{term: tb.Term(i), n: 1})
	}
	slices.SortFunc(out, func(a, b termCount) int { return compareBytes(a.term, b.term) })
	w := 0
	for i := range out {
		if w > 0 && string(out[w-1].term) == string(out[i].term) {
			out[w-1].n++
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

func compareBytes(a, b []byte) int {
	switch sa, sb := string(a), string(b); {
	case sa < sb:
		return -1
	case sa > sb:
		return 1
	}
	return 0
}

// newTerm numbers a term new to the partition.
func (p *partition) newTerm(term string) uint32 {
	var num uint32
	if n := len(p.free); n > 0 {
		num, p.free = p.free[n-1], p.free[:n-1]
		p.lists[num], p.names[num] = &postings{}, term
	} else {
		num = uint32(len(p.lists))
		p.lists, p.names = append(p.lists, &postings{}), append(p.names, term)
	}
	p.numbers[term] = num
	return num
}

// Delete removes the document id, if the index holds it.
func (x *Index) Delete(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.deleteLocked(id)
}

func (x *Index) deleteLocked(id int64) {
	d, ok := x.docs[id]
	if !ok {
		return
	}
	delete(x.docs, id)
	p := x.parts[d.part]
	for _, num := range d.terms {
		pl := p.lists[num]
		pl.remove(id)
		if pl.df == 0 { // the last document with the term: forget it
			delete(p.numbers, p.names[num])
			p.lists[num], p.names[num] = nil, ""
			p.free = append(p.free, num)
		}
	}
	p.n--
	p.totalLen -= int64(d.length)
	if p.n == 0 {
		delete(x.parts, d.part)
	}
}

// Clear removes every document.
func (x *Index) Clear() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.parts, x.docs = map[uint32]*partition{}, map[int64]doc{}
}
