package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

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

// TestServer: the first start prints an admin key that works, the second
// prints none, and cancelling the context shuts the server down cleanly.
func TestServer(t *testing.T) {
	db := filepath.Join(t.TempDir(), "server.db")
	start := func() (string, *syncBuffer, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() { done <- run(ctx, "127.0.0.1:0", db, out, ready) }()
		select {
		case addr := <-ready:
			return "http://" + addr, out, func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("run: %v", err)
				}
			}
		case err := <-done:
			t.Fatalf("run: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("did not start")
		}
		return "", nil, nil
	}
	base, out, stop := start()
	key := regexp.MustCompile(`mem_live_[0-9A-Za-z]+`).FindString(out.String())
	if key == "" {
		t.Fatalf("no key printed: %q", out.String())
	}
	req, _ := http.NewRequest("POST", base+"/v1/memories", strings.NewReader(`{"agent_id":"a","content":"the example serves"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("create: %d", res.StatusCode)
	}
	stop()
	_, out, stop = start()
	defer stop()
	if strings.Contains(out.String(), "mem_") {
		t.Fatalf("second start printed a key: %q", out.String())
	}
}
