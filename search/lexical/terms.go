package lexical

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTermBytes is the longest term, in bytes of UTF-8, that [Terms] keeps.
// Longer runs of letters and digits (hashes, base64, URLs without
// punctuation) are dropped rather than truncated.
const MaxTermBytes = 64

// Terms splits text into the normalised terms that every part of search
// uses: the built-in hashing embedder (package embed), the full-text index
// and the lexical scorer.
//
// The steps, in order:
//   - Text is read as UTF-8; invalid bytes separate terms.
//   - Letters are lowercased with [unicode.ToLower]. Latin letters with
//     diacritics are folded to their base letter (é → e, ł → l), and
//     combining marks (category M) are removed without splitting the word.
//   - A term is a maximal run of letters and numbers (categories L and N);
//     everything else separates terms, so "e-mail" gives "e" and "mail" and
//     "user's" gives "user" and "s".
//   - Runs of Han, Hiragana and Katakana characters, which are written
//     without spaces, become overlapping two-character terms ("機械学習" →
//     "機械", "械学", "学習"); a lone character is a term by itself.
//   - Terms longer than [MaxTermBytes] bytes are dropped.
//   - About 150 English stopwords ("the", "what", "does", "s", ...) are
//     dropped.
//   - Terms made only of ASCII letters are stemmed by a small, conservative
//     suffix stripper: plurals, -ed, -ing and -ly, a final silent e and a
//     final consonant + y, so that "prefers", "preferred" and "preferring"
//     all become "prefer", "cache", "caches" and "cached" become "cach",
//     and "memory" and "memories" become "memori". Terms are index keys,
//     not words to show anybody.
//
// Every term is non-empty and consists only of characters in the Unicode
// categories L and N; in particular a term never contains a quote, '*',
// '-', a parenthesis or a space, so terms can be stored space-joined in a
// full-text table (SQLite's FTS4 with its "simple" tokenizer gives back
// exactly the same terms) and quoted in a MATCH expression.
// Terms is deterministic. It returns nil when text has no terms.
//
// The output of Terms is part of the on-disk format: the full-text index
// stores it and the hashing embedder's model id names it. Changing it requires a new
// model id and a reindex.
func Terms(text string) []string {
	return AppendTerms(nil, text)
}

// AppendTerms appends the terms of text (see [Terms]) to dst and returns the
// extended slice. All the terms it appends share one newly allocated
// string, so reusing dst makes the cost a few allocations per call rather
// than one per term.
func AppendTerms(dst []string, text string) []string {
	var tb Buffer
	tb.b = make([]byte, 0, len(text))
	tb.ends = make([]int, 0, len(text)/6+1)
	tb.scan(text, false)
	if len(tb.ends) == 0 {
		return dst
	}
	all := string(tb.b)
	start := 0
	for _, end := range tb.ends {
		dst = append(dst, all[start:end])
		start = end
	}
	return dst
}

// Buffer tokenizes texts as [Terms] does, into memory it reuses: once it
// has grown to fit the longest text, tokenizing allocates nothing. It is
// for code that tokenizes many texts, such as an embedder. The zero value
// is ready to use. A Buffer is not safe for concurrent use.
type Buffer struct {
	// b holds the terms back to back; ends[i] is the end offset of term i.
	b    []byte
	ends []int
}

// Tokenize replaces the buffer's terms with the terms of text, the ones
// [Terms] returns.
func (tb *Buffer) Tokenize(text string) {
	tb.reset()
	tb.scan(text, false)
}

// TokenizeAll is [Buffer.Tokenize] keeping stopwords. The built-in hashing
// embedder embeds a text made only of stopwords from them.
func (tb *Buffer) TokenizeAll(text string) {
	tb.reset()
	tb.scan(text, true)
}

// Len returns the number of terms in the buffer.
func (tb *Buffer) Len() int { return len(tb.ends) }

