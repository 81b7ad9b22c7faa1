package jobs_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
)

// The runner on the SQLite store, as the facade runs it: several runners,
// each on its own connection pool like separate processes, sharing one
// database file.

// openStore opens the database at path, with the account "acct" made the
// first time.
func openStore(t testing.TB, path string) (*sqlite.Store, string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, err := st.AccountByName(ctx, "acct")
	if err != nil {
		acct, err = st.CreateAccount(ctx, "acct", time.Now())
	}
	if err != nil {
		t.Fatal(err)
	}
	return st, acct.ID
}

// queue queues a job whose memory's content is content.
func queue(t testing.TB, st *sqlite.Store, acct, id, content string) {
	t.Helper()
	now := time.Now()
	if err := st.InsertJob(context.Background(), jobs.Job{ID: id, MemoryID: id + "-memory", AccountID: acct,
		Status: jobs.Pending, Payload: []byte(content), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

// worker is the Work of these tests: the memory of the job's payload. It
// records what it saw, and holds the texts in gated until gate closes.
type worker struct {
	mu      sync.Mutex
	saw     []string
	gated   string
	entered chan struct{}
	gate    chan struct{}
}

func newWorker(gated string) *worker {
	return &worker{gated: gated, entered: make(chan struct{}, 16), gate: make(chan struct{})}
}

func (w *worker) work(ctx context.Context, j jobs.Job) (store.BatchItem, error) {
	text := string(j.Payload)
	w.mu.Lock()
	w.saw = append(w.saw, text)
	w.mu.Unlock()
	if text == w.gated {
		w.entered <- struct{}{}
		select {
		case <-w.gate:
		case <-ctx.Done():
			return store.BatchItem{}, ctx.Err()
		}
	}
	return store.BatchItem{
		Memory: &store.Memory{ID: j.MemoryID, AccountID: j.AccountID, AgentRef: "bot", Content: text, Visibility: "private",
			Importance: 0.5, Tier: "warm", Scope: "long-term", CreatedAt: j.CreatedAt, UpdatedAt: j.CreatedAt},
		Index: store.Indexed{Vector: []float32{1, 0, 0, 0}, Terms: text},
	}, nil
}

func (w *worker) sawText(text string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.saw, text)
}

func explain(store.BatchOutcome) string { return "not stored" }

// waitStatus polls the job until it is ready or failed.
func waitStatus(t testing.TB, st *sqlite.Store, acct, id string) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := st.JobByID(context.Background(), acct, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == jobs.Ready || j.Status == jobs.Failed {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", id, j.Status)
		}
		time.Sleep(time.Millisecond)
	}
}

// Two runners on one file: a job runner A is working on stays A's while A
// renews its lease, however long it takes (here four leases) and although
// runner B starts meanwhile and its workers keep looking; it is done once,
// by A.
func TestLeaseTwoRunners(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "two.db")
	const lease = 500 * time.Millisecond
	stA, acct := openStore(t, path)
	a := newWorker("held by A")
	ra := start(t, stA.Jobs(explain), jobs.Options[store.BatchItem]{Workers: 1, Lease: lease, MaxAttempts: 3, Work: a.work, Owner: "A"})
	queue(t, stA, acct, "job_held", "held by A")
	ra.Signal()
	<-a.entered // A is working on it

	stB, _ := openStore(t, path)
	b := newWorker("")
	rb := start(t, stB.Jobs(explain), jobs.Options[store.BatchItem]{Workers: 2, Lease: lease, MaxAttempts: 3, Work: b.work, Owner: "B"})
	// B works: a job of its own is done meanwhile.
	queue(t, stB, acct, "job_own", "B's own")
	rb.Signal()
	if j := waitStatus(t, stB, acct, "job_own"); j.Status != jobs.Ready || j.LeaseOwner != "B" {
		t.Fatalf("B's job: %+v", j)
	}
	for end := time.Now().Add(4 * lease); time.Now().Before(end); time.Sleep(lease / 10) {
		j, err := stB.JobByID(ctx, acct, "job_held")
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != jobs.Processing || j.LeaseOwner != "A" || j.Attempts != 1 {
			t.Fatalf("while A works: %+v", j)
		}
	}
	if b.sawText("held by A") {
		t.Fatal("B worked on A's job")
	}
	close(a.gate)
	if j := waitStatus(t, stB, acct, "job_held"); j.Status != jobs.Ready || j.LeaseOwner != "A" || j.Attempts != 1 {
		t.Fatalf("A's job: %+v", j)
	}
	if b.sawText("held by A") {
		t.Fatal("B worked on A's job")
	}
	if m, err := stB.GetMemory(ctx, acct, "job_held-memory"); err != nil || m.Content != "held by A" {
		t.Fatalf("A's memory: %+v %v", m, err)
	}
}

