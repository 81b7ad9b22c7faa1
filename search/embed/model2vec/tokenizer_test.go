package model2vec_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/embed/model2vec"
)

// tinyVocab is the vocabulary of the test tokenizer: the id of a token is
// its position.
var tinyVocab = []string{
	"[PAD]", "[UNK]", "[CLS]", "[SEP]", // 0-3
	"play", "##ing", "##s", ",", "!", ".", // 4-9
	"the", "cafe", "un", "##believ", "##able", "?", // 10-15
	"hello", "world", "中", "a", "##b", "'", "s", // 16-22
	"ᄒ", "##ᅡ", "##ᆫ", // 23-25: the jamo of 한
	"naive", "game", "##r", "$", "x", // 26-30
}

// Ids of tinyVocab used by the tests.
const (
	idUnk   = 1
	idPlay  = 4
	idIng   = 5
	idS     = 6
	idComma = 7
	idBang  = 8
	idDot   = 9
	idThe   = 10
	idCafe  = 11
	idGame  = 27
)

// tokOpts varies the tokenizer.json that tokenizerJSON writes. Its zero
// value is a BERT uncased tokenizer like potion-base-8M's.
type tokOpts struct {
	vocab        []string        // default tinyVocab
	noUnk        bool            // leave [UNK] out of the vocabulary
	normalizer   any             // default BertNormalizer with strip_accents null
	preTokenizer any             // default BertPreTokenizer
	model        map[string]any  // replaces the model entirely
	maxChars     *int            // max_input_chars_per_word
	truncation   map[string]any  // default null
	extra        map[string]any  // extra model fields
	raw          json.RawMessage // if set, the whole file
}

func bertNormalizer(lowercase bool, stripAccents any, clean, chinese bool) map[string]any {
	return map[string]any{
		"type": "BertNormalizer", "clean_text": clean, "handle_chinese_chars": chinese,
		"strip_accents": stripAccents, "lowercase": lowercase,
	}
}

