package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// MatchinfoFormat is the format string of the matchinfo blobs that
// [ParseMatchinfo] reads: matchinfo(tbl, 'pcnalx') on an FTS4 table with
// one column.
const MatchinfoFormat = "pcnalx"

// BM25 parameters used by [LexicalScore].
const (
	DefaultK1 = 1.2  // term-frequency saturation
	DefaultB  = 0.75 // document-length normalisation, for raw BM25 ranking
)

// ErrMatchinfo means a matchinfo blob is not a valid 'pcnalx' blob for an
// FTS4 table with one column.
var ErrMatchinfo = errors.New("search: malformed matchinfo")

// Matchinfo is the decoded result of matchinfo(tbl, 'pcnalx') for one row
// of an FTS4 table with a single column. Counts are in tokens; as SQLite
// computes them for a column that stores the space-joined [Terms] of a
// text, a token is a term.
type Matchinfo struct {
	Rows      int           // n: rows in the table
	AvgLength int           // a: average length of a row, rounded by SQLite
	Length    int           // l: length of this row
	Phrases   []PhraseStats // x: one per query phrase (p of them), in query order
}

// PhraseStats are the 'x' counts of one query phrase. For the expressions
// [MatchExpr] builds, a phrase is one term.
type PhraseStats struct {
	Hits    int // occurrences in this row
	AllHits int // occurrences in all rows
	Docs    int // rows with at least one occurrence
}

// ParseMatchinfo decodes a matchinfo blob in [MatchinfoFormat]: native-
// endian unsigned 32-bit integers p, c, n, a, l, then 3·p integers x. It
// returns an error matching [ErrMatchinfo] if the length is not 4·(5+3p)
// bytes or the table does not have exactly one column.
func ParseMatchinfo(blob []byte) (Matchinfo, error) {
	if len(blob)%4 != 0 || len(blob) < 4*5 {
		return Matchinfo{}, fmt.Errorf("%w: %d bytes", ErrMatchinfo, len(blob))
	}
	u := func(i int) uint32 { return binary.NativeEndian.Uint32(blob[4*i:]) }
	p, c := u(0), u(1)
	if c != 1 {
		return Matchinfo{}, fmt.Errorf("%w: %d columns, want 1", ErrMatchinfo, c)
	}
	if words := uint64(len(blob) / 4); uint64(p) != (words-5)/3 || (words-5)%3 != 0 {
		return Matchinfo{}, fmt.Errorf("%w: %d bytes for %d phrases", ErrMatchinfo, len(blob), p)
	}
	mi := Matchinfo{
		Rows:      toInt(u(2)),
		AvgLength: toInt(u(3)),
		Length:    toInt(u(4)),
		Phrases:   make([]PhraseStats, p),
	}
	for i := range mi.Phrases {
		mi.Phrases[i] = PhraseStats{
			Hits:    toInt(u(5 + 3*i)),
			AllHits: toInt(u(6 + 3*i)),
			Docs:    toInt(u(7 + 3*i)),
		}
	}
	return mi, nil
}

// toInt converts without going negative on 32-bit platforms.
func toInt(x uint32) int {
	if uint64(x) > math.MaxInt {
		return math.MaxInt
	}
	return int(x)
}

// BM25 returns the Okapi BM25 score of the row described by mi:
//
//	Σ over phrases of idf · tf·(k1+1) / (tf + k1·(1 − b + b·Length/AvgLength))
//	idf = ln(1 + (Rows − Docs + 0.5) / (Docs + 0.5))
//
// where tf is the phrase's Hits. The idf is always positive for consistent
// counts. Negative counts (only possible in a hand-built Matchinfo) are
// treated as 0, and an AvgLength of 0 as the row's own length. Higher is
// better; the scale depends on the table, so use [LexicalScore] for a score
// in [0,1].
func BM25(mi Matchinfo, k1, b float64) float64 {
	dl := float64(max(mi.Length, 0))
	avg := float64(max(mi.AvgLength, 0))
	norm := 1.0 // dl/avgdl
	if avg > 0 {
		norm = dl / avg
	}
	k := k1 * (1 - b + b*norm)
	var sum float64
	for _, ph := range mi.Phrases {
		tf := float64(max(ph.Hits, 0))
		if tf == 0 {
			continue
		}
		sum += bm25IDF(mi.Rows, ph.Docs) * tf * (k1 + 1) / (tf + k)
	}
	return sum
}

// bm25IDF is BM25's idf. docs is clamped to [0, rows] so that the idf of
// inconsistent counts stays positive.
func bm25IDF(rows, docs int) float64 {
	N := max(rows, 0)
	n := min(max(docs, 0), N)
	return math.Log(1 + (float64(N-n)+0.5)/(float64(n)+0.5))
}

// lengthExponent is γ in LexicalScore's length factor (p/Length)^γ.
const lengthExponent = 0.2

// LexicalScore maps the matchinfo of a row that matched a [MatchExpr]
// query to a score in [0,1] calibrated like the semantic score (API.md §7):
//
//   - a row whose terms equal the query's (the same text up to case,
//     punctuation, stopwords and word forms) scores 1;
//   - a near-verbatim row (one word of a dozen changed or missing) scores
//     about 0.8 to 0.9, a little less if the missing word is much rarer in
//     the table than the others;
//   - a row that holds all of the query in a text at least 1.7 times as
//     long scores below 0.9, so only near-identical text exceeds 0.9;
//   - a row sharing no term with the query scores 0 (it does not match).
//
// The score is coverage × brevity^(coverage²):
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
//     twice as long as the query is at most 0.87, and a one-term query
//     still scores 0.58 against a 15-term row and 0.44 against a 60-term
//     row, so thresholds of 0.3 to 0.5 keep keyword hits.
//   - the exponent coverage² fades brevity out for rows holding only part
//     of the query: a row holding half of it gets brevity^¼ (0.90 rather
//     than 0.67 for a row 7.5 times as long as the query). Among partial
//     matches, length says little about relevance (a longer memory has
//     more room for the missing words), and penalising it cost recall: on
//     LoCoMo (cmd/locomo, 783 questions) BM25's own length normalisation
//     lowers recall@10 from 0.632 (b = 0) to 0.604 (b = 0.75), a full
//     brevity factor to 0.619, and brevity^(coverage²) keeps 0.630. Unlike
//     BM25's b, the factor is relative to the query, not to the table's
//     average row, so the calibration does not drift as the table fills.
//
// A partial match scales with the share of the query it holds, like a
// cosine: half the query's terms in a row of the query's length is about
// 0.5. The idf weighting means that missing a rare query term costs more
// than missing a common one.
func LexicalScore(mi Matchinfo) float64 {
	p := len(mi.Phrases)
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
	for _, ph := range mi.Phrases {
		ideal += bm25IDF(max(mi.Rows, 1), max(ph.Docs, 1))
	}
	got := BM25(mi, DefaultK1, 0)
	if got <= 0 || ideal <= 0 {
		return 0
	}
	coverage := min(got/ideal, 1)
	if dl := mi.Length; dl > p {
		// brevity^(coverage²), in one Pow.
		return coverage * math.Pow(float64(p)/float64(dl), lengthExponent*coverage*coverage)
	}
	return coverage
}
