package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
)

// upper is a Work that returns the payload in capitals.
func upper(ctx context.Context, j jobs.Job) (string, error) {
	return strings.ToUpper(string(j.Payload)), nil
}

func TestStartOptions(t *testing.T) {
	q := newFakeQueue()
	ok := jobs.Options[string]{Workers: 1, Lease: time.Second, MaxAttempts: 3, Work: upper}
	for name, change := range map[string]func(*jobs.Options[string]){
		"negative workers": func(o *jobs.Options[string]) { o.Workers = -1 },
		"no lease":         func(o *jobs.Options[string]) { o.Lease = 0 },
		"no attempts":      func(o *jobs.Options[string]) { o.MaxAttempts = 0 },
		"no work":          func(o *jobs.Options[string]) { o.Work = nil },
	} {
		o := ok
		change(&o)
		if r, err := jobs.Start[string](q, o); err == nil {
			r.Close()
			t.Errorf("%s: no error", name)
		}
	}
	// No workers: nothing runs, nothing is claimed, Close is at once.
	claims := atomic.Int32{}
	q.onClaim = func() { claims.Add(1) }
	q.add(jobs.Job{ID: "j", Status: jobs.Pending})
	o := ok
	o.Workers = 0
	r := start[string](t, q, o)
	r.Signal()
	if r.Workers() != 0 || r.Running() != 0 {
		t.Errorf("workers %d, running %d", r.Workers(), r.Running())
	}
	r.Close()
	r.Close() // idempotent
	if claims.Load() != 0 {
		t.Errorf("%d claims without workers", claims.Load())
	}
}

// Many workers share the queue: every job is done once, its result stored
// by Complete, and reported finished; Close stops every goroutine.
func TestRunnerDoesEachJobOnce(t *testing.T) {
	var ids []string
	for i := range 50 {
		ids = append(ids, fmt.Sprintf("job%d", i))
	}
	q := newFakeQueue(ids...)
	fin := newFinished()
	r := start[string](t, q, jobs.Options[string]{Workers: 4, Lease: time.Minute, MaxAttempts: 3, Work: upper, Finished: fin.add})
	if r.Workers() != 4 || r.Running() != 4 {
		t.Fatalf("workers %d, running %d", r.Workers(), r.Running())
	}
	seen := map[string]bool{}
	for range ids {
		j := fin.next(t)
		if seen[j.ID] || j.Status != jobs.Ready || j.Attempts != 1 {
			t.Fatalf("finished %+v (seen %v)", j, seen[j.ID])
		}
		seen[j.ID] = true
	}
	r.Close()
	if r.Running() != 0 {
		t.Errorf("running %d after Close", r.Running())
	}
	noGoroutines(t)
	for _, id := range ids {
		if q.results[id] != strings.ToUpper(id) {
			t.Errorf("%s: result %q", id, q.results[id])
		}
	}
}

// A worker renews its job's lease every Lease/4, each time to a full
// lease from now, for as long as the work takes, and completes the job
// under the lease it claimed.
func TestRunnerRenewsLease(t *testing.T) {
	const lease = 80 * time.Millisecond
	q := newFakeQueue("slow")
	renewed := make(chan struct{}, 64)
	q.onRenew = func(jobs.Lease) error { renewed <- struct{}{}; return nil }
	fin := newFinished()
	start[string](t, q, jobs.Options[string]{Workers: 1, Lease: lease, MaxAttempts: 3, Finished: fin.add,
		Work: func(ctx context.Context, j jobs.Job) (string, error) {
			for range 4 { // four renewals: the work outlasts its first lease
				select {
				case <-renewed:
				case <-ctx.Done():
					return "", ctx.Err()
				}
			}
			return "done", nil
		}})
	j := fin.next(t)
	if j.Status != jobs.Ready || q.results["slow"] != "done" {
		t.Fatalf("job %+v, result %q", j, q.results["slow"])
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.renewals) < 4 {
		t.Fatalf("%d renewals", len(q.renewals))
	}
	for i, rn := range q.renewals {
		if rn.lease != (jobs.Lease{JobID: "slow", Owner: j.LeaseOwner, Attempt: 1}) {
			t.Errorf("renewal %d of %+v", i, rn.lease)
		}
		if d := rn.until.Sub(rn.now); d > lease || d < lease-lease/4 {
			t.Errorf("renewal %d to %v from now, want %v", i, d, lease)
		}
		// Renewals come from a ticker of period Lease/4; a loaded machine
		// may deliver a late tick and the next one closer together, so only
		// their order is asserted, not their spacing.
		if i > 0 && rn.now.Before(q.renewals[i-1].now) {
			t.Errorf("renewal %d at %v, before renewal %d at %v", i, rn.now, i-1, q.renewals[i-1].now)
		}
	}
}

