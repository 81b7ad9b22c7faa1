package vector

import (
	"math"
	"math/bits"
)

// The kernels of [Index]: 1-bit sign codes compared by Hamming distance,
// int8 codes compared by integer dot products, and a bounded heap of packed
// keys. They are written for the Go compiler as it is (no assembly, no
// autovectorisation): loops unrolled with independent accumulators, bounds
// checks hoisted by re-slicing to constant lengths, popcount through
// math/bits (one POPCNT instruction on amd64 and arm64), and int8 products
// accumulated in int32, which cannot overflow below 2^31/127^2 = 133,000
// dimensions.

// codeWords returns the number of uint64 words in the sign code of a vector
// of dimension dim.
func codeWords(dim int) int { return (dim + 63) / 64 }

// residualCode sets dst to the 1-bit code of r = v − c: bit i (bit i%64 of
// word i/64) is set when v[i] > c[i]; the padding bits past len(v) are
// clear. dst has codeWords(len(v)) words; c has len(v) elements. It also
// returns the two per-row terms of the asymmetric estimate (see
// asymCounts): fac = ‖r‖²/Σ|r[i]| (0 when r = 0) and rc = ⟨r, c⟩.
//
// It is branch-free: the bit is the sign of c[i]−v[i], which is negative
// exactly when v[i] > c[i] (x−x is +0).
func residualCode(dst []uint64, v, c []float32) (fac, rc float32) {
	c = c[:len(v)]
	var sq, abs, dot float32
	for w := range dst {
		lo := w * 64
		hi := min(lo+64, len(v))
		vv, cc := v[lo:hi], c[lo:hi]
		var word uint64
		for j, f := range vv {
			d := cc[j] - f
			b := math.Float32bits(d)
			word |= uint64(b>>31) << uint(j)
			sq += d * d
			abs += math.Float32frombits(b &^ (1 << 31))
			dot -= d * cc[j]
		}
		dst[w] = word
	}
	if abs == 0 {
		return 0, dot
	}
	return sq / abs, dot
}

// residualCodeInt8 is residualCode of the vector decoded from an int8
// code: v[i] = float32(q[i])*scale. It runs on every row at Build and
// Rebuild, so its loop is unrolled with independent accumulators.
func residualCodeInt8(dst []uint64, q []int8, scale float32, c []float32) (fac, rc float32) {
	c = c[:len(q)]
	var sq0, sq1, sq2, sq3, ab0, ab1, ab2, ab3, dt0, dt1, dt2, dt3 float32
	const mag = 1<<31 - 1
	for w := range dst {
		lo := w * 64
		hi := min(lo+64, len(q))
		qq, cc := q[lo:hi], c[lo:hi]
		var word uint64
		j := 0
		for ; j+4 <= len(qq); j += 4 {
			q4, c4 := qq[j:j+4:j+4], cc[j:j+4:j+4]
			d0 := c4[0] - float32(q4[0])*scale
			d1 := c4[1] - float32(q4[1])*scale
			d2 := c4[2] - float32(q4[2])*scale
			d3 := c4[3] - float32(q4[3])*scale
			b0, b1, b2, b3 := math.Float32bits(d0), math.Float32bits(d1), math.Float32bits(d2), math.Float32bits(d3)
			word |= (uint64(b0>>31) | uint64(b1>>31)<<1 | uint64(b2>>31)<<2 | uint64(b3>>31)<<3) << uint(j)
			sq0 += d0 * d0
			sq1 += d1 * d1
			sq2 += d2 * d2
			sq3 += d3 * d3
			ab0 += math.Float32frombits(b0 & mag)
			ab1 += math.Float32frombits(b1 & mag)
			ab2 += math.Float32frombits(b2 & mag)
			ab3 += math.Float32frombits(b3 & mag)
			dt0 -= d0 * c4[0]
			dt1 -= d1 * c4[1]
			dt2 -= d2 * c4[2]
			dt3 -= d3 * c4[3]
		}
		for ; j < len(qq); j++ {
			d := cc[j] - float32(qq[j])*scale
			b := math.Float32bits(d)
			word |= uint64(b>>31) << uint(j)
			sq0 += d * d
			ab0 += math.Float32frombits(b & mag)
			dt0 -= d * cc[j]
		}
		dst[w] = word
	}
	sq, abs, dot := (sq0+sq1)+(sq2+sq3), (ab0+ab1)+(ab2+ab3), (dt0+dt1)+(dt2+dt3)
	if abs == 0 {
		return 0, dot
	}
	return sq / abs, dot
}

// planeBits is the number of bits of the query in the asymmetric
// estimate.
const planeBits = 4

