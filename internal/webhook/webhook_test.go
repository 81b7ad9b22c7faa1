package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/webhook"
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

// sleeps is an injected Options.Sleep that records the waits and returns
// at once.
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

// options are valid options allowing hosts, one sender, and 5 attempts.
func options(hosts ...string) webhook.Options {
	return webhook.Options{AllowedHosts: hosts, Timeout: 10 * time.Second, MaxAttempts: 5, Concurrency: 1, Queue: 16, UserAgent: "test/1"}
}

func newSender(t testing.TB, o webhook.Options) *webhook.Sender {
	t.Helper()
	s, err := webhook.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

var t0 = time.UnixMilli(1_700_000_000_000).UTC()

// job is a finished job's status.
func job(id, status string) memory.Job {
	j := memory.Job{ID: id + "-memory", JobID: id, Status: status, CreatedAt: t0, UpdatedAt: t0.Add(time.Second)}
	if status == memory.JobFailed {
		msg := "Embedding failed"
		j.Error = &msg
	}
	return j
}

func TestNewOptions(t *testing.T) {
	for name, change := range map[string]func(*webhook.Options){
		"timeout":     func(o *webhook.Options) { o.Timeout = 0 },
		"attempts":    func(o *webhook.Options) { o.MaxAttempts = 0 },
		"concurrency": func(o *webhook.Options) { o.Concurrency = -1 },
		"queue":       func(o *webhook.Options) { o.Queue = 0 },
	} {
		o := options()
		change(&o)
		if s, err := webhook.New(o); err == nil {
			s.Close()
			t.Errorf("%s: no error", name)
		}
	}
}

// Webhooks go only to allowed hosts. With one sender, deliveries run in
// order, so once a later delivery to an allowed control server arrives, an
// earlier one to the target has been decided.
func TestSendOnlyAllowedHosts(t *testing.T) {
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
		{"user information", []string{target.host()}, "http://u:p@" + target.host() + "/hook"},
		{"not http", []string{target.host()}, "ftp://" + target.host() + "/hook"},
		{"not a URL", []string{target.host()}, "http://" + target.host() + "/%zz"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSender(t, options(append(c.allowed, control.host())...))
			s.Send(c.url, job("job_target", memory.JobReady))
			s.Send(control.URL+"/hook", job("job_control", memory.JobReady))
			control.next(t)
			target.none(t)
		})
	}
	t.Run("allowed, case-insensitively", func(t *testing.T) {
		s := newSender(t, options("LOCALHOST:"+port))
		s.Send("http://localhost:"+port+"/hook", job("job_target", memory.JobReady))
		target.next(t)
	})
}

// A delivery is a POST of the status object, with the event and the job in
// headers and, with a secret, the body's signature.
func TestSendSignedBody(t *testing.T) {
	srv := newHookServer(t, ok200)
	secret := []byte("s3cret")
	for _, c := range []struct {
		name   string
		secret []byte
		status string
	}{
		{"ready, signed", secret, memory.JobReady},
		{"failed, signed", secret, memory.JobFailed},
		{"unsigned", nil, memory.JobReady},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := options(srv.host())
			o.Secret = c.secret
			s := newSender(t, o)
			st := job("job_1", c.status)
			s.Send(srv.URL+"/hook?x=1", st)
			req := srv.next(t)
			h := req.header
			if req.method != http.MethodPost || h.Get("Content-Type") != "application/json" || h.Get("User-Agent") != "test/1" ||
				h.Get("X-MemoryRelay-Event") != "memory."+c.status || h.Get("X-MemoryRelay-Job-ID") != "job_1" {
				t.Errorf("%s %v", req.method, h)
			}
			sig := h.Get(webhook.SignatureHeader)
			if c.secret == nil {
				if len(h.Values(webhook.SignatureHeader)) != 0 {
					t.Errorf("signature %q without a secret", sig)
				}
			} else {
				mac := hmac.New(sha256.New, c.secret)
				mac.Write(req.body)
				if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); sig != want || sig != webhook.Sign(c.secret, req.body) {
					t.Errorf("signature %q, want %q", sig, want)
				}
			}
			var body map[string]any
			if err := json.Unmarshal(req.body, &body); err != nil {
				t.Fatal(err)
			}
			if len(body) != 6 || body["id"] != st.ID || body["job_id"] != st.JobID || body["status"] != c.status ||
				body["created_at"] != float64(st.CreatedAt.UnixMilli()) || body["updated_at"] != float64(st.UpdatedAt.UnixMilli()) {
				t.Errorf("body %s", req.body)
			}
			if errText, isString := body["error"].(string); isString != (c.status == memory.JobFailed) || (isString && errText != *st.Error) {
				t.Errorf("error field in %s", req.body)
			}
		})
	}
}

