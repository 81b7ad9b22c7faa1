package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "w.db")},
		[]string{"CREATE TABLE t (x TEXT NOT NULL)"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func insert(x string) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO t(x) VALUES (?)", x)
		return err
	}
}

// rows returns the values of t, read through the reader pool.
func tableRows(t *testing.T, db *DB) []string {
	t.Helper()
	rs, err := db.R.Query("SELECT x FROM t ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var x string
		if err := rs.Scan(&x); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeSoon is one more write that must succeed promptly: the writer
// connection was not left inside a transaction.
func writeSoon(t *testing.T, db *DB, x string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := db.Write(ctx, insert(x)); err != nil {
		t.Fatalf("the write after: %v", err)
	}
}

func wantRows(t *testing.T, db *DB, want ...string) {
	t.Helper()
	if got := tableRows(t, db); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rows %q, want %q", got, want)
	}
}

// A function that panics inside a write transaction: the transaction is
// rolled back, the panic reaches the caller unchanged, and the writer
// serves the next write at once.
func TestWritePanicRollsBack(t *testing.T) {
	db := openTest(t)
	writeSoon(t, db, "before")
	type boom struct{}
	func() {
		defer func() {
			if v := recover(); v != (boom{}) {
				t.Fatalf("recovered %v, want the function's panic", v)
			}
		}()
		db.Write(context.Background(), func(tx *sql.Tx) error {
			if err := insert("panicked")(tx); err != nil {
				t.Error(err)
			}
			panic(boom{})
		})
		t.Fatal("Write returned from a panicking function")
	}()
	writeSoon(t, db, "after")
	wantRows(t, db, "before", "after")

	// runtime.Goexit (t.FailNow in a helper) is another way out.
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Write(context.Background(), func(tx *sql.Tx) error {
			insert("exited")(tx)
			runtime.Goexit()
			return nil
		})
	}()
	<-done
	writeSoon(t, db, "last")
	wantRows(t, db, "before", "after", "last")
}

func TestWriteErrorRollsBack(t *testing.T) {
	db := openTest(t)
	errStop := errors.New("stop")
	err := db.Write(context.Background(), func(tx *sql.Tx) error {
		if err := insert("failed")(tx); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Write: %v", err)
	}
	writeSoon(t, db, "after")
	wantRows(t, db, "after")
}

// A context that ends inside the transaction, between statements or in
// the middle of a long one, rolls it back.
func TestWriteCancelledContext(t *testing.T) {
	db := openTest(t)

	ctx, cancel := context.WithCancel(context.Background())
	err := db.Write(ctx, func(tx *sql.Tx) error {
		if err := insert("cancelled")(tx); err != nil {
			return err
		}
		cancel()
		return nil // ignores the cancellation: the commit must not happen
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Write after cancel: %v", err)
	}
	writeSoon(t, db, "after")

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = db.Write(ctx, func(tx *sql.Tx) error {
		if err := insert("interrupted")(tx); err != nil {
			return err
		}
		// Runs for minutes unless interrupted.
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1e12)
			INSERT INTO t(x) SELECT 'x' FROM n WHERE i < 0`)
		return err
	})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("long statement: %v after %v", err, time.Since(start))
	}
	writeSoon(t, db, "last")
	wantRows(t, db, "after", "last")

	// Cancelled before it begins: nothing runs.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := db.Write(ctx, insert("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a cancelled context: %v", err)
	}
	writeSoon(t, db, "end")
	wantRows(t, db, "after", "last", "end")
}

// However the writer connection comes back to the pool inside a
// transaction (here a BEGIN outside Write; in real life a ROLLBACK that
// failed), it is not used again: the next write gets a fresh connection.
func TestWriterNotReusedInsideTransaction(t *testing.T) {
	db := openTest(t)
	if _, err := db.W.Exec("BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	writeSoon(t, db, "after")
	wantRows(t, db, "after")
}
