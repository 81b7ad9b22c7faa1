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
// It is block-max WAND (Ding and Suel, 2011), walking the postings from
// the largest id down, so that a document tying with the k-th best can be
// skipped without being scored: each list's and each block's upper bounds
// (from their largest term frequency and smallest document length) let it
// skip the documents and blocks that cannot enter the top k, and score
// fully only those that can. Scores are sums over the query's terms in
// its order, so they are identical, to the last bit, to [Score] and
// [BM25] given the same counts.
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
	return calibrate(sum, s.ideal, s.nTerms, int(dl))
}

// bound maps an upper bound of a BM25 sum to one of the score.
func (s *scorer) bound(sum float64) float64 {
	sum *= slack
	if s.rank == RankBM25 {
		return sum
	}
	if s.ideal <= 0 {
		return 0
	}
	return min(sum/s.ideal, 1)
}

// cursor walks one query term's postings from the largest id down.
type cursor struct {
	pl     *postings
	qi     int // the term's place in the query
	idf    float64
	bi     int   // current block
	pos    int   // current posting in it
	doc    int64 // current id, or exhausted
	ub     float64
	bbi    int     // block whose bound bb is
	bb     float64 // its bound
	bfirst int64   // its first
}

func (c *cursor) tf() int { return int(c.pl.blocks[c.bi].tfs[c.pos]) }

func (c *cursor) setDoc() {
	if c.bi < 0 {
		c.doc = exhausted
		return
	}
	c.doc = c.pl.blocks[c.bi].id(c.pos)
}

// next moves to the next smaller id.
func (c *cursor) next() {
	if c.pos--; c.pos < 0 {
		if c.bi--; c.bi >= 0 {
			c.pos = len(c.pl.blocks[c.bi].ids) - 1
		}
	}
	c.setDoc()
}

// seek moves to the largest id at most d.
func (c *cursor) seek(d int64) {
	if c.doc <= d {
		return
	}
	blocks := c.pl.blocks
	j := c.bi
	if blocks[j].first > d {
		j = sort.Search(j, func(i int) bool { return blocks[i].first > d }) - 1
		if j < 0 {
			c.bi = -1
			c.setDoc()
			return
		}
	}
	b := &blocks[j]
	end := len(b.ids)
	if j == c.bi {
		end = c.pos
	}
	i, found := b.search(d)
	if found {
		i++
	}
	i = min(i, end) - 1 // the last posting below or at d
	if i < 0 {          // none in this block (its first lies below its smallest id)
		j--
		if j >= 0 {
			i = len(blocks[j].ids) - 1
		}
	}
	c.bi, c.pos = j, i
	c.setDoc()
}

