//go:build !amd64 || purego

package vector

// hammingBelow is hammingBelowGo where there is no assembly kernel (other
// architectures, or the purego build tag).
func hammingBelow(rows, dists []uint32, codes, q []uint64, thr uint32) int {
	return hammingBelowGo(rows, dists, codes, q, thr)
}
