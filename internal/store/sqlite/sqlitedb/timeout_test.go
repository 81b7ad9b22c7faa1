package sqlitedb

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// endless never finishes on its own: SQLite must interrupt it.
const endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

func openTimed(t *testing.T, timeout time.Duration) *DB {
	t.Helper()
	db, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "t.db"), Readers: 1, StatementTimeout: timeout}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStatementTimeout checks that mattn/go-sqlite3 really interrupts a
// read that runs past the timeout (inside its first step, between rows,
// and in Exec), that the error says so and counts as unavailable storage,
// and that the pool's only connection serves the next read at once.
func TestStatementTimeout(t *testing.T) {
	ctx := context.Background()
	db := openTimed(t, 100*time.Millisecond)

	t0 := time.Now()
	var n int
	err := db.R.QueryRowContext(ctx, endless).Scan(&n)
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("the endless query ran %v", took)
	}
	if !errors.Is(err, ErrStatementTimeout) {
		t.Fatalf("endless query: %v, want ErrStatementTimeout", err)
	}
	if reason, ok := store.Unavailable(err); !ok || reason == "" {
		t.Errorf("store.Unavailable(%v) = %q, %v", err, reason, ok)
	}
	if err := db.R.QueryRowContext(ctx, "SELECT 7").Scan(&n); err != nil || n != 7 {
		t.Fatalf("next read: %d, %v", n, err)
	}

	// Holding a statement open while reading its rows slowly counts too.
	rows, err := db.R.QueryContext(ctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000) SELECT x FROM c")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		time.Sleep(30 * time.Millisecond)
	}
	if err := rows.Err(); !errors.Is(err, ErrStatementTimeout) {
		t.Errorf("slow reader: %v, want ErrStatementTimeout", err)
	}
	rows.Close()

	if _, err := db.R.ExecContext(ctx, endless); !errors.Is(err, ErrStatementTimeout) {
		t.Errorf("exec: %v, want ErrStatementTimeout", err)
	}

	// In a read transaction, each statement has its own deadline.
	tx, err := db.R.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRowContext(ctx, endless).Scan(&n); !errors.Is(err, ErrStatementTimeout) {
		t.Errorf("in a transaction: %v", err)
	}
	tx.Rollback()

	// The caller's own, earlier deadline is reported as such.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := db.R.QueryRowContext(short, endless).Scan(&n); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrStatementTimeout) {
		t.Errorf("caller's deadline: %v", err)
	}
}

// TestWithoutStatementTimeout checks the exemption: such a statement runs
// past the timeout and ends only with its caller's context.
func TestWithoutStatementTimeout(t *testing.T) {
	db := openTimed(t, 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(WithoutStatementTimeout(context.Background()), 400*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	var n int
	err := db.R.QueryRowContext(ctx, endless).Scan(&n)
	if took := time.Since(t0); took < 300*time.Millisecond {
		t.Errorf("exempt statement stopped after %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrStatementTimeout) {
		t.Errorf("exempt statement: %v, want the caller's deadline", err)
	}
}

// TestStatementTimeoutOff checks that a negative timeout leaves reads
// unbounded (the connections are the driver's own).
func TestStatementTimeoutOff(t *testing.T) {
	db := openTimed(t, -1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var n int
	if err := db.R.QueryRowContext(ctx, endless).Scan(&n); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("unbounded read: %v", err)
	}
}
