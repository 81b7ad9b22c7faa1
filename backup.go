package memoryrelay

import (
	"context"
	"errors"
	"fmt"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"io/fs"
	"os"
)

// backupStore is the storage's side of Backup.
type backupStore interface {
	Backup(ctx context.Context, path string) error
}

// Backup writes a consistent, compacted copy of the database to path while
// the Relay keeps serving reads and writes. The copy holds everything
// committed before Backup began and nothing after; restore by opening it
// (Open with Path set to the copy). path must not exist.
//
// For continuous replication run the database under Litestream instead:
// it follows the WAL; see the README's section on backups.
func (r *Relay) Backup(ctx context.Context, path string) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if path == "" {
		return valid.Invalid("path", "backup path is required")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("memoryrelay: backup: %s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("memoryrelay: backup: %w", err)
	}
	if err := r.store.Backup(ctx, path); err != nil {
		os.Remove(path) // never leave a partial copy behind
		return fmt.Errorf("memoryrelay: backup: %w", err)
	}
	return nil
}
