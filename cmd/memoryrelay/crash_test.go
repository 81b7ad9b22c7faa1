package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/keys"
)

var crashRounds = flag.Int("crash.rounds", 6, "how many times TestCrashSafety kills the server (the full run uses 20 or more)")

// ledger is what the clients were told. A memory acknowledged with 2xx
// must survive every crash with one of the contents it may have (the last
// acknowledged, or a later update that was in flight when the server died);
// an acknowledged delete must stay deleted.
type ledger struct {
	mu       sync.Mutex
	contents map[string]map[string]bool // id → contents it may have
	deleted  map[string]bool            // deletes acknowledged
	deleting map[string]bool            // deletes in flight at a crash: either way is fine
	v2       map[string]bool            // v2 ids accepted with 202
	busy     map[string]bool            // ids with an update or delete in flight: one at a time
}

func newLedger() *ledger {
	return &ledger{contents: map[string]map[string]bool{}, deleted: map[string]bool{}, deleting: map[string]bool{}, v2: map[string]bool{}, busy: map[string]bool{}}
}

func (l *ledger) ack(id, content string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.contents[id] = map[string]bool{content: true}
}

// pick reserves an acknowledged, live memory for one update or delete, so
// that the order of acknowledgements is the order of the writes.
func (l *ledger) pick(rng *rand.Rand) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.contents { // map order is random enough
		if rng.IntN(3) == 0 && !l.deleted[id] && !l.deleting[id] && !l.busy[id] {
			l.busy[id] = true
			return id, true
		}
	}
	return "", false
}

func (l *ledger) release(id string) {
	l.mu.Lock()
	delete(l.busy, id)
	l.mu.Unlock()
}

