package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults for [Options].
const (
	DefaultBaseURL    = "http://localhost:8000"
	DefaultMaxRetries = 3
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	DefaultTimeout    = 60 * time.Second
)

// Options configures [New]. The zero value reads the key from
// MEMORYRELAY_API_KEY and the base URL from MEMORYRELAY_BASE_URL.
type Options struct {
	// APIKey is the mem_… key. Default: $MEMORYRELAY_API_KEY.
	APIKey string
	// BaseURL is the server root, without /v1. Default:
	// $MEMORYRELAY_BASE_URL, else http://localhost:8000.
	BaseURL string
	// HTTPClient sends the requests. Default: a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each attempt when HTTPClient is nil. Default 60s.
	Timeout time.Duration
	// MaxRetries is how many times a request is retried after a 429, or
	// after a 5xx or network error on GET, PUT, PATCH and DELETE.
	// Default 3; negative disables retries.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// retries (with jitter). A Retry-After header wins, capped at
	// MaxBackoff. Defaults 500ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// Getenv reads the environment. Default os.Getenv.
	Getenv func(string) string
	// Sleep waits between retries. Default: a timer that ctx can cancel.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls the API of one server with one key. [Client.Account] is
// the account-scoped API; [Client.Health] the server's health.
type Client struct {
	opts Options
	base *url.URL
}

// New returns a Client. It fails when no API key is configured.
func New(opts Options) (*Client, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.APIKey == "" {
		opts.APIKey = opts.Getenv("MEMORYRELAY_API_KEY")
	}
	if opts.APIKey == "" {
		return nil, &Error{Type: "authentication_error", Message: "API key is required. Provide via Options.APIKey or MEMORYRELAY_API_KEY environment variable."}
	}
	if opts.BaseURL == "" {
		opts.BaseURL = opts.Getenv("MEMORYRELAY_BASE_URL")
	}
	if opts.BaseURL == "" {
		opts.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("client: base URL %q must be an http(s) URL", opts.BaseURL)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: opts.Timeout}
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	return &Client{opts: opts, base: base}, nil
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

// Health is the server's health (API contract §4.6).
type Health struct {
	Status      string            // "healthy", "degraded" or "unhealthy"
	Version     string            // the server's version
	APIVersion  string            // "v1"
	Environment string            // e.g. "self-hosted"
	Timestamp   time.Time         // the server's clock, UTC, to the millisecond
	Uptime      time.Duration     // in whole seconds
	Services    map[string]string // component → "up", "down" or "degraded"
	Provider    string            // the embedder's provider, e.g. "builtin"
	Model       string            // the embedder's model
	Dimension   int               // the embedder's vector dimension
}

// Health returns the server's health. It needs no key (the client's is
// sent and ignored). An unhealthy server answers 503: an *Error.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var w struct {
		Status        string            `json:"status"`
		Version       string            `json:"version"`
		APIVersion    string            `json:"api_version"`
		Environment   string            `json:"environment"`
		Timestamp     msTime            `json:"timestamp"`
		UptimeSeconds int64             `json:"uptime_seconds"`
		Services      map[string]string `json:"services"`
		EmbeddingInfo struct {
			Provider  string `json:"provider"`
			Model     string `json:"model"`
			Dimension int    `json:"dimension"`
		} `json:"embedding_info"`
	}
	if _, err := c.call(ctx, request{method: http.MethodGet, path: "/v1/health"}, &w); err != nil {
		return Health{}, err
	}
	return Health{
		Status: w.Status, Version: w.Version, APIVersion: w.APIVersion, Environment: w.Environment,
		Timestamp: w.Timestamp.time(), Uptime: time.Duration(w.UptimeSeconds) * time.Second, Services: w.Services,
		Provider: w.EmbeddingInfo.Provider, Model: w.EmbeddingInfo.Model, Dimension: w.EmbeddingInfo.Dimension,
	}, nil
}

// request is one API call.
type request struct {
	method string
	path   string // under the base URL, segments escaped with pathEscape
	query  url.Values
	body   any // encoded as JSON unless nil
	// kind is what a 404 reports as not found when the server's message
	// names nothing ("memory", "agent", …).
	kind string
	// field is the Go name of the input a 400 that names no field is
	// about, for methods whose one input travels in the path ("ID").
	field string
}

// call sends r, retrying as Options say, decodes a 2xx body into out
// (when not nil) and returns the status.
func (c *Client) call(ctx context.Context, r request, out any) (int, error) {
	if err := checkUTF8(r.body); err != nil {
		return 0, err
	}
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return 0, fmt.Errorf("client: encode request: %w", err)
		}
	}
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawPath = ""
	if strings.Contains(r.path, "%") {
		u.RawPath = c.base.EscapedPath() + r.path
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = p
		}
	}
	u.RawQuery = r.query.Encode()
	idempotent := r.method != http.MethodPost
	for attempt := 0; ; attempt++ {
		status, err := c.once(ctx, r, u.String(), payload, out)
		if err == nil {
			return status, nil
		}
		var apiErr *Error
		retryable := false
		wait := time.Duration(0)
		switch {
		case errors.As(err, &apiErr):
			retryable = apiErr.StatusCode == 429 || (idempotent && apiErr.StatusCode >= 500)
			wait = apiErr.RetryAfter
		case ctx.Err() != nil:
			return 0, ctx.Err()
		default: // retried when no answer came: a network error
			retryable = idempotent && status == 0
		}
		if !retryable || c.opts.MaxRetries < 0 || attempt >= c.opts.MaxRetries {
			return status, err
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		if wait > c.opts.MaxBackoff {
			wait = c.opts.MaxBackoff
		}
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return 0, err
		}
	}
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.opts.MinBackoff << attempt
	if d <= 0 || d > c.opts.MaxBackoff {
		d = c.opts.MaxBackoff
	}
	return d/2 + rand.N(d/2+1) // jitter in [d/2, d]
}

func (c *Client) once(ctx context.Context, r request, u string, payload []byte, out any) (int, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return 0, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.opts.APIKey)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return 0, err // no whole answer: as a network error
	}
	if res.StatusCode >= 300 {
		return res.StatusCode, errorOf(res, data, r.kind, r.field)
	}
	if out == nil {
		return res.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return res.StatusCode, fmt.Errorf("client: decode the answer to %s %s: %w", r.method, r.path, err)
	}
	return res.StatusCode, nil
}

// retryAfter reads a Retry-After of whole seconds; 0 when absent.
func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// pathEscape encodes s as one path segment. A segment of dots only is
// encoded too, as a server would resolve "." and ".." as dot segments.
func pathEscape(s string) string {
	if strings.Trim(s, ".") == "" && s != "" {
		return strings.Repeat("%2E", len(s))
	}
	return url.PathEscape(s)
}