// A job left processing by a runner that died (its owner is gone, its
// lease ends) is picked up by the next runner, without anything waking it,
// as soon as the lease has expired and not before; one whose lease has
// expired already is picked up at once.
func TestLeaseOfDeadOwner(t *testing.T) {
	ctx := context.Background()
	st, acct := openStore(t, filepath.Join(t.TempDir(), "dead.db"))
	now := time.Now()
	const wait = 2 * time.Second
	expires := now.Add(wait).Truncate(time.Millisecond)
	for id, until := range map[string]time.Time{"job_expired": now.Add(-time.Second), "job_live": expires} {
		err := st.InsertJob(ctx, jobs.Job{ID: id, MemoryID: id + "-memory", AccountID: acct, Status: jobs.Processing,
			Payload: []byte(id), Attempts: 1, LeaseOwner: "dead", LeaseExpires: until, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
	}
	const lease = 10 * time.Second
	w := newWorker("")
	start(t, st.Jobs(explain), jobs.Options[store.BatchItem]{Workers: 1, Lease: lease, MaxAttempts: 3, Work: w.work, Owner: "next"})
	if j := waitStatus(t, st, acct, "job_expired"); j.Status != jobs.Ready || j.Attempts != 2 || j.LeaseOwner != "next" {
		t.Fatalf("expired lease: %+v", j)
	}
	if time.Now().Before(expires) {
		if j, err := st.JobByID(ctx, acct, "job_live"); err != nil || j.Status != jobs.Processing || j.LeaseOwner != "dead" {
			t.Fatalf("live lease of a dead owner, before it expires: %+v %v", j, err)
		}
	}
	j := waitStatus(t, st, acct, "job_live")
	if j.Status != jobs.Ready || j.Attempts != 2 || j.LeaseOwner != "next" {
		t.Fatalf("live lease: %+v", j)
	}
	// When the runner claimed it: its own lease's end, less the lease (the
	// work is far shorter than a renewal period).
	if claimed := j.LeaseExpires.Add(-lease); claimed.Before(expires) || claimed.After(expires.Add(3*time.Second)) {
		t.Fatalf("claimed %v after the dead owner's lease expired", claimed.Sub(expires))
	}
}

// Close hands the job in flight back on the store: pending, its attempt
// not counted, and nothing stored; the next runner does it.
func TestCloseHandsBackOnStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "close.db")
	st, acct := openStore(t, path)
	w := newWorker("interrupted")
	r := start(t, st.Jobs(explain), jobs.Options[store.BatchItem]{Workers: 1, Lease: time.Minute, MaxAttempts: 3, Work: w.work})
	queue(t, st, acct, "job_i", "interrupted")
	r.Signal()
	<-w.entered
	r.Close()
	noGoroutines(t)
	j, err := st.JobByID(context.Background(), acct, "job_i")
	if err != nil || j.Status != jobs.Pending || j.Attempts != 0 || j.LeaseOwner != "" {
		t.Fatalf("after Close: %+v %v", j, err)
	}
	close(w.gate)
	start(t, st.Jobs(explain), jobs.Options[store.BatchItem]{Workers: 1, Lease: time.Minute, MaxAttempts: 3, Work: w.work})
	if j := waitStatus(t, st, acct, "job_i"); j.Status != jobs.Ready || j.Attempts != 1 {
		t.Fatalf("resumed: %+v", j)
	}
}
