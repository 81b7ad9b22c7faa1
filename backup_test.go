package memoryrelay_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{Synchronous: "NORMAL"})
	acct := account(t, r)

	// A writer stores numbered memories until told to stop; acked counts
	// the ones whose CreateMemory returned.
	var acked atomic.Int64
	ids := sync.Map{}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			m, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: fmt.Sprintf("memory number %d about backups", i), AgentID: "w"})
			if err != nil {
				done <- err
				return
			}
			ids.Store(i, m.Memory.ID)
			acked.Store(int64(i + 1))
		}
	}()
	for acked.Load() < 200 {
		// let the writer get going
	}
	before := acked.Load()
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := r.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := acked.Load()

	// The copy opens, passes integrity_check, has every memory acked
	// before the backup began, and its indexes agree with it.
	db := rawDB(t, path)
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check %q %v", ok, err)
	}
	n := count(t, db, "SELECT count(*) FROM memories")
	if int64(n) < before || int64(n) > after {
		t.Fatalf("copy has %d memories; %d were acked before the backup and %d after", n, before, after)
	}
	if v, f := count(t, db, "SELECT count(*) FROM memory_vectors"), count(t, db, "SELECT count(*) FROM memory_fts"); v != n || f != n {
		t.Fatalf("copy: %d memories, %d vectors, %d fts rows", n, v, f)
	}
	copyRelay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer copyRelay.Close()
	for i := 0; i < int(before); i++ {
		id, _ := ids.Load(i)
		if _, err := copyRelay.Account(acct).Memories().Get(ctx, id.(string)); err != nil {
			t.Fatalf("memory %d acked before the backup is missing: %v", i, err)
		}
	}
	hits, err := copyRelay.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "memory number 7 about backups"})
	if err != nil || len(hits) == 0 {
		t.Fatalf("search in the copy: %v %v", hits, err)
	}

	// An existing target is refused and left alone.
	if err := r.Backup(ctx, path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second backup to the same path: %v", err)
	}
}
