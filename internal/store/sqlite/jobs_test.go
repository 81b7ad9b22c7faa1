package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
)

// A database whose jobs were left processing before leases existed (by a
// process that crashed) gets them done: the migration gives them an
// expired lease.
func TestJobLeaseMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	k := -1
	for i, m := range migrations {
		if strings.Contains(m, "ADD COLUMN lease_owner") {
			k = i
		}
	}
	if k < 0 {
		t.Fatal("no lease migration")
	}
	old, err := sqlitedb.Open(ctx, sqlitedb.Options{Path: path}, migrations[:k])
	if err != nil {
		t.Fatal(err)
	}
	err = old.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts(id, name, created_at) VALUES ('a', 'a', 0);
			INSERT INTO jobs(id, memory_id, account_id, status, payload, attempts, created_at, updated_at)
			VALUES ('job1', 'm1', 'a', 'processing', '{}', 1, 5, 5)`)
		return err
	})
	old.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	j, ok, err := s.Jobs(nil).Claim(ctx, "new", time.UnixMilli(1_700_000_000_000), time.Second)
	if err != nil || !ok || j.ID != "job1" || j.Attempts != 2 || j.LeaseOwner != "new" {
		t.Fatalf("claim after migration: %+v %v %v", j, ok, err)
	}
}
