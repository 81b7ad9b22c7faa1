package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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

// SignatureHeader carries "sha256=" and the lowercase hex HMAC-SHA256 of
// the request body under [Options.Secret].
const SignatureHeader = "X-MemoryRelay-Signature"

// maxBackoff is the longest wait between two attempts.
const maxBackoff = time.Minute

// Options configures a [Sender]. Timeout, MaxAttempts, Concurrency and
// Queue are required.
type Options struct {
	// AllowedHosts lists the hosts that may be called, compared with the
	// URL's host[:port] exactly (case-insensitively): "example.com" does
	// not allow "example.com:8443". Empty allows none.
	AllowedHosts []string
	// Secret, when set, signs each body in the SignatureHeader.
	Secret []byte
	// Timeout bounds each attempt.
	Timeout time.Duration
	// MaxAttempts is the number of tries per delivery.
	MaxAttempts int
	// Concurrency is the number of deliveries in flight at once: the
	// number of sender goroutines.
	Concurrency int
	// Queue is how many deliveries may wait for a sender; beyond it
	// [Sender.Send] drops them (and logs it).
	Queue int
	// HTTPClient sends the requests (a copy of it is used, whose
	// CheckRedirect follows no redirect). Default: a client of its own,
	// with no proxy, whose idle connections Close drops.
	HTTPClient *http.Client
	// Sleep waits d before a retry, returning early with ctx's error when
	// ctx is done. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// UserAgent is the User-Agent header of every request.
	UserAgent string
	// Logger receives failed and dropped deliveries. Default: discard.
	Logger *slog.Logger
}

// Sender delivers finished jobs' statuses. It is safe for concurrent use.
type Sender struct {
	opts    Options
	allowed map[string]bool
	client  *http.Client
	queue   chan delivery
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once

	ownTransport *http.Transport // nil with Options.HTTPClient
}

type delivery struct {
	url   string
	jobID string
	event string
	body  []byte
}

// body is the v2 status object (contract §4.5) plus the job id.
type body struct {
	ID        string  `json:"id"`
	JobID     string  `json:"job_id"`
	Status    string  `json:"status"`
	CreatedAt int64   `json:"created_at"`
	UpdatedAt int64   `json:"updated_at"`
	Error     *string `json:"error"`
}

// New checks the options and starts the sender goroutines.
func New(o Options) (*Sender, error) {
	var errs []error
	if o.Timeout <= 0 {
		errs = append(errs, errors.New("webhook: Timeout must be positive"))
	}
	if o.MaxAttempts <= 0 {
		errs = append(errs, errors.New("webhook: MaxAttempts must be positive"))
	}
	if o.Concurrency <= 0 {
		errs = append(errs, errors.New("webhook: Concurrency must be positive"))
	}
	if o.Queue <= 0 {
		errs = append(errs, errors.New("webhook: Queue must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{opts: o, allowed: map[string]bool{}}
	for _, h := range o.AllowedHosts {
		s.allowed[strings.ToLower(h)] = true
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
		s.ownTransport = t
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = client
	s.queue = make(chan delivery, o.Queue)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for range o.Concurrency {
		s.wg.Add(1)
		go s.run()
	}
	return s, nil
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

// allows reports whether raw, an http or https URL without user
// information, names an allowed host.
func (s *Sender) allows(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	return s.allowed[strings.ToLower(u.Host)]
}

// Send queues the delivery of a finished job's status to hookURL, if its
// host is allowed. The event, in the X-MemoryRelay-Event header, is
// "memory." and the status. It never blocks: with the queue full, or
// after Close, the delivery is dropped.
func (s *Sender) Send(hookURL string, st memory.Job) {
	if !s.allows(hookURL) {
		s.opts.Logger.Debug("memoryrelay: webhook host not allowed; not called", "job_id", st.JobID)
		return
	}
	b, err := json.Marshal(body{ID: st.ID, JobID: st.JobID, Status: st.Status,
		CreatedAt: st.CreatedAt.UnixMilli(), UpdatedAt: st.UpdatedAt.UnixMilli(), Error: st.Error})
	if err != nil {
		return
	}
	if s.ctx.Err() != nil {
		return
	}
	d := delivery{url: hookURL, jobID: st.JobID, event: "memory." + st.Status, body: b}
	select {
	case s.queue <- d:
	default:
		s.opts.Logger.Warn("memoryrelay: webhook queue full; delivery dropped", "job_id", st.JobID)
	}
}

func (s *Sender) run() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case d := <-s.queue:
			s.deliver(d)
		}
	}
}

// deliver tries d until it succeeds, fails for good, runs out of attempts
// or the sender is closed.
func (s *Sender) deliver(d delivery) {
	for attempt := 1; ; attempt++ {
		retry, err := s.post(d)
		if err == nil {
			return
		}
		if !retry || attempt >= s.opts.MaxAttempts || s.ctx.Err() != nil {
			s.opts.Logger.Warn("memoryrelay: webhook delivery failed", "job_id", d.jobID, "attempts", attempt, "err", err)
			return
		}
		if s.opts.Sleep(s.ctx, backoff(attempt)) != nil {
			return
		}
	}
}

// backoff is the wait after failed attempt n (1-based): 1s, 2s, 4s, …, at
// most a minute.
func backoff(n int) time.Duration {
	d := time.Second << min(n-1, 6)
	return min(d, maxBackoff)
}

// post makes one attempt; retry says whether another may succeed: after
// a network error, a timeout, a 408, a 429 or a 5xx.
func (s *Sender) post(d delivery) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.opts.UserAgent)
	req.Header.Set("X-MemoryRelay-Event", d.event)
	req.Header.Set("X-MemoryRelay-Job-ID", d.jobID)
	if len(s.opts.Secret) > 0 {
		req.Header.Set(SignatureHeader, Sign(s.opts.Secret, d.body))
	}
	res, err := s.client.Do(req)
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

// Sign returns the SignatureHeader value of a webhook body: "sha256=" and
// the hex HMAC-SHA256 of body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Close stops the deliveries, abandoning queued and in-flight ones, and
// waits for the sender goroutines. It is idempotent.
func (s *Sender) Close() {
	s.once.Do(s.cancel)
	s.wg.Wait()
	if s.ownTransport != nil {
		s.ownTransport.CloseIdleConnections()
	}
}
