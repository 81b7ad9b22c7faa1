package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/progress"
)

const backupAbout = `
Write a consistent copy of the database to PATH while it stays in use: the
copy holds every write committed before the backup began, and none after (it
is written from one read snapshot with VACUUM INTO, compacted). A server may
keep serving meanwhile. PATH must not exist. The copy is then checked whole
(PRAGMA quick_check) unless -verify=false.

To restore, stop the server, set the damaged file and its -wal and -shm files
aside, copy the backup in their place, check it, and start again:

  mv memoryrelay.db memoryrelay.db.damaged
  mv memoryrelay.db-wal memoryrelay.db-wal.damaged 2>/dev/null
  rm -f memoryrelay.db-shm
  cp backup.db memoryrelay.db
  memoryrelay doctor -db memoryrelay.db && memoryrelay serve -db memoryrelay.db

Never copy a backup over a database a process still has open, and never keep
an old -wal file beside a restored copy: SQLite would apply it to the copy.`

func backup(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "backup", "backup [flags] PATH", backupAbout)
	db := addDBFlags(fs, sys.getenv)
	verify := fs.Bool("verify", true, "open the copy and check it whole afterwards")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("backup takes one PATH, the copy to write")
	}
	dst := rest[0]
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("%s exists: give a new file (a backup never overwrites)", dst)
	}
	relay, err := db.openAdmin(ctx, false)
	if err != nil {
		return err
	}
	defer relay.Close()
	st, err := relay.Stats(ctx)
	if err != nil {
		return err
	}

	// The copy grows as VACUUM INTO writes it; its size against the
	// source's is the progress (the copy is compacted, so it may end
	// short of the total).
	meter := progress.New(sys.stderr, "backup", st.DatabaseBytes+st.WALBytes, progress.Options{Unit: "bytes"})
	stop, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if fi, err := os.Stat(dst); err == nil {
					meter.Set(fi.Size())
				}
			}
		}
	}()
	began := time.Now()
	err = relay.Backup(ctx, dst)
	close(stop)
	<-watched
	if err != nil {
		os.Remove(dst) // a partial copy is no backup
		return fmt.Errorf("backup: %w", err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return err
	}
	meter.SetTotal(fi.Size())
	meter.Set(fi.Size())
	meter.Done()
	if *verify {
		if err := verifyCopy(ctx, dst, db); err != nil {
			return fmt.Errorf("the copy %s failed its check: %w", dst, err)
		}
	}
	fmt.Fprintf(sys.stdout, "Backed up %s to %s (%s in %s)%s.\n", db.path, dst, progress.Bytes(fi.Size()),
		time.Since(began).Round(time.Millisecond), map[bool]string{true: ", checked whole", false: ""}[*verify])
	return nil
}

// verifyCopy opens the copy as a database of the same embedder, checking
// it whole with quick_check, and closes it.
func verifyCopy(ctx context.Context, path string, db *dbFlags) error {
	opts, err := db.options(false)
	if err != nil {
		return err
	}
	opts.Path, opts.Workers, opts.ExactSearch, opts.QuickCheckBytes = path, -1, true, math.MaxInt64
	r, err := memoryrelay.Open(ctx, opts)
	if err != nil {
		return err
	}
	return r.Close() // which checkpoints and removes the WAL the check made
}
