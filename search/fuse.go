package search

import (
	"encoding/binary"
	"math"
)

// Modes of a search.
const (
	ModeHybrid   = "hybrid"
	ModeSemantic = "semantic"
	ModeKeyword  = "keyword"
)

// SemanticScore maps a cosine distance (1 - cosine similarity, as
// sqlite-vec's vec_distance_cosine returns) to a score in [0,1]: the
// cosine similarity, with negative values clamped to 0.
func SemanticScore(distance float64) float64 { return clamp01(1 - distance) }

// HashingVectorWeight is the factor [Fuse] applies to the semantic score
// of a memory embedded by [Hashing] that shares no term with the query.
const HashingVectorWeight = 0.5

// Fuse returns the hybrid score of a memory, in [0,1], from its semantic
// score (cosine similarity, see [SemanticScore]) and its lexical score
// ([LexicalScore], 0 when the memory shares no term with the query), for
// memories embedded by e. Hybrid search ranks by it.
//
// For a [*Hashing] embedder it is lexical first:
//
//	lexical                          if lexical > 0
//	HashingVectorWeight · semantic   otherwise
//
// Hashing measures shared wording, as the lexical score does, but without
// the idf weighting that tells a rare word from a common one, and its
// cosine favours short texts; mixed into the ranking of memories that
// share terms with the query it only adds noise. What it adds is the
// memories that share none (a typo, an inflection the stemmer misses),
// which it finds through character n-grams; halving their cosine keeps a
// text that only looks like the query at or below 0.5, far from the 0.8 of
// a verbatim match. So hybrid ranks the lexical matches exactly as keyword
// search does and scores them the same (API.md §7); it only adds the
// memories that share no term, ranked among the weakest lexical matches.
//
// Measured on LoCoMo (cmd/locomo: 5 conversations, 2,960 memories, 783
// questions; recall@5 / recall@10, each hybrid with this LexicalScore):
//
//	keyword only (LexicalScore)              0.554 / 0.630
//	semantic only (Hashing)                  0.337 / 0.405
//	Fuse: lexical first                      0.554 / 0.630
//	Blend, the previous hybrid               0.533 / 0.599
//	(1−w)·lexical + w·cosine, w = 0.001      0.554 / 0.629 (the cosine breaks ties)
//	  w = 0.05, 0.1, 0.2, 0.3                0.554 / 0.628, 0.556 / 0.625,
//	                                         0.551 / 0.625, 0.549 / 0.624
//	  w = 0.05, idf-weighted query vector    0.558 / 0.625
//	reciprocal rank fusion, k = 60           0.443 / 0.510; vector weight 0.2:
//	                                         0.518 / 0.604
//
// No mixture beats the lexical score alone by more than 0.004, and every
// one that lets the cosine reorder lexical matches falls below it at
// recall@10 (temporal questions lose up to 0.04): among memories that
// share the same query terms, the cosine prefers the short ones, which
// rarely hold an answer. Blend and reciprocal rank fusion
// let a cosine raised by common words outrank matches on rare ones.
//
// For any other embedder, whose vectors are assumed to carry meaning the
// words do not, it is [Blend]: 0.7 of the stronger score plus 0.3 of the
// weaker, so a paraphrase that shares no word still scores high. That rule
// has not been measured on LoCoMo, for lack of an offline neural model.
func Fuse(e Embedder, semantic, lexical float64) float64 {
	if _, ok := e.(*Hashing); ok {
		if lexical > 0 {
			return clamp01(lexical)
		}
		return clamp01(HashingVectorWeight * clamp01(semantic))
	}
	return Blend(semantic, lexical)
}

// Blend fuses a semantic and a lexical score, each in [0,1], into a hybrid
// score in [0,1]: 0.7 of the stronger signal plus 0.3 of the weaker. It is
// never below 0.7 of its best input, equals both inputs when they agree, so
// verbatim text (both 1) scores 1 and text sharing nothing (both 0) scores
// 0, and only text that both signals find near-identical scores above 0.9.
// [Fuse] uses it for embedders other than [Hashing].
func Blend(semantic, lexical float64) float64 {
	hi, lo := clamp01(semantic), clamp01(lexical)
	if lo > hi {
		hi, lo = lo, hi
	}
	return clamp01(0.7*hi + 0.3*lo)
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}

// EncodeVector returns v in sqlite-vec's float32 BLOB format (little-endian).
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// DecodeVectorInto is DecodeVector writing into dst's storage when it is
// large enough, for loops that decode many vectors.
func DecodeVectorInto(dst []float32, b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, ErrBadVector
	}
	n := len(b) / 4
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return dst, nil
}

// DecodeVector parses sqlite-vec's float32 BLOB format. It returns
// ErrBadVector when the length is not a multiple of 4.
func DecodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, ErrBadVector
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
