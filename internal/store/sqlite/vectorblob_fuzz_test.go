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

// FuzzVectorCodec checks the stored vector codecs both ways:
// DecodeVector never panics; a BLOB opening with the int8 header (the
// float32 NaN 0x7fc03871, which no stored float32 vector holds) decodes
// as int8 codes times their step; any other is sqlite-vec's float32
// format, accepted exactly when its length is a multiple of 4 and given
// back byte for byte through EncodeVector (NaN payloads, -0 and
// subnormals included). A vector built from the input survives
// EncodeVector then DecodeVector bit for bit (unless it opens with the
// header's NaN), and EncodeVectorInt8 then DecodeVector to within half a
// step (max|v|/254, and float32 rounding) of each element, or bit for bit where it keeps
// float32.
func FuzzVectorCodec(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0x80, 0x3f})                                  // 1.0
	f.Add([]byte{0, 0, 0x80})                                        // short by one
	f.Add([]byte{0, 0, 0xc0, 0x7f, 1, 0, 0xc0, 0xff})                // quiet NaNs, one with a payload
	f.Add([]byte{1, 0, 0x80, 0x7f, 0, 0, 0x80, 0xff})                // signalling NaN, -Inf
	f.Add([]byte{0, 0, 0, 0x80, 1, 0, 0, 0, 0xff, 0xff, 0x7f, 0x7f}) // -0, smallest subnormal, MaxFloat32
	f.Add(bytes.Repeat([]byte{0xcd, 0xcc, 0x4c, 0x3e}, 384))         // 0.2 × 384, a real dimension
	f.Add(bytes.Repeat([]byte{0xff}, 4097))
	f.Add([]byte{0x71, 0x38, 0xc0, 0x7f, 0, 0, 0x80, 0x3f, 0x81, 0, 0x7f}) // int8: step 1, -127 0 127
	f.Add([]byte{0x71, 0x38, 0xc0, 0x7f, 0, 0})                            // int8 header cut short
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := sqlite.DecodeVector(b)
		int8Blob := len(b) >= 8 && bytes.Equal(b[:4], []byte{0x71, 0x38, 0xc0, 0x7f})
		if int8Blob {
			if err != nil || len(v) != len(b)-8 {
				t.Fatalf("DecodeVector of an int8 BLOB of %d bytes = %d floats, %v", len(b), len(v), err)
			}
			step := math.Float32frombits(binary.LittleEndian.Uint32(b[4:]))
			for i, x := range v {
				if want := float32(int8(b[8+i])) * step; math.Float32bits(x) != math.Float32bits(want) {
					t.Fatalf("int8 element %d = %v, want %v", i, x, want)
				}
			}
		} else if len(b)%4 != 0 {
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
		headed := len(built) >= 2 && math.Float32bits(built[0]) == 0x7fc03871
		if len(enc) != 4*len(built) {
			t.Fatalf("EncodeVector of %d floats is %d bytes", len(built), len(enc))
		}
		dec, err := sqlite.DecodeVector(enc)
		if err != nil || len(dec) != len(built) {
			t.Fatalf("DecodeVector(EncodeVector(%d floats)) = %d floats, %v", len(built), len(dec), err)
		}
		for i := range built {
			if !headed && math.Float32bits(dec[i]) != math.Float32bits(built[i]) {
				t.Fatalf("element %d: %#08x came back as %#08x", i, math.Float32bits(built[i]), math.Float32bits(dec[i]))
			}
		}

		enc8 := sqlite.EncodeVectorInt8(built)
		dec8, err := sqlite.DecodeVector(enc8)
		if err != nil || len(dec8) != len(built) {
			t.Fatalf("DecodeVector(EncodeVectorInt8(%d floats)) = %d floats, %v", len(built), len(dec8), err)
		}
		if len(enc8) == 4*len(built) { // kept as float32 (no int8 code fits it)
			if !headed && !bytes.Equal(enc8, enc) {
				t.Fatalf("EncodeVectorInt8 fell back to %x, not EncodeVector's %x", enc8, enc)
			}
			return
		}
		if len(enc8) != len(built)+8 {
			t.Fatalf("EncodeVectorInt8 of %d floats is %d bytes", len(built), len(enc8))
		}
		var m float64
		for _, x := range built {
			m = max(m, math.Abs(float64(x)))
		}
		for i, x := range built {
			if d := math.Abs(float64(dec8[i]) - float64(x)); !(d <= m/127*0.501) {
				t.Fatalf("int8 element %d: %v came back as %v (max %v)", i, x, dec8[i], m)
			}
		}
	})
}
