package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is a word or a punctuation mark of a text.
type token struct {
	text       string // as written
	base       string // text without a possessive "'s"
	lower      string // base, lower-cased
	start, end int    // byte offsets in the text
	word       bool   // letters or digits, not punctuation
	cap        bool   // a word whose first letter is upper case
	sentStart  bool   // the first word of a sentence
	spaceAfter bool   // followed by white space (or the end)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

// joiners may sit inside a word when a letter or digit follows them:
// Node.js, O'Brien, text-embedding-3-small, snake_case, AT&T.
func isJoiner(r rune) bool {
	switch r {
	case '.', '-', '\'', '’', '_', '&':
		return true
	}
	return false
}

// tokenize splits text into tokens, skipping the byte ranges in skip
// (sorted, not overlapping), which the patterns took.
func tokenize(text string, skip [][2]int) []token {
	var toks []token
	sentence := true
	for i := 0; i < len(text); {
		if len(skip) > 0 && i >= skip[0][0] {
			if i < skip[0][1] {
				i = skip[0][1]
			}
			skip = skip[1:]
			sentence = false
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsSpace(r):
			if r == '\n' {
				sentence = true
			}
			if len(toks) > 0 {
				toks[len(toks)-1].spaceAfter = true
			}
			i += n
		case isWordRune(r):
			j := i + n
			for j < len(text) {
				if len(skip) > 0 && j >= skip[0][0] {
					break
				}
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if isWordRune(r2) {
					j += n2
					continue
				}
				if isJoiner(r2) && j+n2 < len(text) {
					r3, _ := utf8.DecodeRuneInString(text[j+n2:])
					if isWordRune(r3) {
						j += n2
						continue
					}
				}
				if r2 == '/' && j+1 < len(text) && text[j+1] >= '0' && text[j+1] <= '9' {
					j++ // HTTP/2
					continue
				}
				break
			}
			// C++, C#, F#: trailing + and # belong to the word.
			for j < len(text) && (text[j] == '+' || text[j] == '#') {
				j++
			}
			w := text[i:j]
			t := token{text: w, start: i, end: j, word: true, sentStart: sentence}
			t.base = w
			for _, s := range []string{"'s", "’s"} {
				if strings.HasSuffix(w, s) && len(w) > len(s) {
					t.base = w[:len(w)-len(s)]
				}
			}
			if strings.HasSuffix(t.base, "'") || strings.HasSuffix(t.base, "’") {
				t.base = strings.TrimRight(t.base, "'’") // James'
			}
			first, _ := utf8.DecodeRuneInString(w)
			t.cap = unicode.IsUpper(first)
			t.lower = strings.ToLower(t.base)
			toks = append(toks, t)
			sentence = false
			i = j
		default:
			s := text[i : i+n]
			toks = append(toks, token{text: s, base: s, lower: s, start: i, end: i + n})
			switch r {
			case '!', '?', ':', ';', '•':
				sentence = true
			case '.':
				// A period ends a sentence unless it closes an
				// abbreviation (a title, an initial, "Inc").
				sentence = !(len(toks) >= 2 && toks[len(toks)-2].word && toks[len(toks)-2].end == i && isAbbrev(toks[len(toks)-2].text))
			case '-', '*':
				if len(toks) == 1 || strings.ContainsRune(text[toks[len(toks)-2].end:i], '\n') {
					sentence = true // a bullet
				}
			}
			i += n
		}
	}
	if len(toks) > 0 {
		toks[len(toks)-1].spaceAfter = true
	}
	return toks
}

// abbrevs are words a period may follow inside a sentence.
var abbrevs = map[string]bool{
	"Mr": true, "Mrs": true, "Ms": true, "Dr": true, "Prof": true, "St": true, "Sr": true, "Jr": true,
	"Inc": true, "Corp": true, "Ltd": true, "Co": true, "vs": true, "etc": true, "e.g": true, "i.e": true,
	"Jan": true, "Feb": true, "Mar": true, "Apr": true, "Jun": true, "Jul": true, "Aug": true, "Sep": true,
	"Sept": true, "Oct": true, "Nov": true, "Dec": true, "U.S": true, "U.K": true, "No": true,
}

func isAbbrev(w string) bool {
	if abbrevs[w] {
		return true
	}
	r, n := utf8.DecodeRuneInString(w)
	return n == len(w) && unicode.IsUpper(r) // an initial: "J. R. R."
}
