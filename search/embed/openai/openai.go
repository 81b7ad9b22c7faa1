package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// Defaults of [Options].
const (
	DefaultAPIKeyEnv = "OPENAI_API_KEY"
	// OpenAIHost is OpenAI's API host, the only one to which the key in
	// DefaultOpenAIAPIKeyEnv is sent without being asked for.
	Host              = "api.openai.com"
	DefaultBatchSize  = 96
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 4
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 20 * time.Second
)

// ErrBadResponse means an embeddings server answered 2xx with a body that
// is not a valid embeddings response: malformed JSON, too few or too many
// embeddings, or indexes out of range or repeated. Vectors of the wrong
// length are reported as [*vector.DimensionError] instead, and vectors holding
// NaN, ±Inf or only zeros as [vector.ErrInvalid].
var ErrBadResponse = errors.New("openai: bad embeddings response")

// Options configures [New]. BaseURL, Model and Dimension are
// required; the zero value of every other field selects its default.
type Options struct {
	// BaseURL is the API root, to which "/embeddings" is appended: for
	// example "https://api.openai.com/v1", "http://localhost:11434/v1"
	// (Ollama) or "http://localhost:8080/v1" (llama.cpp server). A query
	// string is kept. Required: there is no default, so nothing is sent
	// anywhere unless configured.
	BaseURL string

	// Model is the embedding model name sent with each request, for
	// example "text-embedding-3-small" or "nomic-embed-text". Required.
	Model string

	// APIKey is sent as "Authorization: Bearer <APIKey>". If empty, it is
	// read from the environment variable named by APIKeyEnv when New
	// runs; if that is empty too, no Authorization header is sent (local
	// servers usually need none). Surrounding whitespace is trimmed. The
	// key never appears in errors: text an error would quote from the
	// server has every occurrence of it replaced by "[REDACTED]".
	APIKey string

	// APIKeyEnv names the environment variable holding the API key when
	// APIKey is empty; "-" disables the lookup. When it is empty,
	// [DefaultAPIKeyEnv] ("OPENAI_API_KEY") is read only if BaseURL
	// is OpenAI's own API (host api.openai.com), so that an OpenAI key
	// found in the environment is never sent to another server (an Ollama
	// or llama.cpp server, a proxy): to send it elsewhere, name the
	// variable here explicitly.
	APIKeyEnv string

	// Dimension is the length of the vectors the model returns. Required:
	// every vector is checked, and one of another length fails the call
	// with a [*vector.DimensionError].
	Dimension int

	// SendDimensions sends Dimension as the request's "dimensions"
	// field, for models that can return shortened vectors (OpenAI's
	// text-embedding-3 family). Servers that do not support it may reject
	// the request.
	SendDimensions bool

	// BatchSize is the largest number of texts sent in one request.
	// Default [DefaultBatchSize] (96). Batches are sent one after
	// another, not in parallel.
	BatchSize int

	// Timeout bounds each HTTP attempt, from sending the request to
	// reading the whole response. Default [DefaultTimeout] (30s); a
	// negative value sets no per-attempt limit (ctx, and HTTPClient's own
	// Timeout, still apply).
	Timeout time.Duration

	// MaxRetries is how many times a request is retried after a network
	// error, a timed-out attempt, or an HTTP 408, 429 or 5xx answer.
	// Default [DefaultMaxRetries] (4); a negative value disables
	// retries.
	MaxRetries int

	// MinBackoff and MaxBackoff bound the wait before a retry: the n-th
	// retry waits a random duration between half and all of
	// MinBackoff×2ⁿ⁻¹, capped at MaxBackoff. A Retry-After header (in
	// seconds or an HTTP date) replaces that wait, still capped at
	// MaxBackoff. Defaults [DefaultMinBackoff] (500ms) and
	// [DefaultMaxBackoff] (20s).
	MinBackoff, MaxBackoff time.Duration

	// HTTPClient sends the requests. Default: a new &http.Client{}, which
	// uses [http.DefaultTransport] (and so honours the HTTP_PROXY family
	// of environment variables) and changes no global state.
	HTTPClient *http.Client

	// Getenv reads the environment. Default [os.Getenv]; tests set it.
	Getenv func(string) string

	// Sleep waits d before a retry, returning early with a non-nil error
	// (normally ctx.Err()) if ctx is done first; Embed returns that
	// error. Default: a timer racing ctx. Tests set it so as not to sleep.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client is an [embed.Embedder] that calls an OpenAI-compatible embeddings API
// (POST {BaseURL}/embeddings): OpenAI itself, or Ollama, llama.cpp's
// server, vLLM, LM Studio and others that speak the same protocol.
//
// It sends texts in batches, retries rate-limited (429), failed (5xx) and
// timed-out requests with exponential backoff, checks the length of every
// vector and L2-normalises it. A call succeeds or fails as a whole: no
// partial results. It is safe for concurrent use.
//
// Create one with [New].
type Client struct {
	endpoint string // BaseURL + "/embeddings"
	model    string
	id       string // "openai:" + model
	dim      int
	sendDim  bool
	batch    int
	timeout  time.Duration // per attempt; <= 0 means none
	retries  int
	minWait  time.Duration
	maxWait  time.Duration
	client   *http.Client
	sleep    func(context.Context, time.Duration) error

	// The API key lives only in these closures, so that printing a
	// Client with fmt cannot show it.
	auth   func(http.Header)   // sets Authorization; nil without a key
	redact func(string) string // removes the key from text
}

// New returns a client for the embeddings API described by opts,
// after checking the options; it makes no request. Errors start with
// "openai: ".
func New(opts Options) (*Client, error) {
	if opts.BaseURL == "" {
		return nil, errors.New("openai: Options.BaseURL is required")
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Not quoted: a URL can carry credentials.
		return nil, errors.New("openai: Options.BaseURL must be an absolute http or https URL")
	}
	u.Fragment, u.RawFragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/") + "/embeddings"
	if u.RawPath != "" {
		u.RawPath = strings.TrimRight(u.RawPath, "/") + "/embeddings"
	}
	if opts.Model == "" {
		return nil, errors.New("openai: Options.Model is required")
	}
	if opts.Dimension <= 0 {
		return nil, fmt.Errorf("openai: Options.Dimension must be positive, not %d", opts.Dimension)
	}
	c := &Client{
		endpoint: u.String(),
		model:    opts.Model,
		id:       "openai:" + opts.Model,
		dim:      opts.Dimension,
		sendDim:  opts.SendDimensions,
		batch:    opts.BatchSize,
		timeout:  opts.Timeout,
		retries:  opts.MaxRetries,
		minWait:  opts.MinBackoff,
		maxWait:  opts.MaxBackoff,
		client:   opts.HTTPClient,
		sleep:    opts.Sleep,
		redact:   func(s string) string { return s },
	}
	switch {
	case c.batch < 0:
		return nil, fmt.Errorf("openai: Options.BatchSize must not be negative, not %d", c.batch)
	case c.batch == 0:
		c.batch = DefaultBatchSize
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	switch {
	case c.retries < 0:
		c.retries = 0
	case c.retries == 0:
		c.retries = DefaultMaxRetries
	}
	if c.minWait < 0 || c.maxWait < 0 {
		return nil, errors.New("openai: Options.MinBackoff and MaxBackoff must not be negative")
	}
	if c.minWait == 0 {
		c.minWait = DefaultMinBackoff
	}
	if c.maxWait == 0 {
		c.maxWait = DefaultMaxBackoff
	}
	if c.minWait > c.maxWait {
		return nil, fmt.Errorf("openai: Options.MinBackoff (%v) exceeds MaxBackoff (%v)", c.minWait, c.maxWait)
	}
	if c.client == nil {
		c.client = &http.Client{}
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}

	key := opts.APIKey
	if key == "" && opts.APIKeyEnv != "-" {
		getenv := opts.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		env := opts.APIKeyEnv
		if env == "" && strings.EqualFold(u.Hostname(), Host) {
			env = DefaultAPIKeyEnv
		}
		if env != "" {
			key = getenv(env)
		}
	}
	key = strings.TrimSpace(key)
	if key != "" {
		for i := 0; i < len(key); i++ {
			if b := key[i]; b < 0x20 || b >= 0x7F {
				return nil, errors.New("openai: the API key holds a control or non-ASCII character")
			}
		}
		header := "Bearer " + key
		c.auth = func(h http.Header) { h.Set("Authorization", header) }
		c.redact = func(s string) string { return strings.ReplaceAll(s, key, "[REDACTED]") }
	}
	return c, nil
}

// Model returns "openai:" followed by Options.Model, for example
// "openai:text-embedding-3-small". It does not name the server, so two
// servers serving different models under one name share an id.
func (c *Client) Model() string { return c.id }

// Dimension returns Options.Dimension.
func (c *Client) Dimension() int { return c.dim }

// Provider returns [embed.ProviderOpenAI], whatever server BaseURL names.
func (c *Client) Provider() string { return embed.ProviderOpenAI }

// Embed returns the L2-normalised embedding of each text, in order. It
// sends the texts in batches of Options.BatchSize, one batch at a
// time, and retries as Options describes. If texts is empty, it
// sends no request and returns no vectors.
//
// It fails as a whole, returning no vectors, if any batch fails:
//
//   - an error matching ctx.Err() if ctx is done, during a request or a
//     wait between retries;
//   - an [*APIError] if the server answers with a status other than 2xx
//     that is not retried (4xx other than 408 and 429), or answers 408,
//     429 or 5xx once more than MaxRetries times;
//   - a network error, after MaxRetries retries;
//   - [ErrBadResponse], [*vector.DimensionError] or [vector.ErrInvalid] if the answer
//     is malformed, has vectors of the wrong length, or vectors holding
//     NaN, ±Inf or only zeros; these are not retried.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += c.batch {
		vecs, err := c.embedBatch(ctx, texts[start:min(start+c.batch, len(texts))])
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// oaiRequest is the body of POST /embeddings.
type oaiRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

// embedBatch embeds one batch, retrying as configured.
func (c *Client) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	req := oaiRequest{Model: c.model, Input: texts, EncodingFormat: "float"}
	if c.sendDim {
		req.Dimensions = c.dim
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("openai: encoding request: %w", err)
	}
	for attempt := 0; ; attempt++ {
		vecs, retry, err := c.post(ctx, body, len(texts))
		if err == nil {
			return vecs, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("openai: %w", ctxErr)
		}
		if !retry {
			return nil, err
		}
		if attempt >= c.retries {
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				return nil, apiErr
			}
			tries := "1 attempt"
			if attempt > 0 {
				tries = strconv.Itoa(attempt+1) + " attempts"
			}
			return nil, fmt.Errorf("openai: request failed (%s): %w", tries, err)
		}
		wait := c.backoff(attempt)
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			wait = min(apiErr.RetryAfter, c.maxWait)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("openai: waiting to retry: %w", err)
		}
	}
}

