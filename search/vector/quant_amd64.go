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
//
//go:noescape
func hammingBelowAVX2(rows, dists *uint32, codes, q *uint64, nrows, nw int, thr uint32) (n int)
