package jobs_test

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
)

// fakeQueue is a jobs.Queue[string] in memory, with the lease rules of
// the SQLite store. The hook fields, when set, replace a method's answer
// (after the call is recorded).
type fakeQueue struct {
	mu       sync.Mutex
	jobs     []*jobs.Job
	results  map[string]string
	renewals []renewal
	releases []jobs.Lease
	fails    []string

	onRenew    func(l jobs.Lease) error
	onComplete func(l jobs.Lease) error
	onClaim    func() // told of every claim attempt
}

type renewal struct {
	lease      jobs.Lease
	until, now time.Time
}

func newFakeQueue(ids ...string) *fakeQueue {
	q := &fakeQueue{results: map[string]string{}}
	for _, id := range ids {
		q.add(jobs.Job{ID: id, Status: jobs.Pending, Payload: []byte(id)})
	}
	return q
}

func (q *fakeQueue) add(j jobs.Job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, &j)
}

func (q *fakeQueue) job(id string) jobs.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range q.jobs {
		if j.ID == id {
			return *j
		}
	}
	return jobs.Job{}
}

func (q *fakeQueue) held(l jobs.Lease) (*jobs.Job, error) {
	for _, j := range q.jobs {
		if j.ID != l.JobID {
			continue
		}
		switch {
		case j.Status == jobs.Ready || j.Status == jobs.Failed:
			return nil, jobs.ErrDone
		case j.Status != jobs.Processing || j.LeaseOwner != l.Owner || j.Attempts != l.Attempt:
			return nil, jobs.ErrLost
		}
		return j, nil
	}
	return nil, jobs.ErrLost
}

func (q *fakeQueue) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration) (jobs.Job, bool, error) {
	if q.onClaim != nil {
		q.onClaim()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var pick *jobs.Job
	for _, j := range q.jobs {
		if j.Status == jobs.Processing && !j.LeaseExpires.After(now) {
			pick = j
			break
		}
	}
	if pick == nil {
		for _, j := range q.jobs {
			if j.Status == jobs.Pending {
				pick = j
				break
			}
		}
	}
	if pick == nil {
		return jobs.Job{}, false, nil
	}
	pick.Status, pick.LeaseOwner, pick.LeaseExpires = jobs.Processing, owner, now.Add(lease)
	pick.Attempts++
	return *pick, true, nil
}

func (q *fakeQueue) NextExpiry(ctx context.Context) (time.Time, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var t time.Time
	ok := false
	for _, j := range q.jobs {
		if j.Status == jobs.Processing && (!ok || j.LeaseExpires.Before(t)) {
			t, ok = j.LeaseExpires, true
		}
	}
	return t, ok, nil
}

func (q *fakeQueue) Renew(ctx context.Context, l jobs.Lease, until time.Time) error {
	q.mu.Lock()
	q.renewals = append(q.renewals, renewal{lease: l, until: until, now: time.Now()})
	hook := q.onRenew
	q.mu.Unlock()
	if hook != nil {
		if err := hook(l); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	j, err := q.held(l)
	if err != nil {
		return err
	}
	j.LeaseExpires = until
	return nil
}

func (q *fakeQueue) Complete(ctx context.Context, l jobs.Lease, result string, now time.Time) (jobs.Job, error) {
	if q.onComplete != nil {
		if err := q.onComplete(l); err != nil {
			return jobs.Job{}, err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	j, err := q.held(l)
	if err != nil {
		return jobs.Job{}, err
	}
	if _, dup := q.results[j.ID]; dup {
		panic("job " + j.ID + " completed twice")
	}
	q.results[j.ID] = result
	j.Status, j.UpdatedAt = jobs.Ready, now
	return *j, nil
}

func (q *fakeQueue) Fail(ctx context.Context, l jobs.Lease, message string, now time.Time) (jobs.Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.fails = append(q.fails, message)
	j, err := q.held(l)
	if err != nil {
		return jobs.Job{}, err
	}
	j.Status, j.Error, j.UpdatedAt = jobs.Failed, &message, now
	return *j, nil
}

func (q *fakeQueue) Release(ctx context.Context, l jobs.Lease, now time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.releases = append(q.releases, l)
	j, err := q.held(l)
	if err != nil {
		return nil
	}
	j.Status, j.LeaseOwner, j.LeaseExpires = jobs.Pending, "", time.Time{}
	j.Attempts = max(j.Attempts-1, 0)
	return nil
}

// finished collects the jobs a runner reports finished.
type finished struct {
	mu   sync.Mutex
	jobs []jobs.Job
	ch   chan jobs.Job
}

func newFinished() *finished { return &finished{ch: make(chan jobs.Job, 256)} }

func (f *finished) add(j jobs.Job) {
	f.mu.Lock()
	f.jobs = append(f.jobs, j)
	f.mu.Unlock()
	f.ch <- j
}

// next returns the next finished job, failing after 10 s without one.
func (f *finished) next(t testing.TB) jobs.Job {
	t.Helper()
	select {
	case j := <-f.ch:
		return j
	case <-time.After(10 * time.Second):
		t.Fatal("no job finished")
		return jobs.Job{}
	}
}

// logBuffer is a slog.Logger that keeps its output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start starts a runner on q, closed at the end of the test.
func start[R any](t testing.TB, q jobs.Queue[R], o jobs.Options[R]) *jobs.Runner[R] {
	t.Helper()
	r, err := jobs.Start(q, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// noGoroutines fails unless, within a few seconds, no goroutine runs a
// function of package jobs (the test's own functions are in jobs_test).
func noGoroutines(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "memoryrelay/internal/jobs.(*Runner") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of the runner left after Close:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
