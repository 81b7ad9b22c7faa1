package sqlite

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// The encodings of memory_vectors.embedding ([Options].VectorEncoding).
// Each BLOB says which it is, so a database may hold both (rows written
// before the setting changed keep theirs until they are written again).
const (
	// VectorInt8, the default: the vector's int8 code ([vector.Int8Code]:
	// each element rounded to the nearest of 255 steps of max|v|/127),
	// behind an 8-byte header: int8Magic, then the step as a float32,
	// little-endian. Dim+8 bytes (392 at 384-d, a quarter of float32),
	// which put ten rows in a 4 KiB page instead of two. Decoded, an
	// element is within half a step of the original, and a cosine
	// similarity moves by 0.0004 on average, 0.003 at most (built-in
	// embedder, TestEncodeVectorInt8Embeddings and BENCHMARKS.md); cosine is scale-invariant, so sqlite-vec compares
	// the codes as they are (vec_int8). The in-process vector index keeps
	// the same code, so it rescores these rows in memory, reading nothing.
	VectorInt8 = "int8"
	// VectorFloat32 is sqlite-vec's float32 format: the floats in order,
	// 4 bytes each, little-endian (4·Dim bytes); exact.
	VectorFloat32 = "float32"
)

// int8Magic opens an int8 BLOB: as a float32 it is a NaN, which no stored
// float32 vector holds ([vector.Check] refuses them), so the two formats
// cannot be confused.
var int8Magic = [4]byte{0x71, 0x38, 0xc0, 0x7f}

const int8Header = 8

// vectorEncoding validates enc ("" is the default).
func vectorEncoding(enc string) (string, error) {
	switch enc {
	case "", VectorInt8:
		return VectorInt8, nil
	case VectorFloat32:
		return VectorFloat32, nil
	}
	return "", fmt.Errorf("sqlite: VectorEncoding %q: want %q or %q", enc, VectorInt8, VectorFloat32)
}

// EncodeVector returns v in sqlite-vec's float32 BLOB format: the floats
// in order, each as 4 bytes little-endian.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// EncodeVectorInt8 returns v in the int8 format of [VectorInt8]. A vector
// that has no int8 code (all zeros, or not finite), or whose code would
// not decode to within half a step of it (and float32 rounding: 0.501 of
// a step; elements near ±MaxFloat32, whose decoding overflows), is
// returned in the float32 format, as it is.
func EncodeVectorInt8(v []float32) []byte {
	q, scale, err := vector.Int8Code(v)
	if err != nil {
		return EncodeVector(v)
	}
	for i, c := range q {
		d := float64(float32(c)*scale) - float64(v[i])
		if math.IsInf(d, 0) || math.Abs(d) > float64(scale)*0.501 {
			return EncodeVector(v)
		}
	}
	b := make([]byte, int8Header+len(q))
	copy(b, int8Magic[:])
	binary.LittleEndian.PutUint32(b[4:], math.Float32bits(scale))
	for i, c := range q {
		b[int8Header+i] = byte(c)
	}
	return b
}

// encodeVector returns v in the encoding enc.
func encodeVector(enc string, v []float32) []byte {
	if enc == VectorFloat32 {
		return EncodeVector(v)
	}
	return EncodeVectorInt8(v)
}

// encode returns v in the store's encoding of memory vectors.
func (s *Store) encode(v []float32) []byte { return encodeVector(s.enc, v) }

// isInt8 reports whether b is in the int8 format.
func isInt8(b []byte) bool {
	return len(b) >= int8Header && [4]byte(b[:4]) == int8Magic
}

// vectorArg is v as a statement's argument: its BLOB, or NULL for nil.
func vectorArg(v []float32) any {
	if v == nil {
		return nil
	}
	return EncodeVector(v)
}

// DecodeVectorInto is [DecodeVector] writing into dst's storage when it is
// large enough, for loops that decode many vectors.
func DecodeVectorInto(dst []float32, b []byte) ([]float32, error) {
	var n int
	switch {
	case isInt8(b):
		n = len(b) - int8Header
	case len(b)%4 == 0:
		n = len(b) / 4
	default:
		return nil, vector.ErrInvalid
	}
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	if isInt8(b) {
		scale := math.Float32frombits(binary.LittleEndian.Uint32(b[4:]))
		for i, c := range b[int8Header:] {
			dst[i] = float32(int8(c)) * scale
		}
		return dst, nil
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return dst, nil
}

// DecodeVector parses a stored vector, in either format: int8 (see
// [VectorInt8]) or sqlite-vec's float32. It returns [vector.ErrInvalid]
// when b is neither (a length that is not a multiple of 4).
func DecodeVector(b []byte) ([]float32, error) {
	return DecodeVectorInto(nil, b)
}

// FloatBlob returns a stored vector in sqlite-vec's float32 format: b
// itself if it is, else decoded and encoded again. For exports, whose
// format is float32.
func FloatBlob(b []byte) ([]byte, error) {
	if !isInt8(b) {
		if len(b)%4 != 0 {
			return nil, vector.ErrInvalid
		}
		return b, nil
	}
	v, err := DecodeVector(b)
	if err != nil {
		return nil, err
	}
	return EncodeVector(v), nil
}

// cosineDistance returns SQL for the cosine distance (sqlite-vec's
// vec_distance_cosine) between the stored vector in col, in either
// format, and a query given as two arguments, queryArgs(q): its int8 code
// (compared with int8 rows, as vec_int8) and its float32 BLOB (compared
// with float32 rows). Against int8 rows the query is quantised too, which
// moves the distance by about 0.001 more.
func cosineDistance(col string) string {
	return fmt.Sprintf(`CASE WHEN substr(%[1]s, 1, 4) = X'%[2]x' THEN vec_distance_cosine(vec_int8(substr(%[1]s, %[3]d)), vec_int8(?))
		ELSE vec_distance_cosine(%[1]s, ?) END`, col, int8Magic[:], int8Header+1)
}

// queryArgs returns the two arguments of [cosineDistance] for q.
func queryArgs(q []float32) []any {
	c, _, err := vector.Int8Code(q)
	q8 := make([]byte, len(q))
	if err == nil {
		for i, x := range c {
			q8[i] = byte(x)
		}
	}
	return []any{q8, EncodeVector(q)}
}

// VectorEncoding returns how the store writes the vectors of memories:
// [VectorInt8] or [VectorFloat32] ([Options].VectorEncoding).
func (s *Store) VectorEncoding() string { return s.enc }
