package memoryrelay

import (
	"context"
	"errors"
	"io/fs"
	"os"
)

// Stats are figures for monitoring, beyond the checks of [Relay.Health]:
// the size of the search index and how far it is behind the database, and
// the size of the database's files.
type Stats struct {
	// IndexReady is true once the in-process vector index is built (see
	// Relay.WaitSearchIndex); always false with Options.ExactSearch.
	IndexReady bool
	// IndexVectors is the number of vectors in the index; 0 until it is
	// ready.
	IndexVectors int
	// IndexLag is how many committed changes of the database's change feed
	// the index has not applied yet (index.Index.Lag): it catches up
	// before each search, so between searches this counts the writes
	// since the last one. 0 until the index is ready.
	IndexLag int64
	// IndexFromSnapshot is true when the index was loaded from its
	// snapshot beside the database (the file's path with "-index") and
	// caught up with the changes since, rather than built from every row;
	// IndexSnapshotBytes is the size of that file (0 when there is none).
	IndexFromSnapshot  bool
	IndexSnapshotBytes int64
	// DatabaseBytes is the size of the database file, WALBytes that of
	// its write-ahead log (0 when there is none).
	DatabaseBytes, WALBytes int64
}

// Stats reads the figures of [Stats]. It is cheap (two file-system calls
// and a read of the change feed's bounds), but waits for a catch-up of the
// index in progress while ctx allows. After Close it returns ErrClosed.
func (r *Relay) Stats(ctx context.Context) (Stats, error) {
	if r.closed.Load() {
		return Stats{}, ErrClosed
	}
	var st Stats
	if vi := r.vindex.Load(); vi != nil {
		st.IndexReady = true
		st.IndexVectors = vi.Len()
		lag, err := vi.Lag(ctx)
		if err != nil {
			return Stats{}, r.classify(err)
		}
		st.IndexLag = lag
		st.IndexFromSnapshot = vi.Snapshot().Loaded
	}
	if fi, err := os.Stat(r.opts.Path + "-index"); err == nil {
		st.IndexSnapshotBytes = fi.Size()
	}
	fi, err := os.Stat(r.opts.Path)
	if err != nil {
		return Stats{}, err
	}
	st.DatabaseBytes = fi.Size()
	switch fi, err := os.Stat(r.opts.Path + "-wal"); {
	case err == nil:
		st.WALBytes = fi.Size()
	case !errors.Is(err, fs.ErrNotExist):
		return Stats{}, err
	}
	return st, nil
}