// tokenizerJSON returns a tokenizer.json in the Hugging Face format.
func tokenizerJSON(tb testing.TB, o tokOpts) []byte {
	tb.Helper()
	if o.raw != nil {
		return o.raw
	}
	vocab := map[string]int{}
	words := o.vocab
	if words == nil {
		words = tinyVocab
	}
	for i, w := range words {
		if o.noUnk && w == "[UNK]" {
			continue
		}
		vocab[w] = i
	}
	model := o.model
	if model == nil {
		model = map[string]any{
			"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": vocab,
		}
		if o.maxChars != nil {
			model["max_input_chars_per_word"] = *o.maxChars
		}
		for k, v := range o.extra {
			model[k] = v
		}
	}
	norm := o.normalizer
	if norm == nil {
		norm = bertNormalizer(true, nil, true, true)
	}
	pre := o.preTokenizer
	if pre == nil {
		pre = map[string]any{"type": "BertPreTokenizer"}
	}
	file := map[string]any{
		"version":        "1.0",
		"truncation":     o.truncation,
		"padding":        nil,
		"added_tokens":   []any{map[string]any{"id": 0, "content": "[PAD]", "special": true}},
		"normalizer":     norm,
		"pre_tokenizer":  pre,
		"post_processor": map[string]any{"type": "TemplateProcessing"},
		"decoder":        map[string]any{"type": "WordPiece", "prefix": "##"},
		"model":          model,
	}
	if norm == "null" {
		file["normalizer"] = nil
	}
	if pre == "null" {
		file["pre_tokenizer"] = nil
	}
	data, err := json.Marshal(file)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func newTokenizer(tb testing.TB, o tokOpts) *model2vec.Tokenizer {
	tb.Helper()
	tok, err := model2vec.ParseTokenizer(tokenizerJSON(tb, o))
	if err != nil {
		tb.Fatalf("ParseTokenizer: %v", err)
	}
	return tok
}

func TestTokenizerEncode(t *testing.T) {
	tok := newTokenizer(t, tokOpts{})
	tests := []struct {
		text string
		want []int
	}{
		{"Playing, PLAYS!", []int{idPlay, idIng, idComma, idPlay, idS, idBang}},
		{"", nil},
		{" \t\r\n\u00a0\u3000 ", nil},
		{"the café", []int{idThe, idCafe}},
		{"THE CAFÉ.", []int{idThe, idCafe, idDot}},
		{"cafe\u0301", []int{idCafe}},       // combining acute accent dropped
		{"Naïve", []int{26}},                // ï → i
		{"unbelievable", []int{12, 13, 14}}, // un ##believ ##able
		{"hello world?", []int{16, 17, 15}}, //
		{"gamer", []int{idGame, 28}},        // game ##r
		{"ab", []int{19, 20}},               // a ##b
		{"a's", []int{19, 21, 22}},          // ' is punctuation
		{"$5", []int{29, idUnk}},            // $ is ASCII punctuation; 5 is unknown
		{"xyz", []int{idUnk}},               // x is known, ##y is not: the whole word is unknown
		{"play xyz play", []int{idPlay, idUnk, idPlay}},
		{"中文", []int{18, idUnk}},                // ideographs are words of their own
		{"a中b", []int{19, 18, idUnk}},           // "b" cannot start a word
		{"한", []int{23, 24, 25}},                // Hangul syllable → jamo
		{"pl\x00ay", []int{idPlay}},             // NUL removed by clean_text
		{"play\u200bing", []int{idPlay, idIng}}, // zero-width space (Cf) removed
		{"play\xffing", []int{idPlay, idIng}},   // invalid UTF-8 → U+FFFD, removed
		{"PLAY\u00a0PLAY", []int{idPlay, idPlay}},
		{"play\u2014play", []int{idPlay, idUnk, idPlay}}, // em dash is Unicode punctuation
		{"a" + strings.Repeat("b", 99), append([]int{19}, slices.Repeat([]int{20}, 99)...)},
		{"a" + strings.Repeat("b", 100), []int{idUnk}}, // 101 characters > max_input_chars_per_word
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := tok.Encode(tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestTokenizerOptions(t *testing.T) {
	three := 3
	tests := []struct {
		name string
		opts tokOpts
		text string
		want []int
	}{
		{"no unk: unknown words skipped", tokOpts{noUnk: true}, "xyz play 文", []int{idPlay}},
		{"lowercase off", tokOpts{normalizer: bertNormalizer(false, nil, true, true)}, "Play play", []int{idUnk, idPlay}},
		{"lowercase off keeps accents", tokOpts{normalizer: bertNormalizer(false, nil, true, true)}, "café", []int{idUnk}},
		{"strip_accents false", tokOpts{normalizer: bertNormalizer(true, false, true, true)}, "CAFÉ cafe", []int{idUnk, idCafe}},
		{"strip_accents true without lowercase", tokOpts{normalizer: bertNormalizer(false, true, true, true)}, "café", []int{idCafe}},
		{"handle_chinese_chars off", tokOpts{normalizer: bertNormalizer(true, nil, true, false)}, "中中 中", []int{idUnk, 18}},
		{"clean_text off", tokOpts{normalizer: bertNormalizer(true, nil, false, true)}, "pl\x00ay play", []int{idUnk, idPlay}},
		{"Lowercase normalizer", tokOpts{normalizer: map[string]any{"type": "Lowercase"}}, "PLAY café", []int{idPlay, idUnk}},
		{"Sequence normalizer", tokOpts{normalizer: map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Lowercase"}, bertNormalizer(false, true, true, true),
		}}}, "PLAY CAFÉ", []int{idPlay, idCafe}},
		{"null normalizer", tokOpts{normalizer: "null"}, "Play play", []int{idUnk, idPlay}},
		{"WhitespaceSplit", tokOpts{preTokenizer: map[string]any{"type": "WhitespaceSplit"}}, "play, play", []int{idUnk, idPlay}},
		{"Whitespace", tokOpts{preTokenizer: map[string]any{"type": "Whitespace"}}, "play,, play!", []int{idPlay, idUnk, idPlay, idBang}},
		{"Sequence pre-tokenizer", tokOpts{preTokenizer: map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "WhitespaceSplit"}, map[string]any{"type": "BertPreTokenizer"},
		}}}, "play, play", []int{idPlay, idComma, idPlay}},
		{"null pre-tokenizer: one word", tokOpts{preTokenizer: "null"}, "play", []int{idPlay}},
		{"null pre-tokenizer: spaces inside", tokOpts{preTokenizer: "null"}, "play play", []int{idUnk}},
		{"max_input_chars_per_word", tokOpts{maxChars: &three}, "the play", []int{idThe, idUnk}},
		{"truncation right", tokOpts{truncation: map[string]any{"max_length": 2, "direction": "Right", "strategy": "LongestFirst", "stride": 0}},
			"Playing, PLAYS!", []int{idPlay, idIng}},
		{"truncation left", tokOpts{truncation: map[string]any{"max_length": 2, "direction": "Left"}},
			"Playing, PLAYS!", []int{idS, idBang}},
		{"custom unk token", tokOpts{extra: map[string]any{"unk_token": "x"}}, "xyz", []int{30}},
		{"custom prefix", tokOpts{vocab: []string{"play", "@@ing"}, extra: map[string]any{"continuing_subword_prefix": "@@"}},
			"playing", []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newTokenizer(t, tt.opts).Encode(tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseTokenizerErrors(t *testing.T) {
	wordPiece := func(vocab map[string]any) map[string]any {
		return map[string]any{"type": "WordPiece", "vocab": vocab}
	}
	neg := -1
	tests := []struct {
		name     string
		opts     tokOpts
		wantText string // the error must mention this
	}{
		{"not JSON", tokOpts{raw: json.RawMessage(`{"model":`)}, "tokenizer.json"},
		{"JSON array", tokOpts{raw: json.RawMessage(`[]`)}, "tokenizer.json"},
		{"no model", tokOpts{raw: json.RawMessage(`{"normalizer":null}`)}, "model"},
		{"Unigram", tokOpts{model: map[string]any{"type": "Unigram", "vocab": []any{}}}, `"Unigram"`},
		{"BPE", tokOpts{model: map[string]any{"type": "BPE", "vocab": map[string]int{"a": 0}, "merges": []any{}}}, `"BPE"`},
		{"model without type", tokOpts{model: map[string]any{"vocab": map[string]int{"a": 0}}}, "type"},
		{"empty vocab", tokOpts{model: wordPiece(map[string]any{})}, "empty vocab"},
		{"negative id", tokOpts{model: wordPiece(map[string]any{"a": -1})}, "id -1"},
		{"fractional id", tokOpts{model: wordPiece(map[string]any{"a": 1.5})}, "model"},
		{"id too large", tokOpts{model: wordPiece(map[string]any{"a": 1 << 40})}, "id"},
		{"negative max chars", tokOpts{maxChars: &neg}, "max_input_chars_per_word"},
		{"NFKC normalizer", tokOpts{normalizer: map[string]any{"type": "NFKC"}}, `"NFKC"`},
		{"normalizer without type", tokOpts{normalizer: map[string]any{"lowercase": true}}, "normalizer"},
		{"bad member of Sequence", tokOpts{normalizer: map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Lowercase"}, map[string]any{"type": "Replace"},
		}}}, `"Replace"`},
		{"Metaspace pre-tokenizer", tokOpts{preTokenizer: map[string]any{"type": "Metaspace"}}, `"Metaspace"`},
		{"ByteLevel in Sequence", tokOpts{preTokenizer: map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "ByteLevel"},
		}}}, `"ByteLevel"`},
		{"deep Sequence", tokOpts{normalizer: nestedSequence(20)}, "nested"},
		{"truncation direction", tokOpts{truncation: map[string]any{"max_length": 2, "direction": "Up"}}, "direction"},
		{"truncation length", tokOpts{truncation: map[string]any{"max_length": 0}}, "max_length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := model2vec.ParseTokenizer(tokenizerJSON(t, tt.opts))
			if !errors.Is(err, model2vec.ErrFormat) {
				t.Fatalf("ParseTokenizer = %v, %v; want an error matching ErrFormat", tok, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not mention %q", err, tt.wantText)
			}
		})
	}
}

