package model2vec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tokenizer turns text into token ids the way a Hugging Face tokenizers
// "tokenizer.json" with a WordPiece model does, for the subset of that
// format used by BERT-style vocabularies (and so by model2vec models
// distilled from them, such as potion-base-8M):
//
//   - model: "WordPiece" (greedy longest-match-first, with its unk_token,
//     continuing_subword_prefix and max_input_chars_per_word);
//   - normalizer: null, "BertNormalizer" (clean_text,
//     handle_chinese_chars, strip_accents, lowercase), "Lowercase", or a
//     "Sequence" of those;
//   - pre_tokenizer: null, "BertPreTokenizer" (split on whitespace, and
//     each punctuation character is a word of its own), "WhitespaceSplit",
//     "Whitespace" (runs of word characters, runs of other non-space
//     characters), or a "Sequence" of those;
//   - truncation: max_length with direction "Right" or "Left".
//
// Any other model, normalizer or pre-tokenizer type is rejected with an
// error matching [ErrFormat] that names it. The post-processor is
// ignored, so no special tokens ([CLS], [SEP]) are added, and so is
// padding. Added tokens are not matched in the text: a literal "[CLS]"
// is tokenized like any other text.
//
// Differences from the reference implementation, all in rare input:
// accent stripping (part of BertNormalizer) implements Unicode NFD with a
// table covering the precomposed letters of the Latin, Greek, Cyrillic
// and other alphabetic blocks, Japanese kana with voicing marks, and Hangul
// syllables, but not the CJK compatibility ideographs (U+F900–U+FAFF,
// U+2F800–U+2FA1F), which it leaves as they are where NFD would map each
// to a unified ideograph; nor does it reorder combining marks, which only
// matters for the spacing marks it keeps. Character properties come from
// Go's [unicode] tables, whose Unicode version may differ slightly from
// the Rust library's.
//
// A Tokenizer is immutable and safe for concurrent use.
type Tokenizer struct {
	normalizers []tokNormalizer
	// preTokenizers split the normalized text into words, in order; with
	// none, the whole normalized text is one word.
	preTokenizers []tokPreTokenizer

	vocab         map[string]int
	unk           int    // id of the unknown token, or -1 if the vocabulary has none
	prefix        string // continuing_subword_prefix, "##" by default
	maxWordChars  int    // max_input_chars_per_word, 100 by default
	maxTokenBytes int    // length of the longest vocabulary entry, in bytes

	truncate     int  // truncation max_length; 0 means none
	truncateLeft bool // keep the last truncate ids instead of the first
}

// Limits on tokenizer.json.
const (
	// tokDefaultMaxWordChars is WordPiece's default max_input_chars_per_word.
	tokDefaultMaxWordChars = 100
	// tokMaxNesting bounds how deeply "Sequence" normalizers and
	// pre-tokenizers may nest.
	tokMaxNesting = 8
	// tokMaxID is the largest token id accepted (ids are 32-bit in the
	// reference implementation).
	tokMaxID = 1<<31 - 1
)

// ParseTokenizer parses the contents of a Hugging Face "tokenizer.json".
// The supported subset of the format is described on [Tokenizer]; data
// outside it, or data that is not valid JSON, gives an error matching
// [ErrFormat].
func ParseTokenizer(data []byte) (*Tokenizer, error) {
	return parseTokenizer(data, "tokenizer.json")
}

// loadTokenizer reads and parses the tokenizer.json at path. Errors name
// the path.
func loadTokenizer(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model2vec: %w", err)
	}
	return parseTokenizer(data, path)
}

// tokFile is the part of tokenizer.json that Tokenizer reads.
type tokFile struct {
	Truncation   json.RawMessage `json:"truncation"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Model        json.RawMessage `json:"model"`
}

// tokTyped reads the "type" tag of a normalizer, pre-tokenizer or model.
type tokTyped struct {
	Type string `json:"type"`
}

func parseTokenizer(data []byte, name string) (*Tokenizer, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrFormat, name, fmt.Sprintf(format, args...))
	}
	var f tokFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, bad("%v", err)
	}
	t := &Tokenizer{unk: -1}

	var err error
	if t.normalizers, err = parseTokNormalizer(f.Normalizer, nil, 0); err != nil {
		return nil, bad("normalizer: %v", err)
	}
	if t.preTokenizers, err = parseTokPreTokenizer(f.PreTokenizer, nil, 0); err != nil {
		return nil, bad("pre_tokenizer: %v", err)
	}
	if err := t.parseModel(f.Model); err != nil {
		return nil, bad("model: %v", err)
	}
	if !tokIsNull(f.Truncation) {
		var tr struct {
			MaxLength *int   `json:"max_length"`
			Direction string `json:"direction"`
		}
		if err := json.Unmarshal(f.Truncation, &tr); err != nil {
			return nil, bad("truncation: %v", err)
		}
		if tr.MaxLength == nil || *tr.MaxLength <= 0 {
			return nil, bad("truncation: max_length must be a positive integer")
		}
		switch tr.Direction {
		case "", "Right":
		case "Left":
			t.truncateLeft = true
		default:
			return nil, bad("truncation: unsupported direction %q", tr.Direction)
		}
		t.truncate = *tr.MaxLength
	}
	return t, nil
}

// tokIsNull reports whether a JSON value is absent or null.
func tokIsNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func (t *Tokenizer) parseModel(raw json.RawMessage) error {
	if tokIsNull(raw) {
		return fmt.Errorf("missing")
	}
	var typ tokTyped
	if err := json.Unmarshal(raw, &typ); err != nil {
		return err
	}
	if typ.Type != "WordPiece" {
		if typ.Type == "" {
			return fmt.Errorf("no type (only WordPiece is supported)")
		}
		return fmt.Errorf("unsupported type %q (only WordPiece is supported)", typ.Type)
	}
	var m struct {
		Vocab    map[string]int `json:"vocab"`
		Unk      *string        `json:"unk_token"`
		Prefix   *string        `json:"continuing_subword_prefix"`
		MaxChars *int           `json:"max_input_chars_per_word"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	if len(m.Vocab) == 0 {
		return fmt.Errorf("empty vocab")
	}
	for tok, id := range m.Vocab {
		if id < 0 || id > tokMaxID {
			return fmt.Errorf("vocab: token %q has id %d, outside [0, %d]", tok, id, tokMaxID)
		}
		t.maxTokenBytes = max(t.maxTokenBytes, len(tok))
	}
	t.vocab = m.Vocab
	unk := "[UNK]"
	if m.Unk != nil {
		unk = *m.Unk
	}
	if id, ok := t.vocab[unk]; ok {
		t.unk = id
	}
	t.prefix = "##"
	if m.Prefix != nil {
		t.prefix = *m.Prefix
	}
	t.maxWordChars = tokDefaultMaxWordChars
	if m.MaxChars != nil {
		if *m.MaxChars < 0 {
			return fmt.Errorf("negative max_input_chars_per_word")
		}
		t.maxWordChars = *m.MaxChars
	}
	return nil
}

