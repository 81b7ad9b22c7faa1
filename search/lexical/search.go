package lexical

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"sort"
)

// Ranking is the function by which [Index.Search] ranks documents.
type Ranking int

const (
	// RankScore ranks by [Score], the calibrated score in [0,1]: BM25
	// with k1 = [DefaultK1] and b = 0, divided by the query's own BM25,
	// times a brevity factor relative to the query's length (see Score).
	// Its statistics are the partition's: the document count, and each
	// term's document frequency. The engine of package search ranks by
	// it.
	RankScore Ranking = iota

	// RankBM25 ranks by Okapi BM25 ([BM25]) with k1 = [DefaultK1] and
	// b = [DefaultB], the partition's exact average length (not rounded)
	// and document frequencies: the classic ranking, as SQLite FTS5's
	// bm25() computes it (up to its sign).
	RankBM25
)

// Query is a top-k search of an [Index].
type Query struct {
	// Terms are the query's terms, as [Terms] returns them; repeats count
	// once, in the place of their first occurrence.
	Terms []string
	// K is how many hits to return at most.
	K int
	// Rank is the ranking function.
	Rank Ranking
	// Min is the lowest score of a hit; a hit always scores above 0.
	// Searching with a minimum prunes more than cutting the hits after.
	Min float64
	// PartitionStats scores with the statistics of the searched partition
	// (its document count, average length and document frequencies)
	// instead of the whole index's.
	PartitionStats bool
	// Allow, when not nil, selects the documents that may be returned:
	// the others are skipped inside the top-k search, so that a filtered
	// search still finds K hits when that many match. It is called under
	// the index's read lock (it must not write to the index) and only for
	// documents whose bounds could reach the top k.
	Allow func(id int64) bool
}

// Hit is a document that [Index.Search] found, and its score.
type Hit struct {
	ID    int64
	Score float64
}

// Search returns the documents of partition part that share a term with
// q and score highest by q.Rank: at most q.K of them, each with a score
// of at least q.Min and above 0, best first.
//
// Ties: equal scores go to the larger id first (with row ids assigned in
// insertion order, the newer document). The result is exactly the first
// q.K of every matching document sorted so; [Index.SearchExhaustive]
// computes the same by scoring every match.
//
// It is MaxScore with block bounds (see maxScore), walking the postings
// from the largest id down, so that a document tying with the k-th best
// can be skipped without being scored: each list's and each block's upper
// bounds (from their largest term frequency and smallest document length)
// let it skip the documents and blocks that cannot enter the top k, and
// score fully only those that can. A query whose postings cover at least
// half of the ids they span (nearly every document shares its terms) is
// answered by windows of consecutive ids instead (see bulkMaxScore), with
// the same hits. Scores are sums over the query's terms in its order, so
// they are identical, to the last bit, to [Score] and [BM25] given the
// same counts.
func (x *Index) Search(part uint32, q Query) []Hit {
	return x.search(part, q, false)
}

// SearchExhaustive is [Index.Search] without pruning: it scores every
// document that shares a term with the query. It returns the same hits
// and is there to measure and check Search against.
func (x *Index) SearchExhaustive(part uint32, q Query) []Hit {
	return x.search(part, q, true)
}

// slack widens upper bounds for the rounding of sums taken in another
// order than the scores' (a relative error of at most about 1e-13 for
// MaxQueryTerms terms), so that no document is skipped whose score
// reaches the bound.
const slack = 1 + 1e-9

// exhausted is the doc of a cursor past its last posting; walking down,
// it sorts after every id.
const exhausted = math.MinInt64

// scorer is a query's ranking function with its per-query constants.
type scorer struct {
	rank   Ranking
	k1, b  float64
	avg    float64
	ideal  float64 // RankScore: the query's own BM25
	nTerms int     // distinct query terms
}

// k is BM25's k for a document of length dl.
func (s *scorer) k(dl uint32) float64 {
	norm := 1.0
	if s.avg > 0 {
		norm = float64(dl) / s.avg
	}
	return lengthK(s.k1, s.b, norm)
}

// final maps a document's BM25 sum to its score.
func (s *scorer) final(sum float64, dl uint32) float64 {
	if s.rank == RankBM25 {
		return sum
	}
	return stretch(calibrate(sum, s.ideal, s.nTerms, int(dl)))
}

