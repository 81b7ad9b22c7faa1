package index

// SetRebuildHook makes v's rebuilds call f after they have read their
// first row, with nothing locked. Set it while nothing rebuilds.
func SetRebuildHook(v *Index, f func()) { v.rebuildHook = f }