// Term returns term i, for 0 <= i < Len, as bytes that the buffer owns:
// they are valid, and must not be modified, until the next Tokenize or
// TokenizeAll.
func (tb *Buffer) Term(i int) []byte {
	start := 0
	if i > 0 {
		start = tb.ends[i-1]
	}
	return tb.b[start:tb.ends[i]:tb.ends[i]]
}

func (tb *Buffer) reset() {
	tb.b = tb.b[:0]
	tb.ends = tb.ends[:0]
}

// scan appends the terms of text. With keepStop, stopwords are kept (the
// embedder's fallback for texts made only of stopwords).
func (tb *Buffer) scan(text string, keepStop bool) {
	start := len(tb.b) // start of the word being built in tb.b
	asciiAlpha := true // the word so far is only ASCII letters
	var cjkPrev rune   // previous rune of the current CJK run, or 0
	cjkRun := 0        // runes in the current CJK run

	flushWord := func() {
		w := tb.b[start:]
		switch {
		case len(w) == 0:
		case len(w) > MaxTermBytes:
			tb.b = tb.b[:start]
		case !keepStop && isStopword(w):
			tb.b = tb.b[:start]
		default:
			if asciiAlpha {
				tb.b = tb.b[:start+len(stem(w))]
			}
			tb.ends = append(tb.ends, len(tb.b))
		}
		start = len(tb.b)
		asciiAlpha = true
	}
	flushCJK := func() {
		if cjkRun == 1 {
			tb.b = utf8.AppendRune(tb.b, cjkPrev)
			tb.ends = append(tb.ends, len(tb.b))
			start = len(tb.b)
		}
		cjkPrev, cjkRun = 0, 0
	}

	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case '0' <= c && c <= '9':
				asciiAlpha = false
			default:
				if cjkRun > 0 {
					flushCJK()
				}
				flushWord()
				continue
			}
			if cjkRun > 0 {
				flushCJK()
			}
			tb.b = append(tb.b, c)
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if size == 1 { // invalid UTF-8 (a literal U+FFFD is a symbol anyway)
			if cjkRun > 0 {
				flushCJK()
			}
			flushWord()
			continue
		}
		r = foldRune(unicode.ToLower(r))
		switch {
		case unicode.IsMark(r):
			// Dropped without ending the word: "cafe\u0301" is "cafe".
		case !unicode.IsLetter(r) && !unicode.IsNumber(r):
			// A separator. Some symbols belong to CJK scripts (the
			// radicals, squared words like ㍑), so this test comes first.
			if cjkRun > 0 {
				flushCJK()
			}
			flushWord()
		case isCJK(r):
			flushWord()
			if cjkRun > 0 {
				tb.b = utf8.AppendRune(tb.b, cjkPrev)
				tb.b = utf8.AppendRune(tb.b, r)
				tb.ends = append(tb.ends, len(tb.b))
				start = len(tb.b)
			}
			cjkPrev = r
			cjkRun++
		default: // a letter or number of a script written with spaces
			if cjkRun > 0 {
				flushCJK()
			}
			if r < utf8.RuneSelf {
				if r < 'a' || r > 'z' {
					asciiAlpha = false
				}
				tb.b = append(tb.b, byte(r))
			} else {
				asciiAlpha = false
				tb.b = utf8.AppendRune(tb.b, r)
			}
		}
	}
	if cjkRun > 0 {
		flushCJK()
	}
	flushWord()
}