// queryPlanes quantises u = q − c to planeBits unsigned bits per element,
// u[i] ≈ lo + delta·n[i] with n[i] in [0, 2^planeBits), and writes the
// bit planes of n to planes (planeBits × nw words: plane j holds bit j of
// every n[i]). It returns lo, delta and Σu[i].
func queryPlanes(planes []uint64, q, c []float32) (lo, delta, sum float32) {
	c = c[:len(q)]
	clear(planes)
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for i, f := range q {
		u := f - c[i]
		lo, hi = min(lo, u), max(hi, u)
		sum += u
	}
	const levels = 1<<planeBits - 1
	delta = (hi - lo) / levels
	if !(delta > 0) {
		return lo, 0, sum
	}
	inv := 1 / delta
	nw := len(planes) / planeBits
	for i, f := range q {
		n := uint64(max(0, min(levels, int32((f-c[i]-lo)*inv+0.5))))
		w, bit := i>>6, uint(i)&63
		for j := range planeBits {
			planes[j*nw+w] |= (n >> uint(j) & 1) << bit
		}
	}
	return lo, delta, sum
}

// asymCounts returns, for a row's 1-bit code c and the query's bit planes,
// the number of set bits of c and Σ n[i] over the set bits i of c, where
// n[i] are the query's quantised elements. With the row's code taken as
// signs s[i] = ±1, Σ s[i]·u[i] ≈ 2·(lo·pc + delta·sn) − Σu, and
// fac·Σ s[i]·u[i] + rc estimates ⟨r, u⟩ + ⟨r, c⟩ = ⟨v − c, q⟩ (the RaBitQ
// estimator without its random rotation): ranking rows by it ranks them
// by ⟨v, q⟩.
func asymCounts(c, planes []uint64) (pc, sn int) {
	nw := len(c)
	p0 := planes[0*nw : 1*nw : 1*nw]
	p1 := planes[1*nw : 2*nw : 2*nw]
	p2 := planes[2*nw : 3*nw : 3*nw]
	p3 := planes[3*nw : 4*nw : 4*nw]
	var s0, s1, s2, s3 int
	for w, x := range c {
		pc += bits.OnesCount64(x)
		s0 += bits.OnesCount64(x & p0[w])
		s1 += bits.OnesCount64(x & p1[w])
		s2 += bits.OnesCount64(x & p2[w])
		s3 += bits.OnesCount64(x & p3[w])
	}
	return pc, s0 + 2*s1 + 4*s2 + 8*s3
}

// quantizeInt8 writes to dst the symmetric int8 code of v/‖v‖ and returns
// its scale, so that v[i]/‖v‖ ≈ float32(dst[i])*scale: the element of
// largest magnitude maps to ±127 and the others are rounded to the nearest
// step (ties to even). v must be finite and not all zeros (see
// [Check]); if not, it returns a scale of 0 (a cheap test: the
// largest magnitude is NaN, infinite or zero). len(dst) >= len(v). It also
// returns 1/‖v‖. It is branch-free in its loops.
func quantizeInt8(dst []int8, v []float32) (scale, invNorm float32) {
	dst = dst[:len(v)]
	const sign = 1 << 31
	var s0, s1, s2, s3 float32
	var m0, m1 uint32 // |v[i]| as bits: non-negative floats order like their bits
	i := 0
	for ; i+4 <= len(v); i += 4 {
		vv := v[i : i+4 : i+4]
		s0 += vv[0] * vv[0]
		s1 += vv[1] * vv[1]
		s2 += vv[2] * vv[2]
		s3 += vv[3] * vv[3]
		m0 = max(m0, math.Float32bits(vv[0])&^sign, math.Float32bits(vv[2])&^sign)
		m1 = max(m1, math.Float32bits(vv[1])&^sign, math.Float32bits(vv[3])&^sign)
	}
	for ; i < len(v); i++ {
		s0 += v[i] * v[i]
		m0 = max(m0, math.Float32bits(v[i])&^sign)
	}
	mb := max(m0, m1)
	if mb == 0 || mb >= 0x7f800000 { // all zeros, or NaN or ±Inf somewhere
		clear(dst)
		return 0, 0
	}
	m := math.Float32frombits(mb)
	ss := float64(s0+s1) + float64(s2+s3)
	if ss == 0 || math.IsInf(ss, 0) {
		// Overflow of float32 squares (elements above 1.8e19): the
		// float64 sum is exact enough.
		ss = 0
		for _, f := range v {
			ss += float64(f) * float64(f)
		}
	}
	if m == 0 || ss == 0 {
		clear(dst)
		return 0, 0
	}
	inv := 127 / m
	// Round to nearest by adding 1.5·2^23: the sum's low mantissa bits are
	// then the rounded value plus 2^22. |f·inv| <= 127 (up to rounding),
	// far inside the trick's range, and the result fits an int8.
	const magic = 1.5 * (1 << 23)
	for i, f := range v {
		dst[i] = int8(int32(math.Float32bits(f*inv+magic)&(1<<23-1)) - 1<<22)
	}
	norm := math.Sqrt(ss)
	return float32(float64(m) / 127 / norm), float32(1 / norm)
}

