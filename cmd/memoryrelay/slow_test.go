package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSlowClientsAreCutOff: a client that sends its headers a byte at a
// time (slowloris) is disconnected after the header timeout, an oversized
// header is refused, and other clients are served meanwhile.
func TestSlowClientsAreCutOff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	args := []string{"serve", "-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "s.db"),
		"-read-header-timeout", "300ms", "-read-timeout", "1s", "-max-header-bytes", "4096"}
	sys := &system{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard, listening: func(_, addr string) { ready <- addr }}
	go func() { done <- run(ctx, args, sys) }()
	addr := <-ready
	defer func() {
		cancel()
		<-done
	}()

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	cut := make(chan time.Duration, 1)
	go func() {
		// Trickle a header, one byte every 50ms, until the server hangs up.
		for _, b := range []byte("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200)) {
			if _, err := conn.Write([]byte{b}); err != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cut <- time.Since(start)
	}()

	// Meanwhile a normal client is served, several times.
	for i := 0; i < 5; i++ {
		res, err := http.Get("http://" + addr + "/v1/health")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("normal client: %v %v", res, err)
		}
		res.Body.Close()
	}

	select {
	case d := <-cut:
		if d > 3*time.Second {
			t.Fatalf("slow client kept for %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow client never cut off")
	}

	// A header over the limit gets 431, not a hang.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", 10000)+"\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c2), nil)
	if err != nil || res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized header: %v %v", res, err)
	}
}
