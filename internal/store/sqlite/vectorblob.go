package sqlite

import (
	"encoding/binary"
	"math"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// EncodeVector returns v in sqlite-vec's float32 BLOB format: the floats
// in order, each as 4 bytes little-endian.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
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
	if len(b)%4 != 0 {
		return nil, vector.ErrInvalid
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
// [vector.ErrInvalid] when the length is not a multiple of 4.
func DecodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, vector.ErrInvalid
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
