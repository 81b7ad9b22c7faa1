package embed

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// DefaultDimension is the dimension of a [Hashing] embedder created with
// dimension 0.
const DefaultDimension = 384

// hashingModelPrefix names the feature set of Hashing, including [lexical.Terms].
// Any change that alters the vector of some text (tokenizer, stemmer,
// stopwords, features, weights, hash) must bump the version, because stored
// vectors are only comparable with vectors of the same model id.
const hashingModelPrefix = "memoryrelay-hash-v1-"

// Feature weights of Hashing, relative to a word (weight 1). See doc.go for
// what each feature is for. The calibration tests in hashing_test.go pin
// the effect of these numbers against API.md §7.
const (
	// weightBigram is the weight of a pair of adjacent terms.
	weightBigram = 0.5
	// energyGrams is the total squared weight of a word's character
	// n-grams, shared among them, so long words do not outweigh short ones.
	energyGrams = 0.6
)

// Hashing is the built-in offline [Embedder]: it hashes features of a text
// (its terms, pairs of adjacent terms, and character n-grams of each term)
// into a fixed-size vector, the "hashing trick". It downloads nothing and
// needs no model file; the same text always gives the same vector, on every
// platform and version with the same [Hashing.Model].
//
// It measures how much wording two texts share, not what they mean; the
// package documentation lists what it can and cannot match.
//
// Create one with [NewHashing]. The zero value is also ready to use, with
// dimension [DefaultDimension]. A Hashing is safe for concurrent use and
// must not be copied after first use.
type Hashing struct {
	dim   int
	model string
	pool  sync.Pool // *hashScratch
}

// NewHashing returns a Hashing embedder producing vectors of dimension dim;
// dim <= 0 selects [DefaultDimension]. Higher dimensions make accidental
// collisions between unrelated features rarer (unrelated texts stay
// closer to 0) at the cost of storage: 384 keeps the cosine of unrelated
// texts within about ±0.15, and 768 matches what some clients expect.
func NewHashing(dim int) *Hashing {
	if dim <= 0 {
		dim = DefaultDimension
	}
	return &Hashing{dim: dim, model: hashingModelPrefix + strconv.Itoa(dim)}
}

// Dimension returns the length of the vectors h returns.
func (h *Hashing) Dimension() int {
	if h.dim <= 0 {
		return DefaultDimension
	}
	return h.dim
}

// Model returns "memoryrelay-hash-v1-" followed by the dimension, for
// example "memoryrelay-hash-v1-384".
func (h *Hashing) Model() string {
	if h.model == "" {
		return hashingModelPrefix + strconv.Itoa(h.Dimension())
	}
	return h.model
}

// Provider returns [ProviderBuiltin].
func (h *Hashing) Provider() string { return ProviderBuiltin }

// Lexical returns true: h's vectors measure the wording texts share, not
// their meaning (see [Lexical]), so hybrid search ranks by the lexical
// score unless the program chooses another fusion.
func (h *Hashing) Lexical() bool { return true }

// Embed returns the unit-length vector of each text. Texts with no terms
// other than stopwords are embedded from their stopwords, and texts with no
// letters or digits at all (including "") share one fixed vector, so every
// vector is non-zero and can be stored. Embed only fails if ctx is done.
func (h *Hashing) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, _ := h.pool.Get().(*hashScratch)
	if s == nil {
		s = new(hashScratch)
	}
	defer h.pool.Put(s)
	dim := h.Dimension()
	out := make([][]float32, len(texts))
	for i, text := range texts {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		v := make([]float32, dim)
		s.embed(v, text)
		out[i] = v
	}
	return out, nil
}

// hashScratch is the per-call working memory of Embed, pooled so that
// embedding a text allocates only its vector.
type hashScratch struct {
	tb    lexical.Buffer
	words []wordRef
	pairs []uint64
	pos   []int // rune start offsets of the word being n-grammed
}

type wordRef struct {
	hash uint64
	term int // index in tb
}

// Hash seeds, one per feature kind, so that a word, a bigram and an n-gram
// with the same bytes land in unrelated places.
const (
	fnvOffset  = 14695981039346656037
	fnvPrime   = 1099511628211
	seedWord   = fnvOffset ^ 0x9e3779b97f4a7c15
	seedGram   = fnvOffset ^ 0xc2b2ae3d27d4eb4f
	seedBigram = 0x165667b19e3779f9
	seedEmpty  = 0x27d4eb2f165667c5
	gramBOS    = 0x01 // word boundary markers; never a byte of a term
	gramEOS    = 0x02
)

