package sqlitedb

import (
	"fmt"
	"path/filepath"
	"syscall"
)

// WriteProblems lists what would make writes to the database at path fail
// soon: a read-only file, folder (for the WAL and journal files) or file
// system, or less than minFree bytes free. It returns nil when none.
func WriteProblems(path string, minFree uint64) []string {
	var out []string
	dir := filepath.Dir(path)
	const wOK = 2 // access(2) W_OK
	for _, p := range []string{path, dir} {
		if err := syscall.Access(p, wOK); err != nil {
			out = append(out, fmt.Sprintf("%s is not writable: %v", p, err))
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err == nil {
		if free := st.Bavail * uint64(st.Bsize); free < minFree {
			out = append(out, fmt.Sprintf("only %d bytes free where the database lives", free))
		}
	}
	return out
}