func nestedSequence(depth int) map[string]any {
	n := map[string]any{"type": "Lowercase"}
	for range depth {
		n = map[string]any{"type": "Sequence", "normalizers": []any{n}}
	}
	return n
}

// TestTokenizerStripAccents checks the decomposition table on letters of
// several scripts.
func TestTokenizerStripAccents(t *testing.T) {
	vocab := []string{"[UNK]", "a", "e", "c", "o", "u", "s", "z", "n", "i", "α", "ω", "и", "か", "は", "ø", "æ", "k"}
	tok := newTokenizer(t, tokOpts{vocab: vocab})
	id := func(s string) int { return slices.Index(vocab, s) }
	tests := []struct {
		in, want string
	}{
		{"À", "a"}, {"ą", "a"}, {"Ǻ", "a"}, {"ậ", "a"}, {"\u212b", "a"}, // Angstrom sign
		{"É", "e"}, {"ě", "e"}, {"ç", "c"}, {"Ő", "o"}, {"ǖ", "u"}, {"Ş", "s"}, {"ž", "z"}, {"ñ", "n"}, {"İ", "i"},
		{"ά", "α"}, {"Ώ", "ω"}, {"ῷ", "ω"}, {"й", "и"}, {"Й", "и"}, {"が", "か"}, {"ぱ", "は"},
		{"Ø", "ø"}, {"Æ", "æ"}, {"\u212a", "k"}, // Kelvin sign
	}
	for _, tt := range tests {
		got := tok.Encode(tt.in)
		if want := []int{id(tt.want)}; !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v (%q)", tt.in, got, want, tt.want)
		}
	}
}

