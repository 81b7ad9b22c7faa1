//go:build !purego

package vector

import "golang.org/x/sys/cpu"

// maxAVX2Words bounds the row width of the AVX2 kernel: it adds per-byte
// popcounts (at most 8 per 32-byte step) in 8-bit lanes before summing
// them, which stays below 256 for up to 31 steps, about 116 words; 64
// words (dimension 4096) leaves a margin. Wider rows take the Go kernel.
const maxAVX2Words = 64

// hammingBelow is hammingBelowGo, computed by hammingBelowAVX2 when the
// CPU and the OS support AVX2 (cpu.X86.HasAVX2 checks both) and the row
// width is within maxAVX2Words.
func hammingBelow(rows, dists []uint32, codes, q []uint64, thr uint32) int {
	nw := len(q)
	if nw == 0 || nw > maxAVX2Words || !cpu.X86.HasAVX2 {
		return hammingBelowGo(rows, dists, codes, q, thr)
	}
	nrows := len(codes) / nw
	if nrows == 0 {
		return 0
	}
	// The slice expressions check what the assembly relies on: rows and
	// dists hold nrows elements.
	rows, dists = rows[:nrows], dists[:nrows]
	return hammingBelowAVX2(&rows[0], &dists[0], &codes[0], &q[0], nrows, nw, thr)
}

// hammingBelowAVX2 is hammingBelowGo on nrows ≥ 1 rows of nw words
// (1 ≤ nw ≤ maxAVX2Words), in quant_amd64.s. Rows go by groups of four:
// each row's XOR with q is popcounted a byte at a time (a nibble lookup
// with VPSHUFB), summed per 64-bit lane with VPSADBW, and packed into a
// 16-bit field of the lanes, so a group needs one horizontal sum, not four.
// The group's distances are then emitted in order, like hammingBelowGo's:
// rows[n], dists[n] written for every row, n advanced when below thr.
// At nw = 6 (dimension 384) a loop over four rows at a time comes first,
// which sums them with half the instructions and skips the writes of a
// group none of whose rows is below thr.
//
//go:noescape
func hammingBelowAVX2(rows, dists *uint32, codes, q *uint64, nrows, nw int, thr uint32) (n int)

// dotInt8x4 is dotInt8x4Go, computed by dotInt8x4AVX2 when the CPU and
// the OS support AVX2, on the leading multiple of 16 elements; the rest
// (none at the usual dimensions) by the Go kernel.
func dotInt8x4(q, a, b, c, d []int8) (s0, s1, s2, s3 int32) {
	n := len(q)
	m := n &^ 15
	if m == 0 || !cpu.X86.HasAVX2 {
		return dotInt8x4Go(q, a, b, c, d)
	}
	// The slice expressions check what the assembly relies on: each code
	// holds n elements.
	a, b, c, d = a[:n], b[:n], c[:n], d[:n]
	var out [4]int32
	dotInt8x4AVX2(&q[0], &a[0], &b[0], &c[0], &d[0], m, &out)
	if m < n {
		t0, t1, t2, t3 := dotInt8x4Go(q[m:], a[m:], b[m:], c[m:], d[m:])
		out[0], out[1], out[2], out[3] = out[0]+t0, out[1]+t1, out[2]+t2, out[3]+t3
	}
	return out[0], out[1], out[2], out[3]
}

// dotInt8x4AVX2 sets out to the dot products of the n elements of q with
// those of a, b, c and d (n a positive multiple of 16), in quant_amd64.s:
// 16 elements at a time are sign-extended to int16 (VPMOVSXBW), multiplied
// and summed in pairs into int32 lanes (VPMADDWD), and accumulated
// (VPADDD); a product is at most 127², a pair's sum below 2^15, so no lane
// overflows below 2^31/(2·127²)·16 elements. One horizontal sum per row
// at the end.
//
//go:noescape
func dotInt8x4AVX2(q, a, b, c, d *int8, n int, out *[4]int32)