// embed writes the unit vector of text into v, which must be zeroed.
func (s *hashScratch) embed(v []float32, text string) {
	tb := &s.tb
	tb.Tokenize(text)
	if tb.Len() == 0 {
		tb.TokenizeAll(text)
	}
	if tb.Len() == 0 {
		addFeature(v, mix64(seedEmpty), 1)
		return
	}

	// Words in text order, for the bigrams.
	words := s.words[:0]
	for i := range tb.Len() {
		words = append(words, wordRef{hash: hashBytes(seedWord, tb.Term(i)), term: i})
	}
	pairs := s.pairs[:0]
	for i := 1; i < len(words); i++ {
		pairs = append(pairs, mix64(words[i-1].hash*0x9e3779b97f4a7c15+words[i].hash+seedBigram))
	}

	// Each distinct word once, weighted by 1 + ln(tf), with its n-grams.
	slices.SortFunc(words, func(a, b wordRef) int { return cmp.Compare(a.hash, b.hash) })
	for i := 0; i < len(words); {
		j := i + 1
		for j < len(words) && words[j].hash == words[i].hash {
			j++
		}
		w := tfWeight(j - i)
		addSpread(v, words[i].hash, w)
		s.addGrams(v, tb.Term(words[i].term), w)
		i = j
	}

	// Each distinct bigram once, the same way.
	slices.Sort(pairs)
	for i := 0; i < len(pairs); {
		j := i + 1
		for j < len(pairs) && pairs[j] == pairs[i] {
			j++
		}
		addSpread(v, pairs[i], weightBigram*tfWeight(j-i))
		i = j
	}
	s.words, s.pairs = words, pairs
	vector.Normalize(v)
}

// addGrams adds the character 3-grams and 4-grams of word, framed by
// boundary markers ("^pre", "ref", ..., "er$"), with a total squared
// weight of energyGrams·w². Words of fewer than three characters and words
// with digits get none: numbers and short codes should match exactly.
func (s *hashScratch) addGrams(v []float32, word []byte, w float32) {
	pos := s.pos[:0]
	for i, c := range word {
		if '0' <= c && c <= '9' {
			return
		}
		if c < 0x80 || c >= 0xC0 { // not a UTF-8 continuation byte
			pos = append(pos, i)
		}
	}
	s.pos = pos
	m := len(pos)
	if m < 3 {
		return
	}
	pos = append(pos, len(word))
	// Elements 0..m+1: BOS, the m runes, EOS. There are m trigrams and
	// m-1 four-grams.
	gw := w * float32(math.Sqrt(energyGrams/float64(2*m-1)))
	feed := func(x uint64, e int) uint64 {
		switch {
		case e == 0:
			return (x ^ gramBOS) * fnvPrime
		case e == m+1:
			return (x ^ gramEOS) * fnvPrime
		}
		for _, c := range word[pos[e-1]:pos[e]] {
			x = (x ^ uint64(c)) * fnvPrime
		}
		return x
	}
	for j := 0; j < m; j++ {
		x := feed(feed(feed(seedGram, j), j+1), j+2)
		addFeature(v, mix64(x^3), gw)
		if j+3 <= m+1 {
			x = feed(x, j+3)
			addFeature(v, mix64(x^4), gw)
		}
	}
}

// addFeature adds ±w to one coordinate of v; hash, which must be well
// mixed, picks the coordinate (low 32 bits) and the sign (top bit). Random
// signs make collisions between unrelated features cancel out on average,
// which keeps the cosine of unrelated texts near 0.
func addFeature(v []float32, hash uint64, w float32) {
	i := (hash & 0xffffffff) * uint64(len(v)) >> 32
	if hash>>63 != 0 {
		w = -w
	}
	v[i] += w
}

// spread is the number of coordinates each word and bigram is spread
// over, each with weight w/√spread. A collision between two heavy features
// of unrelated texts then moves their cosine by a quarter as much, which
// thins the tails of its distribution (the variance is unchanged). Character
// n-grams are many and light already, so they get one coordinate each.
const spread = 4

// addSpread adds a feature of weight w over spread coordinates.
func addSpread(v []float32, hash uint64, w float32) {
	w *= 1.0 / 2 // 1/√spread
	addFeature(v, hash, w)
	for j := uint64(1); j < spread; j++ {
		addFeature(v, mix64(hash+j*0x9e3779b97f4a7c15), w)
	}
}

// tfWeight is the sublinear term-frequency weight 1 + ln(tf).
func tfWeight(tf int) float32 {
	if tf == 1 {
		return 1
	}
	return float32(1 + math.Log(float64(tf)))
}

// hashBytes is FNV-1a from seed, finished with mix64.
func hashBytes(seed uint64, b []byte) uint64 {
	x := seed
	for _, c := range b {
		x = (x ^ uint64(c)) * fnvPrime
	}
	return mix64(x)
}

// mix64 is the MurmurHash3 64-bit finalizer: every input bit affects every
// output bit, which FNV alone does not guarantee for the top and low bits.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
