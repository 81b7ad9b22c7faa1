package sqlite

// The SQLite side of full-text search: the MATCH expression of a query and
// the decoding of FTS4's matchinfo into the statistics package lexical
// scores.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// MatchinfoFormat is the format string of the matchinfo blobs that
// [ParseMatchinfo] reads: matchinfo(tbl, 'pcnalx') on an FTS4 table with
// one column.
const MatchinfoFormat = "pcnalx"

// ErrMatchinfo means a matchinfo blob is not a valid 'pcnalx' blob for an
// FTS4 table with one column.
var ErrMatchinfo = errors.New("store: malformed matchinfo")

// ParseMatchinfo decodes a matchinfo blob in [MatchinfoFormat] (native-
// endian unsigned 32-bit integers p, c, n, a, l, then 3·p integers x) into
// the statistics of one row: n is Rows, a AvgLength (rounded by SQLite), l
// Length, and each x triple the Hits, AllHits and Docs of one query
// phrase, which for the expressions [MatchExpr] builds is one term. Counts
// are in tokens; for a column that stores the space-joined
// [lexical.Terms] of a text, a token is a term. It returns an error
// matching [ErrMatchinfo] if the length is not 4·(5+3p) bytes or the table
// does not have exactly one column.
func ParseMatchinfo(blob []byte) (lexical.Stats, error) {
	if len(blob)%4 != 0 || len(blob) < 4*5 {
		return lexical.Stats{}, fmt.Errorf("%w: %d bytes", ErrMatchinfo, len(blob))
	}
	u := func(i int) uint32 { return binary.NativeEndian.Uint32(blob[4*i:]) }
	p, c := u(0), u(1)
	if c != 1 {
		return lexical.Stats{}, fmt.Errorf("%w: %d columns, want 1", ErrMatchinfo, c)
	}
	if words := uint64(len(blob) / 4); uint64(p) != (words-5)/3 || (words-5)%3 != 0 {
		return lexical.Stats{}, fmt.Errorf("%w: %d bytes for %d phrases", ErrMatchinfo, len(blob), p)
	}
	st := lexical.Stats{
		Rows:      toInt(u(2)),
		AvgLength: toInt(u(3)),
		Length:    toInt(u(4)),
		Terms:     make([]lexical.TermStats, p),
	}
	for i := range st.Terms {
		st.Terms[i] = lexical.TermStats{
			Hits:    toInt(u(5 + 3*i)),
			AllHits: toInt(u(6 + 3*i)),
			Docs:    toInt(u(7 + 3*i)),
		}
	}
	return st, nil
}

// toInt converts without going negative on 32-bit platforms.
func toInt(x uint32) int {
	if uint64(x) > math.MaxInt {
		return math.MaxInt
	}
	return int(x)
}

// MaxMatchTerms is the largest number of distinct terms [MatchExpr] puts in
// one MATCH expression.
const MaxMatchTerms = 64

// MatchExpr builds an SQLite FTS4 MATCH expression that matches any row
// containing at least one of terms: the distinct terms, each in double
// quotes, joined by OR, in their first-occurrence order:
//
//	"typescript" OR "prefer"
//
// terms are normally the output of [lexical.Terms]. Any element that could
// not have come from it (empty, longer than [lexical.MaxTermBytes], invalid UTF-8,
// or holding a character outside the categories L and N) is skipped, so the
// result is always a syntactically safe expression whatever the input. When
// there are more than [MaxMatchTerms] distinct terms, the longest (in
// characters) are kept; ties go to the earlier term.
//
// MatchExpr returns "" when no term is usable; the caller must then treat
// the query as matching nothing lexically, because an empty MATCH is an
// SQLite error.
func MatchExpr(terms []string) string {
	type cand struct {
		term  string
		runes int
		pos   int
	}
	cands := make([]cand, 0, min(len(terms), 2*MaxMatchTerms))
	seen := make(map[string]struct{}, min(len(terms), 2*MaxMatchTerms))
	size := 0
	for _, t := range terms {
		if _, dup := seen[t]; dup {
			continue
		}
		n, ok := termRunes(t)
		if !ok {
			continue
		}
		seen[t] = struct{}{}
		cands = append(cands, cand{term: t, runes: n, pos: len(cands)})
		size += len(t) + len(`"" OR `)
	}
	if len(cands) == 0 {
		return ""
	}
	if len(cands) > MaxMatchTerms {
		slices.SortStableFunc(cands, func(a, b cand) int { return b.runes - a.runes })
		cands = cands[:MaxMatchTerms]
		slices.SortFunc(cands, func(a, b cand) int { return a.pos - b.pos })
	}
	var sb strings.Builder
	sb.Grow(size)
	for i, c := range cands {
		if i > 0 {
			sb.WriteString(" OR ")
		}
		sb.WriteByte('"')
		sb.WriteString(c.term)
		sb.WriteByte('"')
	}
	return sb.String()
}

// termRunes reports whether t could be a term (non-empty, at most
// lexical.MaxTermBytes, only letters and numbers) and its length in runes.
func termRunes(t string) (int, bool) {
	if t == "" || len(t) > lexical.MaxTermBytes {
		return 0, false
	}
	n := 0
	for _, r := range t {
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsNumber(r)) {
			// A literal U+FFFD is a symbol (So), so rejecting RuneError
			// also rejects invalid UTF-8 without a second pass.
			return 0, false
		}
		n++
	}
	return n, true
}
