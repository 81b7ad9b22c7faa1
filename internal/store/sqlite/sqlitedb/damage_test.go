package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// Once a statement has met corruption, the writer refuses everything: a
// transaction in progress is rolled back instead of committed, later
// transactions and statements do not begin, and reads go on.
func TestDamageRefusesWrites(t *testing.T) {
	ctx := context.Background()
	var notified atomic.Int32
	db, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "x.db"), OnDamaged: func(error) { notified.Add(1) }},
		[]string{"CREATE TABLE t(a INTEGER)"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insert := func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)"); return err }
	if err := db.Write(ctx, insert); err != nil {
		t.Fatal(err)
	}
	if db.Damaged() != nil {
		t.Fatal("damaged before any corruption")
	}
	corrupt := sqlite3.Error{Code: sqlite3.ErrCorrupt}
	err = db.Write(ctx, func(tx *sql.Tx) error {
		if err := insert(tx); err != nil {
			return err
		}
		// A reader meets damaged pages while this transaction runs.
		if err := db.dmg.saw(corrupt); !errors.Is(err, ErrDamaged) || !isCorrupt(err) {
			t.Errorf("saw returned %v", err)
		}
		return nil
	})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("commit after damage: %v", err)
	}
	db.dmg.saw(sqlite3.Error{Code: sqlite3.ErrNotADB})
	if n := notified.Load(); n != 1 {
		t.Errorf("OnDamaged called %d times, want 1", n)
	}
	if err := db.Damaged(); !errors.Is(err, ErrDamaged) || !isCorrupt(err) {
		t.Errorf("Damaged() = %v", err)
	}
	if err := db.Write(ctx, insert); !errors.Is(err, ErrDamaged) {
		t.Errorf("write after damage: %v", err)
	}
	if _, err := db.W.ExecContext(ctx, "DELETE FROM t"); !errors.Is(err, ErrDamaged) {
		t.Errorf("statement on the writer after damage: %v", err)
	}
	var n int
	if err := db.R.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Errorf("read after damage: %d rows, %v (want the one committed before)", n, err)
	}
	if reason, ok := store.Unavailable(db.Write(ctx, insert)); !ok || reason != "The database is damaged" {
		t.Errorf("Unavailable of a refused write: %q %v", reason, ok)
	}
}

// Errors that are not corruption pass through unchanged and mark nothing.
func TestDamageIgnoresOtherErrors(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "x.db")}, []string{"CREATE TABLE t(a INTEGER)"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"SELECT * FROM nosuchtable", "SELECT json('{')", "SELECT a FROM t WHERE a MATCH 'x'"} {
		var v any
		err := db.R.QueryRowContext(ctx, q).Scan(&v)
		if err == nil || errors.Is(err, ErrDamaged) {
			t.Errorf("%s: %v", q, err)
		}
	}
	if _, err := db.W.ExecContext(ctx, "INSERT INTO nosuchtable VALUES (1)"); err == nil || errors.Is(err, ErrDamaged) {
		t.Errorf("insert into a missing table: %v", err)
	}
	if err := db.Damaged(); err != nil {
		t.Errorf("damaged by ordinary errors: %v", err)
	}
	if err := db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (1)"); return err }); err != nil {
		t.Errorf("write: %v", err)
	}
}