// cursor walks one query term's postings from the largest id down. It
// holds its current block's fields, to spare an indirection per step.
type cursor struct {
	pl   *postings
	qi   int // the term's place in the query
	idf  float64
	ub   float64 // bound of the whole list
	bi   int     // current block; −1: exhausted
	pos  int     // current posting in it
	doc  int64   // current id, or exhausted
	tfs  []uint16
	ids  []uint32
	base int64   // the current block's first
	bb   float64 // the current block's bound
	kb   float64 // BM25's k at the current block's smallest length
	// w[i] is the weight of tf i+1 at kb, so that most weights of a
	// candidate are a lookup.
	w  [4]float64
	k1 float64
	// density is the share of the ids its list spans that it holds
	// (the bulk scorer's).
	density float64
	moved   *bool // set when the cursor loads another block
}

func (c *cursor) tf() int {
	if c.tfs == nil {
		return 1
	}
	return int(c.tfs[c.pos])
}

// weight is the current posting's weight at kb: exact for RankScore, a
// bound for RankBM25 (whose k grows with the length).
func (c *cursor) weight() float64 {
	if c.tfs == nil {
		return c.w[0]
	}
	if tf := c.tfs[c.pos]; tf <= uint16(len(c.w)) {
		return c.w[tf-1]
	} else {
		return termWeight(c.idf, float64(tf), c.k1, c.kb)
	}
}

// load makes block j (or none, j < 0) current, at position pos.
func (c *cursor) load(s *scorer, j, pos int) {
	c.bi = j
	if j < 0 {
		c.doc = exhausted
		return
	}
	b := &c.pl.blocks[j]
	c.ids, c.tfs, c.base, c.pos = b.ids, b.tfs, b.first, pos
	if kb := s.k(b.minLen); kb != c.kb || c.w[0] == 0 {
		c.kb = kb
		for i := range c.w {
			c.w[i] = termWeight(c.idf, float64(i+1), s.k1, kb)
		}
	}
	c.bb = termWeight(c.idf, float64(b.maxTF), s.k1, c.kb)
	c.doc = c.base + int64(c.ids[pos])
	if c.moved != nil {
		*c.moved = true
	}
}

// next moves to the next smaller id.
func (c *cursor) next(s *scorer) {
	if c.pos > 0 {
		c.pos--
		c.doc = c.base + int64(c.ids[c.pos])
		return
	}
	if j := c.bi - 1; j >= 0 {
		c.load(s, j, len(c.pl.blocks[j].ids)-1)
		return
	}
	c.bi, c.doc = -1, exhausted
}

// seek moves to the largest id at most d.
func (c *cursor) seek(s *scorer, d int64) {
	if c.doc <= d {
		return
	}
	if d >= c.base {
		// In the current block, below pos: gallop down, then bisect.
		off := uint32(d - c.base)
		hi, step := c.pos, 1 // ids[hi] > off
		lo := hi - step
		for lo >= 0 && c.ids[lo] > off {
			hi, step = lo, step*2
			lo = hi - step
		}
		lo = max(lo, -1) // ids[lo] <= off, or lo = −1
		for hi-lo > 1 {
			m := int(uint(lo+hi) >> 1)
			if c.ids[m] > off {
				hi = m
			} else {
				lo = m
			}
		}
		if lo >= 0 {
			c.pos = lo
			c.doc = c.base + int64(c.ids[lo])
			return
		}
		// None left in this block: its first lies below its smallest id.
		if j := c.bi - 1; j >= 0 {
			c.load(s, j, len(c.pl.blocks[j].ids)-1)
			return
		}
		c.bi, c.doc = -1, exhausted
		return
	}
	blocks := c.pl.blocks
	j := sort.Search(c.bi, func(i int) bool { return blocks[i].first > d }) - 1
	if j < 0 {
		c.bi, c.doc = -1, exhausted
		return
	}
	b := &blocks[j]
	i, found := b.search(d)
	if found {
		i++
	}
	if i--; i < 0 { // none at or below d in block j
		if j--; j < 0 {
			c.bi, c.doc = -1, exhausted
			return
		}
		i = len(blocks[j].ids) - 1
	}
	c.load(s, j, i)
}

// topK keeps the best hits seen: a heap whose root is the worst of them
// (lowest score; of equal scores, the smaller id).
type topK []Hit

func (h topK) Len() int { return len(h) }
func (h topK) Less(i, j int) bool {
	if h[i].Score != h[j].Score {
		return h[i].Score < h[j].Score
	}
	return h[i].ID < h[j].ID
}
func (h topK) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *topK) Push(x any)   { *h = append(*h, x.(Hit)) }
func (h *topK) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// sortHits orders hits best first: score descending, then id descending.
func sortHits(hits []Hit) {
	slices.SortFunc(hits, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.ID, a.ID))
	})
}

