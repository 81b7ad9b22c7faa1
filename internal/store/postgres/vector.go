package postgres

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// errVector is the error of a stored vector whose length is not a
// multiple of 4 bytes.
var errVector = errors.New("postgres: stored vector is not float32 little-endian")

// encodeVector stores v as float32 little-endian, the bytes SQLite's
// store keeps (sqlite-vec's format).
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// decodeVectorInto decodes b into dst's storage when it is large enough.
func decodeVectorInto(dst []float32, b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, errVector
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

// distance decodes blob into buf (reused when large enough) and returns
// its cosine distance to q, 1 − cosine similarity, as sqlite-vec's
// vec_distance_cosine computes it for the SQLite store: NaN when blob is
// not a vector of q's dimension.
func distance(buf []float32, blob []byte, q []float32) ([]float32, float64) {
	v, err := decodeVectorInto(buf, blob)
	if err != nil {
		return buf, math.NaN()
	}
	if len(v) != len(q) {
		return v, math.NaN()
	}
	return v, 1 - float64(vector.Cosine(v, q))
}
