package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the server on a free loopback port until the test ends.
func start(t *testing.T, db string, env map[string]string) (addr string, stdout *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &syncBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db}, getenv, stdout, io.Discard, ready)
	}()
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("server exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return addr, stdout
}

var keyRE = regexp.MustCompile(`mem_[a-z]+_[0-9A-Za-z]+`)

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, out
}

func TestServerBootstrapAndSession(t *testing.T) {
	db := filepath.Join(t.TempDir(), "server.db")
	addr, stdout := start(t, db, nil)
	key := keyRE.FindString(stdout.String())
	if _, err := keys.Parse(key); err != nil {
		t.Fatalf("no valid admin key printed: %q", stdout.String())
	}
	base := "http://" + addr
	// Healthy once the search index, built in the background after Open,
	// is ready (vector_store is degraded until then).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, body := call(t, "GET", base+"/v1/health", "", "")
		if st == 200 && body["status"] == "healthy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health %d %v", st, body)
		}
	}
	st, m := call(t, "POST", base+"/v1/memories", key, `{"agent_id":"agent-123","content":"The user prefers TypeScript over JavaScript for new projects."}`)
	if st != 201 {
		t.Fatalf("create %d %v", st, m)
	}
	st, res := call(t, "POST", base+"/v1/memories/search", key, `{"query":"What programming language does the user prefer?","agent_id":"agent-123","limit":5}`)
	if st != 200 || len(res["data"].([]any)) != 1 {
		t.Fatalf("search %d %v", st, res)
	}
	if st, _ := call(t, "GET", base+"/v1/agents", key, ""); st != 200 {
		t.Fatalf("agents %d", st)
	}
}

func TestServerPrintsKeyOnlyOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "server.db")
	{
		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", db}, func(string) string { return "" }, out, io.Discard, ready)
		}()
		<-ready
		cancel() // graceful shutdown, as on SIGTERM
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !keyRE.MatchString(out.String()) {
			t.Fatalf("first start printed no key: %q", out.String())
		}
	}
	_, stdout := start(t, db, nil)
	if keyRE.MatchString(stdout.String()) {
		t.Fatalf("second start printed a key: %q", stdout.String())
	}
}

func TestServerBootstrapKeyFromEnv(t *testing.T) {
	tok, err := keys.Generate("test")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "server.db")
	addr, stdout := start(t, db, map[string]string{"MEMORYRELAY_BOOTSTRAP_KEY": tok.Reveal()})
	if strings.Contains(stdout.String(), tok.Reveal()) {
		t.Fatal("the bootstrap key was echoed")
	}
	if st, body := call(t, "GET", "http://"+addr+"/v1/agents", tok.Reveal(), ""); st != 200 {
		t.Fatalf("bootstrap key rejected: %d %v", st, body)
	}
}

func TestServerRejectsMalformedBootstrapKey(t *testing.T) {
	db := filepath.Join(t.TempDir(), "server.db")
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-db", db},
		func(k string) string {
			if k == "MEMORYRELAY_BOOTSTRAP_KEY" {
				return "mem_live_tooshort"
			}
			return ""
		}, io.Discard, io.Discard, nil)
	if err == nil || strings.Contains(err.Error(), "tooshort") {
		t.Fatalf("got %v", err)
	}
}

// MEMORYRELAY_SERVER_SECRET turns on the extraction-keys API (503
// without it) and MEMORYRELAY_AUTO_EXTRACT extracts the entities of
// creates that do not say.
func TestServerExtractionFromEnv(t *testing.T) {
	addr, stdout := start(t, filepath.Join(t.TempDir(), "plain.db"), nil)
	key := keyRE.FindString(stdout.String())
	base := "http://" + addr
	if st, body := call(t, "POST", base+"/v1/extraction/keys", key, `{"provider":"openai","model":"gpt-4o-mini","api_key":"sk-test-1234567890abcdef"}`); st != 503 {
		t.Errorf("extraction key without a secret: %d %v", st, body)
	}
	if st, m := call(t, "POST", base+"/v1/memories", key, `{"content":"Ada Lovelace moved to Berlin."}`); st != 201 || m["extraction_status"] != nil {
		t.Errorf("create without auto-extract: %d %v", st, m)
	}

	addr, stdout = start(t, filepath.Join(t.TempDir(), "hosted.db"), map[string]string{
		"MEMORYRELAY_SERVER_SECRET": strings.Repeat("s", 32),
		"MEMORYRELAY_AUTO_EXTRACT":  "true",
	})
	key = keyRE.FindString(stdout.String())
	base = "http://" + addr
	if st, body := call(t, "POST", base+"/v1/extraction/keys", key, `{"provider":"openai","model":"gpt-4o-mini","api_key":"sk-test-1234567890abcdef"}`); st != 201 {
		t.Errorf("extraction key with a secret: %d %v", st, body)
	}
	// Without an active key the server's built-in extractor runs.
	if st, m := call(t, "POST", base+"/v1/extraction/keys/deactivate-all", key, ""); st != 200 {
		t.Errorf("deactivate-all: %d %v", st, m)
	}
	st, m := call(t, "POST", base+"/v1/memories", key, `{"content":"Ada Lovelace moved to Berlin."}`)
	if st != 201 || m["extraction_status"] != "completed" {
		t.Fatalf("create with auto-extract: %d %v", st, m)
	}
}
