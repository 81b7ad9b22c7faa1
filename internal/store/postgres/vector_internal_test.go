package postgres

import (
	"math"
	"slices"
	"testing"
)

func TestVectorRoundTrip(t *testing.T) {
	for _, v := range [][]float32{nil, {1}, {0, -1.5, float32(math.Inf(1)), math.SmallestNonzeroFloat32, math.MaxFloat32}} {
		got, err := decodeVectorInto(nil, encodeVector(v))
		if err != nil || !slices.Equal(got, v) {
			t.Errorf("round trip of %v: %v, %v", v, got, err)
		}
	}
	if _, err := decodeVectorInto(nil, []byte{1, 2, 3}); err == nil {
		t.Error("3 bytes decoded")
	}
	buf := make([]float32, 0, 8)
	got, _ := decodeVectorInto(buf, encodeVector([]float32{1, 2}))
	if &got[0] != &buf[:1][0] {
		t.Error("decodeVectorInto did not reuse dst")
	}
}
