// Package client is a Go client for the MemoryRelay REST API, as served by
// memoryrelay's httpapi package and by the hosted service.
//
//	c, err := client.New(client.Options{}) // MEMORYRELAY_API_KEY, http://localhost:8000
//	...
//	m, err := c.Memories.Create(ctx, client.MemoryCreate{AgentID: "assistant", Content: "Likes tea"})
//	hits, err := c.Memories.Search(ctx, client.SearchRequest{Query: "what does the user drink?"})
//
// Errors from the API are *Error values that match the sentinels
// ErrAuthentication, ErrForbidden, ErrNotFound, ErrValidation, ErrConflict
// and ErrRateLimit with errors.Is, mirroring the official SDKs' exception
// classes. Rate-limited requests and, for idempotent methods, server errors
// are retried with exponential backoff that honours Retry-After.
//
// A Client is safe for concurrent use.
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

// Client calls the API. Its fields group the endpoints by resource.
type Client struct {
	Memories  *MemoriesService
	Agents    *AgentsService
	Sessions  *SessionsService
	Entities  *EntitiesService
	Decisions *DecisionsService
	Patterns  *PatternsService
	Projects  *ProjectsService
	Keys      *KeysService

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
	c := &Client{opts: opts, base: base}
	c.Memories = &MemoriesService{c}
	c.Agents = &AgentsService{c}
	c.Sessions = &SessionsService{c}
	c.Entities = &EntitiesService{c}
	c.Decisions = &DecisionsService{c}
	c.Patterns = &PatternsService{c}
	c.Projects = &ProjectsService{c}
	c.Keys = &KeysService{c}
	return c, nil
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

// Sentinels matched by *Error with errors.Is, one per SDK error class.
var (
	ErrAuthentication = errors.New("client: authentication failed")
	ErrForbidden      = errors.New("client: forbidden")
	ErrNotFound       = errors.New("client: not found")
	ErrValidation     = errors.New("client: validation failed")
	ErrConflict       = errors.New("client: conflict")
	ErrRateLimit      = errors.New("client: rate limited")
	ErrAPI            = errors.New("client: API error")
)

// Error is an error answer of the API (or a missing key at New).
type Error struct {
	StatusCode int           // HTTP status; 0 when raised before any request
	Type       string        // the contract's error type, e.g. "not_found_error"
	Message    string        // the server's message
	RequestID  string        // X-Request-ID of the request
	RetryAfter time.Duration // for 429: how long the server asked to wait
}

func (e *Error) Error() string {
	if e.StatusCode == 0 {
		return "memoryrelay: " + e.Message
	}
	return fmt.Sprintf("memoryrelay: %d %s: %s (request %s)", e.StatusCode, e.Type, e.Message, e.RequestID)
}

// Is matches the sentinel of the error's class.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrAuthentication:
		return e.StatusCode == 401 || (e.StatusCode == 0 && e.Type == "authentication_error")
	case ErrForbidden:
		return e.StatusCode == 403
	case ErrNotFound:
		return e.StatusCode == 404
	case ErrValidation:
		return e.StatusCode == 400 || e.StatusCode == 405 || e.StatusCode == 422
	case ErrConflict:
		return e.StatusCode == 409
	case ErrRateLimit:
		return e.StatusCode == 429
	case ErrAPI:
		return true
	}
	return false
}

// do sends one API call, retrying as Options say, and decodes a 2xx body
// into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("client: encode request: %w", err)
		}
	}
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	if strings.Contains(path, "%") {
		u.RawPath = c.base.EscapedPath() + path
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = p
		}
	}
	u.RawQuery = query.Encode()
	idempotent := method != http.MethodPost
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, method, u.String(), payload, out)
		if err == nil {
			return nil
		}
		var apiErr *Error
		retryable := false
		wait := time.Duration(0)
		switch {
		case errors.As(err, &apiErr):
			retryable = apiErr.StatusCode == 429 || (idempotent && apiErr.StatusCode >= 500)
			wait = apiErr.RetryAfter
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			retryable = idempotent // network error
		}
		if !retryable || c.opts.MaxRetries < 0 || attempt >= c.opts.MaxRetries {
			return err
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		if wait > c.opts.MaxBackoff {
			wait = c.opts.MaxBackoff
		}
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return err
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

func (c *Client) once(ctx context.Context, method, u string, payload []byte, out any) error {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.opts.APIKey)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		e := &Error{StatusCode: res.StatusCode, RequestID: res.Header.Get("X-Request-ID"), Type: "api_error", Message: http.StatusText(res.StatusCode)}
		var body struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &body) == nil && body.Message != "" {
			e.Type, e.Message = body.Type, body.Message
		}
		if s, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("Retry-After"))); err == nil && s > 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("client: decode %s response: %w", method, err)
	}
	return nil
}

// Health returns the server's health (no key needed, but one is sent).
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	return h, c.do(ctx, http.MethodGet, "/v1/health", nil, nil, &h)
}

// Quota returns the calling key's daily usage.
func (c *Client) Quota(ctx context.Context) (Quota, error) {
	var q Quota
	return q, c.do(ctx, http.MethodGet, "/v1/quota", nil, nil, &q)
}

// Embed returns the server's embedding of text.
func (c *Client) Embed(ctx context.Context, text string) (Embedding, error) {
	var e Embedding
	return e, c.do(ctx, http.MethodPost, "/v1/embed", nil, map[string]string{"text": text}, &e)
}

// BuildContext calls POST /v2/context/build.
func (c *Client) BuildContext(ctx context.Context, req ContextBuildRequest) (ContextBuild, error) {
	var out ContextBuild
	return out, c.do(ctx, http.MethodPost, "/v2/context/build", nil, req, &out)
}

// pathEscape encodes s as one path segment. A segment of dots only is
// encoded too, as a server would resolve "." and ".." as dot segments.
func pathEscape(s string) string {
	if strings.Trim(s, ".") == "" && s != "" {
		return strings.Repeat("%2E", len(s))
	}
	return url.PathEscape(s)
}

func pageQuery(p Page) url.Values {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Offset > 0 {
		q.Set("offset", strconv.Itoa(p.Offset))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}