// isCJK reports whether r belongs to a script written without spaces
// between words that Terms splits into character bigrams.
func isCJK(r rune) bool {
	if r < 0x2E80 {
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || r == 0x30FC // ー, prolonged sound mark (script Common)
}

// foldRune maps a lowercase Latin letter with diacritics to its ASCII base
// letter. The tables were generated from the Unicode NFD decompositions of
// U+00C0–U+024F and U+1E00–U+1EFF ('.' means no folding), plus ø, ł, đ, ħ,
// ı and ſ, which have no decomposition.
func foldRune(r rune) rune {
	var c byte
	switch {
	case r < 0xC0:
		return r
	case r < 0x250:
		c = foldLatin[r-0xC0]
	case 0x1E00 <= r && r < 0x1F00:
		c = foldLatinExtAdd[r-0x1E00]
	default:
		return r
	}
	if c == '.' {
		return r
	}
	return rune(c)
}

const foldLatin = "aaaaaa.ceeeeiiii.nooooo.ouuuuy..aaaaaa.ceeeeiiii.nooooo.ouuuuy.y" +
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiii.i..jjkk.llllllllll" +
	"nnnnnn...oooooo..rrrrrrsssssssstttt..uuuuuuuuuuuuwwyyyzzzzzzs......" +
	"..........................oo.............uu........................" +
	"....aaiioouuuuuuuuuu.aaaa....ggkkoooo..j...gg..nnaa....aaaaeeeeiiii" +
	"oooorrrruuuusstt..hh......aaeeooooooooyy............................"

const foldLatinExtAdd = "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllllmmmm" +
	"mmnnnnnnnnoooooooopppprrrrrrrrssssssssssttttttttuuuuuuuuuuvvvvwwww" +
	"wwwwwwxxxxyyzzzzzzhtwy......aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeee" +
	"iiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyy......"

// isStopword reports whether w is an English stopword. The map lookup with
// a converted []byte key does not allocate.
func isStopword(w []byte) bool {
	_, ok := stopwords[string(w)]
	return ok
}

// stopwords are dropped by Terms. The list is deliberately modest: the
// function words of English that carry no topic, and the fragments left by
// splitting contractions at the apostrophe ("don't" → "don", "t"). It is
// read-only.
var stopwords = map[string]struct{}{
	"a": {}, "about": {}, "above": {}, "after": {}, "again": {}, "against": {},
	"all": {}, "also": {}, "am": {}, "an": {}, "and": {}, "any": {}, "are": {},
	"aren": {}, "as": {}, "at": {}, "be": {}, "because": {}, "been": {},
	"before": {}, "being": {}, "below": {}, "between": {}, "both": {}, "but": {},
	"by": {}, "can": {}, "cannot": {}, "could": {}, "couldn": {}, "d": {},
	"did": {}, "didn": {}, "do": {}, "does": {}, "doesn": {}, "doing": {},
	"don": {}, "down": {}, "during": {}, "each": {}, "few": {}, "for": {},
	"from": {}, "further": {}, "had": {}, "hadn": {}, "has": {}, "hasn": {},
	"have": {}, "haven": {}, "having": {}, "he": {}, "her": {}, "here": {},
	"hers": {}, "herself": {}, "him": {}, "himself": {}, "his": {}, "how": {},
	"i": {}, "if": {}, "in": {}, "into": {}, "is": {}, "isn": {}, "it": {},
	"its": {}, "itself": {}, "just": {}, "ll": {}, "m": {}, "me": {},
	"might": {}, "more": {}, "most": {}, "must": {}, "my": {}, "myself": {},
	"no": {}, "nor": {}, "not": {}, "of": {}, "off": {}, "on": {}, "once": {},
	"only": {}, "or": {}, "other": {}, "our": {}, "ours": {}, "ourselves": {},
	"out": {}, "over": {}, "own": {}, "re": {}, "s": {}, "same": {},
	"shall": {}, "she": {}, "should": {}, "shouldn": {}, "so": {}, "some": {},
	"such": {}, "t": {}, "than": {}, "that": {}, "the": {}, "their": {},
	"theirs": {}, "them": {}, "themselves": {}, "then": {}, "there": {},
	"these": {}, "they": {}, "this": {}, "those": {}, "through": {}, "to": {},
	"too": {}, "under": {}, "until": {}, "up": {}, "us": {}, "ve": {},
	"very": {}, "was": {}, "wasn": {}, "we": {}, "were": {}, "weren": {},
	"what": {}, "when": {}, "where": {}, "which": {}, "while": {}, "who": {},
	"whom": {}, "why": {}, "will": {}, "with": {}, "won": {}, "would": {},
	"wouldn": {}, "you": {}, "your": {}, "yours": {}, "yourself": {},
	"yourselves": {},
}

// stem strips common English inflections from w, a lowercase ASCII word,
// in place, and returns the shortened slice. It is a much smaller cousin of
// the Porter stemmer, tuned to be conservative: it only shortens a word (or
// turns a final "ies", "ied" or consonant + "y" into "i"), never below two
// letters, and different inflections of one word end up equal far more
// often than different words collide.
func stem(w []byte) []byte {
	// Plurals and third person -s.
	n := len(w)
	switch {
	case n < 4:
	case n >= 5 && hasSuffix(w, "ies"):
		w = append(w[:n-3], 'y')
	case hasSuffix(w, "sses"), hasSuffix(w, "xes"), hasSuffix(w, "zzes"),
		hasSuffix(w, "ches"), hasSuffix(w, "shes"):
		w = w[:n-2]
	case w[n-1] == 's' && !hasSuffix(w, "ss") && !hasSuffix(w, "us") && !hasSuffix(w, "is"):
		w = w[:n-1]
	}
	w = stemLy(w)
	// Past tense and participles.
	n = len(w)
	switch {
	case n >= 5 && hasSuffix(w, "ied"):
		w = stemLy(append(w[:n-3], 'y'))
	case hasSuffix(w, "eed"):
		// need, speed, agreed: too often part of the word.
	case n >= 4 && hasSuffix(w, "ed") && hasVowel(w[:n-2]):
		w = stemEd(undouble(w[:n-2]))
	case n >= 5 && hasSuffix(w, "ing") && hasVowel(w[:n-3]):
		w = stemEd(undouble(w[:n-3]))
	}
	// A final silent e, so that "use", "uses", "used" and "using" meet.
	n = len(w)
	if n >= 3 && w[n-1] == 'e' && w[n-2] != 'e' {
		w = w[:n-1]
		n--
	}
	// A final y after a consonant becomes i, so that "memory" meets
	// "memories" and "study" meets "studied" ("day" keeps its y).
	if n >= 3 && w[n-1] == 'y' && !isVowel(w[n-2]) {
		w[n-1] = 'i'
	}
	return w
}

// stemEd strips the -ed of a stem that ends in it after -ed or -ing was
// removed ("embedded" → "embed" → "emb"), so that it meets the bare word,
// which lost its -ed too ("embed" → "emb").
func stemEd(w []byte) []byte {
	if n := len(w); n >= 4 && hasSuffix(w, "ed") && !hasSuffix(w, "eed") && hasVowel(w[:n-2]) {
		return w[:n-2]
	}
	return w
}

// stemLy strips an adverbial -ly from words of six letters or more
// ("quickly" → "quick"); shorter ones ("only", "reply", "apply") keep it.
func stemLy(w []byte) []byte {
	if n := len(w); n >= 6 && hasSuffix(w, "ly") {
		return w[:n-2]
	}
	return w
}

// undouble removes one of two equal final consonants left by -ed or -ing
// ("preferr" → "prefer", "runn" → "run"), except l, s and z ("called",
// "passed", "buzzed") and in stems of three letters ("added").
func undouble(w []byte) []byte {
	n := len(w)
	if n >= 4 && w[n-1] == w[n-2] && !isVowel(w[n-1]) && !strings.ContainsRune("lsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func hasSuffix(w []byte, s string) bool {
	return len(w) >= len(s) && string(w[len(w)-len(s):]) == s
}

func hasVowel(w []byte) bool {
	for _, c := range w {
		if isVowel(c) {
			return true
		}
	}
	return false
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}
