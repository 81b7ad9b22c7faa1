package lexical

import (
	"container/heap"
	"math"
	"math/bits"
)

// Windowed bulk scoring (after Lucene's MaxScoreBulkScorer), for queries
// whose lists are dense: nearly every document shares terms with the
// query, MaxScore's candidates come one posting at a time from lists that
// are all essential, and the per-candidate work of the cursors dominates.
const (
	// defaultWindow is how many consecutive ids a window of the bulk
	// scorer covers.
	defaultWindow = 4096
	// maxBulkCursors is the most cursors the bulk scorer takes: a
	// document's essential lists are a bit set of one word.
	maxBulkCursors = 64
	// bulkDensity: the bulk scorer is used when the query's postings are
	// at least 1/bulkDensity of the id range they span.
	bulkDensity = 2
	// minBulkPostings: below this many postings the query is cheap
	// either way and MaxScore is kept.
	minBulkPostings = 1 << 14
)

// Bulk scorer modes, for tests: [Index.bulk].
const (
	bulkAuto   = 0
	bulkAlways = 1
	bulkNever  = -1
)

// useBulk reports whether a search over cs takes the bulk scorer.
func (x *Index) useBulk(cs []*cursor) bool {
	if len(cs) > maxBulkCursors || x.bulk == bulkNever {
		return false
	}
	if x.bulk == bulkAlways {
		return true
	}
	var postings int
	hi, lo := int64(math.MinInt64), int64(math.MaxInt64)
	for _, c := range cs {
		postings += c.pl.df
		hi = max(hi, c.doc)
		lo = min(lo, c.pl.blocks[0].first)
	}
	if postings < minBulkPostings || hi < lo {
		return false
	}
	span := uint64(hi - lo)
	return uint64(postings)*bulkDensity >= span
}

// windowBound returns a bound of the weights of c's postings from lo up
// to its current one: the largest bound of the blocks they lie in; 0 when
// c is below lo.
func (c *cursor) windowBound(s *scorer, lo int64) float64 {
	if c.doc < lo {
		return 0
	}
	ub := c.bb
	blocks := c.pl.blocks
	// Block j−1's ids lie below block j's first.
	for j := c.bi; j > 0 && blocks[j].first > lo; {
		j--
		b := &blocks[j]
		ub = max(ub, termWeight(c.idf, float64(b.maxTF), s.k1, s.k(b.minLen)))
	}
	return ub
}

// seekCost is about what seeking a posting costs, in postings walked.
const seekCost = 8

// fill walks c's postings from its current one down to lo, adding their
// weights (at their block's kb) into partial, bit into mask and, in a
// list that keeps them, their tfs into tf, all at id − lo. Every
// document it adds is marked in seen; with alive, it adds only those
// whose mask is not 0 (the candidates still alive) and marks none.
func (c *cursor) fill(s *scorer, lo int64, partial []float64, mask, seen []uint64, bit uint64, tf []uint16, alive bool) {
	for c.bi >= 0 {
		ids, tfs, base := c.ids, c.tfs, c.base
		i := c.pos
		for ; i >= 0; i-- {
			d := base + int64(ids[i])
			if d < lo {
				c.pos, c.doc = i, d
				return
			}
			off := int(d - lo)
			if alive && mask[off] == 0 {
				continue
			}
			w := c.w[0]
			if tfs != nil {
				f := tfs[i]
				if f <= uint16(len(c.w)) {
					w = c.w[f-1]
				} else {
					w = termWeight(c.idf, float64(f), c.k1, c.kb)
				}
				tf[off] = f
			}
			partial[off] += w
			if !alive && mask[off] == 0 {
				seen[off>>6] |= 1 << uint(off&63)
			}
			mask[off] |= bit
		}
		if j := c.bi - 1; j >= 0 {
			c.load(s, j, len(c.pl.blocks[j].ids)-1)
		} else {
			c.bi, c.doc = -1, exhausted
		}
	}
}

// termTF is a query term's occurrences in a candidate.
type termTF struct {
	qi  int
	idf float64
	tf  uint16
}