// A renewal that finds the lease lost cancels the work: nothing is
// completed, failed or handed back (the job is the other claim's), and no
// one is told it finished.
func TestRunnerLostLease(t *testing.T) {
	q := newFakeQueue("taken")
	q.onRenew = func(l jobs.Lease) error { return fmt.Errorf("renew: %w", jobs.ErrLost) }
	var logs logBuffer
	fin := newFinished()
	cancelled := make(chan error, 1)
	r := start[string](t, q, jobs.Options[string]{Workers: 1, Lease: 40 * time.Millisecond, MaxAttempts: 3, Finished: fin.add,
		Logger: logs.logger(),
		Work: func(ctx context.Context, j jobs.Job) (string, error) {
			<-ctx.Done()
			cancelled <- ctx.Err()
			return "too late", ctx.Err()
		}})
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("work ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the work was not cancelled")
	}
	r.Close()
	if len(q.results) != 0 || len(q.fails) != 0 || len(q.releases) != 0 || len(fin.jobs) != 0 {
		t.Errorf("results %v, fails %v, releases %v, finished %v", q.results, q.fails, q.releases, fin.jobs)
	}
	if !strings.Contains(logs.String(), "job lease lost") {
		t.Errorf("log: %s", logs.String())
	}
}

// Close cancels in-flight work and hands the job back, pending with the
// attempt not counted, at once; it stops every goroutine.
func TestRunnerCloseHandsBack(t *testing.T) {
	q := newFakeQueue("inflight", "queued")
	entered := make(chan struct{})
	r := start[string](t, q, jobs.Options[string]{Workers: 1, Lease: time.Minute, MaxAttempts: 3,
		Work: func(ctx context.Context, j jobs.Job) (string, error) {
			close(entered)
			<-ctx.Done()
			return "", ctx.Err()
		}})
	<-entered
	if j := q.job("inflight"); j.Status != jobs.Processing || j.Attempts != 1 {
		t.Fatalf("in flight: %+v", j)
	}
	closed := make(chan struct{})
	go func() { r.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for a blocked job")
	}
	noGoroutines(t)
	if j := q.job("inflight"); j.Status != jobs.Pending || j.Attempts != 0 || j.LeaseOwner != "" {
		t.Errorf("handed back: %+v", j)
	}
	if j := q.job("queued"); j.Status != jobs.Pending || j.Attempts != 0 {
		t.Errorf("queued: %+v", j)
	}
	if len(q.releases) != 1 || len(q.results) != 0 || len(q.fails) != 0 {
		t.Errorf("releases %v, results %v, fails %v", q.releases, q.results, q.fails)
	}
}

// A job claimed more than MaxAttempts times is failed without its work.
func TestRunnerMaxAttempts(t *testing.T) {
	q := newFakeQueue()
	q.add(jobs.Job{ID: "crashy", Status: jobs.Processing, Attempts: 3, LeaseOwner: "dead", LeaseExpires: time.Now().Add(-time.Second)})
	fin := newFinished()
	start[string](t, q, jobs.Options[string]{Workers: 1, Lease: time.Minute, MaxAttempts: 3, Finished: fin.add,
		Work: func(ctx context.Context, j jobs.Job) (string, error) {
			t.Error("work of a job past MaxAttempts")
			return "", nil
		}})
	j := fin.next(t)
	if j.ID != "crashy" || j.Status != jobs.Failed || j.Attempts != 4 || *j.Error != jobs.DefaultInterrupted {
		t.Fatalf("%+v", j)
	}
}

