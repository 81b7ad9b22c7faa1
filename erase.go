package memoryrelay

import (
	"context"
	"fmt"
	"strings"
)

// deleteUserMemories removes every memory of the account whose user_id is
// userID, with their full-text rows, vectors, entity links and v2 jobs, and
// returns how many were removed. Call Compact afterwards to also remove the
// content from the database file.
func (r *Relay) deleteUserMemories(ctx context.Context, accountID, userID string) (int, error) {
	if strings.TrimSpace(userID) == "" {
		return 0, invalid("userID", "userID is required")
	}
	n, err := r.store.DeleteUserMemories(ctx, accountID, userID)
	if err != nil {
		return 0, fmt.Errorf("memoryrelay: delete user memories: %w", err)
	}
	return n, nil
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
