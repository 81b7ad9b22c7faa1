package memoryrelay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

// Defaults for [WebhookOptions].
const (
	DefaultWebhookTimeout     = 10 * time.Second
	DefaultWebhookMaxAttempts = 5
	DefaultWebhookConcurrency = 4
	// WebhookQueue is how many finished jobs may wait for a delivery
	// goroutine; beyond it deliveries are dropped (and logged), never
	// blocking the job workers.
	WebhookQueue = 1024
	// MaxWebhookURL is the longest webhook_url accepted, in bytes.
	MaxWebhookURL = 2048
)

// WebhookSignatureHeader carries "sha256=" and the lowercase hex
// HMAC-SHA256 of the request body under [WebhookOptions.Secret].
const WebhookSignatureHeader = "X-MemoryRelay-Signature"

// WebhookOptions configures the POST of a v2 job's final status to the
// webhook_url given with it (API contract §5.3). Webhooks are off by
// default; when on, only hosts listed in AllowedHosts are ever called, and
// redirects are never followed.
//
// The body is the v2 status object: {"id", "job_id", "status",
// "created_at", "updated_at", "error"} (epoch ms). A delivery is retried
// after a network error, a timeout, a 408, a 429 or a 5xx, with backoff
// 1s, 2s, 4s, … (at most 1 min), up to MaxAttempts in all; other answers
// end it. Deliveries are best effort: they run in their own goroutines,
// never delay the job workers, and are abandoned by [Relay.Close]; the
// job's status itself is durable.
type WebhookOptions struct {
	// Enabled turns webhook calls on. Default false: webhook_url is
	// accepted and ignored.
	Enabled bool
	// AllowedHosts lists the hosts that may be called, compared with the
	// URL's host[:port] exactly (case-insensitively): "example.com" does
	// not allow "example.com:8443". Empty allows none.
	AllowedHosts []string
	// Secret, when set, signs each body in the X-MemoryRelay-Signature
	// header.
	Secret []byte
	// Timeout bounds each attempt. Default 10s.
	Timeout time.Duration
	// MaxAttempts is the number of tries per delivery. Default 5.
	MaxAttempts int
	// Concurrency is the number of deliveries in flight at once.
	// Default 4.
	Concurrency int
	// HTTPClient sends the requests (a copy of it is used, whose
	// CheckRedirect follows no redirect). Default: a client of its own,
	// with no proxy, whose idle connections Close drops.
	HTTPClient *http.Client
	// Sleep waits d before a retry, returning early with ctx's error when
	// ctx is done. Default: a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// webhooks delivers finished jobs' statuses. It is safe for concurrent use.
type webhooks struct {
	opts    WebhookOptions
	allowed map[string]bool
	client  *http.Client
	logger  *slog.Logger
	queue   chan delivery
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	ownTransport *http.Transport // nil with Options.HTTPClient
}

type delivery struct {
	url   string
	jobID string
	event string
	body  []byte
}

// webhookBody is the v2 status object (contract §4.5) plus the job id.
type webhookBody struct {
	ID        string  `json:"id"`
	JobID     string  `json:"job_id"`
	Status    string  `json:"status"`
	CreatedAt int64   `json:"created_at"`
	UpdatedAt int64   `json:"updated_at"`
	Error     *string `json:"error"`
}

func newWebhooks(o WebhookOptions, logger *slog.Logger) (*webhooks, error) {
	if o.Timeout == 0 {
		o.Timeout = DefaultWebhookTimeout
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultWebhookMaxAttempts
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultWebhookConcurrency
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	w := &webhooks{opts: o, logger: logger, allowed: map[string]bool{}}
	for _, h := range o.AllowedHosts {
		w.allowed[strings.ToLower(h)] = true
	}
	if !o.Enabled {
		return w, nil
	}
	var client *http.Client
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		client = &c
	} else {
		// A transport of our own, so Close can drop its idle connections
		// (and their goroutines), and without a proxy from the
		// environment: requests go to allowed hosts only.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		client = &http.Client{Transport: t}
		w.ownTransport = t
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.client = client
	w.queue = make(chan delivery, WebhookQueue)
	w.ctx, w.cancel = context.WithCancel(context.Background())
	for range o.Concurrency {
		w.wg.Add(1)
		go w.run()
	}
	return w, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// checkWebhookURL accepts an absolute http or https URL with a host.
func checkWebhookURL(raw string) error {
	bad := invalid("WebhookURL", "WebhookURL must be an absolute http or https URL of at most %d bytes", MaxWebhookURL)
	if len(raw) > MaxWebhookURL {
		return bad
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return bad
	}
	return nil
}

// allows reports whether raw may be called.
func (w *webhooks) allows(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	return w.allowed[strings.ToLower(u.Host)]
}

// send queues the delivery of a finished job's status, if webhooks are on,
// the job has a webhook_url and its host is allowed. It never blocks.
func (w *webhooks) send(st memory.Job, hook *string) {
	if !w.opts.Enabled || hook == nil || *hook == "" {
		return
	}
	if !w.allows(*hook) {
		w.logger.Debug("memoryrelay: webhook host not allowed; not called", "job_id", st.JobID)
		return
	}
	body, err := json.Marshal(webhookBody{ID: st.ID, JobID: st.JobID, Status: st.Status,
		CreatedAt: st.CreatedAt.UnixMilli(), UpdatedAt: st.UpdatedAt.UnixMilli(), Error: st.Error})
	if err != nil {
		return
	}
	d := delivery{url: *hook, jobID: st.JobID, event: "memory." + st.Status, body: body}
	select {
	case w.queue <- d:
	default:
		w.logger.Warn("memoryrelay: webhook queue full; delivery dropped", "job_id", st.JobID)
	}
}

func (w *webhooks) run() {
	defer w.wg.Done()
	for {
		select {
		case <-w.ctx.Done():
			return
		case d := <-w.queue:
			w.deliver(d)
		}
	}
}

// deliver tries d until it succeeds, fails for good, runs out of attempts
// or the sender is closed.
func (w *webhooks) deliver(d delivery) {
	for attempt := 1; ; attempt++ {
		retry, err := w.post(d)
		if err == nil {
			return
		}
		if !retry || attempt >= w.opts.MaxAttempts || w.ctx.Err() != nil {
			w.logger.Warn("memoryrelay: webhook delivery failed", "job_id", d.jobID, "attempts", attempt, "err", err)
			return
		}
		if w.opts.Sleep(w.ctx, backoff(attempt)) != nil {
			return
		}
	}
}

// backoff is the wait after failed attempt n (1-based).
func backoff(n int) time.Duration {
	d := time.Second << min(n-1, 6)
	return min(d, time.Minute)
}

// post makes one attempt; retry says whether another may succeed.
func (w *webhooks) post(d delivery) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "memoryrelay/"+Version)
	req.Header.Set("X-MemoryRelay-Event", d.event)
	req.Header.Set("X-MemoryRelay-Job-ID", d.jobID)
	if len(w.opts.Secret) > 0 {
		req.Header.Set(WebhookSignatureHeader, SignWebhook(w.opts.Secret, d.body))
	}
	res, err := w.client.Do(req)
	if err != nil {
		return true, err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	switch c := res.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
		return true, fmt.Errorf("status %d", c)
	default:
		return false, fmt.Errorf("status %d", c)
	}
}

// SignWebhook returns the X-MemoryRelay-Signature value of a webhook body:
// "sha256=" and the hex HMAC-SHA256 of body under secret. Receivers
// compare it with hmac.Equal.
func SignWebhook(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// close stops the deliveries, abandoning queued and in-flight ones, and
// waits for their goroutines.
func (w *webhooks) close() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.wg.Wait()
	if w.ownTransport != nil {
		w.ownTransport.CloseIdleConnections()
	}
}