// blockBound returns the bound of the block whose range holds d (d at
// most the cursor's doc) and that block's first id; a list with no
// posting at or below d has bound 0 and first exhausted.
func (c *cursor) blockBound(s *scorer, d int64) (float64, int64) {
	blocks := c.pl.blocks
	j := c.bi
	if j < 0 {
		return 0, exhausted
	}
	if blocks[j].first > d {
		j = sort.Search(j, func(i int) bool { return blocks[i].first > d }) - 1
		if j < 0 {
			return 0, exhausted
		}
	}
	if j != c.bbi {
		b := &blocks[j]
		c.bbi, c.bb, c.bfirst = j, termWeight(c.idf, float64(b.maxTF), s.k1, s.k(b.minLen)), b.first
	}
	return c.bb, c.bfirst
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
// p holds.
func prepare(p *partition, q Query, terms []string) (*scorer, []*cursor) {
	s := &scorer{rank: q.Rank, k1: DefaultK1, nTerms: len(terms)}
	if q.Rank == RankBM25 {
		s.b, s.avg = DefaultB, p.avg()
	}
	var cs []*cursor
	for qi, t := range terms {
		var df int
		num, ok := p.numbers[t]
		if ok {
			df = p.lists[num].df
		}
		// As in Score: a term no document holds counts as held by one.
		s.ideal += bm25IDF(max(p.n, 1), max(df, 1))
		if !ok {
			continue
		}
		pl := &p.lists[num]
		c := &cursor{pl: pl, qi: qi, idf: bm25IDF(p.n, df), bi: len(pl.blocks) - 1, bbi: -1}
		c.pos = len(pl.blocks[c.bi].ids) - 1
		c.setDoc()
		for j := range pl.blocks {
			b := &pl.blocks[j]
			c.ub = max(c.ub, termWeight(c.idf, float64(b.maxTF), s.k1, s.k(b.minLen)))
		}
		cs = append(cs, c)
	}
	return s, cs
}

func (x *Index) search(part uint32, q Query, exhaustive bool) []Hit {
	if q.K < 1 {
		return nil
	}
	terms := distinct(q.Terms)
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.parts[part]
	if p == nil || len(terms) == 0 {
		return nil
	}
	s, cs := prepare(p, q, terms)
	if len(cs) == 0 {
		return nil
	}
	h := make(topK, 0, min(q.K, 1024))
	// hopeless reports that no document whose score is bounded by ub can
	// enter the top k.
	hopeless := func(ub float64) bool {
		if exhaustive {
			return false
		}
		b := s.bound(ub)
		if len(h) == q.K {
			return b <= h[0].Score
		}
		return b <= 0 || b < q.Min
	}
	matched := make([]*cursor, 0, len(cs))
	byDoc := func(a, b *cursor) int { return cmp.Compare(b.doc, a.doc) }
	for {
		slices.SortFunc(cs, byDoc)
		// The pivot: the first cursor at which the bounds of the cursors
		// so far could reach the top k. Every larger id unseen is held
		// only by the cursors before it, and so cannot.
		var acc float64
		pivot := -1
		for i, c := range cs {
			if c.doc == exhausted {
				break
			}
			acc += c.ub
			if !hopeless(acc) {
				pivot = i
				break
			}
		}
		if pivot < 0 {
			break
		}
		pd := cs[pivot].doc
		for pivot+1 < len(cs) && cs[pivot+1].doc == pd {
			pivot++
		}
		// The block bounds of the pivot's id.
		var bsum float64
		next := int64(exhausted) // below it, the first id the block bounds do not rule out
		for _, c := range cs[:pivot+1] {
			bb, first := c.blockBound(s, pd)
			bsum += bb
			if first != exhausted {
				next = max(next, first-1)
			}
		}
		if hopeless(bsum) {
			// Every id from the largest block start up to pd is held only
			// by these cursors, within these blocks: skip them.
			if pivot+1 < len(cs) {
				next = max(next, cs[pivot+1].doc)
			}
			for _, c := range cs[:pivot+1] {
				c.seek(next)
			}
			continue
		}
		if cs[0].doc != pd {
			for _, c := range cs[:pivot+1] {
				c.seek(pd)
			}
			continue
		}
		// Every cursor up to the pivot is on pd: score it.
		matched = append(matched[:0], cs[:pivot+1]...)
		if q.Allow == nil || q.Allow(pd) {
			if hit, ok := scoreDoc(x, s, matched, pd); ok {
				switch {
				case hit.Score <= 0 || hit.Score < q.Min:
				case len(h) < q.K:
					heap.Push(&h, hit)
				case hit.Score > h[0].Score:
					h[0] = hit
					heap.Fix(&h, 0)
				}
			}
		}
		for _, c := range matched {
			c.next()
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
	s, cs := prepare(p, q, terms)
	slices.SortFunc(cs, func(a, b *cursor) int { return cmp.Compare(a.qi, b.qi) })
	for i, id := range ids {
		d, ok := x.docs.get(id)
		if !ok || d.part != part {
			continue
		}
		k := s.k(d.length)
		var sum float64
		for _, c := range cs {
			if tf := c.pl.tf(id); tf > 0 {
				sum += termWeight(c.idf, float64(tf), s.k1, k)
			}
		}
		out[i] = s.final(sum, d.length)
	}
	return out
}