// backoff returns the wait before retry number attempt+1: a random
// duration in [d/2, d] with d = minWait×2^attempt, capped at maxWait.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.minWait
	for range attempt {
		if d > c.maxWait/2 {
			d = c.maxWait
			break
		}
		d *= 2
	}
	d = min(d, c.maxWait)
	return d/2 + rand.N(d/2+1)
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Limits on response sizes.
const (
	// oaiMaxErrorBody is how much of a non-2xx body is read.
	oaiMaxErrorBody = 64 << 10
	// oaiBytesPerValue bounds the JSON text of one vector element,
	// generously: "-1.2345678901234567e-05" plus separators and
	// indentation.
	oaiBytesPerValue = 64
	// oaiMaxMessage bounds the message kept in an APIError, in bytes.
	oaiMaxMessage = 1 << 10
)

// post makes one attempt at embedding a batch of n texts whose request
// body is body. retry reports whether a failure is worth retrying;
// those errors, from the network, lack the "openai: " prefix, which the
// caller adds.
func (c *Client) post(parent context.Context, body []byte, n int) (vecs [][]float32, retry bool, err error) {
	ctx := parent
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(parent, c.timeout)
		defer cancel()
		defer func() {
			if retry && ctx.Err() != nil && parent.Err() == nil {
				err = fmt.Errorf("attempt timed out after %v: %w", c.timeout, err)
			}
		}()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("openai: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.auth != nil {
		c.auth(req.Header)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, true, c.scrub(err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, oaiMaxErrorBody))
		apiErr := c.apiError(resp, data)
		s := resp.StatusCode
		return nil, s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500, apiErr
	}
	limit := int64(n)*int64(c.dim)*oaiBytesPerValue + 1<<20
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, true, c.scrub(fmt.Errorf("reading response: %w", err))
	}
	if int64(len(data)) > limit {
		return nil, false, fmt.Errorf("%w: more than %d bytes", ErrBadResponse, limit)
	}
	vecs, err = decodeEmbeddings(data, n, c.dim)
	if err != nil {
		return nil, false, c.scrub(err)
	}
	return vecs, false, nil
}

