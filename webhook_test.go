package memoryrelay_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// hookServer records the webhook requests it gets; reply chooses the
// status of the nth (1-based) request.
type hookServer struct {
	*httptest.Server
	reqs chan hookReq
}

type hookReq struct {
	n      int
	method string
	header http.Header
	body   []byte
}

func newHookServer(t testing.TB, reply func(n int) int) *hookServer {
	t.Helper()
	s := &hookServer{reqs: make(chan hookReq, 64)}
	var mu sync.Mutex
	n := 0
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		k := n
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		s.reqs <- hookReq{n: k, method: r.Method, header: r.Header.Clone(), body: body}
		w.WriteHeader(reply(k))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hookServer) host() string { u, _ := url.Parse(s.URL); return u.Host }

// next returns the next request, failing after a while without one.
func (s *hookServer) next(t testing.TB) hookReq {
	t.Helper()
	select {
	case r := <-s.reqs:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook request")
		return hookReq{}
	}
}

// none asserts that no request has arrived.
func (s *hookServer) none(t testing.TB) {
	t.Helper()
	select {
	case r := <-s.reqs:
		t.Fatalf("unexpected webhook request %d: %s", r.n, r.body)
	default:
	}
}

func ok200(int) int { return http.StatusOK }

// sleeps is an injected WebhookOptions.Sleep that records the waits and
// returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// enqueue makes a v2 create with a webhook and waits for it to finish.
func enqueue(t testing.TB, r *memoryrelay.Relay, acct, content, hook string) memory.Job {
	t.Helper()
	st, err := r.Account(acct).Memories().CreateAsync(context.Background(), memory.NewMemory{Content: content}, memory.AsyncOptions{WebhookURL: &hook})
	if err != nil {
		t.Fatal(err)
	}
	return waitJob(t, r, acct, st.ID)
}

// The sender itself (allow-list, signing, retries, timeouts, the queue)
// is package webhook's, tested there. These tests are the wiring: a v2
// job's final status reaches its webhook_url through Options.Webhooks.

// WebhookOptions reach the sender: off by default (webhook_url accepted
// and ignored), AllowedHosts, MaxAttempts and Sleep.
func TestWebhookOptions(t *testing.T) {
	target := newHookServer(t, func(int) int { return http.StatusServiceUnavailable })
	control := newHookServer(t, ok200)
	t.Run("disabled", func(t *testing.T) {
		r, _ := open(t, memoryrelay.Options{Workers: 1, Webhooks: memoryrelay.WebhookOptions{AllowedHosts: []string{target.host()}}})
		acct := account(t, r)
		enqueue(t, r, acct, "webhooks off", target.URL+"/hook")
		r.Close() // no sender goroutine exists; nothing can be in flight
		target.none(t)
	})
	t.Run("enabled", func(t *testing.T) {
		var sl sleeps
		r, _ := open(t, memoryrelay.Options{Workers: 1, Webhooks: memoryrelay.WebhookOptions{
			Enabled: true, AllowedHosts: []string{target.host(), control.host()}, MaxAttempts: 2, Concurrency: 1, Sleep: sl.sleep}})
		acct := account(t, r)
		enqueue(t, r, acct, "to a host not allowed", "http://example.com/hook")
		enqueue(t, r, acct, "to the target", target.URL+"/hook")
		enqueue(t, r, acct, "to the control", control.URL+"/hook")
		target.next(t)
		target.next(t)
		control.next(t) // one sender: the target's delivery is over
		target.none(t)
		if got := sl.get(); !slices.Equal(got, []time.Duration{time.Second}) {
			t.Errorf("sleeps %v", got)
		}
	})
}

func TestWebhookSignedStatus(t *testing.T) {
	srv := newHookServer(t, ok200)
	secret := []byte("s3cret")
	r, _ := open(t, memoryrelay.Options{Webhooks: memoryrelay.WebhookOptions{
		Enabled: true, AllowedHosts: []string{strings.ToUpper(srv.host())}, Secret: secret}})
	acct := account(t, r)
	for _, c := range []struct {
		name, content string
		dedup         bool
		status        string
	}{
		{"ready", darkMode, false, "ready"},
		{"failed", darkMode, true, "failed"}, // a duplicate of the first
	} {
		t.Run(c.name, func(t *testing.T) {
			hook := srv.URL + "/hook?x=1"
			st, err := r.Account(acct).Memories().CreateAsync(context.Background(), memory.NewMemory{Content: c.content, Deduplicate: c.dedup}, memory.AsyncOptions{WebhookURL: &hook})
			if err != nil {
				t.Fatal(err)
			}
			req := srv.next(t)
			if req.method != http.MethodPost || req.header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %q", req.method, req.header.Get("Content-Type"))
			}
			mac := hmac.New(sha256.New, secret)
			mac.Write(req.body)
			want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
			if got := req.header.Get(memoryrelay.WebhookSignatureHeader); got != want || got != memoryrelay.SignWebhook(secret, req.body) ||
				memoryrelay.WebhookSignatureHeader != "X-MemoryRelay-Signature" {
				t.Errorf("signature %q, want %q", got, want)
			}
			var body map[string]any
			if err := json.Unmarshal(req.body, &body); err != nil {
				t.Fatal(err)
			}
			final := waitJob(t, r, acct, st.ID)
			if body["id"] != st.ID || body["job_id"] != st.JobID || body["status"] != c.status ||
				body["created_at"] != float64(final.CreatedAt.UnixMilli()) || body["updated_at"] != float64(final.UpdatedAt.UnixMilli()) {
				t.Errorf("body %s", req.body)
			}
			errText, isString := body["error"].(string)
			if _, present := body["error"]; !present || isString != (c.status == "failed") || (isString && errText == "") {
				t.Errorf("error field in %s", req.body)
			}
		})
	}
}

// Relay.Close abandons a delivery in flight at once, however long the
// attempt's timeout.
func TestWebhookCloseAbandonsDelivery(t *testing.T) {
	hung := make(chan struct{}, 8)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		hung <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	r, _ := open(t, memoryrelay.Options{Webhooks: memoryrelay.WebhookOptions{Enabled: true,
		AllowedHosts: []string{strings.TrimPrefix(hang.URL, "http://")}, Timeout: time.Hour}})
	acct := account(t, r)
	enqueue(t, r, acct, "hang during close", hang.URL)
	<-hung
	t0 := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}
