package lexical

import (
	"math"
	"slices"
	"sync"
)

// Index is an in-memory inverted index of texts, for ranked keyword
// search: each document (a memory, named by a row id) is the [Terms] of
// its text, in a partition (an account, say) whose documents are searched
// together. A search scores with the BM25 statistics (document count,
// average length, document frequency of each term) of the whole index by
// default, as a full-text table of all partitions would, or with its
// partition's own ([Query.PartitionStats]).
//
// Documents are added, replaced and deleted one at a time ([Index.Upsert],
// [Index.Delete]), and the postings and statistics change with them: a
// search sees every change made before it began and never returns a
// deleted document. [Index.Search] answers top-k queries ([Query]) by
// MaxScore with block bounds: it scores only the documents whose bounds
// could reach the top k, never every match.
//
// An Index is safe for concurrent use: searches share a read lock, and
// each write holds the write lock for the time it takes to change one
// document's postings (microseconds).
type Index struct {
	mu    sync.RWMutex
	parts map[uint32]*partition
	docs  docTable
	nums  []uint32 // scratch of writes: a document's term numbers
	// The whole index's statistics: total length, and each term's
	// document frequency over every partition.
	totalLen int64
	df       map[string]int
	// bulk chooses between MaxScore and the bulk scorer (bulkAuto:
	// by the density of the query's postings), and window is the bulk
	// scorer's window (0: defaultWindow); tests set them.
	bulk   int
	window int
}

// partition is the index of one partition's documents.
type partition struct {
	n        int   // documents
	totalLen int64 // sum of their lengths
	numbers  map[string]uint32
	lists    []termLists // by term number; df 0: a free number
	names    []string    // by term number
	free     []uint32
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{parts: map[uint32]*partition{}, df: map[string]int{}}
}

// Len returns the number of documents in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.docs.n
}

// PartitionStats are the BM25 statistics of a partition or of the whole
// index.
type PartitionStats struct {
	Docs        int     // documents
	AvgLength   float64 // their average length, in terms
	Terms       int     // distinct terms
	TotalLength int64   // their total length
}

// Stats returns the statistics of the whole index.
func (x *Index) Stats() PartitionStats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	st := PartitionStats{Docs: x.docs.n, Terms: len(x.df), TotalLength: x.totalLen}
	if st.Docs > 0 {
		st.AvgLength = float64(x.totalLen) / float64(st.Docs)
	}
	return st
}

// PartitionStats returns the statistics of a partition (zero for one
// without documents).
func (x *Index) PartitionStats(part uint32) PartitionStats {
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

func (x *Index) upsert(id int64, part uint32, tb *Buffer) {
	length := uint32(min(tb.Len(), math.MaxUint32))

	x.mu.Lock()
	defer x.mu.Unlock()
	x.deleteLocked(id)
	p := x.parts[part]
	if p == nil {
		p = &partition{numbers: map[string]uint32{}}
		x.parts[part] = p
	}
	// The term numbers of every term, repeats included, sorted: each run
	// is a distinct term, its length the term's frequency.
	nums := x.nums[:0]
	for i := range tb.Len() {
		term := tb.Term(i)
		num, ok := p.numbers[string(term)]
		if !ok {
			num = p.newTerm(string(term))
		}
		nums = append(nums, num)
	}
	slices.Sort(nums)
	w := 0
	for i := 0; i < len(nums); {
		j := i + 1
		for j < len(nums) && nums[j] == nums[i] {
			j++
		}
		tf := uint16(min(j-i, maxTF))
		p.lists[nums[i]].list(tf).add(id, tf, length)
		if name := p.names[nums[i]]; x.df[name] == 0 {
			x.df[name] = 1
		} else {
			x.df[name]++
		}
		nums[w] = nums[i]
		w++
		i = j
	}
	x.docs.put(id, part, length, nums[:w])
	x.nums = nums
	p.n++
	p.totalLen += int64(length)
	x.totalLen += int64(length)
}

// newTerm numbers a term new to the partition.
func (p *partition) newTerm(term string) uint32 {
	var num uint32
	if n := len(p.free); n > 0 {
		num, p.free = p.free[n-1], p.free[:n-1]
		p.names[num] = term
	} else {
		num = uint32(len(p.lists))
		p.lists, p.names = append(p.lists, newTermLists()), append(p.names, term)
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
	d, ok := x.docs.get(id)
	if !ok {
		return
	}
	p := x.parts[d.part]
	x.nums = x.docs.terms(d, x.nums[:0])
	x.docs.remove(id, d)
	for _, num := range x.nums {
		tl := &p.lists[num]
		tl.remove(id)
		if name := p.names[num]; x.df[name] <= 1 {
			delete(x.df, name)
		} else {
			x.df[name]--
		}
		if tl.df() == 0 { // the last document with the term: forget it
			delete(p.numbers, p.names[num])
			p.lists[num], p.names[num] = newTermLists(), ""
			p.free = append(p.free, num)
		}
	}
	p.n--
	p.totalLen -= int64(d.length)
	x.totalLen -= int64(d.length)
	if p.n == 0 {
		delete(x.parts, d.part)
	}
}

// Clear removes every document.
func (x *Index) Clear() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.parts, x.docs = map[uint32]*partition{}, docTable{}
	x.totalLen, x.df = 0, map[string]int{}
}
