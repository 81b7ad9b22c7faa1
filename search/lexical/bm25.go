package lexical

import "math"

// BM25 parameters used by [Score].
const (
	DefaultK1 = 1.2  // term-frequency saturation
	DefaultB  = 0.75 // document-length normalisation, for raw BM25 ranking
)

// Stats are the counts that [BM25] and [Score] need about one row (one
// memory's text) that matched a query. Lengths count terms, as [Terms]
// splits a text. SQLite's FTS4 gives them as matchinfo(tbl, 'pcnalx').
type Stats struct {
	Rows      int         // rows in the table
	AvgLength int         // average length of a row, possibly rounded
	Length    int         // length of this row
	Terms     []TermStats // one per distinct query term, in query order
}

// TermStats are the counts of one query term.
type TermStats struct {
	Hits    int // occurrences in this row
	AllHits int // occurrences in all rows
	Docs    int // rows with at least one occurrence
}

// BM25 returns the Okapi BM25 score of the row described by st:
//
//	Σ over terms of idf · tf·(k1+1) / (tf + k1·(1 − b + b·Length/AvgLength))
//	idf = ln(1 + (Rows − Docs + 0.5) / (Docs + 0.5))
//
// where tf is the term's Hits. The idf is always positive for consistent
// counts. Negative counts (only possible in hand-built Stats) are treated
// as 0, and an AvgLength of 0 as the row's own length. Higher is better;
// the scale depends on the table, so use [Score] for a score in [0,1].
func BM25(st Stats, k1, b float64) float64 {
	dl := float64(max(st.Length, 0))
	avg := float64(max(st.AvgLength, 0))
	norm := 1.0 // dl/avgdl
	if avg > 0 {
		norm = dl / avg
	}
	k := lengthK(k1, b, norm)
	var sum float64
	for _, t := range st.Terms {
		tf := float64(max(t.Hits, 0))
		if tf == 0 {
			continue
		}
		sum += termWeight(bm25IDF(st.Rows, t.Docs), tf, k1, k)
	}
	return sum
}

// lengthK is BM25's k1·(1 − b + b·norm), norm being Length/AvgLength.
func lengthK(k1, b, norm float64) float64 {
	return k1 * float64(1-b+float64(b*norm))
}

// termWeight is one term's BM25 contribution: idf·tf·(k1+1)/(tf+k), where
// k = k1·(1 − b + b·Length/AvgLength). [BM25], [Score] and the [Index]
// all compute it here, in this order of operations (the conversions
// forbid fused multiply-adds), so that they agree to the last bit.
func termWeight(idf, tf, k1, k float64) float64 {
	return float64(float64(idf*tf)*(k1+1)) / (tf + k)
}

// bm25IDF is BM25's idf. docs is clamped to [0, rows] so that the idf of
// inconsistent counts stays positive.
func bm25IDF(rows, docs int) float64 {
	N := max(rows, 0)
	n := min(max(docs, 0), N)
	return math.Log(1 + (float64(N-n)+0.5)/(float64(n)+0.5))
}

// lengthExponent is γ in Score's length factor (p/Length)^γ.
const lengthExponent = 0.2

