package vector

// hammingBelow dispatches to an assembly kernel on amd64; these tests hold
// it to hammingBelowGo, element for element, on widths, row counts and
// thresholds that reach every path of both (the four-, two- and one-word
// steps of a row, groups of four rows and the tails of one to three).

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkHammingBelow runs hammingBelow and hammingBelowGo on the same input
// and compares the counts and the rows and distances they return. The
// slots past the count are scratch (the Go kernel writes every row's slot
// before deciding to keep it, the assembly skips groups of rows above
// thr), but neither may write past the rows' number.
func checkHammingBelow(t *testing.T, codes, q []uint64, thr uint32) {
	t.Helper()
	nrows := len(codes) / len(q)
	// A sentinel fill shows writes past the rows.
	fill := func() ([]uint32, []uint32) {
		rows, dists := make([]uint32, nrows+1), make([]uint32, nrows+1)
		for i := range rows {
			rows[i], dists[i] = 0xdeadbeef, 0xfeedface
		}
		return rows, dists
	}
	rows, dists := fill()
	wantRows, wantDists := fill()
	n := hammingBelow(rows, dists, codes, q, thr)
	want := hammingBelowGo(wantRows, wantDists, codes, q, thr)
	if rows[nrows] != 0xdeadbeef || dists[nrows] != 0xfeedface || wantRows[nrows] != 0xdeadbeef || wantDists[nrows] != 0xfeedface {
		t.Fatalf("nw=%d nrows=%d thr=%d: written past the rows", len(q), nrows, thr)
	}
	if n != want || !slices.Equal(rows[:n], wantRows[:want]) || !slices.Equal(dists[:n], wantDists[:want]) {
		t.Fatalf("nw=%d nrows=%d thr=%d: n=%d rows %v dists %v; want n=%d rows %v dists %v",
			len(q), nrows, thr, n, rows, dists, want, wantRows, wantDists)
	}
}

func TestHammingBelowMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	rowCounts := make([]int, 0, 80)
	for n := range 71 {
		rowCounts = append(rowCounts, n)
	}
	rowCounts = append(rowCounts, 4096, 4099)
	fills := []struct {
		name string
		word func() uint64
	}{
		{"random", r.Uint64},
		{"zeros", func() uint64 { return 0 }},
		{"ones", func() uint64 { return ^uint64(0) }},
		// Mostly equal to q's pattern with sparse flips: distances near 0,
		// where the thresholds matter.
		{"sparse", func() uint64 { return 1 << r.IntN(64) }},
	}
	for nw := 1; nw <= 16; nw++ {
		maxDist := uint32(64 * nw)
		for _, nrows := range rowCounts {
			for _, f := range fills {
				codes := make([]uint64, nrows*nw)
				for i := range codes {
					codes[i] = f.word()
				}
				for _, qf := range []func() uint64{r.Uint64, func() uint64 { return 0 }, func() uint64 { return ^uint64(0) }} {
					q := make([]uint64, nw)
					for i := range q {
						q[i] = qf()
					}
					for _, thr := range []uint32{0, 1, maxDist / 2, uint32(r.IntN(int(maxDist) + 2)), maxDist, maxDist + 1, ^uint32(0)} {
						checkHammingBelow(t, codes, q, thr)
					}
				}
			}
		}
	}
	// Widths about the assembly's limit (maxAVX2Words, 64) and past it,
	// where the Go kernel takes over.
	for _, nw := range []int{63, 64, 65, 100} {
		codes := make([]uint64, 9*nw)
		for i := range codes {
			codes[i] = r.Uint64()
		}
		q := codes[:nw]
		for _, thr := range []uint32{0, uint32(32 * nw), uint32(64*nw + 1)} {
			checkHammingBelow(t, codes, q, thr)
		}
	}
	// All ones against all zeros: the largest distance, 64·nw, in every
	// 16-bit field of the packed sums.
	for _, nw := range []int{1, 6, 12, 64} {
		codes := make([]uint64, 7*nw)
		for i := range codes {
			codes[i] = ^uint64(0)
		}
		q := make([]uint64, nw)
		checkHammingBelow(t, codes, q, uint32(64*nw+1))
	}
}

// TestHammingBelowChunkBuffer checks the call as searchCodes makes it: a
// chunk that ends before the codes' backing array does and rows and dists
// longer than the chunk.
func TestHammingBelowChunkBuffer(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	const nw = 6
	all := make([]uint64, 100*nw)
	for i := range all {
		all[i] = r.Uint64()
	}
	q := all[:nw]
	for _, span := range [][2]int{{0, 0}, {3, 4}, {5, 38}, {17, 100}} {
		codes := all[span[0]*nw : span[1]*nw]
		rows, dists := make([]uint32, 100), make([]uint32, 100)
		wantRows, wantDists := make([]uint32, 100), make([]uint32, 100)
		n := hammingBelow(rows, dists, codes, q, 190)
		want := hammingBelowGo(wantRows, wantDists, codes, q, 190)
		if n != want || !slices.Equal(rows, wantRows) || !slices.Equal(dists, wantDists) {
			t.Fatalf("rows %d..%d: n=%d, want %d; rows %v, want %v", span[0], span[1], n, want, rows[:n], wantRows[:want])
		}
	}
}

// FuzzHammingBelow compares the dispatched kernel with hammingBelowGo on
// arbitrary codes: the first byte picks the width (1 to 16 words), the
// next four the threshold, the rest are the query and the rows.
func FuzzHammingBelow(f *testing.F) {
	f.Add([]byte{6, 0, 1, 0, 0}, uint32(0))
	f.Add(slices.Repeat([]byte{0xff}, 8*6*9), uint32(150))
	f.Add(slices.Repeat([]byte{0x5a, 0x00}, 8*12*5), uint32(385))
	f.Fuzz(func(t *testing.T, data []byte, thr uint32) {
		if len(data) == 0 {
			return
		}
		nw := int(data[0])%16 + 1
		data = data[1:]
		words := make([]uint64, len(data)/8)
		for i := range words {
			words[i] = binary.LittleEndian.Uint64(data[8*i:])
		}
		if len(words) < nw {
			return
		}
		q := words[:nw]
		codes := words[nw:]
		codes = codes[:len(codes)/nw*nw]
		checkHammingBelow(t, codes, q, thr)
		checkHammingBelow(t, codes, q, thr%uint32(64*nw+2))
	})
}
