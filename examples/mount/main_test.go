package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMount(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", filepath.Join(t.TempDir(), "m.db"), io.Discard, ready) }()
	var addr, key string
	select {
	case r := <-ready:
		addr, key = r[0], r[1]
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready")
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// Healthy once the search index, built in the background after Open,
	// is ready (vector_store is degraded until then).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		res, err := http.Get("http://" + addr + "/memory/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(b), `"status":"healthy"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health %d %s", res.StatusCode, b)
		}
	}
	for _, c := range []struct {
		method, path, key, body string
		status                  int
		contains                string
	}{
		{"GET", "/", "", "", 200, "public page"},
		{"GET", "/memory/v1/health", "", "", 200, `"status":"healthy"`},
		{"GET", "/reports", "", "", 401, "Invalid API key"},
		{"GET", "/reports", key, "", 200, `"report":"ok"`},
		{"POST", "/memory/v1/memories", key, `{"content":"mounted"}`, 201, `"content":"mounted"`},
		{"GET", "/memory/v1/memories", key, "", 200, `"total":1`},
		{"DELETE", "/memory/v1/memories/00000000-0000-4000-8000-000000000000", key, "", 403, "Required: delete"},
	} {
		req, _ := http.NewRequest(c.method, "http://"+addr+c.path, strings.NewReader(c.body))
		if c.key != "" {
			req.Header.Set("X-API-Key", c.key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status || !strings.Contains(string(b), c.contains) {
			t.Errorf("%s %s: %d %s", c.method, c.path, res.StatusCode, b)
		}
	}
}
