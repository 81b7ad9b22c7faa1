package memoryrelay

import (
	"context"
	"fmt"
)

// compactStore is the storage's side of Compact.
type compactStore interface {
	Compact(ctx context.Context) error
}

// Compact makes deletions final on disk: it merges the full-text index,
// vacuums the file and truncates the WAL, so that a scan of the raw
// database file finds none of the deleted content. Writes wait while it
// runs (seconds on a large database); run it after erasure requests, not
// on every delete.
func (r *Relay) Compact(ctx context.Context) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if err := r.store.Compact(ctx); err != nil {
		return fmt.Errorf("memoryrelay: compact: %w", err)
	}
	return nil
}