// Score maps the statistics of a row that matched a query (that shares at
// least one of its terms) to a score in [0,1] that means what clients
// assume of a score (API.md §7):
//
//   - 1: the row's terms equal the query's (the same text up to case,
//     punctuation, stopwords and word forms);
//   - 0.9 and above: only near-verbatim duplicates: rows holding at least
//     97% of the query (by idf weight) in a text at most about 16% longer
//     (one extra word in eight scores 0.92; a one-word query against a
//     row of two terms 0.87);
//   - 0.8 to 0.9: one word of a dozen changed or missing, a little less if
//     the missing word is much rarer in the table than the others; a row
//     holding all of the query in a text up to twice as long (a question
//     and the memory that answers it in the question's words: 0.86 for
//     a 3-term question in a 5-term memory);
//   - 0.5 and above: a row holding most of the query's weight (half the
//     terms of a query in a row of its length is about 0.5);
//   - below 0.3: a row that shares only a minor part of the query, such as
//     one common word;
//   - 0: a row sharing no term with the query (it does not match).
//
// The raw score is coverage × brevity^(coverage²), and the score is the
// raw score with the top of the scale stretched ([stretch]):
//
//   - coverage is the row's BM25 (with b = 0, see below) divided by the
//     BM25 that the query itself would get as a row: each of its p terms
//     once, with the same idfs (a term no row contains counts as being in
//     one, as it would be if the query were a row). It is the idf-weighted
//     share of the query found in the row, with BM25's tf saturation,
//     clamped to 1 (repeating a term can push it past 1). Dividing by a
//     per-query constant keeps BM25's ranking of the rows matching one
//     query.
//   - brevity is (p/Length)^0.2 for a row longer than the query, and 1
//     otherwise. It tells a row that is the query from a longer row that
//     merely contains it. A row holding all of the query gets all of it:
//     twice as long as the query is at most 0.86, and a one-term query
//     still scores 0.58 against a 15-term row and 0.44 against a 60-term
//     row, so thresholds of 0.3 to 0.5 keep keyword hits.
//   - the exponent coverage² fades brevity out for rows holding only part
//     of the query: a row holding half of it gets brevity^¼ (0.90 rather
//     than 0.67 for a row 7.5 times as long as the query). Among partial
//     matches, length says little about relevance (a longer memory has
//     more room for the missing words), and penalising it cost recall: on
//     LoCoMo (cmd/locomo, 783 questions) BM25's own length normalisation
//     lowers recall@10 from 0.632 (b = 0) to 0.604 (b = 0.75), a full
//     brevity factor to 0.619, and brevity^(coverage²) keeps 0.630; a
//     stronger brevity (exponent 0.3 instead of 0.2) costs 0.014 of
//     recall@1. Unlike BM25's b, the factor is relative to the query, not
//     to the table's average row, so the calibration does not drift as
//     the table fills.
//   - the stretch is monotone, so it changes no ranking: it only moves
//     raw scores of 0.85 to 0.97 (a row holding all of a short question
//     in a somewhat longer answer, 0.90 to 0.92 raw) below 0.9, which
//     only near-verbatim rows reach.
//
// A partial match scales with the share of the query it holds, like a
// cosine. The idf weighting means that missing a rare query term costs
// more than missing a common one.
func Score(st Stats) float64 {
	p := len(st.Terms)
	if p == 0 {
		return 0
	}
	// The query as a row: each term once, so with b = 0 each contributes
	// idf·(k1+1)/(1+k1) = idf. Were the query a row, each of its terms
	// would occur in at least one row, so a term the table has never seen
	// counts as occurring in one: otherwise the +0.5 smoothing alone would
	// give it an idf far above any real term's, and changing one word of a
	// sentence to a new word would cost it a third of its score.
	var ideal float64
	for _, t := range st.Terms {
		ideal += bm25IDF(max(st.Rows, 1), max(t.Docs, 1))
	}
	return stretch(calibrate(BM25(st, DefaultK1, 0), ideal, p, st.Length))
}

// The stretch of the top of [Score]'s scale: raw scores up to
// stretchFrom are kept, those from stretchFrom to stretchNear map
// linearly onto stretchFrom to 0.9, and those above onto 0.9 to 1.
const (
	stretchFrom = 0.85
	stretchNear = 0.97
)

// stretch maps a raw score to the score: continuous, strictly increasing,
// 0 to 0 and 1 to 1.
func stretch(raw float64) float64 {
	switch {
	case raw <= stretchFrom:
		return raw
	case raw <= stretchNear:
		return stretchFrom + (raw-stretchFrom)*(0.9-stretchFrom)/(stretchNear-stretchFrom)
	}
	return 0.9 + (raw-stretchNear)*0.1/(1-stretchNear)
}

// unstretch is stretch's inverse, up to rounding.
func unstretch(s float64) float64 {
	switch {
	case s <= stretchFrom:
		return s
	case s <= 0.9:
		return stretchFrom + (s-stretchFrom)*(stretchNear-stretchFrom)/(0.9-stretchFrom)
	}
	return stretchNear + (s-0.9)*(1-stretchNear)/0.1
}

// calibrate is the end of [Score]: coverage × brevity^(coverage²), from
// the row's BM25 with b = 0 (got), the query's own (ideal), the number of
// query terms p and the row's length dl.
func calibrate(got, ideal float64, p, dl int) float64 {
	if got <= 0 || ideal <= 0 {
		return 0
	}
	coverage := min(got/ideal, 1)
	if dl > p {
		// brevity^(coverage²), in one Pow.
		return coverage * math.Pow(float64(p)/float64(dl), lengthExponent*coverage*coverage)
	}
	return coverage
}
