package memoryrelay_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

var (
	uuidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	jobIDRE = regexp.MustCompile(`^job_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// waitJob polls the status of a v2 create until it is ready or failed.
// The workers run in the background, so there is nothing to wait on but
// the status itself.
func waitJob(t testing.TB, r *memoryrelay.Relay, acct, id string) memory.Job {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		st, err := r.Account(acct).Memories().Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == memory.JobReady || st.Status == memory.JobFailed {
			return st
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("job %s still %s", id, st.Status)
		}
	}
}

// gatedEmbedder is the built-in embedder whose Embed announces itself on
// entered and then waits for gate to close or its context to end.
type gatedEmbedder struct {
	embed.Embedder
	entered chan struct{}
	gate    chan struct{}
}

func newGated() *gatedEmbedder {
	return &gatedEmbedder{Embedder: embed.NewHashing(0), entered: make(chan struct{}, 16), gate: make(chan struct{})}
}

func (g *gatedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Embedder.Embed(ctx, texts)
}

// writeDB runs a statement on the database file of a closed relay, as a
// crash would have left it.
func writeDB(t testing.TB, path, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func TestCreateMemoryAsync(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	r, _ := open(t, memoryrelay.Options{Now: func() time.Time { return at }})
	acct := account(t, r)
	other := account(t, r)

	st, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: "Async fact.", AgentID: "bot", Project: pointerTo("async-proj")}, memory.AsyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !uuidRE.MatchString(st.ID) || !jobIDRE.MatchString(st.JobID) || st.Status != memory.JobPending || st.Error != nil || !st.CreatedAt.Equal(at) {
		t.Fatalf("accepted %+v", st)
	}
	done := waitJob(t, r, acct, st.ID)
	if done.Status != memory.JobReady || done.Error != nil || done.JobID != st.JobID || done.UpdatedAt.Before(done.CreatedAt) {
		t.Fatalf("final %+v", done)
	}
	m, err := r.Account(acct).Memories().Get(ctx, st.ID)
	if err != nil || m.Content != "Async fact." || m.AgentID != "bot" || !m.CreatedAt.Equal(at) || m.ProjectID == nil {
		t.Fatalf("memory %+v %v", m, err)
	}
	// The job id finds it too; other accounts and other ids find nothing.
	if byJob, err := r.Account(acct).Memories().Job(ctx, st.JobID); err != nil || byJob.ID != st.ID {
		t.Errorf("by job id: %+v %v", byJob, err)
	}
	for _, c := range []struct{ acct, id string }{
		{other, st.ID}, {other, st.JobID}, {acct, "00000000-0000-4000-8000-000000000000"},
		{acct, "not-a-uuid"}, {acct, "job_nope"}, {acct, "job_00000000-0000-4000-8000-000000000000"},
	} {
		if _, err := r.Account(c.acct).Memories().Job(ctx, c.id); !errors.Is(err, memoryrelay.ErrNotFound) {
			t.Errorf("%s: %v", c.id, err)
		}
	}
	// A memory created synchronously reports ready.
	sync, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "sync"})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := r.Account(acct).Memories().Job(ctx, sync.Memory.ID); err != nil || s.Status != memory.JobReady || s.JobID != "" {
		t.Errorf("sync memory: %+v %v", s, err)
	}
}

func TestCreateMemoryAsyncInvalid(t *testing.T) {
	ctx := context.Background()
	r, path := open(t, memoryrelay.Options{})
	acct := account(t, r)
	long := "https://example.com/" + strings.Repeat("a", memory.MaxWebhookURL)
	for _, c := range []struct {
		name  string
		in    memory.NewMemory
		hook  string
		field string
	}{
		{"blank content", memory.NewMemory{Content: " \n"}, "", "Content"},
		{"unknown session", memory.NewMemory{Content: "x", SessionID: pointerTo("6f1c2f4e-8a47-4c1e-9d8e-3b0f6f4a2b11")}, "", "SessionID"},
		{"malformed session", memory.NewMemory{Content: "x", SessionID: pointerTo("s1")}, "", "SessionID"},
		{"importance", memory.NewMemory{Content: "x", Importance: pointerTo(1.5)}, "", "Importance"},
		{"dedup threshold", memory.NewMemory{Content: "x", DedupThreshold: pointerTo(0.2)}, "", "DedupThreshold"},
		{"webhook scheme", memory.NewMemory{Content: "x"}, "ftp://example.com/hook", "WebhookURL"},
		{"webhook relative", memory.NewMemory{Content: "x"}, "/hook", "WebhookURL"},
		{"webhook userinfo", memory.NewMemory{Content: "x"}, "https://u:p@example.com/hook", "WebhookURL"},
		{"webhook too long", memory.NewMemory{Content: "x"}, long, "WebhookURL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var hook *string
			if c.hook != "" {
				hook = &c.hook
			}
			_, err := r.Account(acct).Memories().CreateAsync(ctx, c.in, memory.AsyncOptions{WebhookURL: hook})
			var verr *memory.ValidationError
			if !errors.As(err, &verr) || verr.Field() != c.field {
				t.Fatalf("got %v, want a validation error for %s", err, c.field)
			}
		})
	}
	if n := count(t, rawDB(t, path), "SELECT count(*) FROM jobs"); n != 0 {
		t.Errorf("%d jobs stored for invalid requests", n)
	}
}

// A v2 create with deduplicate that finds a duplicate stores nothing and
// fails, naming the existing memory: "ready" would promise a memory under
// the accepted id.
func TestCreateMemoryAsyncDuplicate(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	orig, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: darkMode})
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: darkMode, Deduplicate: true}, memory.AsyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := waitJob(t, r, acct, st.ID)
	if done.Status != memory.JobFailed || done.Error == nil || !strings.Contains(*done.Error, orig.Memory.ID) {
		t.Fatalf("%+v", done)
	}
	if _, err := r.Account(acct).Memories().Get(ctx, st.ID); !errors.Is(err, memoryrelay.ErrNotFound) {
		t.Errorf("duplicate stored: %v", err)
	}
}

// Close cancels in-flight work cleanly and unfinished jobs, pending or
// processing with no live lease (as a crash of an older binary leaves
// them: the lease migration gives them an expired one), complete at the
// next Open.
func TestJobsResumeAfterClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobs.db")
	gated := newGated()
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Embedder: gated, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	acct := account(t, r)
	var ids []string
	for _, text := range []string{"first queued", "second queued", "third queued"} {
		st, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: text}, memory.AsyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.ID)
	}
	<-gated.entered // the one worker holds the first job
	var statuses []string
	for _, id := range ids {
		st, err := r.Account(acct).Memories().Job(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, st.Status)
	}
	if !slices.Equal(statuses, []string{"processing", "pending", "pending"}) {
		t.Fatalf("statuses %v", statuses)
	}
	closed := make(chan error)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for a blocked job")
	}
	db := rawDB(t, path)
	if n := count(t, db, "SELECT count(*) FROM jobs WHERE status = 'pending' AND attempts = 0"); n != 3 {
		t.Fatalf("%d jobs released to pending", n)
	}
	// The memories were stored at accept time (API.md §10.1); cancelled
	// work indexed none of them.
	if n := count(t, db, "SELECT count(*) FROM memories"); n != 3 {
		t.Fatalf("%d memories stored at accept time, want 3", n)
	}
	if n := count(t, db, "SELECT count(*) FROM memory_vectors"); n != 0 {
		t.Fatalf("%d memories indexed by cancelled work", n)
	}
	// A crash while the second job was processing, and one that hit the
	// third so often it is given up.
	writeDB(t, path, "UPDATE jobs SET status = 'processing', attempts = 1 WHERE memory_id = ?", ids[1])
	writeDB(t, path, "UPDATE jobs SET status = 'processing', attempts = ? WHERE memory_id = ?", memoryrelay.MaxJobAttempts, ids[2])

	r2, _ := open(t, memoryrelay.Options{Path: path})
	for i, want := range []string{"ready", "ready", "failed"} {
		st := waitJob(t, r2, acct, ids[i])
		if st.Status != want {
			t.Errorf("job %d: %+v", i, st)
		}
		// Every memory is readable; only a ready one is indexed.
		if _, err := r2.Account(acct).Memories().Get(ctx, ids[i]); err != nil {
			t.Errorf("job %d: memory: %v", i, err)
		}
		indexed := count(t, rawDB(t, path), "SELECT count(*) FROM memory_vectors v JOIN memories m ON m.seq = v.seq WHERE m.id = '"+ids[i]+"'")
		if (indexed == 1) != (want == "ready") {
			t.Errorf("job %d (%s): %d vectors", i, want, indexed)
		}
	}
}

func TestJobOptions(t *testing.T) {
	for _, opts := range []memoryrelay.Options{
		{Workers: -2},
		{JobLease: -time.Second},
		{Webhooks: memoryrelay.WebhookOptions{Timeout: -time.Second}},
		{Webhooks: memoryrelay.WebhookOptions{MaxAttempts: -1}},
		{Webhooks: memoryrelay.WebhookOptions{Concurrency: -1}},
	} {
		opts.Path = filepath.Join(t.TempDir(), "x.db")
		r, err := memoryrelay.Open(context.Background(), opts)
		if err == nil {
			r.Close()
			t.Errorf("%+v: no error", opts)
		}
	}
	// Many workers share the queue without doing a job twice.
	ctx := context.Background()
	r, path := open(t, memoryrelay.Options{Workers: 8})
	acct := account(t, r)
	var ids []string
	for i := range 40 {
		st, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: "parallel " + string(rune('a'+i%26)) + strings.Repeat("x", i)}, memory.AsyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.ID)
	}
	for _, id := range ids {
		if st := waitJob(t, r, acct, id); st.Status != memory.JobReady {
			t.Fatalf("%+v", st)
		}
	}
	if n := count(t, rawDB(t, path), "SELECT count(*) FROM memories"); n != len(ids) {
		t.Fatalf("%d memories for %d jobs", n, len(ids))
	}
}

// BenchmarkCreateMemoryAsync measures a v2 create from acceptance to
// ready on an idle relay, polling the status without pause.
func BenchmarkCreateMemoryAsync(b *testing.B) {
	ctx := context.Background()
	r, _ := open(b, memoryrelay.Options{})
	acct := account(b, r)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		st, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: "Async memory number " + strings.Repeat("x", i%50)}, memory.AsyncOptions{})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		for {
			s, err := r.Account(acct).Memories().Job(ctx, st.ID)
			if err != nil {
				b.Fatal(err)
			}
			if s.Status == memory.JobReady {
				break
			}
			if s.Status == memory.JobFailed {
				b.Fatal(*s.Error)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// Options.JobLease, or DefaultJobLease, is the lease a worker claims a job
// under (the leases themselves are package jobs' tests: TestLeaseTwoRunners,
// TestLeaseOfDeadOwner).
func TestJobLeaseOption(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		lease time.Duration
		want  time.Duration
	}{
		{"default", 0, memoryrelay.DefaultJobLease},
		{"set", time.Minute, time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			gated := newGated()
			defer close(gated.gate)
			r, path := open(t, memoryrelay.Options{Embedder: gated, Workers: 1, JobLease: c.lease})
			acct := account(t, r)
			before := time.Now().Truncate(time.Millisecond) // the store keeps milliseconds
			st, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: "leased"}, memory.AsyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			<-gated.entered
			var expires int64
			if err := rawDB(t, path).QueryRow("SELECT lease_expires FROM jobs WHERE memory_id = ?", st.ID).Scan(&expires); err != nil {
				t.Fatal(err)
			}
			// The worker reads its clock before it waits for the store's
			// write lock, which the create may hold: its lease may start a
			// few milliseconds before the create began.
			if d := time.UnixMilli(expires).Sub(before); d < c.want-time.Second || d > c.want+5*time.Second {
				t.Errorf("lease ends %v after the create, want %v", d, c.want)
			}
		})
	}
}

// Relay.Close stops the job workers, the lease renewals and the webhook
// senders: no goroutine of package jobs or webhook is left.
func TestCloseStopsJobsAndWebhooks(t *testing.T) {
	ctx := context.Background()
	srv := newHookServer(t, ok200)
	gated := newGated()
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "c.db"), Embedder: gated, Workers: 3,
		JobLease: 40 * time.Millisecond, Webhooks: memoryrelay.WebhookOptions{Enabled: true, AllowedHosts: []string{srv.host()}}})
	if err != nil {
		t.Fatal(err)
	}
	acct := account(t, r)
	hook := srv.URL + "/hook"
	if _, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: "in flight"}, memory.AsyncOptions{WebhookURL: &hook}); err != nil {
		t.Fatal(err)
	}
	<-gated.entered // a worker holds it, renewing its lease
	if !goroutinesOf("internal/jobs.", "internal/webhook.") {
		t.Fatal("no goroutine of the runner or the senders while they work")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for goroutinesOf("internal/jobs.", "internal/webhook.") {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines left after Close:\n%s", buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// goroutinesOf reports whether a goroutine runs a function of one of the
// packages (suffixes of memoryrelay's import paths, with the dot).
func goroutinesOf(pkgs ...string) bool {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, p := range pkgs {
		if strings.Contains(stacks, "github.com/memoryrelay/memoryrelay/"+p) {
			return true
		}
	}
	return false
}

// TestCreateMemoryAsyncRename renames the agent a v2 create named while
// its job waits: the memory still goes to that agent, by its id, and no
// agent is made for the old name.
func TestCreateMemoryAsyncRename(t *testing.T) {
	ctx := context.Background()
	g := newGated()
	r, _ := open(t, memoryrelay.Options{Embedder: g})
	acct := account(t, r)
	if _, _, err := r.Account(acct).Agents().Create(ctx, memory.NewAgent{ID: "a1", Name: "Bot"}); err != nil {
		t.Fatal(err)
	}
	st, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: "Async fact.", AgentID: "Bot"}, memory.AsyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	renamed := "Robot"
	if _, err := r.Account(acct).Agents().Update(ctx, "a1", memory.AgentPatch{Name: &renamed}); err != nil {
		t.Fatal(err)
	}
	close(g.gate)
	if done := waitJob(t, r, acct, st.ID); done.Status != memory.JobReady {
		t.Fatalf("job %+v", done)
	}
	if m, err := r.Account(acct).Memories().Get(ctx, st.ID); err != nil || m.AgentID != "a1" {
		t.Errorf("memory %+v %v", m, err)
	}
	if p, err := r.Account(acct).Agents().List(ctx, memory.PageParams{Limit: 10, Offset: 0}); err != nil || p.Total != 1 {
		t.Errorf("agents %+v %v", p, err)
	}
}
