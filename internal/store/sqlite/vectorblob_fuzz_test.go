package sqlite_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// FuzzVectorCodec checks sqlite-vec's float32 BLOB codec both ways:
// DecodeVector never panics, accepts exactly the blobs whose length is a
// multiple of 4 and gives them back byte for byte through EncodeVector
// (NaN payloads, -0 and subnormals included); and a vector built from the
// input survives EncodeVector then DecodeVector bit for bit.
func FuzzVectorCodec(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0x80, 0x3f})                                  // 1.0
	f.Add([]byte{0, 0, 0x80})                                        // short by one
	f.Add([]byte{0, 0, 0xc0, 0x7f, 1, 0, 0xc0, 0xff})                // quiet NaNs, one with a payload
	f.Add([]byte{1, 0, 0x80, 0x7f, 0, 0, 0x80, 0xff})                // signalling NaN, -Inf
	f.Add([]byte{0, 0, 0, 0x80, 1, 0, 0, 0, 0xff, 0xff, 0x7f, 0x7f}) // -0, smallest subnormal, MaxFloat32
	f.Add(bytes.Repeat([]byte{0xcd, 0xcc, 0x4c, 0x3e}, 384))         // 0.2 × 384, a real dimension
	f.Add(bytes.Repeat([]byte{0xff}, 4097))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := sqlite.DecodeVector(b)
		if len(b)%4 != 0 {
			if !errors.Is(err, vector.ErrInvalid) || v != nil {
				t.Fatalf("DecodeVector of %d bytes = %d floats, %v; want nil, ErrInvalid", len(b), len(v), err)
			}
		} else {
			if err != nil {
				t.Fatalf("DecodeVector of %d bytes: %v", len(b), err)
			}
			if len(v) != len(b)/4 {
				t.Fatalf("DecodeVector of %d bytes = %d floats", len(b), len(v))
			}
			for i, x := range v {
				if got, want := math.Float32bits(x), binary.LittleEndian.Uint32(b[4*i:]); got != want {
					t.Fatalf("element %d: bits %#08x, want little-endian %#08x", i, got, want)
				}
			}
			if again := sqlite.EncodeVector(v); !bytes.Equal(again, b) {
				t.Fatalf("EncodeVector(DecodeVector(%x)) = %x", b, again)
			}
		}

		// Vectors built from the input another way: each byte picks a
		// special value or scales a finite one, so every class of float32
		// (and lengths that are not multiples of 4 bytes of input) occurs.
		specials := []float32{
			0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
			float32(math.NaN()), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc12345),
			math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32,
		}
		built := make([]float32, len(b))
		for i, c := range b {
			if int(c) < len(specials) {
				built[i] = specials[c]
			} else {
				built[i] = float32(int8(c)) * float32(math.Pow(2, float64(int(c)%64-32)))
			}
		}
		enc := sqlite.EncodeVector(built)
		if len(enc) != 4*len(built) {
			t.Fatalf("EncodeVector of %d floats is %d bytes", len(built), len(enc))
		}
		dec, err := sqlite.DecodeVector(enc)
		if err != nil || len(dec) != len(built) {
			t.Fatalf("DecodeVector(EncodeVector(%d floats)) = %d floats, %v", len(built), len(dec), err)
		}
		for i := range built {
			if math.Float32bits(dec[i]) != math.Float32bits(built[i]) {
				t.Fatalf("element %d: %#08x came back as %#08x", i, math.Float32bits(built[i]), math.Float32bits(dec[i]))
			}
		}
	})
}