// finiteNonZero reports whether v holds no NaN or ±Inf and is not all
// zeros: the conditions of [Check] apart from the length, checked
// without branches (NaN and ±Inf are the floats whose exponent bits are
// all ones).
func finiteNonZero(v []float32) bool {
	const expMask = 0x7f800000
	var bad, nonZero uint32
	for _, f := range v {
		b := math.Float32bits(f)
		bad |= ((b&expMask ^ expMask) - 1) >> 31
		nonZero |= b &^ (1 << 31)
	}
	return bad == 0 && nonZero != 0
}

// dotInt8x4Go returns the dot products of q with four int8 codes of its
// length. Interleaving four rows keeps four streams of memory loads in
// flight: the rows a search re-ranks are scattered, and one row at a time
// would wait on memory for each. It is the portable kernel behind
// dotInt8x4, and the reference the amd64 assembly kernel is tested
// against.
func dotInt8x4Go(q, a, b, c, d []int8) (s0, s1, s2, s3 int32) {
	n := len(q)
	a, b, c, d = a[:n], b[:n], c[:n], d[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		qq := q[i : i+4 : i+4]
		aa, bb, cc, dd := a[i:i+4:i+4], b[i:i+4:i+4], c[i:i+4:i+4], d[i:i+4:i+4]
		q0, q1, q2, q3 := int32(qq[0]), int32(qq[1]), int32(qq[2]), int32(qq[3])
		s0 += q0*int32(aa[0]) + q1*int32(aa[1]) + q2*int32(aa[2]) + q3*int32(aa[3])
		s1 += q0*int32(bb[0]) + q1*int32(bb[1]) + q2*int32(bb[2]) + q3*int32(bb[3])
		s2 += q0*int32(cc[0]) + q1*int32(cc[1]) + q2*int32(cc[2]) + q3*int32(cc[3])
		s3 += q0*int32(dd[0]) + q1*int32(dd[1]) + q2*int32(dd[2]) + q3*int32(dd[3])
	}
	for ; i < n; i++ {
		qi := int32(q[i])
		s0 += qi * int32(a[i])
		s1 += qi * int32(b[i])
		s2 += qi * int32(c[i])
		s3 += qi * int32(d[i])
	}
	return s0, s1, s2, s3
}

// hammingBelowGo computes the Hamming distance between q and each row of
// codes (rows of len(q) words) and appends to rows and dists, from index
// 0, the row numbers and distances of those below thr. It returns how many
// it wrote; rows and dists hold at least len(codes)/len(q) elements. The
// common widths (384 and 768 dimensions) have straight-line kernels.
//
// Each row is written unconditionally and the count advances only for
// rows below thr, so the loop has no data-dependent branch: elements of
// rows and dists past the count are scratch.
//
// It is the portable kernel behind hammingBelow, and the reference the
// amd64 assembly kernel is tested against: the two return the same count
// and the same rows and distances below it.
func hammingBelowGo(rows, dists []uint32, codes, q []uint64, thr uint32) int {
	nw := len(q)
	nrows := len(codes) / nw
	rows, dists = rows[:nrows], dists[:nrows]
	n := 0
	switch nw {
	case 6:
		q0, q1, q2, q3, q4, q5 := q[0], q[1], q[2], q[3], q[4], q[5]
		for r := range nrows {
			c := codes[r*6 : r*6+6 : r*6+6]
			d := uint32(bits.OnesCount64(c[0]^q0) + bits.OnesCount64(c[1]^q1) +
				bits.OnesCount64(c[2]^q2) + bits.OnesCount64(c[3]^q3) +
				bits.OnesCount64(c[4]^q4) + bits.OnesCount64(c[5]^q5))
			rows[n], dists[n] = uint32(r), d
			if d < thr {
				n++
			}
		}
	case 12:
		qq := q[:12:12]
		for r := range nrows {
			c := codes[r*12 : r*12+12 : r*12+12]
			a := bits.OnesCount64(c[0]^qq[0]) + bits.OnesCount64(c[1]^qq[1]) +
				bits.OnesCount64(c[2]^qq[2]) + bits.OnesCount64(c[3]^qq[3])
			b := bits.OnesCount64(c[4]^qq[4]) + bits.OnesCount64(c[5]^qq[5]) +
				bits.OnesCount64(c[6]^qq[6]) + bits.OnesCount64(c[7]^qq[7])
			e := bits.OnesCount64(c[8]^qq[8]) + bits.OnesCount64(c[9]^qq[9]) +
				bits.OnesCount64(c[10]^qq[10]) + bits.OnesCount64(c[11]^qq[11])
			d := uint32(a + b + e)
			rows[n], dists[n] = uint32(r), d
			if d < thr {
				n++
			}
		}
	default:
		for r := range nrows {
			c := codes[r*nw : r*nw+nw : r*nw+nw]
			var a, b int
			w := 0
			for ; w+2 <= nw; w += 2 {
				a += bits.OnesCount64(c[w] ^ q[w])
				b += bits.OnesCount64(c[w+1] ^ q[w+1])
			}
			if w < nw {
				a += bits.OnesCount64(c[w] ^ q[w])
			}
			d := uint32(a + b)
			rows[n], dists[n] = uint32(r), d
			if d < thr {
				n++
			}
		}
	}
	return n
}