// What becomes of a job whose work or completion fails.
func TestRunnerFailures(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		name     string
		work     error // Work's error
		complete error // Complete's error
		status   string
		message  string // the job's error
		log      string
	}{
		{"failure", &jobs.Failure{Message: "Embedding failed"}, nil, jobs.Failed, "Embedding failed", ""},
		{"wrapped failure", fmt.Errorf("x: %w", &jobs.Failure{Message: "bad input"}), nil, jobs.Failed, "bad input", ""},
		{"other work error", boom, nil, jobs.Failed, "work failed", "boom"},
		{"complete fails", nil, boom, jobs.Failed, "could not store", "complete job"},
		{"complete loses the lease", nil, jobs.ErrLost, jobs.Processing, "", "job lease lost"},
		{"complete finds it done", nil, jobs.ErrDone, jobs.Processing, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := newFakeQueue("j")
			if c.complete != nil {
				q.onComplete = func(jobs.Lease) error { return c.complete }
			}
			claims := make(chan struct{}, 16)
			q.onClaim = func() { claims <- struct{}{} }
			var logs logBuffer
			fin := newFinished()
			r := start[string](t, q, jobs.Options[string]{Workers: 1, Lease: time.Minute, MaxAttempts: 3, Finished: fin.add,
				WorkFailed: "work failed", CompleteFailed: "could not store", Logger: logs.logger(),
				Work: func(ctx context.Context, j jobs.Job) (string, error) {
					return "result", c.work
				}})
			<-claims
			<-claims // the worker is done with the job and looks for the next
			if c.status == jobs.Failed {
				if j := fin.next(t); j.Status != jobs.Failed || *j.Error != c.message {
					t.Fatalf("finished %+v", j)
				}
			}
			r.Close()
			j := q.job("j")
			if c.status == jobs.Processing {
				// Nothing finished it; Close did not hand back a job whose
				// work ended.
				if j.Status != jobs.Processing || len(fin.jobs) != 0 || len(q.releases) != 0 {
					t.Errorf("job %+v, finished %v, releases %v", j, fin.jobs, q.releases)
				}
			}
			if c.log != "" && !strings.Contains(logs.String(), c.log) {
				t.Errorf("log %q, want %q", logs.String(), c.log)
			}
			if c.log == "" && strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("log %q", logs.String())
			}
		})
	}
}

// An idle worker wakes when Signal says a job was queued, and, with no
// signal, when the earliest lease of a processing job ends: a job left by
// a runner that died is claimed as soon as its lease expires, and not
// before.
func TestRunnerWakes(t *testing.T) {
	q := newFakeQueue()
	fin := newFinished()
	r := start[string](t, q, jobs.Options[string]{Workers: 1, Lease: time.Minute, MaxAttempts: 3, Work: upper, Finished: fin.add})
	q.add(jobs.Job{ID: "signalled", Status: jobs.Pending, Payload: []byte("x")})
	r.Signal()
	if j := fin.next(t); j.ID != "signalled" {
		t.Fatalf("%+v", j)
	}

	expires := time.Now().Add(300 * time.Millisecond)
	q.add(jobs.Job{ID: "orphan", Status: jobs.Processing, Attempts: 1, LeaseOwner: "dead", LeaseExpires: expires})
	r.Signal() // the worker looks, finds a live lease, and sleeps until it ends
	j := fin.next(t)
	at := time.Now()
	if j.ID != "orphan" || j.Attempts != 2 || at.Before(expires) {
		t.Fatalf("%+v at %v, lease ended at %v", j, at, expires)
	}
	if at.Sub(expires) > 5*time.Second {
		t.Errorf("claimed %v after the lease ended", at.Sub(expires))
	}
}
