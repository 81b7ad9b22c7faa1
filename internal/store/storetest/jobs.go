package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
)

// openJobs opens a store with one account and n pending jobs, job1…jobn,
// created a millisecond apart from t0, and returns it with the account.
func openJobs(t *testing.T, open Opener, t0 time.Time, n int) (Store, string) {
	t.Helper()
	ctx := context.Background()
	s := openStore(t, open)
	A := account(t, s, "a")
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		id := fmt.Sprintf("job%d", i+1)
		if err := s.InsertJob(ctx, jobs.Job{ID: id, MemoryID: "m" + id, AccountID: A, Status: jobs.Pending, Payload: []byte("{}"), CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	return s, A
}

// A claim holds its job until its lease expires, whoever asks: another
// owner gets it only then, and from then on the first claim can neither
// renew nor finish it.
func testJobLease(t *testing.T, open Opener) {
	ctx := context.Background()
	const lease = 10 * time.Second
	s, _ := openJobs(t, open, t0, 1)
	q := s.Jobs(nil)

	a, ok, err := q.Claim(ctx, "A", t0, lease)
	if err != nil || !ok || a.ID != "job1" || a.Status != jobs.Processing || a.Attempts != 1 || a.LeaseOwner != "A" || !a.LeaseExpires.Equal(t0.Add(lease)) {
		t.Fatalf("claim by A: %+v %v %v", a, ok, err)
	}
	// B, a millisecond before the lease ends: nothing to claim.
	if j, ok, err := q.Claim(ctx, "B", t0.Add(lease-time.Millisecond), lease); ok || err != nil {
		t.Fatalf("B claimed a live lease: %+v %v", j, err)
	}
	// A renews; B at the old expiry still gets nothing.
	if err := q.Renew(ctx, a.Lease(), t0.Add(2*lease)); err != nil {
		t.Fatal(err)
	}
	if j, ok, err := q.Claim(ctx, "B", t0.Add(lease), lease); ok || err != nil {
		t.Fatalf("B claimed a renewed lease: %+v %v", j, err)
	}
	if exp, ok, err := q.NextExpiry(ctx); err != nil || !ok || !exp.Equal(t0.Add(2*lease)) {
		t.Fatalf("next expiry %v %v %v", exp, ok, err)
	}
	// At the renewed expiry, B takes it over.
	b, ok, err := q.Claim(ctx, "B", t0.Add(2*lease), lease)
	if err != nil || !ok || b.ID != "job1" || b.Attempts != 2 || b.LeaseOwner != "B" {
		t.Fatalf("claim by B: %+v %v %v", b, ok, err)
	}
	if err := q.Renew(ctx, a.Lease(), t0.Add(3*lease)); !errors.Is(err, jobs.ErrLost) {
		t.Fatalf("A renews B's job: %v", err)
	}
	if _, err := q.Fail(ctx, a.Lease(), "A", t0); !errors.Is(err, jobs.ErrLost) {
		t.Fatalf("A fails B's job: %v", err)
	}
	if _, err := q.Complete(ctx, a.Lease(), store.BatchItem{}, t0); !errors.Is(err, jobs.ErrLost) {
		t.Fatalf("A completes B's job: %v", err)
	}
	// The same owner's earlier claim is not its current one either.
	if _, err := q.Fail(ctx, jobs.Lease{JobID: "job1", Owner: "B", Attempt: 1}, "B1", t0); !errors.Is(err, jobs.ErrLost) {
		t.Fatalf("an earlier claim of B: %v", err)
	}
	done, err := q.Fail(ctx, b.Lease(), "by B", t0.Add(2*lease))
	if err != nil || done.Status != jobs.Failed || *done.Error != "by B" {
		t.Fatalf("B fails its job: %+v %v", done, err)
	}
	if err := q.Renew(ctx, b.Lease(), t0.Add(3*lease)); !errors.Is(err, jobs.ErrDone) {
		t.Fatalf("renew a finished job: %v", err)
	}
	if _, err := q.Fail(ctx, b.Lease(), "again", t0); !errors.Is(err, jobs.ErrDone) {
		t.Fatalf("fail a finished job: %v", err)
	}
	if err := q.Renew(ctx, jobs.Lease{JobID: "nope", Owner: "B", Attempt: 1}, t0); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, jobs.ErrLost) {
		t.Fatalf("renew a missing job: %v", err)
	}
	if _, ok, err := q.NextExpiry(ctx); ok || err != nil {
		t.Fatalf("next expiry with nothing processing: %v %v", ok, err)
	}
}

// A released job is pending again at once, without the attempt; a job
// whose lease expired is claimed again; a release by a claim that lost the
// job changes nothing.
func testJobLeaseRelease(t *testing.T, open Opener) {
	ctx := context.Background()
	const lease = time.Second
	s, A := openJobs(t, open, t0, 2)
	q := s.Jobs(nil)
	a, _, _ := q.Claim(ctx, "A", t0, lease)
	if err := q.Release(ctx, a.Lease(), t0); err != nil {
		t.Fatal(err)
	}
	b, ok, err := q.Claim(ctx, "B", t0, lease)
	if err != nil || !ok || b.ID != "job1" || b.Attempts != 1 {
		t.Fatalf("claim after release: %+v %v %v", b, ok, err)
	}
	// job1's lease (B) expires; it is claimed again before job2, pending.
	d, ok, err := q.Claim(ctx, "D", t0.Add(lease), lease)
	if err != nil || !ok || d.ID != "job1" || d.Attempts != 2 {
		t.Fatalf("claim of an expired lease: %+v %v %v", d, ok, err)
	}
	if c, _, _ := q.Claim(ctx, "C", t0.Add(lease), lease); c.ID != "job2" {
		t.Fatalf("C got %+v", c)
	}
	if err := q.Release(ctx, b.Lease(), t0); err != nil {
		t.Fatal(err)
	}
	if j, err := s.JobByID(ctx, A, "job1"); err != nil || j.Status != jobs.Processing || j.LeaseOwner != "D" {
		t.Fatalf("a lost claim's release changed the job: %+v %v", j, err)
	}
}

// Complete stores the job's memory and finishes the job in one
// transaction: ready when stored; failed, with explain's text and nothing
// stored, for a duplicate or a missing session.
func testJobComplete(t *testing.T, open Opener) {
	ctx := context.Background()
	s, A := openJobs(t, open, t0, 3)
	var explained []store.BatchOutcome
	q := s.Jobs(func(o store.BatchOutcome) string {
		explained = append(explained, o)
		return "explained"
	})
	item := func(id string, dedup bool, session *string) store.BatchItem {
		return store.BatchItem{
			Memory: &store.Memory{ID: id, AccountID: A, AgentRef: "bot", Content: "the same words", Visibility: "private",
				Importance: 0.5, Tier: "warm", Scope: "long-term", SessionID: session, CreatedAt: t0, UpdatedAt: t0},
			Index: store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "the same words"},
			Dedup: dedup, DedupThreshold: 0.9,
		}
	}
	for _, c := range []struct {
		name    string
		item    store.BatchItem
		status  string
		stored  bool
		explain bool
	}{
		{"stored", item("m1", false, nil), jobs.Ready, true, false},
		{"duplicate", item("m2", true, nil), jobs.Failed, false, true},
		{"missing session", item("m3", false, ptr("no-such-session")), jobs.Failed, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			explained = nil
			j, ok, err := q.Claim(ctx, "A", t0, time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			done, err := q.Complete(ctx, j.Lease(), c.item, t0.Add(time.Second))
			if err != nil || done.ID != j.ID || done.Status != c.status || (done.Error != nil) != c.explain {
				t.Fatalf("complete: %+v %v", done, err)
			}
			if c.explain && (len(explained) != 1 || *done.Error != "explained") {
				t.Errorf("explained %+v, error %v", explained, *done.Error)
			}
			if _, err := s.GetMemory(ctx, A, c.item.Memory.ID); (err == nil) != c.stored {
				t.Errorf("memory stored: %v, want %v", err == nil, c.stored)
			}
			if _, err := q.Complete(ctx, j.Lease(), c.item, t0); !errors.Is(err, jobs.ErrDone) {
				t.Errorf("complete again: %v", err)
			}
		})
	}
}