func TestSendRetries(t *testing.T) {
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
		{"408 then 200", func(n int) int { return map[bool]int{true: 408, false: 200}[n < 2] }, 5, 2, []time.Duration{time.Second}},
		{"backoff at most a minute", func(int) int { return 500 }, 9, 9, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second,
			8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}},
		{"400 is final", func(int) int { return 400 }, 5, 1, nil},
		{"404 is final", func(int) int { return 404 }, 5, 1, nil},
		{"302 is final", func(int) int { return 302 }, 5, 1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newHookServer(t, c.reply)
			control := newHookServer(t, ok200)
			var sl sleeps
			o := options(srv.host(), control.host())
			o.MaxAttempts, o.Sleep = c.attempts, sl.sleep
			s := newSender(t, o)
			s.Send(srv.URL, job("job_retried", memory.JobReady))
			for i := range c.requests {
				if req := srv.next(t); req.n != i+1 {
					t.Fatalf("request %d", req.n)
				}
			}
			s.Send(control.URL, job("job_after", memory.JobReady))
			control.next(t) // the retried delivery is over
			srv.none(t)
			if got := sl.get(); !slices.Equal(got, c.sleeps) {
				t.Errorf("sleeps %v, want %v", got, c.sleeps)
			}
		})
	}
}

// A target that hangs is timed out and retried while the other senders
// carry on; Close abandons it promptly and stops every sender goroutine.
func TestSendHangingTarget(t *testing.T) {
	hung := make(chan struct{}, 8)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		hung <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	good := newHookServer(t, ok200)
	var sl sleeps
	o := options(strings.TrimPrefix(hang.URL, "http://"), good.host())
	o.Timeout, o.MaxAttempts, o.Concurrency, o.Sleep = 50*time.Millisecond, 3, 2, sl.sleep
	s := newSender(t, o)
	s.Send(hang.URL, job("job_hung", memory.JobReady))
	<-hung
	// The other sender delivers while the first delivery is still tried.
	s.Send(good.URL, job("job_good", memory.JobReady))
	if req := good.next(t); !strings.Contains(string(req.body), "job_good") {
		t.Errorf("body %s", req.body)
	}
	<-hung
	<-hung // three attempts in all, each timed out
	if got := sl.get(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("sleeps %v", got)
	}

	// Close does not wait out a long timeout.
	o.Timeout, o.Sleep = time.Hour, nil
	s2, err := webhook.New(o)
	if err != nil {
		t.Fatal(err)
	}
	s2.Send(hang.URL, job("job_close", memory.JobReady))
	<-hung
	t1 := time.Now()
	s2.Close()
	if d := time.Since(t1); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	s.Close()
	noGoroutines(t)
	s2.Send(good.URL, job("job_after_close", memory.JobReady)) // dropped, without blocking
	good.none(t)
}

// With every sender busy and the queue full, Send drops the delivery, logs
// it, and returns at once.
func TestSendQueueFull(t *testing.T) {
	release := make(chan struct{})
	busy := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		busy <- struct{}{}
		<-release
	}))
	t.Cleanup(slow.Close)
	defer close(release)
	var logs bytes.Buffer
	var mu sync.Mutex
	o := options(strings.TrimPrefix(slow.URL, "http://"))
	o.Queue = 1
	o.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	s := newSender(t, o)
	s.Send(slow.URL, job("job_1", memory.JobReady))
	<-busy // the one sender is busy
	done := make(chan struct{})
	go func() {
		s.Send(slow.URL, job("job_2", memory.JobReady)) // queued
		s.Send(slow.URL, job("job_3", memory.JobReady)) // dropped
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Send blocked")
	}
	mu.Lock()
	defer mu.Unlock()
	if out := logs.String(); !strings.Contains(out, "queue full") || !strings.Contains(out, "job_3") || strings.Contains(out, "job_2") {
		t.Errorf("log %q", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// noGoroutines fails unless, within a few seconds, no goroutine runs a
// function of package webhook (the test's own are in webhook_test).
func noGoroutines(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "memoryrelay/internal/webhook.(*Sender") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines of the sender left after Close:\n%s", stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
