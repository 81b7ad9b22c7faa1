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

// Blend fuses a semantic and a lexical score, each in [0,1], into a hybrid
// score in [0,1]: 0.7 of the stronger signal plus 0.3 of the weaker. It is
// never below 0.7 of its best input, equals both inputs when they agree, so
// verbatim text (both 1) scores 1 and text sharing nothing (both 0) scores
// 0, and only text that both signals find near-identical scores above 0.9.
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
