package lexical_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// TestBulkScorer: the windowed bulk scorer on dense corpora (a dozen
// words, every document sharing terms with every query, as in
// benchtext.Worst), where the density test picks it by itself: the same
// hits as the brute-force model and as MaxScore, to the last bit, across
// window boundaries, after deletes, with filters, with k above the
// matches, for one term, and with a minimum no document reaches (every
// list non-essential from the start).
func TestBulkScorer(t *testing.T) {
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima")
	seeds := 6
	if testing.Short() || raceEnabled {
		seeds = 2
	}
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 7))
		text := func(lo, hi int) string {
			n := lo + rng.IntN(hi-lo+1)
			ws := make([]string, n)
			for i := range ws {
				ws[i] = words[rng.IntN(len(words))]
			}
			return strings.Join(ws, " ")
		}
		x, m := lexical.NewIndex(), newModel()
		nDocs := 20000 + rng.IntN(5000)
		for i := range nDocs {
			id := int64(i)
			if seed%3 == 1 {
				id = int64(i) * 3 // gaps: windows hold fewer documents
			}
			s := text(3, 9)
			x.Upsert(id, 0, s)
			m.upsert(id, 0, s)
		}
		for range nDocs / 10 {
			id := int64(rng.IntN(nDocs))
			x.Delete(id)
			m.delete(id)
		}
		for qn := range 12 {
			q := lexical.Query{Terms: lexical.Terms(text(1, 6)), K: 1 + rng.IntN(30), Rank: lexical.Ranking(qn % 2)}
			switch qn % 6 {
			case 1:
				q.Terms = q.Terms[:1] // one term
			case 2:
				mod := int64(2 + rng.IntN(9))
				q.Allow = func(id int64) bool { return id%mod == 0 }
			case 3:
				q.K = nDocs * 2 // more than match
			case 4:
				q.Min = 0.999 // none reaches it: no essential list
				if q.Rank == lexical.RankBM25 {
					q.Min = 1e6
				}
			case 5:
				q.Allow = func(id int64) bool { return id < 100 } // 100 ids, all in the last window walked
			}
			what := fmt.Sprintf("seed %d query %d %v rank %d k %d min %v", seed, qn, q.Terms, q.Rank, q.K, q.Min)
			want := m.topK(0, q)
			all := map[int64]float64{}
			for _, h := range m.score(0, distinct(q.Terms), q.Rank, false) {
				all[h.ID] = h.Score
			}
			lexical.SetBulk(x, -1, 0)
			maxScore := x.Search(0, q)
			checkSame(t, what+" MaxScore", maxScore, want, q.Rank == lexical.RankScore, all)
			for _, w := range []int{0, 1, 100, 4096, 1 << 16} {
				lexical.SetBulk(x, 1, w)
				checkSame(t, fmt.Sprintf("%s bulk window %d", what, w), x.Search(0, q), maxScore, true, nil)
			}
			lexical.SetBulk(x, 0, 0) // by density: the bulk scorer here
			checkSame(t, what+" auto", x.Search(0, q), maxScore, true, nil)
		}
	}
}
