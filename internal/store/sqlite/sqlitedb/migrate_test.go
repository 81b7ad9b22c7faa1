package sqlitedb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

func userVersion(t *testing.T, db *DB) int {
	t.Helper()
	var v int
	if err := db.R.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

var steps = []string{
	"CREATE TABLE log (step INTEGER NOT NULL); INSERT INTO log VALUES (1)",
	"INSERT INTO log VALUES (2)",
	"ALTER TABLE log ADD COLUMN note TEXT; INSERT INTO log VALUES (3, 'three')",
}

// logged returns the steps recorded in table log.
func logged(t *testing.T, db *DB) string {
	t.Helper()
	rows, err := db.R.Query("SELECT step FROM log ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		b.WriteByte(byte('0' + n))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestMigrateStepByStep: each Open runs the migrations the file has not
// had, once each, and sets user_version to their number; opening with
// fewer migrations than the file has had is refused.
func TestMigrateStepByStep(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	for n := 0; n <= len(steps); n++ {
		for range 2 { // the second Open has nothing to do
			db, err := Open(ctx, Options{Path: path}, steps[:n])
			if err != nil {
				t.Fatalf("%d migrations: %v", n, err)
			}
			if v := userVersion(t, db); v != n {
				t.Fatalf("user_version %d after %d migrations", v, n)
			}
			if n > 0 {
				if got, want := logged(t, db), "123"[:n]; got != want {
					t.Fatalf("steps run %q, want %q", got, want)
				}
			}
			db.Close()
		}
	}
	_, err := Open(ctx, Options{Path: path}, steps[:1])
	if err == nil || !strings.Contains(err.Error(), "newer than this program knows") {
		t.Fatalf("an older program opened a newer schema: %v", err)
	}
}

// TestMigrationFailureRollsBack: a migration that fails leaves the
// database as the one before it left it (its DDL included), Open fails
// naming it, and a corrected migration runs on the next Open.
func TestMigrationFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	bad := append(steps[:1:1], "CREATE TABLE half (x); INSERT INTO no_such_table VALUES (1)")
	_, err := Open(ctx, Options{Path: path}, bad)
	if err == nil || !strings.Contains(err.Error(), "migration 2") {
		t.Fatalf("err %v, want a failure of migration 2", err)
	}
	db, err := Open(ctx, Options{Path: path}, steps[:1])
	if err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, db); v != 1 {
		t.Fatalf("user_version %d after a failed migration 2", v)
	}
	var n int
	if err := db.R.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'half'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the failed migration's table is there: %d %v", n, err)
	}
	db.Close()
	fixed := append(steps[:1:1], "CREATE TABLE half (x); INSERT INTO log VALUES (2)")
	db, err = Open(ctx, Options{Path: path}, fixed)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, got := userVersion(t, db), logged(t, db); v != 2 || got != "12" {
		t.Fatalf("user_version %d, steps %q", v, got)
	}
}

// TestConcurrentMigrators: several opens of one new file at once, as
// several processes starting together would, all succeed, and each
// migration runs exactly once: each re-reads user_version inside its
// IMMEDIATE transaction.
func TestConcurrentMigrators(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	const n = 6
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = Open(ctx, Options{Path: path}, steps)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	if got := logged(t, dbs[0]); got != "123" {
		t.Fatalf("steps run %q, want each once", got)
	}
}

