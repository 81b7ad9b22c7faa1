package vector

// The kernels are unexported, so their tests are white-box: each is checked
// against a naive reference on random inputs of every width that has its
// own code path. The behaviour of Index is tested from outside, in
// index_test.go.

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// dotInt8 is the reference for dotInt8x4.
func dotInt8(a, b []int8) int32 {
	var s int32
	for i := range a {
		s += int32(a[i]) * int32(b[i])
	}
	return s
}

// hamming is the reference for hammingBelow.
func hamming(a, b []uint64) int {
	n := 0
	for i := range a {
		n += bits.OnesCount64(a[i] ^ b[i])
	}
	return n
}

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func TestDotInt8x4(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 3, 4, 5, 7, 15, 16, 17, 31, 384, 385, 1536} {
		a, b := make([]int8, n), make([]int8, n)
		for i := range a {
			a[i], b[i] = int8(r.IntN(255)-127), int8(r.IntN(255)-127)
		}
		c := slices.Clone(b)
		slices.Reverse(c)
		s0, s1, s2, s3 := dotInt8x4(a, b, c, a, b)
		if s0 != dotInt8(a, b) || s1 != dotInt8(a, c) || s2 != dotInt8(a, a) || s3 != s0 {
			t.Errorf("n=%d: dotInt8x4 = %d %d %d %d, want %d %d %d %d", n, s0, s1, s2, s3,
				dotInt8(a, b), dotInt8(a, c), dotInt8(a, a), dotInt8(a, b))
		}
	}
	// Extremes do not overflow at large dimensions.
	a := make([]int8, 4096)
	for i := range a {
		a[i] = -127
	}
	if got, _, _, _ := dotInt8x4(a, a, a, a, a); got != 4096*127*127 {
		t.Errorf("dotInt8x4 of -127s = %d, want %d", got, 4096*127*127)
	}
	// -128 is never a code (quantizeInt8), but the kernels agree on it
	// too, and on mixed signs at the extremes.
	m := make([]int8, 4096)
	for i := range m {
		a[i], m[i] = -128, int8(127-255*(i%2))
	}
	s0, s1, s2, s3 := dotInt8x4(a, a, m, a, m)
	if w := int32(4096 * 128 * 128); s0 != w || s2 != w {
		t.Errorf("dotInt8x4 of -128s = %d, %d, want %d", s0, s2, w)
	}
	if w0, w1, w2, w3 := dotInt8x4Go(a, a, m, a, m); s0 != w0 || s1 != w1 || s2 != w2 || s3 != w3 {
		t.Errorf("dotInt8x4 extremes = %d %d %d %d, dotInt8x4Go %d %d %d %d", s0, s1, s2, s3, w0, w1, w2, w3)
	}
}

// FuzzDotInt8x4 holds dotInt8x4 (the assembly kernel on amd64 with AVX2)
// to dotInt8x4Go on any bytes: q is the first quarter, the rows the next
// ones, of a common length.
func FuzzDotInt8x4(f *testing.F) {
	f.Add(make([]byte, 4*16))
	f.Add(make([]byte, 4*384+3))
	f.Add([]byte{0x80, 0x7f, 0x01, 0xff, 0x80, 0x80, 0x7f, 0x7f})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 5
		v := make([]int8, 5*n)
		for i := range v {
			v[i] = int8(data[i])
		}
		q, a, b, c, d := v[:n], v[n:2*n], v[2*n:3*n], v[3*n:4*n], v[4*n:]
		s0, s1, s2, s3 := dotInt8x4(q, a, b, c, d)
		w0, w1, w2, w3 := dotInt8x4Go(q, a, b, c, d)
		if s0 != w0 || s1 != w1 || s2 != w2 || s3 != w3 {
			t.Fatalf("n=%d: dotInt8x4 = %d %d %d %d, dotInt8x4Go %d %d %d %d", n, s0, s1, s2, s3, w0, w1, w2, w3)
		}
		if s0 != dotInt8(q, a) || s3 != dotInt8(q, d) {
			t.Fatalf("n=%d: dotInt8x4 = %d … %d, reference %d … %d", n, s0, s3, dotInt8(q, a), dotInt8(q, d))
		}
	})
}

func TestHammingBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, nw := range []int{1, 2, 3, 5, 6, 7, 12, 16, 24} {
		const nrows = 37
		codes := make([]uint64, nrows*nw)
		for i := range codes {
			codes[i] = r.Uint64()
		}
		q := make([]uint64, nw)
		for i := range q {
			q[i] = r.Uint64()
		}
		for _, thr := range []uint32{0, uint32(nw * 32), math.MaxUint32} {
			rows, dists := make([]uint32, nrows), make([]uint32, nrows)
			n := hammingBelow(rows, dists, codes, q, thr)
			var wantRows, wantDists []uint32
			for row := range nrows {
				d := hamming(codes[row*nw:(row+1)*nw], q)
				naive := 0
				for w := range nw {
					naive += bits.OnesCount64(codes[row*nw+w] ^ q[w])
				}
				if d != naive {
					t.Fatalf("hamming = %d, want %d", d, naive)
				}
				if uint32(d) < thr {
					wantRows = append(wantRows, uint32(row))
					wantDists = append(wantDists, uint32(d))
				}
			}
			if !slices.Equal(rows[:n], wantRows) || !slices.Equal(dists[:n], wantDists) {
				t.Fatalf("nw=%d thr=%d: rows %v dists %v, want %v %v", nw, thr, rows[:n], dists[:n], wantRows, wantDists)
			}
		}
	}
}

func TestResidualCode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, dim := range []int{1, 63, 64, 65, 100, 384} {
		v, c := randVec(r, dim), randVec(r, dim)
		q := make([]int8, dim)
		scale, _ := quantizeInt8(q, v)
		dec := make([]float32, dim)
		for i := range q {
			dec[i] = float32(q[i]) * scale
		}
		for _, tc := range []struct {
			name string
			v    []float32
			code func(dst []uint64) (float32, float32)
		}{
			{"float32", v, func(dst []uint64) (float32, float32) { return residualCode(dst, v, c) }},
			{"int8", dec, func(dst []uint64) (float32, float32) { return residualCodeInt8(dst, q, scale, c) }},
		} {
			dst := make([]uint64, codeWords(dim))
			for i := range dst {
				dst[i] = math.MaxUint64 // must be cleared
			}
			fac, rc := tc.code(dst)
			var sq, abs, dot float64
			for i := range len(dst) * 64 {
				got := dst[i/64]>>(i%64)&1 == 1
				want := i < dim && tc.v[i] > c[i]
				if got != want {
					t.Fatalf("%s dim %d bit %d = %v, want %v", tc.name, dim, i, got, want)
				}
				if i < dim {
					d := float64(tc.v[i] - c[i])
					sq += d * d
					abs += math.Abs(d)
					dot += d * float64(c[i])
				}
			}
			if math.Abs(float64(fac)-sq/abs) > 1e-4*sq/abs || math.Abs(float64(rc)-dot) > 1e-4*(1+math.Abs(dot)) {
				t.Errorf("%s dim %d: fac, rc = %v, %v; want %v, %v", tc.name, dim, fac, rc, sq/abs, dot)
			}
		}
	}
}

func TestQueryPlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, dim := range []int{1, 5, 64, 100, 384} {
		q, c := randVec(r, dim), randVec(r, dim)
		nw := codeWords(dim)
		planes := make([]uint64, planeBits*nw)
		lo, delta, sum := queryPlanes(planes, q, c)
		var wantSum float64
		for i := range q {
			u := float64(q[i] - c[i])
			wantSum += u
			var n uint64
			for j := range planeBits {
				n |= (planes[j*nw+i/64] >> (i % 64) & 1) << j
			}
			if got := float64(lo) + float64(delta)*float64(n); math.Abs(got-u) > float64(delta)/2*1.001+1e-6 {
				t.Fatalf("dim %d element %d: decodes to %v, want %v ± %v", dim, i, got, u, delta/2)
			}
		}
		if math.Abs(float64(sum)-wantSum) > 1e-3 {
			t.Errorf("dim %d: sum %v, want %v", dim, sum, wantSum)
		}
		// asymCounts against a naive sum over a random code.
		code := make([]uint64, nw)
		for i := range code {
			code[i] = r.Uint64()
		}
		if dim%64 != 0 {
			code[nw-1] &= 1<<(dim%64) - 1
		}
		pc, sn := asymCounts(code, planes)
		wantPC, wantSN := 0, 0
		for i := range dim {
			if code[i/64]>>(i%64)&1 == 1 {
				wantPC++
				for j := range planeBits {
					wantSN += int(planes[j*nw+i/64]>>(i%64)&1) << j
				}
			}
		}
		if pc != wantPC || sn != wantSN {
			t.Errorf("dim %d: asymCounts = %d, %d; want %d, %d", dim, pc, sn, wantPC, wantSN)
		}
	}
}

func TestQuantizeInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, dim := range []int{1, 2, 384} {
		for range 20 {
			v := randVec(r, dim)
			for i := range v {
				v[i] *= 3 // not normalised
			}
			q := make([]int8, dim)
			scale, inv := quantizeInt8(q, v)
			var norm, maxAbs float64
			for _, f := range v {
				norm += float64(f) * float64(f)
				maxAbs = max(maxAbs, math.Abs(float64(f)))
			}
			norm = math.Sqrt(norm)
			if math.Abs(float64(inv)*norm-1) > 1e-5 {
				t.Fatalf("dim %d: invNorm %v, want %v", dim, inv, 1/norm)
			}
			peak := 0
			for i, f := range v {
				want := float64(f) / norm
				got := float64(q[i]) * float64(scale)
				// Rounding error at most half a step.
				if math.Abs(got-want) > float64(scale)*0.5001 {
					t.Fatalf("dim %d: element %d decodes to %v, want %v ± %v", dim, i, got, want, scale/2)
				}
				if q[i] == 127 || q[i] == -127 {
					peak++
				}
			}
			if peak == 0 {
				t.Fatalf("dim %d: no element maps to ±127: %v", dim, q)
			}
		}
	}
}

func TestOrderedBitsAndKeys(t *testing.T) {
	fs := []float32{float32(math.Inf(-1)), -3, -1, -1e-30, float32(math.Copysign(0, -1)), 0, 1e-30, 0.5, 1, 2, float32(math.Inf(1))}
	for i := 1; i < len(fs); i++ {
		a, b := orderedBits(fs[i-1]), orderedBits(fs[i])
		if a > b || (a == b && fs[i-1] != fs[i]) {
			t.Errorf("orderedBits(%v) = %#x, orderedBits(%v) = %#x: out of order", fs[i-1], a, fs[i], b)
		}
	}
	for _, f := range fs {
		k := scoreKey(f, 12345)
		if got := keyScore(k); got != f && !(got == 0 && f == 0) {
			t.Errorf("keyScore(scoreKey(%v)) = %v", f, got)
		}
		if keySlot(k) != 12345 {
			t.Errorf("keySlot = %d", keySlot(k))
		}
	}
	// Higher scores sort first; equal scores by slot.
	if !(scoreKey(0.9, 5) < scoreKey(0.8, 1) && scoreKey(0.8, 1) < scoreKey(0.8, 2)) {
		t.Error("score keys do not sort by descending score, then slot")
	}
}

func TestTopN(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 2, 10, 100} {
		for _, m := range []int{0, 1, 5, 50, 1000} {
			h := topN{n: n}
			all := make([]uint64, m)
			for i := range all {
				all[i] = r.Uint64N(200) // duplicates too
				if all[i] < h.worst() {
					h.push(all[i])
				}
			}
			slices.Sort(all)
			want := all[:min(n, m)]
			got := slices.Clone(h.keys)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d m=%d: kept %v, want %v", n, m, got, want)
			}
		}
	}
}

