package clustertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// The environment of a node process: the test binary started again with
// nodeEnv set runs one node (runNode) instead of the tests, so that a test
// can kill a node with SIGKILL, as a crash or an OOM kill would.
const (
	nodeEnv        = "CLUSTERTEST_NODE"         // the PostgreSQL URL
	nodeLeaseEnv   = "CLUSTERTEST_NODE_LEASE"   // Options.JobLease
	nodeEmbedEnv   = "CLUSTERTEST_NODE_EMBED"   // how long each embedding takes
	nodeWebhookEnv = "CLUSTERTEST_NODE_WEBHOOK" // the host:port webhooks may reach
)

// slowEmbedder is the built-in embedder taking d per call, so that a job
// is long enough to be caught in flight. Model and dimension are the
// built-in's: nodes with and without the delay share a database.
type slowEmbedder struct {
	embed.Embedder
	d time.Duration
}

func (e slowEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	select {
	case <-time.After(e.d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.Embedder.Embed(ctx, texts)
}

// nodeOptions are the options of a node of the jobs test.
func nodeOptions(pgURL string, lease, embedDelay time.Duration, webhookHost string) memoryrelay.Options {
	return memoryrelay.Options{
		PostgresURL: pgURL, RateLimit: 1_000_000, Workers: 2, JobLease: lease,
		Embedder: slowEmbedder{embed.NewHashing(0), embedDelay},
		Webhooks: memoryrelay.WebhookOptions{Enabled: true, AllowedHosts: []string{webhookHost}, MaxAttempts: 1, Timeout: webhookTimeout},
	}
}

// webhookTimeout bounds a node's delivery attempts (the receiver is a
// local httptest server). A delivery a node has claimed stays leased to
// it for the attempt's timeout plus 30 s (the dispatcher's LeaseFor by
// default), so one that the killed node had claimed but not recorded is
// made by another node only after deliveryLease.
const (
	webhookTimeout = 2 * time.Second
	deliveryLease  = webhookTimeout + 30*time.Second
)

// runNode runs a node with the options of its environment, serving the
// REST API on a loopback port it prints ("listening host:port"), until it
// is killed.
func runNode() int {
	lease, _ := time.ParseDuration(os.Getenv(nodeLeaseEnv))
	delay, _ := time.ParseDuration(os.Getenv(nodeEmbedEnv))
	r, err := memoryrelay.Open(context.Background(), nodeOptions(os.Getenv(nodeEnv), lease, delay, os.Getenv(nodeWebhookEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	api, err := httpapi.New(r, httpapi.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	fmt.Printf("listening %s\n", ln.Addr())
	return func() int { fmt.Fprintln(os.Stderr, "node:", http.Serve(ln, api)); return 1 }()
}

// startNodeProcess starts a node process and returns it with its URL.
func startNodeProcess(t *testing.T, pgURL string, lease, embedDelay time.Duration, webhookHost string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeEnv+"="+pgURL, nodeLeaseEnv+"="+lease.String(), nodeEmbedEnv+"="+embedDelay.String(), nodeWebhookEnv+"="+webhookHost)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				line <- addr
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case addr := <-line:
		return cmd, "http://" + addr
	case <-time.After(60 * time.Second):
		t.Fatal("the node process did not start")
	}
	return nil, ""
}

// jobRow is a v2 job as the database holds it.
type jobRow struct {
	id, memoryID, status, owner string
	attempts                    int
	expires, updated            int64
}

func readJobs(t *testing.T, conn *pgx.Conn) map[string]jobRow {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT id, memory_id, status, coalesce(lease_owner, ''), attempts, lease_expires, updated_at FROM jobs")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]jobRow{}
	for rows.Next() {
		var j jobRow
		if err := rows.Scan(&j.id, &j.memoryID, &j.status, &j.owner, &j.attempts, &j.expires, &j.updated); err != nil {
			t.Fatal(err)
		}
		out[j.id] = j
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJobsLeasedAcrossNodes: v2 jobs accepted by node A, a process, are
// worked on by A until it is killed with SIGKILL in the middle of two of
// them. Node B, started after, takes the pending ones at once and A's
// two only once their leases have expired, counting a second attempt;
// every job ends ready with its memory stored once, and no job's final
// status is delivered twice.
func TestJobsLeasedAcrossNodes(t *testing.T) {
	const (
		jobs  = 12
		lease = 2 * time.Second
		work  = 300 * time.Millisecond
	)
	pgURL := pgtest.NewDatabase(t)
	var mu sync.Mutex
	delivered := map[string]map[string]int{} // memory id → embedding.completed event id → deliveries
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct{ ID, Status string }
		}
		if err := json.NewDecoder(r.Body).Decode(&e); err == nil && e.Type == "embedding.completed" && (e.Data.Status == "ready" || e.Data.Status == "failed") {
			mu.Lock()
			if delivered[e.Data.ID] == nil {
				delivered[e.Data.ID] = map[string]int{}
			}
			delivered[e.Data.ID][e.ID]++
			mu.Unlock()
		}
	}))
	defer hook.Close()
	hu, _ := url.Parse(hook.URL)

	procA, aURL := startNodeProcess(t, pgURL, lease, work, hu.Host)
	// An admin key, made on a node of this process: nodes share the keys.
	setup := openNode(t, memoryrelay.Options{PostgresURL: pgURL, Workers: -1, Embedder: embed.NewHashing(0), ExactSearch: true})
	c := &cluster{nodes: []*node{{relay: setup}}}
	_, admin := c.account(t)
	ids := map[string]bool{}
	for i := range jobs {
		out := must(t, http.StatusAccepted, "POST", aURL+"/v2/memories", admin,
			map[string]any{"content": fmt.Sprintf("job %d: the kingfisher dives for a fish", i), "webhook_url": hook.URL + "/hook"})
		ids[out["id"].(string)] = true
	}
	conn, err := pgx.Connect(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Wait until A has finished some jobs and is in the middle of two.
	if _, ok := until(30*time.Second, func() bool {
		ready, processing := 0, 0
		for _, j := range readJobs(t, conn) {
			switch j.status {
			case "ready":
				ready++
			case "processing":
				processing++
			}
		}
		return ready >= 2 && processing == 2
	}); !ok {
		t.Fatalf("node A never had two jobs in flight: %+v", readJobs(t, conn))
	}
	procA.Process.Kill()
	procA.Wait()
	killed := time.Now()
	atKill := readJobs(t, conn)
	var inFlight []jobRow
	for _, j := range atKill {
		if j.status == "processing" {
			inFlight = append(inFlight, j)
		}
	}
	if len(inFlight) == 0 {
		t.Fatalf("no job in flight when A was killed: %+v", atKill)
	}
	t.Logf("killed A with %d jobs in flight", len(inFlight))

	openNode(t, nodeOptions(pgURL, lease, 0, hu.Host)) // node B
	if _, ok := until(30*time.Second, func() bool {
		for _, j := range readJobs(t, conn) {
			if j.status != "ready" {
				return false
			}
		}
		return true
	}); !ok {
		t.Fatalf("not every job ended ready: %+v", readJobs(t, conn))
	}
	resumed := time.Since(killed)
	final := readJobs(t, conn)
	for _, j := range inFlight {
		f := final[j.id]
		if f.attempts != j.attempts+1 || f.owner == j.owner {
			t.Errorf("job %s in flight at the kill: attempts %d → %d, owner %s → %s; want another node's second attempt", j.id, j.attempts, f.attempts, j.owner, f.owner)
		}
		if f.updated < j.expires {
			t.Errorf("job %s finished at %d, before the dead node's lease ended at %d", j.id, f.updated, j.expires)
		}
	}
	var memories int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM memories WHERE id = ANY($1)", keysOf(ids)).Scan(&memories); err != nil {
		t.Fatal(err)
	}
	if memories != jobs {
		t.Errorf("%d memories stored for %d jobs", memories, jobs)
	}
	// Deliveries, from the outbox the nodes share: every job's
	// embedding.completed event is delivered, the ones A finished and
	// did not get to send too (B sends them), one event per job; a
	// delivery A had in flight at the kill may come twice (at least
	// once), with the same event id, B's attempt once A's lease on it
	// has expired (deliveryLease after A claimed it).
	var missing []string
	if _, ok := until(deliveryLease+15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		missing = missing[:0]
		for id := range ids {
			if len(delivered[id]) == 0 {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0
	}); !ok {
		t.Errorf("memories whose embedding.completed never came: %v", missing)
	}
	mu.Lock()
	defer mu.Unlock()
	for id := range ids {
		if len(delivered[id]) > 1 {
			t.Errorf("memory %s: %d distinct embedding.completed events; want one", id, len(delivered[id]))
		}
	}
	t.Logf("every job ready %s after the kill (lease %v)", ms(resumed), lease)
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
