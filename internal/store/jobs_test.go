package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/sqlitedb"
)

// openJobs opens a store with one account and n pending jobs, job1…jobn,
// created a millisecond apart from t0.
func openJobs(t *testing.T, path string, t0 time.Time, n int) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO accounts(id, name, created_at) VALUES ('a', 'a', 0)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		id := "job" + string(rune('1'+i))
		if err := s.InsertJob(ctx, Job{ID: id, MemoryID: "m" + id, AccountID: "a", Status: JobPending, Payload: []byte("{}"), CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// A claim holds its job until its lease expires, whoever asks: another
// owner gets it only then, and from then on the first claim can neither
// renew nor finish it.
func TestJobLease(t *testing.T) {
	ctx := context.Background()
	t0 := time.UnixMilli(1_700_000_000_000)
	const lease = 10 * time.Second
	s := openJobs(t, filepath.Join(t.TempDir(), "j.db"), t0, 1)

	a, ok, err := s.ClaimJob(ctx, "A", t0, lease)
	if err != nil || !ok || a.ID != "job1" || a.Status != JobProcessing || a.Attempts != 1 || a.LeaseOwner != "A" || !a.LeaseExpires.Equal(t0.Add(lease)) {
		t.Fatalf("claim by A: %+v %v %v", a, ok, err)
	}
	// B, a millisecond before the lease ends: nothing to claim.
	if j, ok, err := s.ClaimJob(ctx, "B", t0.Add(lease-time.Millisecond), lease); ok || err != nil {
		t.Fatalf("B claimed a live lease: %+v %v", j, err)
	}
	// A renews; B at the old expiry still gets nothing.
	if err := s.RenewJob(ctx, a.Lease(), t0.Add(2*lease)); err != nil {
		t.Fatal(err)
	}
	if j, ok, err := s.ClaimJob(ctx, "B", t0.Add(lease), lease); ok || err != nil {
		t.Fatalf("B claimed a renewed lease: %+v %v", j, err)
	}
	if exp, ok, err := s.NextLeaseExpiry(ctx); err != nil || !ok || !exp.Equal(t0.Add(2*lease)) {
		t.Fatalf("next expiry %v %v %v", exp, ok, err)
	}
	// At the renewed expiry, B takes it over.
	b, ok, err := s.ClaimJob(ctx, "B", t0.Add(2*lease), lease)
	if err != nil || !ok || b.ID != "job1" || b.Attempts != 2 || b.LeaseOwner != "B" {
		t.Fatalf("claim by B: %+v %v %v", b, ok, err)
	}
	if err := s.RenewJob(ctx, a.Lease(), t0.Add(3*lease)); !errors.Is(err, ErrJobLost) {
		t.Fatalf("A renews B's job: %v", err)
	}
	if _, err := s.FailJob(ctx, a.Lease(), "A", t0); !errors.Is(err, ErrJobLost) {
		t.Fatalf("A fails B's job: %v", err)
	}
	if _, _, err := s.CompleteJob(ctx, a.Lease(), BatchItem{}, t0, nil); !errors.Is(err, ErrJobLost) {
		t.Fatalf("A completes B's job: %v", err)
	}
	// The same owner's earlier claim is not its current one either.
	if _, err := s.FailJob(ctx, JobLease{JobID: "job1", Owner: "B", Attempt: 1}, "B1", t0); !errors.Is(err, ErrJobLost) {
		t.Fatalf("an earlier claim of B: %v", err)
	}
	done, err := s.FailJob(ctx, b.Lease(), "by B", t0.Add(2*lease))
	if err != nil || done.Status != JobFailed || *done.Error != "by B" {
		t.Fatalf("B fails its job: %+v %v", done, err)
	}
	if err := s.RenewJob(ctx, b.Lease(), t0.Add(3*lease)); !errors.Is(err, ErrJobDone) {
		t.Fatalf("renew a finished job: %v", err)
	}
	if _, err := s.FailJob(ctx, b.Lease(), "again", t0); !errors.Is(err, ErrJobDone) {
		t.Fatalf("fail a finished job: %v", err)
	}
	if err := s.RenewJob(ctx, JobLease{JobID: "nope", Owner: "B", Attempt: 1}, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("renew a missing job: %v", err)
	}
	if _, ok, err := s.NextLeaseExpiry(ctx); ok || err != nil {
		t.Fatalf("next expiry with nothing processing: %v %v", ok, err)
	}
}

// A released job is pending again at once, without the attempt; a job
// whose lease expired is claimed again; a release by a claim that lost the
// job changes nothing.
func TestJobLeaseRelease(t *testing.T) {
	ctx := context.Background()
	t0 := time.UnixMilli(1_700_000_000_000)
	const lease = time.Second
	s := openJobs(t, filepath.Join(t.TempDir(), "j.db"), t0, 2)
	a, _, _ := s.ClaimJob(ctx, "A", t0, lease)
	if err := s.ReleaseJob(ctx, a.Lease(), t0); err != nil {
		t.Fatal(err)
	}
	b, ok, err := s.ClaimJob(ctx, "B", t0, lease)
	if err != nil || !ok || b.ID != "job1" || b.Attempts != 1 {
		t.Fatalf("claim after release: %+v %v %v", b, ok, err)
	}
	// job1's lease (B) expires; it is claimed again before job2, pending.
	d, ok, err := s.ClaimJob(ctx, "D", t0.Add(lease), lease)
	if err != nil || !ok || d.ID != "job1" || d.Attempts != 2 {
		t.Fatalf("claim of an expired lease: %+v %v %v", d, ok, err)
	}
	if c, _, _ := s.ClaimJob(ctx, "C", t0.Add(lease), lease); c.ID != "job2" {
		t.Fatalf("C got %+v", c)
	}
	if err := s.ReleaseJob(ctx, b.Lease(), t0); err != nil {
		t.Fatal(err)
	}
	if j, err := s.JobByID(ctx, "a", "job1"); err != nil || j.Status != JobProcessing || j.LeaseOwner != "D" {
		t.Fatalf("a lost claim's release changed the job: %+v %v", j, err)
	}
}

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
	j, ok, err := s.ClaimJob(ctx, "new", time.UnixMilli(1_700_000_000_000), time.Second)
	if err != nil || !ok || j.ID != "job1" || j.Attempts != 2 || j.LeaseOwner != "new" {
		t.Fatalf("claim after migration: %+v %v %v", j, ok, err)
	}
}