// tokNormalizer is one normalization pass, applied character by
// character. BertNormalizer sets any of the flags; Lowercase sets only
// lowercase.
type tokNormalizer struct {
	cleanText    bool // drop control characters, map whitespace to ' '
	chineseChars bool // put spaces around CJK ideographs
	stripAccents bool // NFD, then drop nonspacing marks (Mn)
	lowercase    bool
}

// parseTokNormalizer appends the normalizers that raw describes to dst.
func parseTokNormalizer(raw json.RawMessage, dst []tokNormalizer, depth int) ([]tokNormalizer, error) {
	if tokIsNull(raw) {
		return dst, nil
	}
	if depth > tokMaxNesting {
		return nil, fmt.Errorf("nested more than %d Sequences deep", tokMaxNesting)
	}
	var typ tokTyped
	if err := json.Unmarshal(raw, &typ); err != nil {
		return nil, err
	}
	switch typ.Type {
	case "BertNormalizer":
		// Missing fields take the defaults of the reference
		// implementation; strip_accents null means "same as lowercase".
		var n struct {
			CleanText    *bool `json:"clean_text"`
			ChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents *bool `json:"strip_accents"`
			Lowercase    *bool `json:"lowercase"`
		}
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, err
		}
		or := func(p *bool, def bool) bool {
			if p == nil {
				return def
			}
			return *p
		}
		lower := or(n.Lowercase, true)
		return append(dst, tokNormalizer{
			cleanText:    or(n.CleanText, true),
			chineseChars: or(n.ChineseChars, true),
			stripAccents: or(n.StripAccents, lower),
			lowercase:    lower,
		}), nil
	case "Lowercase":
		return append(dst, tokNormalizer{lowercase: true}), nil
	case "Sequence":
		var s struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		for _, r := range s.Normalizers {
			var err error
			if dst, err = parseTokNormalizer(r, dst, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case "":
		return nil, fmt.Errorf("no type")
	default:
		return nil, fmt.Errorf("unsupported type %q (supported: BertNormalizer, Lowercase, Sequence)", typ.Type)
	}
}

// tokPreTokenizer is one way of splitting text into words.
type tokPreTokenizer int

const (
	tokPreBert            tokPreTokenizer = iota // BertPreTokenizer
	tokPreWhitespaceSplit                        // WhitespaceSplit
	tokPreWhitespace                             // Whitespace: \w+|[^\w\s]+
)

// parseTokPreTokenizer appends the pre-tokenizers that raw describes to
// dst.
func parseTokPreTokenizer(raw json.RawMessage, dst []tokPreTokenizer, depth int) ([]tokPreTokenizer, error) {
	if tokIsNull(raw) {
		return dst, nil
	}
	if depth > tokMaxNesting {
		return nil, fmt.Errorf("nested more than %d Sequences deep", tokMaxNesting)
	}
	var typ tokTyped
	if err := json.Unmarshal(raw, &typ); err != nil {
		return nil, err
	}
	switch typ.Type {
	case "BertPreTokenizer":
		return append(dst, tokPreBert), nil
	case "WhitespaceSplit":
		return append(dst, tokPreWhitespaceSplit), nil
	case "Whitespace":
		return append(dst, tokPreWhitespace), nil
	case "Sequence":
		var s struct {
			PreTokenizers []json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		for _, r := range s.PreTokenizers {
			var err error
			if dst, err = parseTokPreTokenizer(r, dst, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case "":
		return nil, fmt.Errorf("no type")
	default:
		return nil, fmt.Errorf("unsupported type %q (supported: BertPreTokenizer, WhitespaceSplit, Whitespace, Sequence)", typ.Type)
	}
}

// Encode returns the token ids of text: normalized, split into words,
// and each word split into the longest vocabulary entries that match
// from its start, continuation pieces carrying the continuing-subword
// prefix ("##ing"). A word that cannot be split this way, or that is
// longer than max_input_chars_per_word characters, becomes the unknown
// token's id if the vocabulary has the unknown token (unk_token,
// "[UNK]" by default), and is skipped otherwise. No special tokens are
// added. Invalid UTF-8 is read as U+FFFD, one per bad byte.
//
// Encode returns an empty slice for text with no tokens.
func (t *Tokenizer) Encode(text string) []int {
	return t.appendIDs(make([]int, 0, len(text)/4+1), text)
}

// appendIDs appends the ids of text to dst, truncated as tokenizer.json
// says.
func (t *Tokenizer) appendIDs(dst []int, text string) []int {
	if !utf8.ValidString(text) {
		text = tokValidUTF8(text)
	}
	for _, n := range t.normalizers {
		text = n.apply(text)
	}
	start := len(dst)
	var buf []byte
	t.eachWord(text, func(w string) {
		dst, buf = t.appendWord(dst, buf, w)
	})
	if t.truncate > 0 && len(dst)-start > t.truncate {
		if t.truncateLeft {
			dst = append(dst[:start], dst[len(dst)-t.truncate:]...)
		} else {
			dst = dst[:start+t.truncate]
		}
	}
	return dst
}

// tokValidUTF8 replaces each byte of s that is not part of a valid UTF-8
// sequence with U+FFFD, as ranging over s does.
func tokValidUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// eachWord calls fn with each word of text, as split by t's
// pre-tokenizers in order.
func (t *Tokenizer) eachWord(text string, fn func(string)) {
	t.splitFrom(0, text, fn)
}

// splitFrom splits s with pre-tokenizers i, i+1, ... and calls fn with
// each resulting word.
func (t *Tokenizer) splitFrom(i int, s string, fn func(string)) {
	if i == len(t.preTokenizers) {
		if s != "" {
			fn(s)
		}
		return
	}
	next := func(w string) { t.splitFrom(i+1, w, fn) }
	switch t.preTokenizers[i] {
	case tokPreBert:
		tokSplitBert(s, next)
	case tokPreWhitespaceSplit:
		tokSplitFields(s, next)
	case tokPreWhitespace:
		tokSplitWhitespace(s, next)
	}
}

// appendWord appends the WordPiece ids of word to dst. buf is scratch
// space for prefixed lookups, returned for reuse.
func (t *Tokenizer) appendWord(dst []int, buf []byte, word string) ([]int, []byte) {
	if utf8.RuneCountInString(word) > t.maxWordChars {
		return t.appendUnk(dst), buf
	}
	mark := len(dst)
	for start := 0; start < len(word); {
		end := min(len(word), start+t.maxTokenBytes)
		for end < len(word) && !utf8.RuneStart(word[end]) {
			end--
		}
		found := false
		for end > start {
			sub := word[start:end]
			var id int
			if start > 0 {
				buf = append(append(buf[:0], t.prefix...), sub...)
				id, found = t.vocab[string(buf)]
			} else {
				id, found = t.vocab[sub]
			}
			if found {
				dst = append(dst, id)
				break
			}
			_, size := utf8.DecodeLastRuneInString(sub)
			end -= size
		}
		if !found {
			return t.appendUnk(dst[:mark]), buf
		}
		start = end
	}
	return dst, buf
}

func (t *Tokenizer) appendUnk(dst []int) []int {
	if t.unk >= 0 {
		dst = append(dst, t.unk)
	}
	return dst
}

// apply normalizes s. The steps run in the reference order (clean text,
// space out CJK ideographs, strip accents, lowercase); each maps one
// character to zero or more, so they are fused into one pass.
func (n tokNormalizer) apply(s string) string {
	out := make([]byte, 0, len(s)+len(s)/8)
	for _, r := range s {
		if n.cleanText {
			if r == 0 || r == utf8.RuneError || tokIsControl(r) {
				continue
			}
			if tokIsWhitespace(r) {
				r = ' '
			}
		}
		if n.chineseChars && tokIsChinese(r) {
			out = append(out, ' ')
			out = n.appendAccentCase(out, r)
			out = append(out, ' ')
			continue
		}
		out = n.appendAccentCase(out, r)
	}
	return string(out)
}

// appendAccentCase appends r after accent stripping and lowercasing, as
// configured.
func (n tokNormalizer) appendAccentCase(out []byte, r rune) []byte {
	if !n.stripAccents {
		return tokAppendLower(out, r, n.lowercase)
	}
	if r < 0xC0 {
		return tokAppendLower(out, r, n.lowercase)
	}
	if unicode.Is(unicode.Mn, r) {
		return out
	}
	if tokHangulFirst <= r && r <= tokHangulLast {
		// Hangul syllables decompose algorithmically into two or
		// three conjoining jamo (Unicode §3.12); jamo are not marks,
		// and need no lowercasing.
		s := r - tokHangulFirst
		out = utf8.AppendRune(out, 0x1100+s/(21*28))
		out = utf8.AppendRune(out, 0x1161+(s%(21*28))/28)
		if tail := s % 28; tail != 0 {
			out = utf8.AppendRune(out, 0x11A7+tail)
		}
		return out
	}
	base, ok := tokStripAccent(r)
	if !ok {
		return tokAppendLower(out, r, n.lowercase)
	}
	for _, b := range base {
		out = tokAppendLower(out, b, n.lowercase)
	}
	return out
}

// Hangul syllables block.
const (
	tokHangulFirst = 0xAC00
	tokHangulLast  = 0xD7A3
)

// tokAppendLower appends r, lowercased if lower is set, with the full
// (not simple) lowercase mapping: İ (U+0130) becomes "i" and a combining
// dot above, as in Rust's char::to_lowercase.
func tokAppendLower(out []byte, r rune, lower bool) []byte {
	if lower {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
		case r == 0x130:
			return append(out, "i\u0307"...)
		default:
			r = unicode.ToLower(r)
		}
	}
	if r < utf8.RuneSelf {
		return append(out, byte(r))
	}
	return utf8.AppendRune(out, r)
}

// tokIsControl reports whether r is a "control" character for
// BertNormalizer's clean_text: general category C (Cc, Cf, Co, Cs) or
// unassigned (Cn), except tab, newline and carriage return.
func tokIsControl(r rune) bool {
	if r < utf8.RuneSelf {
		return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7F
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// tokIsWhitespace reports whether r has the Unicode White_Space
// property, as Rust's char::is_whitespace.
func tokIsWhitespace(r rune) bool { return unicode.IsSpace(r) }

// tokIsChinese reports whether r is in one of the CJK ideograph ranges
// that BertNormalizer's handle_chinese_chars spaces out. The ranges are
// those of the reference implementation, including its 0x2B920 (not
// 0x2B820) start of Extension E.
func tokIsChinese(r rune) bool {
	switch {
	case r < 0x3400:
		return false
	case r <= 0x4DBF:
		return true
	case 0x4E00 <= r && r <= 0x9FFF, 0xF900 <= r && r <= 0xFAFF:
		return true
	case 0x20000 <= r && r <= 0x2A6DF, 0x2A700 <= r && r <= 0x2B73F,
		0x2B740 <= r && r <= 0x2B81F, 0x2B920 <= r && r <= 0x2CEAF,
		0x2F800 <= r && r <= 0x2FA1F:
		return true
	}
	return false
}

// tokIsBertPunct reports whether BertPreTokenizer isolates r: ASCII
// punctuation (which includes symbols such as $, +, <, ^, `, |) or a
// character of Unicode category P.
func tokIsBertPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return '!' <= r && r <= '/' || ':' <= r && r <= '@' ||
			'[' <= r && r <= '`' || '{' <= r && r <= '~'
	}
	return unicode.IsPunct(r)
}

// tokSplitBert splits s on whitespace (dropped) and punctuation (each a
// word of its own).
func tokSplitBert(s string, fn func(string)) {
	start := -1
	for i, r := range s {
		switch {
		case tokIsWhitespace(r):
			if start >= 0 {
				fn(s[start:i])
				start = -1
			}
		case tokIsBertPunct(r):
			if start >= 0 {
				fn(s[start:i])
				start = -1
			}
			fn(s[i : i+utf8.RuneLen(r)])
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		fn(s[start:])
	}
}

// tokSplitFields splits s on whitespace.
func tokSplitFields(s string, fn func(string)) {
	start := -1
	for i, r := range s {
		if tokIsWhitespace(r) {
			if start >= 0 {
				fn(s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		fn(s[start:])
	}
}

// tokSplitWhitespace splits s into runs of word characters and runs of
// other non-space characters, the matches of the regular expression
// \w+|[^\w\s]+ with Unicode classes.
func tokSplitWhitespace(s string, fn func(string)) {
	const (
		space = iota
		word
		other
	)
	class := func(r rune) int {
		switch {
		case tokIsWhitespace(r):
			return space
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' {
				return word
			}
			return other
		case unicode.In(r, unicode.L, unicode.M, unicode.Nd, unicode.Nl, unicode.Pc) || r == 0x200C || r == 0x200D:
			return word
		}
		return other
	}
	start, cur := 0, space
	for i, r := range s {
		c := class(r)
		if c == cur {
			continue
		}
		if cur != space {
			fn(s[start:i])
		}
		start, cur = i, c
	}
	if cur != space {
		fn(s[start:])
	}
}

// tokStripAccent returns what remains of r after canonical decomposition
// (NFD) and removal of nonspacing marks, and whether that differs from r.
// Characters in category Mn and Hangul syllables are handled by the
// caller, and the CJK compatibility ideographs and musical symbols are
// left out.
//
// The table was generated with Python's unicodedata (Unicode 14.0): for
// every character, its NFD decomposition without the characters of
// category Mn, where that differs from the character, grouped by result. Characters whose decomposition is a single
// character (canonical lookalikes such as U+212B ANGSTROM SIGN) are
// written as numbers.
func tokStripAccent(r rune) (string, bool) {
	switch r {
	case 'À', 'Á', 'Â', 'Ã', 'Ä', 'Å', 'Ā', 'Ă', 'Ą', 'Ǎ', 'Ǟ', 'Ǡ', 'Ǻ', 'Ȁ',
		'Ȃ', 'Ȧ', 'Ḁ', 'Ạ', 'Ả', 'Ấ', 'Ầ', 'Ẩ', 'Ẫ', 'Ậ', 'Ắ', 'Ằ', 'Ẳ', 'Ẵ',
		'Ặ', 0x212B:
		return "A", true
	case 'Ç', 'Ć', 'Ĉ', 'Ċ', 'Č', 'Ḉ':
		return "C", true
	case 'È', 'É', 'Ê', 'Ë', 'Ē', 'Ĕ', 'Ė', 'Ę', 'Ě', 'Ȅ', 'Ȇ', 'Ȩ', 'Ḕ', 'Ḗ',
		'Ḙ', 'Ḛ', 'Ḝ', 'Ẹ', 'Ẻ', 'Ẽ', 'Ế', 'Ề', 'Ể', 'Ễ', 'Ệ':
		return "E", true
	case 'Ì', 'Í', 'Î', 'Ï', 'Ĩ', 'Ī', 'Ĭ', 'Į', 'İ', 'Ǐ', 'Ȉ', 'Ȋ', 'Ḭ', 'Ḯ',
		'Ỉ', 'Ị':
		return "I", true
	case 'Ñ', 'Ń', 'Ņ', 'Ň', 'Ǹ', 'Ṅ', 'Ṇ', 'Ṉ', 'Ṋ':
		return "N", true
	case 'Ò', 'Ó', 'Ô', 'Õ', 'Ö', 'Ō', 'Ŏ', 'Ő', 'Ơ', 'Ǒ', 'Ǫ', 'Ǭ', 'Ȍ', 'Ȏ',
		'Ȫ', 'Ȭ', 'Ȯ', 'Ȱ', 'Ṍ', 'Ṏ', 'Ṑ', 'Ṓ', 'Ọ', 'Ỏ', 'Ố', 'Ồ', 'Ổ', 'Ỗ',
		'Ộ', 'Ớ', 'Ờ', 'Ở', 'Ỡ', 'Ợ':
		return "O", true
	case 'Ù', 'Ú', 'Û', 'Ü', 'Ũ', 'Ū', 'Ŭ', 'Ů', 'Ű', 'Ų', 'Ư', 'Ǔ', 'Ǖ', 'Ǘ',
		'Ǚ', 'Ǜ', 'Ȕ', 'Ȗ', 'Ṳ', 'Ṵ', 'Ṷ', 'Ṹ', 'Ṻ', 'Ụ', 'Ủ', 'Ứ', 'Ừ', 'Ử',
		'Ữ', 'Ự':
		return "U", true
	case 'Ý', 'Ŷ', 'Ÿ', 'Ȳ', 'Ẏ', 'Ỳ', 'Ỵ', 'Ỷ', 'Ỹ':
		return "Y", true
	case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā', 'ă', 'ą', 'ǎ', 'ǟ', 'ǡ', 'ǻ', 'ȁ',
		'ȃ', 'ȧ', 'ḁ', 'ạ', 'ả', 'ấ', 'ầ', 'ẩ', 'ẫ', 'ậ', 'ắ', 'ằ', 'ẳ', 'ẵ',
		'ặ':
		return "a", true
	case 'ç', 'ć', 'ĉ', 'ċ', 'č', 'ḉ':
		return "c", true
	case 'è', 'é', 'ê', 'ë', 'ē', 'ĕ', 'ė', 'ę', 'ě', 'ȅ', 'ȇ', 'ȩ', 'ḕ', 'ḗ',
		'ḙ', 'ḛ', 'ḝ', 'ẹ', 'ẻ', 'ẽ', 'ế', 'ề', 'ể', 'ễ', 'ệ':
		return "e", true
	case 'ì', 'í', 'î', 'ï', 'ĩ', 'ī', 'ĭ', 'į', 'ǐ', 'ȉ', 'ȋ', 'ḭ', 'ḯ', 'ỉ',
		'ị':
		return "i", true
	case 'ñ', 'ń', 'ņ', 'ň', 'ǹ', 'ṅ', 'ṇ', 'ṉ', 'ṋ':
		return "n", true
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ō', 'ŏ', 'ő', 'ơ', 'ǒ', 'ǫ', 'ǭ', 'ȍ', 'ȏ',
		'ȫ', 'ȭ', 'ȯ', 'ȱ', 'ṍ', 'ṏ', 'ṑ', 'ṓ', 'ọ', 'ỏ', 'ố', 'ồ', 'ổ', 'ỗ',
		'ộ', 'ớ', 'ờ', 'ở', 'ỡ', 'ợ':
		return "o", true
	case 'ù', 'ú', 'û', 'ü', 'ũ', 'ū', 'ŭ', 'ů', 'ű', 'ų', 'ư', 'ǔ', 'ǖ', 'ǘ',
		'ǚ', 'ǜ', 'ȕ', 'ȗ', 'ṳ', 'ṵ', 'ṷ', 'ṹ', 'ṻ', 'ụ', 'ủ', 'ứ', 'ừ', 'ử',
		'ữ', 'ự':
		return "u", true
	case 'ý', 'ÿ', 'ŷ', 'ȳ', 'ẏ', 'ẙ', 'ỳ', 'ỵ', 'ỷ', 'ỹ':
		return "y", true
	case 'Ď', 'Ḋ', 'Ḍ', 'Ḏ', 'Ḑ', 'Ḓ':
		return "D", true
	case 'ď', 'ḋ', 'ḍ', 'ḏ', 'ḑ', 'ḓ':
		return "d", true
	case 'Ĝ', 'Ğ', 'Ġ', 'Ģ', 'Ǧ', 'Ǵ', 'Ḡ':
		return "G", true
	case 'ĝ', 'ğ', 'ġ', 'ģ', 'ǧ', 'ǵ', 'ḡ':
		return "g", true
	case 'Ĥ', 'Ȟ', 'Ḣ', 'Ḥ', 'Ḧ', 'Ḩ', 'Ḫ':
		return "H", true
	case 'ĥ', 'ȟ', 'ḣ', 'ḥ', 'ḧ', 'ḩ', 'ḫ', 'ẖ':
		return "h", true
	case 'Ĵ':
		return "J", true
	case 'ĵ', 'ǰ':
		return "j", true
	case 'Ķ', 'Ǩ', 'Ḱ', 'Ḳ', 'Ḵ', 0x212A:
		return "K", true
	case 'ķ', 'ǩ', 'ḱ', 'ḳ', 'ḵ':
		return "k", true
	case 'Ĺ', 'Ļ', 'Ľ', 'Ḷ', 'Ḹ', 'Ḻ', 'Ḽ':
		return "L", true
	case 'ĺ', 'ļ', 'ľ', 'ḷ', 'ḹ', 'ḻ', 'ḽ':
		return "l", true
	case 'Ŕ', 'Ŗ', 'Ř', 'Ȑ', 'Ȓ', 'Ṙ', 'Ṛ', 'Ṝ', 'Ṟ':
		return "R", true
	case 'ŕ', 'ŗ', 'ř', 'ȑ', 'ȓ', 'ṙ', 'ṛ', 'ṝ', 'ṟ':
		return "r", true
	case 'Ś', 'Ŝ', 'Ş', 'Š', 'Ș', 'Ṡ', 'Ṣ', 'Ṥ', 'Ṧ', 'Ṩ':
		return "S", true
	case 'ś', 'ŝ', 'ş', 'š', 'ș', 'ṡ', 'ṣ', 'ṥ', 'ṧ', 'ṩ':
		return "s", true
	case 'Ţ', 'Ť', 'Ț', 'Ṫ', 'Ṭ', 'Ṯ', 'Ṱ':
		return "T", true
	case 'ţ', 'ť', 'ț', 'ṫ', 'ṭ', 'ṯ', 'ṱ', 'ẗ':
		return "t", true
	case 'Ŵ', 'Ẁ', 'Ẃ', 'Ẅ', 'Ẇ', 'Ẉ':
		return "W", true
	case 'ŵ', 'ẁ', 'ẃ', 'ẅ', 'ẇ', 'ẉ', 'ẘ':
		return "w", true
	case 'Ź', 'Ż', 'Ž', 'Ẑ', 'Ẓ', 'Ẕ':
		return "Z", true
	case 'ź', 'ż', 'ž', 'ẑ', 'ẓ', 'ẕ':
		return "z", true
	case 'Ǣ', 'Ǽ':
		return "Æ", true
	case 'ǣ', 'ǽ':
		return "æ", true
	case 'Ǯ':
		return "Ʒ", true
	case 'ǯ':
		return "ʒ", true
	case 'Ǿ':
		return "Ø", true
	case 'ǿ':
		return "ø", true
	case 0x0374:
		return "ʹ", true
	case 0x037E:
		return ";", true
	case '΅', '῁', '῭', 0x1FEE:
		return "¨", true
	case 'Ά', 'Ἀ', 'Ἁ', 'Ἂ', 'Ἃ', 'Ἄ', 'Ἅ', 'Ἆ', 'Ἇ', 'ᾈ', 'ᾉ', 'ᾊ', 'ᾋ', 'ᾌ',
		'ᾍ', 'ᾎ', 'ᾏ', 'Ᾰ', 'Ᾱ', 'Ὰ', 0x1FBB, 'ᾼ':
		return "Α", true
	case 0x0387:
		return "·", true
	case 'Έ', 'Ἐ', 'Ἑ', 'Ἒ', 'Ἓ', 'Ἔ', 'Ἕ', 'Ὲ', 0x1FC9:
		return "Ε", true
	case 'Ή', 'Ἠ', 'Ἡ', 'Ἢ', 'Ἣ', 'Ἤ', 'Ἥ', 'Ἦ', 'Ἧ', 'ᾘ', 'ᾙ', 'ᾚ', 'ᾛ', 'ᾜ',
		'ᾝ', 'ᾞ', 'ᾟ', 'Ὴ', 0x1FCB, 'ῌ':
		return "Η", true
	case 'Ί', 'Ϊ', 'Ἰ', 'Ἱ', 'Ἲ', 'Ἳ', 'Ἴ', 'Ἵ', 'Ἶ', 'Ἷ', 'Ῐ', 'Ῑ', 'Ὶ',
		0x1FDB:
		return "Ι", true
	case 'Ό', 'Ὀ', 'Ὁ', 'Ὂ', 'Ὃ', 'Ὄ', 'Ὅ', 'Ὸ', 0x1FF9:
		return "Ο", true
	case 'Ύ', 'Ϋ', 'Ὑ', 'Ὓ', 'Ὕ', 'Ὗ', 'Ῠ', 'Ῡ', 'Ὺ', 0x1FEB:
		return "Υ", true
	case 'Ώ', 'Ὠ', 'Ὡ', 'Ὢ', 'Ὣ', 'Ὤ', 'Ὥ', 'Ὦ', 'Ὧ', 'ᾨ', 'ᾩ', 'ᾪ', 'ᾫ', 'ᾬ',
		'ᾭ', 'ᾮ', 'ᾯ', 'Ὼ', 0x1FFB, 'ῼ', 0x2126:
		return "Ω", true
	case 'ΐ', 'ί', 'ϊ', 'ἰ', 'ἱ', 'ἲ', 'ἳ', 'ἴ', 'ἵ', 'ἶ', 'ἷ', 'ὶ', 0x1F77,
		0x1FBE, 'ῐ', 'ῑ', 'ῒ', 0x1FD3, 'ῖ', 'ῗ':
		return "ι", true
	case 'ά', 'ἀ', 'ἁ', 'ἂ', 'ἃ', 'ἄ', 'ἅ', 'ἆ', 'ἇ', 'ὰ', 0x1F71, 'ᾀ', 'ᾁ',
		'ᾂ', 'ᾃ', 'ᾄ', 'ᾅ', 'ᾆ', 'ᾇ', 'ᾰ', 'ᾱ', 'ᾲ', 'ᾳ', 'ᾴ', 'ᾶ', 'ᾷ':
		return "α", true
	case 'έ', 'ἐ', 'ἑ', 'ἒ', 'ἓ', 'ἔ', 'ἕ', 'ὲ', 0x1F73:
		return "ε", true
	case 'ή', 'ἠ', 'ἡ', 'ἢ', 'ἣ', 'ἤ', 'ἥ', 'ἦ', 'ἧ', 'ὴ', 0x1F75, 'ᾐ', 'ᾑ',
		'ᾒ', 'ᾓ', 'ᾔ', 'ᾕ', 'ᾖ', 'ᾗ', 'ῂ', 'ῃ', 'ῄ', 'ῆ', 'ῇ':
		return "η", true
	case 'ΰ', 'ϋ', 'ύ', 'ὐ', 'ὑ', 'ὒ', 'ὓ', 'ὔ', 'ὕ', 'ὖ', 'ὗ', 'ὺ', 0x1F7B,
		'ῠ', 'ῡ', 'ῢ', 0x1FE3, 'ῦ', 'ῧ':
		return "υ", true
	case 'ό', 'ὀ', 'ὁ', 'ὂ', 'ὃ', 'ὄ', 'ὅ', 'ὸ', 0x1F79:
		return "ο", true
	case 'ώ', 'ὠ', 'ὡ', 'ὢ', 'ὣ', 'ὤ', 'ὥ', 'ὦ', 'ὧ', 'ὼ', 0x1F7D, 'ᾠ', 'ᾡ',
		'ᾢ', 'ᾣ', 'ᾤ', 'ᾥ', 'ᾦ', 'ᾧ', 'ῲ', 'ῳ', 'ῴ', 'ῶ', 'ῷ':
		return "ω", true
	case 'ϓ', 'ϔ':
		return "ϒ", true
	case 'Ѐ', 'Ё', 'Ӗ':
		return "Е", true
	case 'Ѓ':
		return "Г", true
	case 'Ї':
		return "І", true
	case 'Ќ':
		return "К", true
	case 'Ѝ', 'Й', 'Ӣ', 'Ӥ':
		return "И", true
	case 'Ў', 'Ӯ', 'Ӱ', 'Ӳ':
		return "У", true
	case 'й', 'ѝ', 'ӣ', 'ӥ':
		return "и", true
	case 'ѐ', 'ё', 'ӗ':
		return "е", true
	case 'ѓ':
		return "г", true
	case 'ї':
		return "і", true
	case 'ќ':
		return "к", true
	case 'ў', 'ӯ', 'ӱ', 'ӳ':
		return "у", true
	case 'Ѷ':
		return "Ѵ", true
	case 'ѷ':
		return "ѵ", true
	case 'Ӂ', 'Ӝ':
		return "Ж", true
	case 'ӂ', 'ӝ':
		return "ж", true
	case 'Ӑ', 'Ӓ':
		return "А", true
	case 'ӑ', 'ӓ':
		return "а", true
	case 'Ӛ':
		return "Ә", true
	case 'ӛ':
		return "ә", true
	case 'Ӟ':
		return "З", true
	case 'ӟ':
		return "з", true
	case 'Ӧ':
		return "О", true
	case 'ӧ':
		return "о", true
	case 'Ӫ':
		return "Ө", true
	case 'ӫ':
		return "ө", true
	case 'Ӭ':
		return "Э", true
	case 'ӭ':
		return "э", true
	case 'Ӵ':
		return "Ч", true
	case 'ӵ':
		return "ч", true
	case 'Ӹ':
		return "Ы", true
	case 'ӹ':
		return "ы", true
	case 'آ', 'أ', 'إ':
		return "ا", true
	case 'ؤ':
		return "و", true
	case 'ئ':
		return "ي", true
	case 'ۀ':
		return "ە", true
	case 'ۂ':
		return "ہ", true
	case 'ۓ':
		return "ے", true
	case 'ऩ':
		return "न", true
	case 'ऱ':
		return "र", true
	case 'ऴ':
		return "ळ", true
	case 'क़':
		return "क", true
	case 'ख़':
		return "ख", true
	case 'ग़':
		return "ग", true
	case 'ज़':
		return "ज", true
	case 'ड़':
		return "ड", true
	case 'ढ़':
		return "ढ", true
	case 'फ़':
		return "फ", true
	case 'य़':
		return "य", true
	case 0x09CB:
		return "\u09c7\u09be", true
	case 0x09CC:
		return "\u09c7\u09d7", true
	case 'ড়':
		return "ড", true
	case 'ঢ়':
		return "ঢ", true
	case 'য়':
		return "য", true
	case 'ਲ਼':
		return "ਲ", true
	case 'ਸ਼':
		return "ਸ", true
	case 'ਖ਼':
		return "ਖ", true
	case 'ਗ਼':
		return "ਗ", true
	case 'ਜ਼':
		return "ਜ", true
	case 'ਫ਼':
		return "ਫ", true
	case 0x0B48:
		return "\u0b47", true
	case 0x0B4B:
		return "\u0b47\u0b3e", true
	case 0x0B4C:
		return "\u0b47\u0b57", true
	case 'ଡ଼':
		return "ଡ", true
	case 'ଢ଼':
		return "ଢ", true
	case 'ஔ':
		return "ஒ\u0bd7", true
	case 0x0BCA:
		return "\u0bc6\u0bbe", true
	case 0x0BCB:
		return "\u0bc7\u0bbe", true
	case 0x0BCC:
		return "\u0bc6\u0bd7", true
	case 0x0CC0, 0x0CC7:
		return "\u0cd5", true
	case 0x0CC8:
		return "\u0cd6", true
	case 0x0CCA:
		return "\u0cc2", true
	case 0x0CCB:
		return "\u0cc2\u0cd5", true
	case 0x0D4A:
		return "\u0d46\u0d3e", true
	case 0x0D4B:
		return "\u0d47\u0d3e", true
	case 0x0D4C:
		return "\u0d46\u0d57", true
	case 0x0DDA:
		return "\u0dd9", true
	case 0x0DDC, 0x0DDD:
		return "\u0dd9\u0dcf", true
	case 0x0DDE:
		return "\u0dd9\u0ddf", true
	case 'གྷ':
		return "ག", true
	case 'ཌྷ':
		return "ཌ", true
	case 'དྷ':
		return "ད", true
	case 'བྷ':
		return "བ", true
	case 'ཛྷ':
		return "ཛ", true
	case 'ཀྵ':
		return "ཀ", true
	case 'ဦ':
		return "ဥ", true
	case 'ᬆ':
		return "ᬅ\u1b35", true
	case 'ᬈ':
		return "ᬇ\u1b35", true
	case 'ᬊ':
		return "ᬉ\u1b35", true
	case 'ᬌ':
		return "ᬋ\u1b35", true
	case 'ᬎ':
		return "ᬍ\u1b35", true
	case 'ᬒ':
		return "ᬑ\u1b35", true
	case 0x1B3B, 0x1B3D, 0x1B43:
		return "\u1b35", true
	case 0x1B40:
		return "\u1b3e\u1b35", true
	case 0x1B41:
		return "\u1b3f\u1b35", true
	case 'Ḃ', 'Ḅ', 'Ḇ':
		return "B", true
	case 'ḃ', 'ḅ', 'ḇ':
		return "b", true
	case 'Ḟ':
		return "F", true
	case 'ḟ':
		return "f", true
	case 'Ḿ', 'Ṁ', 'Ṃ':
		return "M", true
	case 'ḿ', 'ṁ', 'ṃ':
		return "m", true
	case 'Ṕ', 'Ṗ':
		return "P", true
	case 'ṕ', 'ṗ':
		return "p", true
	case 'Ṽ', 'Ṿ':
		return "V", true
	case 'ṽ', 'ṿ':
		return "v", true
	case 'Ẋ', 'Ẍ':
		return "X", true
	case 'ẋ', 'ẍ':
		return "x", true
	case 'ẛ':
		return "ſ", true
	case '῍', '῎', '῏':
		return "᾿", true
	case '῝', '῞', '῟':
		return "῾", true
	case 'ῤ', 'ῥ':
		return "ρ", true
	case 'Ῥ':
		return "Ρ", true
	case 0x1FEF:
		return "`", true
	case 0x1FFD:
		return "´", true
	case 0x2000:
		return "\u2002", true
	case 0x2001:
		return "\u2003", true
	case '↚':
		return "←", true
	case '↛':
		return "→", true
	case '↮':
		return "↔", true
	case '⇍':
		return "⇐", true
	case '⇎':
		return "⇔", true
	case '⇏':
		return "⇒", true
	case '∄':
		return "∃", true
	case '∉':
		return "∈", true
	case '∌':
		return "∋", true
	case '∤':
		return "∣", true
	case '∦':
		return "∥", true
	case '≁':
		return "∼", true
	case '≄':
		return "≃", true
	case '≇':
		return "≅", true
	case '≉':
		return "≈", true
	case '≠':
		return "=", true
	case '≢':
		return "≡", true
	case '≭':
		return "≍", true
	case '≮':
		return "<", true
	case '≯':
		return ">", true
	case '≰':
		return "≤", true
	case '≱':
		return "≥", true
	case '≴':
		return "≲", true
	case '≵':
		return "≳", true
	case '≸':
		return "≶", true
	case '≹':
		return "≷", true
	case '⊀':
		return "≺", true
	case '⊁':
		return "≻", true
	case '⊄':
		return "⊂", true
	case '⊅':
		return "⊃", true
	case '⊈':
		return "⊆", true
	case '⊉':
		return "⊇", true
	case '⊬':
		return "⊢", true
	case '⊭':
		return "⊨", true
	case '⊮':
		return "⊩", true
	case '⊯':
		return "⊫", true
	case '⋠':
		return "≼", true
	case '⋡':
		return "≽", true
	case '⋢':
		return "⊑", true
	case '⋣':
		return "⊒", true
	case '⋪':
		return "⊲", true
	case '⋫':
		return "⊳", true
	case '⋬':
		return "⊴", true
	case '⋭':
		return "⊵", true
	case 0x2329:
		return "〈", true
	case 0x232A:
		return "〉", true
	case '⫝̸':
		return "⫝", true
	case 'が':
		return "か", true
	case 'ぎ':
		return "き", true
	case 'ぐ':
		return "く", true
	case 'げ':
		return "け", true
	case 'ご':
		return "こ", true
	case 'ざ':
		return "さ", true
	case 'じ':
		return "し", true
	case 'ず':
		return "す", true
	case 'ぜ':
		return "せ", true
	case 'ぞ':
		return "そ", true
	case 'だ':
		return "た", true
	case 'ぢ':
		return "ち", true
	case 'づ':
		return "つ", true
	case 'で':
		return "て", true
	case 'ど':
		return "と", true
	case 'ば', 'ぱ':
		return "は", true
	case 'び', 'ぴ':
		return "ひ", true
	case 'ぶ', 'ぷ':
		return "ふ", true
	case 'べ', 'ぺ':
		return "へ", true
	case 'ぼ', 'ぽ':
		return "ほ", true
	case 'ゔ':
		return "う", true
	case 'ゞ':
		return "ゝ", true
	case 'ガ':
		return "カ", true
	case 'ギ':
		return "キ", true
	case 'グ':
		return "ク", true
	case 'ゲ':
		return "ケ", true
	case 'ゴ':
		return "コ", true
	case 'ザ':
		return "サ", true
	case 'ジ':
		return "シ", true
	case 'ズ':
		return "ス", true
	case 'ゼ':
		return "セ", true
	case 'ゾ':
		return "ソ", true
	case 'ダ':
		return "タ", true
	case 'ヂ':
		return "チ", true
	case 'ヅ':
		return "ツ", true
	case 'デ':
		return "テ", true
	case 'ド':
		return "ト", true
	case 'バ', 'パ':
		return "ハ", true
	case 'ビ', 'ピ':
		return "ヒ", true
	case 'ブ', 'プ':
		return "フ", true
	case 'ベ', 'ペ':
		return "ヘ", true
	case 'ボ', 'ポ':
		return "ホ", true
	case 'ヴ':
		return "ウ", true
	case 'ヷ':
		return "ワ", true
	case 'ヸ':
		return "ヰ", true
	case 'ヹ':
		return "ヱ", true
	case 'ヺ':
		return "ヲ", true
	case 'ヾ':
		return "ヽ", true
	case 'יִ', 'יּ':
		return "י", true
	case 'ײַ':
		return "ײ", true
	case 'שׁ', 'שׂ', 'שּׁ', 'שּׂ', 'שּ':
		return "ש", true
	case 'אַ', 'אָ', 'אּ':
		return "א", true
	case 'בּ', 'בֿ':
		return "ב", true
	case 'גּ':
		return "ג", true
	case 'דּ':
		return "ד", true
	case 'הּ':
		return "ה", true
	case 'וּ', 'וֹ':
		return "ו", true
	case 'זּ':
		return "ז", true
	case 'טּ':
		return "ט", true
	case 'ךּ':
		return "ך", true
	case 'כּ', 'כֿ':
		return "כ", true
	case 'לּ':
		return "ל", true
	case 'מּ':
		return "מ", true
	case 'נּ':
		return "נ", true
	case 'סּ':
		return "ס", true
	case 'ףּ':
		return "ף", true
	case 'פּ', 'פֿ':
		return "פ", true
	case 'צּ':
		return "צ", true
	case 'קּ':
		return "ק", true
	case 'רּ':
		return "ר", true
	case 'תּ':
		return "ת", true
	case '𑂚':
		return "𑂙", true
	case '𑂜':
		return "𑂛", true
	case '𑂫':
		return "𑂥", true
	case 0x1134B:
		return "\U00011347\U0001133e", true
	case 0x1134C:
		return "\U00011347\U00011357", true
	case 0x114BB:
		return "\U000114b9", true
	case 0x114BC:
		return "\U000114b9\U000114b0", true
	case 0x114BE:
		return "\U000114b9\U000114bd", true
	case 0x115BA:
		return "\U000115b8\U000115af", true
	case 0x115BB:
		return "\U000115b9\U000115af", true
	case 0x11938:
		return "\U00011935\U00011930", true
	default:
		return "", false
	}
}