// distinct returns terms without repeats, in the order of their first
// occurrence.
func distinct(terms []string) []string {
	out := make([]string, 0, len(terms))
	seen := make(map[string]struct{}, len(terms))
	for _, t := range terms {
		if _, dup := seen[t]; !dup {
			seen[t] = struct{}{}
			out = append(out, t)
		}
	}
	return out
}

// prepare returns the scorer of q over p and a cursor per query term that
// p holds, on its largest id.
func (x *Index) prepare(p *partition, q Query, terms []string) (*scorer, []*cursor) {
	s := &scorer{rank: q.Rank, k1: DefaultK1, nTerms: len(terms)}
	n, avg := x.docs.n, float64(x.totalLen)/float64(max(x.docs.n, 1))
	if q.PartitionStats {
		n, avg = p.n, p.avg()
	}
	if q.Rank == RankBM25 {
		s.b, s.avg = DefaultB, avg
	}
	var cs []*cursor
	all := make([]cursor, 2*len(terms))
	for qi, t := range terms {
		num, ok := p.numbers[t]
		df := x.df[t]
		if q.PartitionStats && ok {
			df = p.lists[num].df()
		} else if q.PartitionStats {
			df = 0
		}
		// As in Score: a term no document holds counts as held by one.
		s.ideal += bm25IDF(max(n, 1), max(df, 1))
		if !ok {
			continue
		}
		idf := bm25IDF(n, df)
		for _, pl := range []*postings{&p.lists[num].once, &p.lists[num].more} {
			if pl.df == 0 {
				continue
			}
			c := &all[len(cs)]
			*c = cursor{pl: pl, qi: qi, idf: idf, k1: s.k1}
			for j := range pl.blocks {
				b := &pl.blocks[j]
				c.ub = max(c.ub, termWeight(c.idf, float64(b.maxTF), s.k1, s.k(b.minLen)))
			}
			last := len(pl.blocks) - 1
			c.load(s, last, len(pl.blocks[last].ids)-1)
			cs = append(cs, c)
		}
	}
	return s, cs
}

// threshold returns the BM25 sum at or below which no document can
// enter a top k whose worst score is worst (or, with full false, qualify
// with the query's minimum).
func (s *scorer) threshold(worst float64, full bool, minScore float64) float64 {
	t := max(minScore, 0)
	if full {
		t = worst
	}
	if s.rank == RankScore {
		if full && t >= 1 {
			return math.Inf(1) // a score of 1 is the most there is
		}
		// The score is stretch(raw) and raw at most sum/ideal.
		t = unstretch(t) * s.ideal
	}
	return t / slack
}

func (x *Index) search(part uint32, q Query, exhaustive bool) []Hit {
	if q.K < 1 || math.IsNaN(q.Min) {
		return nil
	}
	terms := distinct(q.Terms)
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.parts[part]
	if p == nil || len(terms) == 0 {
		return nil
	}
	s, cs := x.prepare(p, q, terms)
	if len(cs) == 0 {
		return nil
	}
	if !exhaustive && x.useBulk(cs) {
		w := x.window
		if w <= 0 {
			w = defaultWindow
		}
		return x.bulkMaxScore(s, cs, q, w)
	}
	return x.maxScore(s, cs, q, exhaustive)
}