// scrub returns err, unless its text holds the API key: then it returns
// an error with the redacted text, which no longer matches what err
// matched.
func (c *Client) scrub(err error) error {
	if msg := err.Error(); c.redact(msg) != msg {
		return errors.New(c.redact(msg))
	}
	return err
}

// decodeEmbeddings parses an embeddings response for n texts and checks
// and normalises its vectors, which must have dimension dim. Items are
// placed by their "index"; if no item has one, by their position.
func decodeEmbeddings(data []byte, n, dim int) ([][]float32, error) {
	var r struct {
		Data []struct {
			Index     *int            `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if len(r.Data) != n {
		return nil, fmt.Errorf("%w: %d embeddings for %d texts", ErrBadResponse, len(r.Data), n)
	}
	indexed := 0
	for _, d := range r.Data {
		if d.Index != nil {
			indexed++
		}
	}
	if indexed != 0 && indexed != n {
		return nil, fmt.Errorf("%w: %d of %d embeddings have no index", ErrBadResponse, n-indexed, n)
	}
	out := make([][]float32, n)
	for pos, d := range r.Data {
		i := pos
		if d.Index != nil {
			i = *d.Index
		}
		if i < 0 || i >= n {
			return nil, fmt.Errorf("%w: index %d out of range for %d texts", ErrBadResponse, i, n)
		}
		if out[i] != nil {
			return nil, fmt.Errorf("%w: index %d repeated", ErrBadResponse, i)
		}
		v, err := decodeEmbedding(d.Embedding)
		if err != nil {
			return nil, fmt.Errorf("%w: embedding %d: %v", ErrBadResponse, i, err)
		}
		if err := vector.Check(v, dim); err != nil {
			return nil, fmt.Errorf("openai: embedding %d: %w", i, err)
		}
		vector.Normalize(v)
		out[i] = v
	}
	return out, nil
}

// decodeEmbedding parses one embedding: a JSON array of numbers, or a
// base64 string of little-endian float32s (encoding_format "base64",
// which some servers send regardless of the request).
func decodeEmbedding(raw json.RawMessage) ([]float32, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		if len(b)%4 != 0 {
			return nil, fmt.Errorf("base64 embedding of %d bytes, not a multiple of 4", len(b))
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v, nil
	}
	var v []float32
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// APIError is an answer other than 2xx from an embeddings server. Its
// text fields come from the server's error body, when it has the usual
// {"error": {"message": ..., "type": ..., "code": ...}} shape, with the
// API key removed.
type APIError struct {
	Status     int           // HTTP status code, e.g. 429
	Type       string        // error type, e.g. "invalid_request_error"; may be empty
	Code       string        // error code, e.g. "rate_limit_exceeded" or "400"; may be empty
	Message    string        // the server's message, or the status text if it sent none
	RetryAfter time.Duration // from the Retry-After header; 0 if absent
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("openai: HTTP ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Type != "" {
		b.WriteString(" ")
		b.WriteString(e.Type)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// apiError builds the APIError for a non-2xx response with body data.
func (c *Client) apiError(resp *http.Response, data []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var body struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.Message, e.Type, e.Code = body.Message, body.Type, oaiCode(body.Code)
		var inner struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
		}
		var msg string
		switch {
		case json.Unmarshal(body.Error, &inner) == nil:
			e.Message, e.Type, e.Code = inner.Message, inner.Type, oaiCode(inner.Code)
		case json.Unmarshal(body.Error, &msg) == nil:
			e.Message = msg
		}
	} else if len(bytes.TrimSpace(data)) > 0 {
		e.Message = string(bytes.TrimSpace(data))
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	// Redact before cleaning, so that truncation cannot leave part of the
	// key, and after, in case cleaning joined one up.
	e.Message = c.redact(oaiClean(c.redact(e.Message)))
	e.Type = c.redact(oaiClean(c.redact(e.Type)))
	e.Code = c.redact(oaiClean(c.redact(e.Code)))
	return e
}

// oaiCode renders an error code, which servers send as a string, a
// number or null.
func oaiCode(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// oaiClean makes server text safe to show in an error: valid UTF-8, no
// control characters, at most oaiMaxMessage bytes.
func oaiClean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > oaiMaxMessage {
		cut := oaiMaxMessage
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(s)
}

// parseRetryAfter reads a Retry-After header: a number of seconds or an
// HTTP date, relative to now. It returns 0 if the header is absent,
// malformed or in the past.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		const maxSecs = math.MaxInt64 / int64(time.Second)
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