func FuzzQuantizeInt8(f *testing.F) {
	f.Add(float32(1), float32(-2), float32(0.5))
	f.Add(float32(1e-38), float32(0), float32(0))
	f.Add(float32(3e38), float32(-3e38), float32(1))
	f.Add(float32(math.NaN()), float32(1), float32(1))
	f.Add(float32(math.Inf(-1)), float32(0), float32(0))
	f.Add(float32(0), float32(math.Copysign(0, -1)), float32(0))
	f.Add(float32(math.SmallestNonzeroFloat32), float32(0), float32(0))
	f.Fuzz(func(t *testing.T, a, b, c float32) {
		v := []float32{a, b, c}
		if Check(v, 3) != nil {
			if finiteNonZero(v) {
				t.Fatalf("finiteNonZero(%v) = true, Check rejects it", v)
			}
			if scale, _ := quantizeInt8(make([]int8, 3), v); scale != 0 {
				t.Fatalf("quantizeInt8(%v) has scale %v, want 0 for a bad vector", v, scale)
			}
			return
		}
		q := make([]int8, 3)
		scale, _ := quantizeInt8(q, v)
		if !finiteNonZero(v) {
			t.Fatalf("finiteNonZero(%v) = false, Check accepts it", v)
		}
		if math.IsNaN(float64(scale)) || math.IsInf(float64(scale), 0) || !(scale > 0) {
			t.Fatalf("scale %v for %v", scale, v)
		}
		for _, x := range q {
			if x == -128 {
				t.Fatalf("code -128 for %v", v)
			}
		}
	})
}

func BenchmarkDotInt8x4(b *testing.B) {
	r := rand.New(rand.NewPCG(6, 6))
	q := make([]int8, 384)
	rows := make([][]int8, 4)
	for i := range q {
		q[i] = int8(r.IntN(255) - 127)
	}
	for j := range rows {
		rows[j] = make([]int8, 384)
		for i := range rows[j] {
			rows[j][i] = int8(r.IntN(255) - 127)
		}
	}
	// "dispatch" is dotInt8x4 as searches call it (the AVX2 kernel on
	// amd64 with AVX2), "go" the portable kernel, side by side.
	for _, k := range []struct {
		name string
		dot  func(q, a, b, c, d []int8) (int32, int32, int32, int32)
	}{{"dispatch", dotInt8x4}, {"go", dotInt8x4Go}} {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			var s int32
			for b.Loop() {
				s0, s1, s2, s3 := k.dot(q, rows[0], rows[1], rows[2], rows[3])
				s += s0 + s1 + s2 + s3
			}
			_ = s
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/4, "ns/row")
		})
	}
}

// BenchmarkHammingBelow times the scan of a chunk of 4096 rows at
// dimension 384 (6 words) and 768 (12): "dispatch" is hammingBelow as
// searches call it (the AVX2 kernel on amd64 with AVX2), "go" the portable
// kernel, side by side in one run.
func BenchmarkHammingBelow(b *testing.B) {
	kernels := []struct {
		name string
		fn   func(rows, dists []uint32, codes, q []uint64, thr uint32) int
	}{
		{"dispatch", hammingBelow},
		{"go", hammingBelowGo},
	}
	// A chunk of 4,096 rows (in cache, as a scan's chunk of a small
	// partition is), and a million rows of dimension 384 scanned a chunk
	// at a time, as a 1M-row partition is on one goroutine (48 MB: at the
	// memory's pace).
	for _, c := range []struct{ nw, nrows int }{{6, 4096}, {12, 4096}, {6, 1 << 20}} {
		nw, nrows := c.nw, c.nrows
		r := rand.New(rand.NewPCG(7, 7))
		codes := make([]uint64, nrows*nw)
		for i := range codes {
			codes[i] = r.Uint64()
		}
		q := codes[:nw]
		thr := uint32(nw * 25) // about 1% below
		const chunk = 4096
		rows, dists := make([]uint32, chunk), make([]uint32, chunk)
		for _, k := range kernels {
			b.Run(fmt.Sprintf("nw=%d/rows=%d/%s", nw, nrows, k.name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(nrows * nw * 8))
				for b.Loop() {
					for lo := 0; lo < nrows; lo += chunk {
						k.fn(rows, dists, codes[lo*nw:(lo+chunk)*nw], q, thr)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(nrows), "ns/row")
			})
		}
	}
}

func BenchmarkQuantizeInt8(b *testing.B) {
	r := rand.New(rand.NewPCG(8, 8))
	v := randVec(r, 384)
	q := make([]int8, 384)
	b.ReportAllocs()
	for b.Loop() {
		quantizeInt8(q, v)
	}
}