// testJobClaimsConcurrent: claimants racing on one queue (several nodes'
// workers) each get a job of their own: every job is claimed exactly
// once, whatever the interleaving, and then there is nothing left.
func testJobClaimsConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	const n, claimants = 40, 4
	s, _ := openJobs(t, open, t0, n)
	q := s.Jobs(nil)
	var mu sync.Mutex
	got := map[string]string{}
	var wg sync.WaitGroup
	for c := range claimants {
		owner := fmt.Sprintf("node%d", c)
		wg.Go(func() {
			for {
				j, ok, err := q.Claim(ctx, owner, t0, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				if prev, dup := got[j.ID]; dup {
					t.Errorf("%s claimed by %s and %s", j.ID, prev, owner)
				}
				got[j.ID] = owner
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("%d jobs claimed, want %d", len(got), n)
	}
	if qs, err := s.JobQueueState(ctx); err != nil || qs.Pending != 0 || qs.Processing != n {
		t.Fatalf("queue after the claims: %+v %v", qs, err)
	}
	if _, err := q.Complete(ctx, jobs.Lease{JobID: "job1", Owner: "nobody", Attempt: 1}, store.BatchItem{}, t0); !errors.Is(err, jobs.ErrLost) {
		t.Fatalf("completion by a claim that does not hold the job: %v", err)
	}
}
