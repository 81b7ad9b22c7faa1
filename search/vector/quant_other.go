//go:build !amd64 || purego

package vector

// hammingBelow is hammingBelowGo where there is no assembly kernel (other
// architectures, or the purego build tag).
func hammingBelow(rows, dists []uint32, codes, q []uint64, thr uint32) int {
	return hammingBelowGo(rows, dists, codes, q, thr)
}

// dotInt8x4 is dotInt8x4Go where there is no assembly kernel.
func dotInt8x4(q, a, b, c, d []int8) (s0, s1, s2, s3 int32) {
	return dotInt8x4Go(q, a, b, c, d)
}
