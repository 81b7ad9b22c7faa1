package vector

import (
	"errors"
	"fmt"
	"math"
)

var (
	// ErrDimensionMismatch means a vector's length differs from the
	// dimension of the embedder or index it was checked against. Errors
	// carrying the two lengths are *DimensionError.
	ErrDimensionMismatch = errors.New("vector: dimension mismatch")

	// ErrInvalid means a vector cannot be stored or compared: it is
	// empty, all zeros (it has no direction), or holds NaN or ±Inf.
	ErrInvalid = errors.New("vector: invalid vector")
)

// DimensionError reports a vector of the wrong length. It matches
// [ErrDimensionMismatch] with [errors.Is].
type DimensionError struct {
	Got  int // length of the vector
	Want int // expected dimension
}

func (e *DimensionError) Error() string {
	return fmt.Sprintf("vector: dimension %d, want %d", e.Got, e.Want)
}

// Is reports whether target is [ErrDimensionMismatch].
func (e *DimensionError) Is(target error) bool { return target == ErrDimensionMismatch }

// Check reports whether v can be stored in an index of dimension dim:
// it returns an error matching [ErrInvalid] if v is empty, holds NaN or
// ±Inf, or is all zeros, and a [*DimensionError] if len(v) != dim. It does
// not require v to be normalised.
func Check(v []float32, dim int) error {
	if len(v) == 0 {
		return fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(v) != dim {
		return &DimensionError{Got: len(v), Want: dim}
	}
	zero := true
	for i, x := range v {
		switch {
		case math.IsNaN(float64(x)):
			return fmt.Errorf("%w: element %d is NaN", ErrInvalid, i)
		case math.IsInf(float64(x), 0):
			return fmt.Errorf("%w: element %d is %v", ErrInvalid, i, x)
		case x != 0:
			zero = false
		}
	}
	if zero {
		return fmt.Errorf("%w: all zeros", ErrInvalid)
	}
	return nil
}

// Normalize scales v in place to unit L2 norm. A vector whose norm is zero,
// or is not finite because v holds NaN or ±Inf, is left unchanged; use
// [Check] to reject those.
func Normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 || math.IsInf(sum, 0) || math.IsNaN(sum) {
		return
	}
	scale := 1 / math.Sqrt(sum)
	for i, x := range v {
		v[i] = float32(float64(x) * scale)
	}
}

// Dot returns the dot product of a and b, which for L2-normalised vectors
// (everything an embedder returns) is their cosine similarity. It is the
// fast path: about three times quicker than [Cosine].
//
// Dot panics if a and b have different lengths.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("vector: Dot of vectors with different lengths")
	}
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0]*bb[0] + aa[4]*bb[4]
		s1 += aa[1]*bb[1] + aa[5]*bb[5]
		s2 += aa[2]*bb[2] + aa[6]*bb[6]
		s3 += aa[3]*bb[3] + aa[7]*bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Cosine returns the cosine similarity of a and b, in [-1, 1]. It divides
// by both norms, so it is correct for vectors that are not normalised; for
// normalised vectors it equals [Dot], which is faster. If either vector is
// all zeros, the similarity is 0.
//
// Cosine panics if a and b have different lengths.
func Cosine(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("vector: Cosine of vectors with different lengths")
	}
	var d0, d1, na0, na1, nb0, nb1 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		aa, bb := a[i:i+4:i+4], b[i:i+4:i+4]
		d0 += aa[0]*bb[0] + aa[2]*bb[2]
		d1 += aa[1]*bb[1] + aa[3]*bb[3]
		na0 += aa[0]*aa[0] + aa[2]*aa[2]
		na1 += aa[1]*aa[1] + aa[3]*aa[3]
		nb0 += bb[0]*bb[0] + bb[2]*bb[2]
		nb1 += bb[1]*bb[1] + bb[3]*bb[3]
	}
	for ; i < len(a); i++ {
		d0 += a[i] * b[i]
		na0 += a[i] * a[i]
		nb0 += b[i] * b[i]
	}
	na, nb := float64(na0+na1), float64(nb0+nb1)
	if na == 0 || nb == 0 {
		return 0
	}
	c := float64(d0+d1) / math.Sqrt(na*nb)
	switch {
	case c > 1:
		return 1
	case c < -1:
		return -1
	}
	return float32(c)
}