func TestTokenizerLowercaseDottedI(t *testing.T) {
	// Without accent stripping, İ lowercases to "i" and U+0307, as in
	// the reference implementation; the mark makes the word unknown.
	tok := newTokenizer(t, tokOpts{
		vocab:      []string{"[UNK]", "i", "##\u0307"},
		normalizer: bertNormalizer(true, false, true, true),
	})
	if got, want := tok.Encode("İ"), []int{1, 2}; !slices.Equal(got, want) {
		t.Errorf("Encode(İ) = %v, want %v", got, want)
	}
}

func FuzzWordPiece(f *testing.F) {
	for _, s := range []string{
		"Playing, PLAYS!", "", "xyz", "中文 한 café", "a" + strings.Repeat("b", 120),
		"play\xff\xfe", "\u0130\u212b\u0344", "##ing", "un##believable", "$$$''", "\x00\t\u200b",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	configs := []tokOpts{
		{},
		{noUnk: true},
		{preTokenizer: map[string]any{"type": "Whitespace"}, normalizer: map[string]any{"type": "Lowercase"}},
		{preTokenizer: "null", normalizer: "null"},
		{truncation: map[string]any{"max_length": 3, "direction": "Left"}},
	}
	toks := make([]*model2vec.Tokenizer, len(configs))
	for i, o := range configs {
		toks[i] = newTokenizer(f, o)
	}
	f.Fuzz(func(t *testing.T, text string, which uint8) {
		tok := toks[int(which)%len(toks)]
		ids := tok.Encode(text)
		for _, id := range ids {
			if id < 0 || id >= len(tinyVocab) {
				t.Fatalf("Encode(%q) = %v: id %d out of range", text, ids, id)
			}
		}
		if again := tok.Encode(text); !slices.Equal(ids, again) {
			t.Fatalf("Encode(%q) not deterministic: %v then %v", text, ids, again)
		}
	})
}

func BenchmarkTokenizerEncode(b *testing.B) {
	tok := newTokenizer(b, tokOpts{})
	text := "The user prefers playing games, unbelievable! Café naïve 中文 " + strings.Repeat("hello world ", 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text)
	}
}