// TestCrashSafety runs memoryrelay serve as a child process on one
// database, drives concurrent creates, updates, deletes, batches and v2
// ingests, kills it with SIGKILL at random moments, restarts it, and checks
// that nothing acknowledged was lost, the database is intact, and its
// indexes agree with the memories table.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server repeatedly")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	tok, err := keys.Generate("test")
	if err != nil {
		t.Fatal(err)
	}
	key := tok.Reveal()
	db := filepath.Join(dir, "crash.db")
	led := newLedger()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	for round := 0; round < *crashRounds; round++ {
		cmd, base := startServer(t, bin, db, key)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				clientLoop(ctx, base, key, led, rand.New(rand.NewPCG(seed, uint64(round))))
			}(uint64(w))
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		stop()
		wg.Wait()
	}

	// Restart once more and check everything that was acknowledged.
	cmd, base := startServer(t, bin, db, key)
	led.mu.Lock()
	defer led.mu.Unlock()
	if len(led.contents) < 50 {
		t.Fatalf("only %d memories acknowledged: the load did not run", len(led.contents))
	}
	for id, allowed := range led.contents {
		st, body := get(t, base+"/v1/memories/"+id, key)
		switch {
		case led.deleted[id]:
			if st != 404 {
				t.Errorf("memory %s: delete was acknowledged, now %d", id, st)
			}
		case led.deleting[id]:
		case st != 200:
			t.Errorf("memory %s: acknowledged, now %d", id, st)
		case !allowed[body["content"].(string)]:
			t.Errorf("memory %s: content %q is none of %v", id, body["content"], allowed)
		}
	}
	// v2 jobs accepted before a crash finish after the restart.
	deadline := time.Now().Add(30 * time.Second)
	for id := range led.v2 {
		for {
			st, body := get(t, base+"/v2/memories/"+id+"/status", key)
			if st == 200 && (body["status"] == "ready" || body["status"] == "failed") {
				if body["status"] != "ready" {
					t.Errorf("v2 %s failed: %v", id, body["error"])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("v2 %s not done after restart: %d %v", id, st, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	raw, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ok string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	var mems, vecs, fts, orphans int
	raw.QueryRow("SELECT count(*) FROM memories").Scan(&mems)
	raw.QueryRow("SELECT count(*) FROM memory_vectors").Scan(&vecs)
	raw.QueryRow("SELECT count(*) FROM memory_fts").Scan(&fts)
	raw.QueryRow("SELECT count(*) FROM memory_fts f WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.seq = f.docid)").Scan(&orphans)
	if mems != vecs || mems != fts || orphans != 0 {
		t.Fatalf("indexes disagree: %d memories, %d vectors, %d fts rows, %d orphans", mems, vecs, fts, orphans)
	}
	t.Logf("%d crashes; %d memories acknowledged, %d deletes, %d v2 jobs; %d memories stored", *crashRounds, len(led.contents), len(led.deleted), len(led.v2), mems)
}

var listenRE = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

func startServer(t *testing.T, bin, db, key string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0", "-db", db, "-request-log=false")
	cmd.Env = append(os.Environ(), "MEMORYRELAY_BOOTSTRAP_KEY="+key, "MEMORYRELAY_RATE_LIMIT=1000000")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	addr := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("server did not start")
	}
	return nil, ""
}

var hc = &http.Client{Timeout: 10 * time.Second}

func send(ctx context.Context, method, url, key string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return 0, nil, err // a cut-off answer is no acknowledgement
	}
	return res.StatusCode, out, nil
}

func get(t *testing.T, url, key string) (int, map[string]any) {
	t.Helper()
	st, body, err := send(context.Background(), "GET", url, key, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return st, body
}

// clientLoop sends a mix of writes until ctx ends or the server dies,
// recording in led what was acknowledged.
func clientLoop(ctx context.Context, base, key string, led *ledger, rng *rand.Rand) {
	for ctx.Err() == nil {
		content := fmt.Sprintf("crash memory %d %d", rng.Uint64(), time.Now().UnixNano())
		switch op := rng.IntN(10); {
		case op < 4:
			st, body, err := send(ctx, "POST", base+"/v1/memories", key, map[string]any{"content": content, "agent_id": "crash"})
			if err != nil {
				return
			}
			if st == 201 {
				led.ack(body["id"].(string), content)
			}
		case op < 6:
			id, ok := led.pick(rng)
			if !ok {
				continue
			}
			led.mu.Lock()
			led.contents[id][content] = true // in flight: may land without an answer
			led.mu.Unlock()
			st, _, err := send(ctx, "PATCH", base+"/v1/memories/"+id, key, map[string]any{"content": content})
			if err != nil {
				led.release(id)
				return
			}
			if st == 200 {
				led.ack(id, content)
			}
			led.release(id)
		case op < 7:
			id, ok := led.pick(rng)
			if !ok {
				continue
			}
			led.mu.Lock()
			led.deleting[id] = true
			led.mu.Unlock()
			st, _, err := send(ctx, "DELETE", base+"/v1/memories/"+id, key, nil)
			if err != nil {
				led.release(id)
				return
			}
			led.mu.Lock()
			if st == 200 {
				led.deleted[id] = true
			}
			delete(led.deleting, id)
			delete(led.busy, id)
			led.mu.Unlock()
		case op < 8:
			items := make([]map[string]any, 5)
			for i := range items {
				items[i] = map[string]any{"content": fmt.Sprintf("%s batch %d", content, i)}
			}
			st, body, err := send(ctx, "POST", base+"/v1/memories/batch", key, map[string]any{"memories": items, "agent_id": "crash"})
			if err != nil {
				return
			}
			if st == 200 {
				for i, r := range body["results"].([]any) {
					r := r.(map[string]any)
					if r["status"] == "success" {
						led.ack(r["memory_id"].(string), fmt.Sprintf("%s batch %d", content, i))
					}
				}
			}
		default:
			st, body, err := send(ctx, "POST", base+"/v2/memories", key, map[string]any{"content": content, "agent_id": "crash"})
			if err != nil {
				return
			}
			if st == 202 {
				led.mu.Lock()
				led.v2[body["id"].(string)] = true
				led.mu.Unlock()
			}
		}
	}
}