// TestOpenOptions: invalid options are refused before any file is made;
// zero values take the defaults.
func TestOpenOptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, opts := range map[string]Options{
		"empty path":           {},
		"unknown synchronous":  {Path: filepath.Join(dir, "a.db"), Synchronous: "SOMETIMES"},
		"negative readers":     {Path: filepath.Join(dir, "b.db"), Readers: -1},
		"negative busy":        {Path: filepath.Join(dir, "c.db"), BusyTimeout: -1},
		"negative cache":       {Path: filepath.Join(dir, "d.db"), CacheKiB: -1},
		"lower-case synchrony": {Path: filepath.Join(dir, "e.db"), Synchronous: "full"},
	} {
		if db, err := Open(ctx, opts, nil); err == nil {
			db.Close()
			t.Errorf("%s: opened", name)
		}
		if opts.Path != "" {
			if _, err := os.Stat(opts.Path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: the file was made: %v", name, err)
			}
		}
	}
	db, err := Open(ctx, Options{Path: filepath.Join(dir, "ok.db"), Synchronous: SyncNormal, MmapBytes: 1 << 20, AutoCheckpoint: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for pragma, want := range map[string]string{
		"journal_mode":       "wal",
		"synchronous":        "1", // NORMAL
		"foreign_keys":       "1",
		"busy_timeout":       "5000",
		"wal_autocheckpoint": "0",
		"mmap_size":          "1048576",
		"cache_size":         "-16384",
	} {
		var got string
		if err := db.W.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("writer's %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
	// Readers may not write.
	if _, err := db.R.Exec("CREATE TABLE x (y)"); err == nil {
		t.Error("a reader wrote")
	}
}

// TestOpenErrorClasses: files that cannot be a database are an
// *OpenError of their class.
func TestOpenErrorClasses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		path  string
		class error
	}{
		"not a database":  {garbage, ErrNotDatabase},
		"a directory":     {dir, ErrNotDatabase},
		"no directory":    {filepath.Join(dir, "missing", "x.db"), ErrNoDirectory},
		"under a regular": {filepath.Join(garbage, "x.db"), ErrNoDirectory},
	} {
		db, err := Open(ctx, Options{Path: c.path}, nil)
		if err == nil {
			db.Close()
			t.Errorf("%s: opened", name)
			continue
		}
		var oe *OpenError
		if !errors.As(err, &oe) || !errors.Is(err, c.class) {
			t.Errorf("%s: %v (%T), want an *OpenError of %v", name, err, err, c.class)
		}
		if _, ok := store.Unavailable(err); c.class == ErrNotDatabase && !ok {
			t.Errorf("%s: not reported unavailable", name)
		}
	}
}

// TestVacuumIntoAndOwnReader: a backup holds the committed rows; an own
// reader reads outside the pool and sees another connection's commits in
// its data_version.
func TestVacuumIntoAndOwnReader(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if err := db.Write(ctx, insert("a")); err != nil {
		t.Fatal(err)
	}
	own, err := db.OpenOwnReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	version := func() int64 {
		var v int64
		if err := own.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	v0 := version()
	if v := version(); v != v0 {
		t.Fatalf("data_version %d then %d without a commit", v0, v)
	}
	if err := db.Write(ctx, insert("b")); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v0 {
		t.Fatal("data_version unchanged by the writer's commit")
	}
	if _, err := own.ExecContext(ctx, "INSERT INTO t(x) VALUES ('c')"); err == nil {
		t.Fatal("an own reader wrote")
	}

	backup := filepath.Join(t.TempDir(), "b.db")
	if err := db.VacuumInto(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := db.VacuumInto(ctx, backup); err == nil {
		t.Fatal("VACUUM INTO over an existing file")
	}
	cp, err := Open(ctx, Options{Path: backup}, []string{"CREATE TABLE t (x TEXT NOT NULL)"})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	wantRows(t, cp, "a", "b")
}

// TestWriteProblems: a writable folder with room has none; asking for
// more room than any disk has names the shortage.
func TestWriteProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p := WriteProblems(path, 0); len(p) != 0 {
		t.Fatalf("%v", p)
	}
	if p := WriteProblems(path, 1<<62); len(p) != 1 || !strings.Contains(p[0], "bytes free") {
		t.Fatalf("%v", p)
	}
	if os.Getuid() != 0 {
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		if p := WriteProblems(path, 0); len(p) != 1 || !strings.Contains(p[0], "not writable") {
			t.Fatalf("read-only file: %v", p)
		}
	}
}
