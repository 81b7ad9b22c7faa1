package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/postgres"
)

// TestMaintenance: Compact rewrites the tables after deletions and the
// store keeps working; Backup is refused with ErrUnsupported (pg_dump is
// the tool); health reads work, and a server that refuses writes is
// reported by WriteProblems after CheckRead.
func TestMaintenance(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	a, err := s.CreateAccount(ctx, "a", time.UnixMilli(0))
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1_700_000_000_000).UTC()
	m := &store.Memory{ID: "m1", AccountID: a.ID, AgentRef: "bot", Content: "secret words", Visibility: "private", Tier: "warm", Scope: "long-term", CreatedAt: now, UpdatedAt: now}
	if err := s.InsertMemory(ctx, m, store.Indexed{Vector: []float32{1, 0}, Terms: "secret words"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMemory(ctx, a.ID, "m1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if err := s.InsertMemory(ctx, &store.Memory{ID: "m2", AccountID: a.ID, AgentRef: "bot", Content: "after", Visibility: "private", Tier: "warm", Scope: "long-term", CreatedAt: now, UpdatedAt: now},
		store.Indexed{Vector: []float32{0, 1}, Terms: "after"}); err != nil {
		t.Fatalf("a write after Compact: %v", err)
	}
	if err := s.Backup(ctx, t.TempDir()+"/copy"); !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, postgres.ErrBackupUnsupported) {
		t.Errorf("Backup: %v; want ErrUnsupported", err)
	}
	if err := s.CheckRead(ctx); err != nil || s.WriteProblems(0) != nil || s.Damaged() != nil {
		t.Fatalf("health of a healthy server: %v %v %v", err, s.WriteProblems(0), s.Damaged())
	}
	exec(t, pool(t, url), "ALTER DATABASE "+value[string](t, pool(t, url), "SELECT current_database()")+" SET default_transaction_read_only = on")
	ro := open(t, url)
	if err := ro.CheckRead(ctx); err != nil || len(ro.WriteProblems(0)) != 1 {
		t.Fatalf("a read-only server: %v %v", err, ro.WriteProblems(0))
	}
	_, err = ro.CreateAccount(ctx, "b", now)
	if reason, ok := postgres.Unavailable(err); !ok || reason != "The storage is read-only" {
		t.Errorf("a write to a read-only server: %v (%q)", err, reason)
	}
}
