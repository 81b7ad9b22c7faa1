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

// Webhooks go only to allowed hosts. With one worker and one sender,
// deliveries run in job order, so once a later job's webhook to an allowed
// control server arrives, an earlier one to the target has been decided.
func TestWebhookOnlyAllowedHosts(t *testing.T) {
	target := newHookServer(t, ok200)
	control := newHookServer(t, ok200)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL+"/moved", http.StatusFound))
	t.Cleanup(redirect.Close)
	redirectHost := strings.TrimPrefix(redirect.URL, "http://")
	host, port, _ := strings.Cut(target.host(), ":")
	for _, c := range []struct {
		name    string
		allowed []string
		url     string
	}{
		{"host not listed", []string{"example.com"}, target.URL + "/hook"},
		{"host without its port", []string{host}, target.URL + "/hook"},
		{"other port", []string{host + ":1" + port}, target.URL + "/hook"},
		{"redirect to a host not allowed", []string{redirectHost}, redirect.URL + "/hook"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _ := open(t, memoryrelay.Options{Workers: 1, Webhooks: memoryrelay.WebhookOptions{
				Enabled: true, AllowedHosts: append(c.allowed, control.host()), Concurrency: 1}})
			acct := account(t, r)
			enqueue(t, r, acct, "to the target", c.url)
			enqueue(t, r, acct, "to the control", control.URL+"/hook")
			control.next(t)
			target.none(t)
		})
	}
	t.Run("disabled", func(t *testing.T) {
		r, _ := open(t, memoryrelay.Options{Workers: 1, Webhooks: memoryrelay.WebhookOptions{AllowedHosts: []string{target.host()}}})
		acct := account(t, r)
		enqueue(t, r, acct, "webhooks off", target.URL+"/hook")
		r.Close() // no sender goroutine exists; nothing can be in flight
		target.none(t)
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
			if got := req.header.Get("X-MemoryRelay-Signature"); got != want || got != memoryrelay.SignWebhook(secret, req.body) {
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

func TestWebhookRetries(t *testing.T) {
	for _, c := range []struct {
		name     string
		reply    func(n int) int
		attempts int
		requests int
		sleeps   []time.Duration
	}{
		{"500 then 200", func(n int) int { return map[bool]int{true: 500, false: 200}[n < 3] }, 5, 3, []time.Duration{time.Second, 2 * time.Second}},
		{"always 503", func(int) int { return 503 }, 4, 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"429 then 204", func(n int) int { return map[bool]int{true: 429, false: 204}[n < 2] }, 5, 2, []time.Duration{time.Second}},
		{"400 is final", func(int) int { return 400 }, 5, 1, nil},
		{"404 is final", func(int) int { return 404 }, 5, 1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newHookServer(t, c.reply)
			control := newHookServer(t, ok200)
			var sl sleeps
			r, _ := open(t, memoryrelay.Options{Workers: 1, Webhooks: memoryrelay.WebhookOptions{
				Enabled: true, AllowedHosts: []string{srv.host(), control.host()}, MaxAttempts: c.attempts, Concurrency: 1, Sleep: sl.sleep}})
			acct := account(t, r)
			st := enqueue(t, r, acct, "retry me", srv.URL)
			for i := range c.requests {
				if req := srv.next(t); req.n != i+1 {
					t.Fatalf("request %d", req.n)
				}
			}
			enqueue(t, r, acct, "after", control.URL)
			control.next(t) // the retried delivery is over
			srv.none(t)
			if got := sl.get(); !slices.Equal(got, c.sleeps) {
				t.Errorf("sleeps %v, want %v", got, c.sleeps)
			}
			if again := waitJob(t, r, acct, st.ID); again.Status != memory.JobReady {
				t.Errorf("job %+v", again)
			}
		})
	}
}

// A target that hangs is timed out and retried, while the workers and
// the other senders carry on; Close abandons it promptly.
func TestWebhookHangingTarget(t *testing.T) {
	hung := make(chan struct{}, 8)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		hung <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	good := newHookServer(t, ok200)
	var sl sleeps
	r, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: t.TempDir() + "/h.db", Workers: 1,
		Webhooks: memoryrelay.WebhookOptions{Enabled: true, AllowedHosts: []string{strings.TrimPrefix(hang.URL, "http://"), good.host()},
			Timeout: 50 * time.Millisecond, MaxAttempts: 3, Concurrency: 2, Sleep: sl.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	acct := account(t, r)
	a := enqueue(t, r, acct, "to the hanging target", hang.URL)
	<-hung
	// The worker is free: the next job completes and is delivered while
	// the first delivery is still being tried.
	b := enqueue(t, r, acct, "to the good target", good.URL)
	if req := good.next(t); !strings.Contains(string(req.body), b.ID) {
		t.Errorf("body %s", req.body)
	}
	<-hung
	<-hung // three attempts in all, each timed out
	if got := sl.get(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("sleeps %v", got)
	}
	if st := waitJob(t, r, acct, a.ID); st.Status != memory.JobReady {
		t.Errorf("job %+v", st)
	}

	// Close does not wait out a long timeout.
	r2, _ := open(t, memoryrelay.Options{Webhooks: memoryrelay.WebhookOptions{Enabled: true,
		AllowedHosts: []string{strings.TrimPrefix(hang.URL, "http://")}, Timeout: time.Hour}})
	acct2 := account(t, r2)
	enqueue(t, r2, acct2, "hang during close", hang.URL)
	<-hung
	t0 := time.Now()
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	r.Close()
}