// bulkMaxScore answers the same as maxScore (to the last bit, ties
// included) by windows of consecutive ids, from the largest down. In each
// window it orders the lists by their bounds within the window (the
// largest bound of the blocks the window overlaps); those of the longest
// prefix whose bounds together cannot reach the top k are non-essential.
// A window whose lists together cannot reach it is skipped. The essential
// lists' postings in the window are added, list by list, into dense
// arrays of partial sums (bounds for BM25, whose weights take their
// block's smallest length), with a bit set of the lists each document is
// in; then the documents are taken from the largest id down, and only
// those whose partial sum with the non-essential bounds could reach the
// top k are filtered, probed in the non-essential lists (strongest first,
// while the rest could still matter) and scored exactly, in query order.
func (x *Index) bulkMaxScore(s *scorer, cs []*cursor, q Query, window int) []Hit {
	n := len(cs)
	h := make(topK, 0, min(q.K, 1024))
	t := s.threshold(0, false, q.Min)
	partial := make([]float64, window)
	mask := make([]uint64, window)
	seen := make([]uint64, (window+63)/64)
	tfs := make([][]uint16, n) // the tfs of the lists that keep them
	for i, c := range cs {
		c.moved = nil
		c.density = float64(c.pl.df) / float64(max(c.doc-c.pl.blocks[0].first, 1))
		if !c.pl.unit {
			tfs[i] = make([]uint16, window)
		}
	}
	// gid[i] numbers cs[i]'s term: a term's lists (of single and of
	// repeated occurrences) are consecutive in cs.
	gid := make([]int, n)
	for i := 1; i < n; i++ {
		gid[i] = gid[i-1]
		if cs[i].qi != cs[i-1].qi {
			gid[i]++
		}
	}
	termMax := make([]float64, gid[n-1]+1)
	wub := make([]float64, n)
	order := make([]int, n) // cursors by window bound, ascending
	prefix := make([]float64, n+1)
	cands := make([]int32, 0, window)
	tt := make([]termTF, 0, n)
	for {
		hi := int64(exhausted)
		for _, c := range cs {
			hi = max(hi, c.doc)
		}
		if hi == exhausted || math.IsInf(t, 1) {
			break
		}
		lo := int64(math.MinInt64 + 1)
		if hi > lo+int64(window) {
			lo = hi - int64(window) + 1
		}
		for i, c := range cs {
			wub[i] = c.windowBound(s, lo)
			order[i] = i
			// Insertion sort: n is small.
			for k := i; k > 0 && less(wub, cs, order[k], order[k-1]); k-- {
				order[k], order[k-1] = order[k-1], order[k]
			}
		}
		// prefix[k] bounds the documents held only by the lists of
		// order[:k]: a term's two lists never hold the same document, so
		// a term adds the larger of its lists' bounds.
		for k, i := range order {
			g := gid[i]
			prefix[k+1] = prefix[k] + max(0, wub[i]-termMax[g])
			termMax[g] = max(termMax[g], wub[i])
		}
		clear(termMax)
		e := 0
		for e < n && prefix[e+1] <= t {
			e++
		}
		if e < n {
			for _, i := range order[e:] {
				cs[i].fill(s, lo, partial, mask, seen, uint64(1)<<uint(i), tfs[i], false)
			}
			// The candidates, from the largest id down: those whose
			// bounds could reach the top k and that the filter allows.
			cands = cands[:0]
			for wi := len(seen) - 1; wi >= 0; wi-- {
				for w := seen[wi]; w != 0; {
					b := 63 - bits.LeadingZeros64(w)
					w &^= 1 << uint(b)
					off := wi<<6 + b
					if partial[off]+prefix[e] <= t || (q.Allow != nil && !q.Allow(lo+int64(off))) {
						partial[off], mask[off] = 0, 0
						continue
					}
					cands = append(cands, int32(off))
				}
				seen[wi] = 0
			}
			// The non-essential lists, strongest first, for the
			// candidates that the rest of their bounds could still lift
			// into the top k.
			for k := e - 1; k >= 0 && len(cands) > 0; k-- {
				live := cands[:0]
				for _, off := range cands {
					if partial[off]+prefix[k+1] <= t {
						partial[off], mask[off] = 0, 0
						continue
					}
					live = append(live, off)
				}
				cands = live
				i := order[k]
				c, bit, tf := cs[i], uint64(1)<<uint(i), tfs[i]
				if float64(len(cands))*seekCost < c.density*float64(window) {
					for _, off := range cands {
						c.seek(s, lo+int64(off))
						if c.doc == lo+int64(off) {
							partial[off] += c.weight()
							mask[off] |= bit
							if tf != nil {
								tf[off] = c.tfs[c.pos]
							}
						}
					}
				} else {
					c.fill(s, lo, partial, mask, seen, bit, tf, true)
				}
			}
			for _, off := range cands {
				sum, m := partial[off], mask[off]
				partial[off], mask[off] = 0, 0
				if sum <= t {
					continue
				}
				d := lo + int64(off)
				doc, found := x.docs.get(d)
				if !found {
					continue
				}
				tt = tt[:0]
				for m != 0 {
					i := bits.TrailingZeros64(m)
					m &^= 1 << uint(i)
					tf := uint16(1)
					if tfs[i] != nil {
						tf = tfs[i][off]
					}
					tt = append(tt, termTF{qi: cs[i].qi, idf: cs[i].idf, tf: tf})
				}
				for a := 1; a < len(tt); a++ {
					for k := a; k > 0 && tt[k].qi < tt[k-1].qi; k-- {
						tt[k], tt[k-1] = tt[k-1], tt[k]
					}
				}
				k := s.k(doc.length)
				var raw float64
				for _, w := range tt {
					raw += termWeight(w.idf, float64(w.tf), s.k1, k)
				}
				hit := Hit{ID: d, Score: s.final(raw, doc.length)}
				if hit.Score <= 0 || hit.Score < q.Min {
					continue
				}
				switch {
				case len(h) < q.K:
					heap.Push(&h, hit)
				case hit.Score > h[0].Score:
					h[0] = hit
					heap.Fix(&h, 0)
				}
				if len(h) == q.K {
					t = s.threshold(h[0].Score, true, q.Min)
				}
			}
		}
		// Everything at or above lo is done.
		for _, c := range cs {
			c.seek(s, lo-1)
		}
	}
	out := []Hit(h)
	sortHits(out)
	return out
}

// less orders cursors i and j by window bound, then query place.
func less(wub []float64, cs []*cursor, i, j int) bool {
	if wub[i] != wub[j] {
		return wub[i] < wub[j]
	}
	return cs[i].qi < cs[j].qi
}