// orderedBits maps a float32 to a uint32 with the same order: a < b (as
// floats, not NaN) if and only if orderedBits(a) < orderedBits(b).
func orderedBits(f float32) uint32 {
	b := math.Float32bits(f)
	if b&(1<<31) != 0 {
		return ^b
	}
	return b | 1<<31
}

// scoreKey packs a similarity and a slot into a key that sorts by
// descending score, then ascending slot.
func scoreKey(score float32, slot int32) uint64 {
	return uint64(^orderedBits(score))<<32 | uint64(uint32(slot))
}

// keyScore returns the score packed by scoreKey.
func keyScore(k uint64) float32 {
	b := ^uint32(k >> 32)
	if b&(1<<31) != 0 {
		return math.Float32frombits(b &^ (1 << 31))
	}
	return math.Float32frombits(^b)
}

// keySlot returns the slot packed in a key of scoreKey or a Hamming key
// (distance<<32 | slot).
func keySlot(k uint64) int32 { return int32(uint32(k)) }

// topN keeps the n smallest uint64 keys pushed into it: a max-heap whose
// root is the worst key kept. The zero value with n set is ready to use.
type topN struct {
	n    int
	keys []uint64
}

// worst returns the largest key kept when full, and the maximum uint64
// otherwise: a key enters if and only if it is smaller. (With n = 0 it is
// 0 and nothing enters.)
func (h *topN) worst() uint64 {
	switch {
	case len(h.keys) < h.n:
		return math.MaxUint64
	case h.n == 0:
		return 0
	}
	return h.keys[0]
}

// push offers k. The caller may skip keys >= worst() without changing the
// outcome.
func (h *topN) push(k uint64) {
	if len(h.keys) < h.n {
		h.keys = append(h.keys, k)
		// sift up
		i := len(h.keys) - 1
		for i > 0 {
			p := (i - 1) / 2
			if h.keys[p] >= k {
				break
			}
			h.keys[i] = h.keys[p]
			i = p
		}
		h.keys[i] = k
		return
	}
	if h.n == 0 || k >= h.keys[0] {
		return
	}
	// replace the root and sift down
	keys := h.keys
	n := len(keys)
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && keys[r] > keys[l] {
			c = r
		}
		if keys[c] <= k {
			break
		}
		keys[i] = keys[c]
		i = c
	}
	keys[i] = k
}

// int8Exact reports whether the int8 code q of v (from quantizeInt8) is v
// itself up to scale and float32 rounding: every element of v lies within
// 1/1024 of a quantisation step of q[i]·max|v|/127. That holds for a vector
// decoded from an int8 code (a store of record that keeps int8 codes, see
// IndexOptions), and for practically no other vector. Search rescores such
// rows from their codes, in memory: their cosine is the stored vector's.
func int8Exact(q []int8, v []float32) bool {
	q = q[:len(v)]
	var m float32
	for _, f := range v {
		m = max(m, abs32(f))
	}
	if !(m > 0) {
		return false
	}
	inv := 127 / m
	var worst float32
	for i, f := range v {
		worst = max(worst, abs32(f*inv-float32(q[i])))
	}
	return worst <= 1.0/1024
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

// Int8Code returns the int8 code of v that [Index] keeps of a row:
// q[i] = v[i]·127/max|v| rounded to the nearest integer (ties to even),
// and scale = max|v|/127, so that q[i]·scale is v[i] to within half a
// step (scale/2). A vector decoded from it (q[i]·scale) has the same code
// again and is rescored by Search from the code, in memory. It returns an
// error matching [ErrInvalid] if v has a NaN or ±Inf or is all zeros.
func Int8Code(v []float32) (q []int8, scale float32, err error) {
	q = make([]int8, len(v))
	if s, _ := quantizeInt8(q, v); s == 0 {
		return nil, 0, ErrInvalid
	}
	var m float32
	for _, f := range v {
		m = max(m, abs32(f))
	}
	return q, m / 127, nil
}
