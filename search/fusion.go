package search

import (
	"fmt"
	"math"

	"github.com/memoryrelay/memoryrelay/search/embed"
)

// SemanticScore maps a cosine distance (1 - cosine similarity, as
// sqlite-vec's vec_distance_cosine returns) to a score in [0,1]: the
// cosine similarity, with negative values clamped to 0.
func SemanticScore(distance float64) float64 { return clamp01(1 - distance) }

// Fusion is a policy for hybrid search: how a memory's semantic score
// (cosine similarity, see [SemanticScore]) and its lexical score
// (lexical.Score, 0 when the memory shares no term with the query) become
// its hybrid score, in [0,1], by which hybrid search ranks. A program
// chooses one with memoryrelay.Options.Fusion; the zero value,
// [FusionAuto], leaves the choice to the embedder.
type Fusion int

// Fusion policies.
const (
	// FusionAuto, the zero value, is the policy that the embedder asks
	// for ([Fusion.Resolve]): [FusionLexicalFirst] for an embedder whose
	// vectors measure wording rather than meaning (one whose Lexical
	// method, of the optional interface [embed.Lexical], returns true, as
	// the built-in [embed.Hashing]'s does), and [FusionBlend] for any
	// other, including a wrapper that does not forward Lexical.
	FusionAuto Fusion = iota

	// FusionLexicalFirst ranks the memories that share a term with the
	// query by their lexical score alone, and the others by half their
	// semantic score ([LexicalFirstVectorWeight]):
	//
	//	lexical                               if lexical > 0
	//	LexicalFirstVectorWeight · semantic   otherwise
	//
	// It is the policy for the built-in hashing embedder, which measures
	// shared wording, as the lexical score does, but without the idf
	// weighting that tells a rare word from a common one, and whose cosine
	// favours short texts: mixed into the ranking of memories that share
	// terms with the query it only adds noise. What it adds is the
	// memories that share none (a typo, an inflection the stemmer misses),
	// which it finds through character n-grams; halving their cosine keeps
	// a text that only looks like the query at or below 0.5, far from the
	// 0.8 of a verbatim match. So hybrid ranks the lexical matches exactly
	// as keyword search does and scores them the same (API.md §7); it only
	// adds the memories that share no term, ranked among the weakest
	// lexical matches. A search under this policy need not read the
	// vectors of lexical matches.
	//
	// Measured on LoCoMo (cmd/locomo: 5 conversations, 2,960 memories, 783
	// questions; recall@5 / recall@10, each hybrid with lexical.Score and
	// the hashing embedder):
	//
	//	keyword only (lexical.Score)             0.554 / 0.630
	//	semantic only (Hashing)                  0.337 / 0.405
	//	FusionLexicalFirst                       0.554 / 0.630
	//	FusionBlend, the previous hybrid         0.533 / 0.599
	//	(1−w)·lexical + w·cosine, w = 0.001      0.554 / 0.629 (the cosine breaks ties)
	//	  w = 0.05, 0.1, 0.2, 0.3                0.554 / 0.628, 0.556 / 0.625,
	//	                                         0.551 / 0.625, 0.549 / 0.624
	//	  w = 0.05, idf-weighted query vector    0.558 / 0.625
	//	reciprocal rank fusion, k = 60           0.443 / 0.510; vector weight 0.2:
	//	                                         0.518 / 0.604
	//
	// No mixture beats the lexical score alone by more than 0.004, and
	// every one that lets the cosine reorder lexical matches falls below
	// it at recall@10 (temporal questions lose up to 0.04): among memories
	// that share the same query terms, the cosine prefers the short ones,
	// which rarely hold an answer. Blend and reciprocal rank fusion let a
	// cosine raised by common words outrank matches on rare ones.
	FusionLexicalFirst

	// FusionBlend is [Blend]: 0.7 of the stronger score plus 0.3 of the
	// weaker, so a paraphrase that shares no word with the query still
	// scores high. It is the policy for embedders whose vectors are
	// assumed to carry meaning the words do not. It has not been measured
	// on LoCoMo, for lack of an offline neural model.
	FusionBlend
)

// LexicalFirstVectorWeight is the factor [FusionLexicalFirst] applies to
// the semantic score of a memory that shares no term with the query.
const LexicalFirstVectorWeight = 0.5

// Resolve returns the policy f stands for with embedder e: f itself,
// unless f is [FusionAuto], which resolves to [FusionLexicalFirst] if
// [embed.IsLexical](e) and to [FusionBlend] otherwise. It looks at what e
// says of itself, never at its concrete type, so an embedder that wraps
// another keeps the wrapped one's policy by forwarding
// [embed.Lexical].
func (f Fusion) Resolve(e embed.Embedder) Fusion {
	if f != FusionAuto {
		return f
	}
	if embed.IsLexical(e) {
		return FusionLexicalFirst
	}
	return FusionBlend
}

// Fuse returns the hybrid score, in [0,1], of a memory with the given
// semantic and lexical scores; inputs outside [0,1] (or NaN) are clamped
// into it. [FusionAuto], which should be resolved first, and an unknown
// policy fuse as [FusionBlend].
func (f Fusion) Fuse(semantic, lexical float64) float64 {
	if f == FusionLexicalFirst {
		if lexical > 0 {
			return clamp01(lexical)
		}
		return clamp01(LexicalFirstVectorWeight * clamp01(semantic))
	}
	return Blend(semantic, lexical)
}

// String returns "auto", "lexical-first" or "blend", and "Fusion(n)" for
// any other value.
func (f Fusion) String() string {
	switch f {
	case FusionAuto:
		return "auto"
	case FusionLexicalFirst:
		return "lexical-first"
	case FusionBlend:
		return "blend"
	}
	return fmt.Sprintf("Fusion(%d)", int(f))
}

// Blend fuses a semantic and a lexical score, each in [0,1], into a hybrid
// score in [0,1]: 0.7 of the stronger signal plus 0.3 of the weaker. It is
// never below 0.7 of its best input, equals both inputs when they agree, so
// verbatim text (both 1) scores 1 and text sharing nothing (both 0) scores
// 0, and only text that both signals find near-identical scores above 0.9.
// [FusionBlend] fuses by it.
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
