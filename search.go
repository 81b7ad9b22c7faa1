package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// indexStore is the storage the in-process vector index is built over: the
// change feed and the reads of a search of the index.
type indexStore interface {
	index.Store
	OpenVectorFeed(ctx context.Context) (index.Feed, error)
}

// The wiring of retrieval: searches are package search's Engine over the
// store, and its vector candidates come from package search/index's Index
// over the store's change feed once Open has built it (memoryrelay.go).

// openIndex builds the in-process vector index over st's change feed,
// from its snapshot where the store keeps one.
func openIndex(ctx context.Context, st indexStore, dim int) (*index.Index, error) {
	feed, err := st.OpenVectorFeed(ctx)
	if err != nil {
		return nil, err
	}
	opts := index.Options{Vector: vector.IndexOptions{Dim: dim}}
	if sp, ok := st.(interface{ IndexSnapshotPath() string }); ok {
		// The SQLite store keeps a snapshot of the index beside the
		// database, which Open loads and Close writes (index.Options).
		opts.SnapshotPath = sp.IndexSnapshotPath()
	}
	return index.OpenWith(ctx, feed, st, opts)
}
