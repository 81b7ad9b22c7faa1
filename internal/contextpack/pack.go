package contextpack

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// Rules are the parameters of packing. The zero value estimates nothing:
// callers pass their documented values.
type Rules struct {
	// CharsPerToken is the estimate behind every token budget: a token is
	// about this many characters (code points) of text.
	CharsPerToken int
	// SeparatorTokens is what each packed item costs on top of its text,
	// for the separator and framing a client puts between items.
	SeparatorTokens int
	// DuplicateCosine is the cosine similarity at or above which two
	// items' vectors make them near-duplicates.
	DuplicateCosine float64
}

// Tokens is the token estimate of s: ceil(runes/CharsPerToken), so ""
// is 0 tokens (and so is everything when CharsPerToken is not positive).
func (r Rules) Tokens(s string) int {
	if r.CharsPerToken <= 0 {
		return 0
	}
	return (utf8.RuneCountInString(s) + r.CharsPerToken - 1) / r.CharsPerToken
}

// Candidate is one ranked item that may be packed.
type Candidate struct {
	Text   string
	Vector []float32 // nil when unknown: then only equal texts are duplicates
}

// Packed is one candidate kept by [Rules.Pack].
type Packed struct {
	Index  int // the candidate's index
	Tokens int // its cost: Tokens(Text) + SeparatorTokens
}

// Pack picks, from candidates ranked best first, the ones to keep, in
// their order:
//
//   - A candidate whose text equals, after lowercasing and collapsing
//     whitespace, that of one already kept, or whose vector has cosine
//     similarity ≥ DuplicateCosine with one, is skipped.
//   - Each candidate costs Tokens(Text) + SeparatorTokens. One that does
//     not fit in what remains of maxTokens is skipped whole (never cut) and
//     packing goes on with the next, smaller ones, so the total never
//     exceeds maxTokens. maxTokens 0 is no token budget.
//   - Packing stops at maxItems kept.
//
// It returns the kept candidates and their total cost.
func (r Rules) Pack(candidates []Candidate, maxItems, maxTokens int) (kept []Packed, tokens int) {
	kept = []Packed{}
	seen := map[string]bool{}
	var picked [][]float32
	for i, c := range candidates {
		if len(kept) == maxItems {
			break
		}
		norm := strings.Join(strings.Fields(strings.ToLower(c.Text)), " ")
		if seen[norm] {
			continue
		}
		if r.nearDuplicate(c.Vector, picked) {
			continue
		}
		cost := r.Tokens(c.Text) + r.SeparatorTokens
		if maxTokens > 0 && tokens+cost > maxTokens {
			continue
		}
		seen[norm] = true
		if len(c.Vector) > 0 {
			picked = append(picked, c.Vector)
		}
		kept = append(kept, Packed{Index: i, Tokens: cost})
		tokens += cost
	}
	return kept, tokens
}

// nearDuplicate reports whether v has cosine similarity ≥ DuplicateCosine
// with any of picked.
func (r Rules) nearDuplicate(v []float32, picked [][]float32) bool {
	if len(v) == 0 {
		return false
	}
	for _, w := range picked {
		if len(w) == len(v) && float64(vector.Cosine(v, w)) >= r.DuplicateCosine {
			return true
		}
	}
	return false
}

// Join joins texts, ranked best first, with sep into one text of at most
// maxChars characters (code points; 0: no limit). Whole texts are added
// while they fit; the first one that does not fit is cut at the last word
// boundary (whitespace) within the remaining budget, never inside a word,
// and ends the result; if not even its first word fits, it is left out.
// The result is therefore always a prefix, at a word boundary, of the
// text an unlimited budget would give. n is how many texts it holds (the
// last possibly cut) and chars its length in characters.
func Join(texts []string, sep string, maxChars int) (text string, n, chars int) {
	sepLen := utf8.RuneCountInString(sep)
	var b strings.Builder
	for _, t := range texts {
		whole := t
		size := utf8.RuneCountInString(t)
		s := 0
		if n > 0 {
			s = sepLen
		}
		if maxChars > 0 && chars+s+size > maxChars {
			t = CutAtWord(t, maxChars-chars-s)
			if t == "" {
				break
			}
			size = utf8.RuneCountInString(t)
		}
		if s > 0 {
			b.WriteString(sep)
		}
		b.WriteString(t)
		chars += s + size
		n++
		if t != whole {
			break
		}
	}
	return b.String(), n, chars
}

// CutAtWord returns the longest prefix of s of at most limit characters
// that ends at a word boundary (before whitespace or at the end of s),
// without trailing whitespace; "" if no word fits.
func CutAtWord(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	i, count := 0, 0
	for i < len(s) && count < limit {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	if i < len(s) {
		next, _ := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(next) {
			// Back up to the last whitespace: the word at the cut is dropped.
			j := strings.LastIndexFunc(s[:i], unicode.IsSpace)
			if j < 0 {
				return ""
			}
			i = j
		}
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace)
}
