package index

import (
	"context"

	"github.com/memoryrelay/memoryrelay/search"
)

// What an Index needs of the storage, defined here, by their consumer,
// and implemented by the storage package: the change feed it follows, and
// the reads of a search. Memories are named by their row ids, as in
// package search.

// Feed is a store's change feed of the stored vectors, texts and the
// attributes that searches filter on. Each committed change to a memory's
// vector, content, account, visibility, archival or filtered attributes,
// and its deletion, appends one change to the feed, in commit order,
// naming the memory. Only the Index that opened a Feed uses it, one call at a time.
type Feed interface {
	// Version returns a number that changes whenever a write has been
	// committed to the store, by any connection or process, since the
	// previous call, and not otherwise (SQLite's PRAGMA data_version on
	// a connection of the feed's own).
	Version(ctx context.Context) (int64, error)

	// Bounds returns the position of the oldest change still in the feed
	// (0 when it holds none) and the highest position ever assigned,
	// whether or not that change was pruned since. Positions are
	// positive, increase, and are never reused.
	Bounds(ctx context.Context) (oldest, newest int64, err error)

	// Changes returns the changes after position after, in order, at
	// most limit of them.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)

	// Rows calls fn with the stored row of each memory of ids that has a
	// vector, in any order. fn's error ends the reading and is returned.
	Rows(ctx context.Context, ids []int64, fn func(*Row) error) error

	// Scan calls fn with the row of every memory that has a vector. It
	// is long by nature (every vector of the store) and must not be cut
	// short by anything but ctx. fn's error ends it and is returned.
	Scan(ctx context.Context, fn func(*Row) error) error

	// Prune drops the changes at positions up to through, for every
	// reader of the store. It may fail (a busy writer): the index prunes
	// again later.
	Prune(ctx context.Context, through int64) error

	// Close releases what the feed holds (its connection). The Index
	// closes its feed.
	Close() error
}

// Change is one entry of a [Feed]: the memory whose stored row changed.
type Change struct {
	Pos int64 // the change's position in the feed
	ID  int64 // the memory's row id
}

// Row is what an Index keeps of a memory: its vector, its text, its
// partition and its filterable attributes. A Row passed to a callback, and
// the slices it points to, are valid only during the call.
type Row struct {
	ID      int64
	Account []byte    // the memory's account id
	Hidden  bool      // confidential or archived: skipped by default
	Vector  []float32 // nil when the stored vector cannot be decoded
	// Text is the memory's content, which the lexical index splits into
	// terms (lexical.Terms, as the store's full-text table does).
	Text  string
	Attrs Attrs
}

// Attrs are the filterable attributes of a memory; a nil string is NULL.
// Agent is the agent as the storage keys it (see [Store.AgentKey]).
type Attrs struct {
	Agent, User, Session, Project, Tier, Scope *string
	Importance                                 float64
}

// Store is what a search of an Index reads from the storage, besides the
// index itself.
type Store interface {
	// Vectors returns the stored vectors of the memories ids names: one
	// that has none (deleted) is absent, one that cannot be decoded maps
	// to nil. It is [search.Vectors]'s method.
	Vectors(ctx context.Context, ids []int64) (map[int64][]float32, error)

	// FilterVectors is Vectors for only those of ids that f selects now.
	FilterVectors(ctx context.Context, f search.Filter, ids []int64) (map[int64][]float32, error)

	// FilterIDs returns the row ids of the memories that f selects, for
	// filters the index cannot apply from its attributes (metadata,
	// namespace, hidden memories).
	FilterIDs(ctx context.Context, f search.Filter) (map[int64]bool, error)

	// AgentKey returns the Agent attribute ([Attrs]) of the memories of
	// the account's agent that ref names (its id or name), and false if
	// the account has no such agent.
	AgentKey(ctx context.Context, accountID, ref string) (key string, ok bool, err error)
}