// maxScore is MaxScore (Turtle and Flood, 1995) walking the postings from
// the largest id down, with block bounds. The lists are ordered by their
// bounds; the longest prefix of them whose bounds together cannot reach
// the top k is non-essential: a document that none of the others holds
// cannot qualify, so candidates come from the essential lists alone, and
// the non-essential ones are only probed for a candidate, from the
// strongest down, until what remains of their bounds cannot lift it into
// the top k. As the top k fills, its threshold rises and more lists
// become non-essential. Over the current blocks of the essential lists,
// their block bounds (from each block's largest term frequency and
// smallest length) skip whole runs of candidates that cannot qualify.
//
// Walking down lets a document that ties with the k-th best be skipped
// without scoring: it has a smaller id and so loses the tie. A
// candidate's score is summed in query order once it has survived the
// bounds, so that it is identical to Score's and BM25's.
func (x *Index) maxScore(s *scorer, cs []*cursor, q Query, exhaustive bool) []Hit {
	slices.SortFunc(cs, func(a, b *cursor) int { return cmp.Or(cmp.Compare(a.ub, b.ub), cmp.Compare(a.qi, b.qi)) })
	n := len(cs)
	prefix := make([]float64, n+1) // prefix[i]: the bounds of cs[:i]
	for i, c := range cs {
		prefix[i+1] = prefix[i] + c.ub
	}
	h := make(topK, 0, min(q.K, 1024))
	t := s.threshold(0, false, q.Min) // a sum at or below t cannot qualify
	if exhaustive {
		t = math.Inf(-1)
	}
	e := 0 // cs[:e] are non-essential
	for e < n && prefix[e+1] <= t {
		e++
	}
	matched := make([]*cursor, 0, n)
	// The block-bound test of the essential lists holds until one of them
	// loads another block or the threshold rises.
	moved := true
	for _, c := range cs {
		c.moved = &moved
	}
	var floor int64 // ids above floor passed the block-bound test
	for e < n {
		ess := cs[e:]
		// The next candidate: the largest id of the essential lists.
		d := int64(exhausted)
		for _, c := range ess {
			d = max(d, c.doc)
		}
		if d == exhausted {
			break
		}
		// Block bounds: every id from the largest first of the essential
		// lists' current blocks up to d is held, among them, only within
		// those blocks.
		if !exhaustive && (moved || d <= floor) {
			moved = false
			bsum := prefix[e]
			floor = exhausted
			for _, c := range ess {
				if c.bi >= 0 {
					bsum += c.bb
					floor = max(floor, c.base-1)
				}
			}
			if bsum <= t {
				for _, c := range ess {
					c.seek(s, floor)
				}
				moved = true
				continue
			}
		}
		// The essential lists' part of d's sum (a bound for BM25, whose
		// weights take d's length, known later, as their block's
		// smallest), then the non-essential ones while they could matter.
		var sum float64
		matched = matched[:0]
		for _, c := range ess {
			if c.doc == d {
				sum += c.weight()
				matched = append(matched, c)
			}
		}
		nEss := len(matched)
		// The filter, once d could qualify, before probing for the rest.
		ok := sum+prefix[e] > t && (q.Allow == nil || q.Allow(d))
		for i := e - 1; ok && i >= 0; i-- {
			if sum+prefix[i+1] <= t {
				ok = false
				break
			}
			c := cs[i]
			c.seek(s, d)
			if c.doc == d {
				sum += c.weight()
				matched = append(matched, c)
			}
		}
		if ok && sum > t {
			if hit, found := scoreDoc(x, s, matched, d); found && hit.Score > 0 && hit.Score >= q.Min {
				switch {
				case len(h) < q.K:
					heap.Push(&h, hit)
				case hit.Score > h[0].Score:
					h[0] = hit
					heap.Fix(&h, 0)
				}
				if len(h) == q.K && !exhaustive {
					t = s.threshold(h[0].Score, true, q.Min)
					for e < n && prefix[e+1] <= t {
						e++
					}
					moved = true
				}
			}
			// scoreDoc reordered matched: advance them all.
			for _, c := range matched {
				if c.doc == d {
					c.next(s)
				}
			}
			continue
		}
		for _, c := range matched[:nEss] {
			c.next(s)
		}
	}
	out := []Hit(h)
	sortHits(out)
	return out
}

// scoreDoc scores id, held by the cursors of matched (all on id), summing
// in query order as [BM25] does.
func scoreDoc(x *Index, s *scorer, matched []*cursor, id int64) (Hit, bool) {
	d, ok := x.docs.get(id)
	if !ok {
		return Hit{}, false
	}
	slices.SortFunc(matched, func(a, b *cursor) int { return cmp.Compare(a.qi, b.qi) })
	k := s.k(d.length)
	var sum float64
	for _, c := range matched {
		sum += termWeight(c.idf, float64(c.tf()), s.k1, k)
	}
	return Hit{ID: id, Score: s.final(sum, d.length)}, true
}

// Score returns the scores by q.Rank of the documents ids against q's
// terms, as [Index.Search] computes them, in the order of ids: 0 for one
// not in partition part or sharing no term with q. q.K, q.Min and
// q.Allow are ignored. It is how a hybrid search learns the lexical score
// of a candidate that the vector side found.
func (x *Index) Score(part uint32, q Query, ids []int64) []float64 {
	out := make([]float64, len(ids))
	terms := distinct(q.Terms)
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.parts[part]
	if p == nil || len(terms) == 0 {
		return out
	}
	s, cs := x.prepare(p, q, terms)
	slices.SortFunc(cs, func(a, b *cursor) int { return cmp.Compare(a.qi, b.qi) })
	for i, id := range ids {
		d, ok := x.docs.get(id)
		if !ok || d.part != part {
			continue
		}
		k := s.k(d.length)
		var sum float64
		for _, c := range cs { // a term's two lists: at most one holds id
			if tf := c.pl.tf(id); tf > 0 {
				sum += termWeight(c.idf, float64(tf), s.k1, k)
			}
		}
		out[i] = s.final(sum, d.length)
	}
	return out
}
