package llm

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
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/extract"
	"github.com/memoryrelay/memoryrelay/internal/outbound"
	"github.com/memoryrelay/memoryrelay/secret"
)

// Method is the extraction_method of what this package extracts.
const Method = "llm"

// Defaults for [Options].
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxAttempts      = 3
	DefaultMinBackoff       = 500 * time.Millisecond
	DefaultMaxResponseBytes = 1 << 20
	DefaultMaxInputChars    = 20_000
	// MaxBackoff is the longest wait between attempts.
	MaxBackoff = 8 * time.Second
	// MaxRetryAfter is the longest Retry-After honoured; a longer one
	// ends the retries.
	MaxRetryAfter = 30 * time.Second
	// DefaultConfidence is an entity's confidence when the model gives
	// none.
	DefaultConfidence = 0.8
)

// Auth is how the API key is sent.
type Auth int

const (
	// Bearer sends "Authorization: Bearer <key>" (OpenAI, Ollama, most).
	Bearer Auth = iota
	// APIKeyHeader sends "api-key: <key>" (Azure OpenAI).
	APIKeyHeader
)

// Options configures [New]. BaseURL and Model are required.
type Options struct {
	// BaseURL is the API's base, such as "https://api.openai.com/v1" or
	// "https://x.openai.azure.com/openai/deployments/d?api-version=2024-06-01".
	BaseURL string
	// Model is the model asked for, and the extraction_model reported
	// unless the reply names the model that answered.
	Model string
	// APIKey is sent as Auth says; empty sends none (a local Ollama).
	APIKey secret.Text
	// Auth is how APIKey is sent. Default Bearer.
	Auth Auth
	// HTTPClient sends the requests. Default: a client that applies the
	// strict outbound-call policy (internal/outbound) and follows no
	// redirect; the server passes one with the operator's policy.
	HTTPClient *http.Client
	// Timeout bounds each attempt. Default 30 s.
	Timeout time.Duration
	// MaxAttempts is the number of tries, at least 1. Default 3.
	MaxAttempts int
	// MinBackoff is the wait after the first failed attempt; doubled for
	// each further one, jittered, at most MaxBackoff. Default 500 ms.
	MinBackoff time.Duration
	// MaxResponseBytes bounds the reply read. Default 1 MiB.
	MaxResponseBytes int64
	// MaxInputChars bounds the text sent, in characters; longer text is
	// cut at a word boundary. Default 20,000.
	MaxInputChars int
	// NoJSONMode leaves out response_format, for servers that refuse it.
	NoJSONMode bool
	// Sleep waits d, returning ctx's error early. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Errors.
var (
	// ErrTooLarge: the reply was larger than MaxResponseBytes.
	ErrTooLarge = errors.New("llm: reply too large")
)

// StatusError is an HTTP status other than 200 from the endpoint.
type StatusError struct {
	Code int
	// RetryAfter is the server's Retry-After, if it gave one.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return "llm: the endpoint answered " + strconv.Itoa(e.Code) + " " + http.StatusText(e.Code)
}

// ParseError says why a reply did not parse. It never holds the reply.
type ParseError struct {
	Reason string
}

func (e *ParseError) Error() string { return "llm: unusable reply: " + e.Reason }

// Extractor extracts entities with an LLM. It is safe for concurrent use.
type Extractor struct {
	o        Options
	endpoint string
	client   *http.Client
}

// New checks o and returns an Extractor.
func New(o Options) (*Extractor, error) {
	if o.Model == "" {
		return nil, errors.New("llm: Model is required")
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, errors.New("llm: BaseURL must be an absolute http or https URL without user information")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/chat/completions"
	u.RawPath = ""
	if o.Timeout < 0 || o.MaxAttempts < 0 || o.MinBackoff < 0 || o.MaxResponseBytes < 0 || o.MaxInputChars < 0 {
		return nil, errors.New("llm: negative option")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.MaxInputChars == 0 {
		o.MaxInputChars = DefaultMaxInputChars
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	x := &Extractor{o: o, endpoint: u.String()}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		x.client = &c
	} else {
		x.client = outbound.Policy{}.Client(0)
	}
	x.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return x, nil
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

// systemPrompt asks for the entities as JSON and nothing else.
const systemPrompt = `You extract named entities from a note an AI agent keeps about its user and work.
Reply with one JSON object and nothing else, of the form
{"entities":[{"type":"person","name":"Sarah Chen","confidence":0.9}]}
type is one of: person, organization, technology, project, product, location, document, metric, event, skill, concept, date, email, url, other.
name is the entity exactly as written in the note. Give each entity once, at most 50. If there are none, reply {"entities":[]}.`

type chatRequest struct {
	Model          string          `json:"model"`
	Messages       []chatMessage   `json:"messages"`
	Temperature    float64         `json:"temperature"`
	ResponseFormat *responseFormat `json:"response_format,omitempty"`
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type responseFormat struct {
	Type string `json:"type"`
}

type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
}

// Extract implements extract.Extractor.
func (x *Extractor) Extract(ctx context.Context, text string) (extract.Result, error) {
	text = cut(strings.ToValidUTF8(text, "\uFFFD"), x.o.MaxInputChars)
	req := chatRequest{Model: x.o.Model, Temperature: 0, Messages: []chatMessage{
		{Role: "system", Content: systemPrompt}, {Role: "user", Content: text}}}
	if !x.o.NoJSONMode {
		req.ResponseFormat = &responseFormat{Type: "json_object"}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return extract.Result{}, err
	}
	var res chatResponse
	for attempt := 1; ; attempt++ {
		var retry bool
		var wait time.Duration
		res, retry, wait, err = x.post(ctx, body)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return extract.Result{}, ctx.Err()
		}
		if !retry || attempt >= x.o.MaxAttempts {
			return extract.Result{}, err
		}
		if wait == 0 {
			wait = x.backoff(attempt)
		}
		if serr := x.o.Sleep(ctx, wait); serr != nil {
			return extract.Result{}, serr
		}
	}
	if len(res.Choices) == 0 || res.Choices[0].Message.Content == nil {
		return extract.Result{}, &ParseError{Reason: "no message content"}
	}
	es, err := ParseEntities(*res.Choices[0].Message.Content)
	if err != nil {
		return extract.Result{}, err
	}
	model := x.o.Model
	if m := strings.TrimSpace(res.Model); m != "" && len(m) <= 200 && utf8.ValidString(m) {
		model = m
	}
	return extract.Result{Entities: inText(es, text), Method: Method, Model: model}, nil
}

// post makes one attempt. retry says whether another may succeed; wait is
// the server's Retry-After, if it gave one that is honoured.
func (x *Extractor) post(ctx context.Context, body []byte) (res chatResponse, retry bool, wait time.Duration, err error) {
	actx, cancel := context.WithTimeout(ctx, x.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, x.endpoint, bytes.NewReader(body))
	if err != nil {
		return res, false, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if !x.o.APIKey.IsZero() {
		switch x.o.Auth {
		case APIKeyHeader:
			req.Header.Set("api-key", x.o.APIKey.Reveal())
		default:
			req.Header.Set("Authorization", "Bearer "+x.o.APIKey.Reveal())
		}
	}
	resp, err := x.client.Do(req)
	if err != nil {
		if errors.Is(err, outbound.ErrBlocked) {
			var b *outbound.BlockedError
			errors.As(err, &b)
			return res, false, 0, b
		}
		if actx.Err() != nil && ctx.Err() == nil {
			return res, true, 0, fmt.Errorf("llm: no reply within %v", x.o.Timeout)
		}
		return res, true, 0, fmt.Errorf("llm: calling %s: %w", req.URL.Host, innermost(err))
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, x.o.MaxResponseBytes+1))
	if resp.StatusCode != http.StatusOK {
		se := &StatusError{Code: resp.StatusCode}
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
			se.RetryAfter = time.Duration(s) * time.Second
		}
		switch c := resp.StatusCode; {
		case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
			if se.RetryAfter > MaxRetryAfter {
				return res, false, 0, se
			}
			return res, true, se.RetryAfter, se
		}
		return res, false, 0, se
	}
	if rerr != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return res, true, 0, fmt.Errorf("llm: no reply within %v", x.o.Timeout)
		}
		return res, true, 0, fmt.Errorf("llm: reading the reply: %w", innermost(rerr))
	}
	if int64(len(data)) > x.o.MaxResponseBytes {
		return res, false, 0, ErrTooLarge
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, false, 0, &ParseError{Reason: "the reply is not a chat completion"}
	}
	return res, false, 0, nil
}

func (x *Extractor) backoff(attempt int) time.Duration {
	d := min(x.o.MinBackoff<<min(attempt-1, 20), MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func innermost(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// cut returns s cut to at most n characters, at a word boundary when one
// is near.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n {
			break
		}
		k++
	}
	head := s[:i]
	if j := strings.LastIndexFunc(head, unicode.IsSpace); j > len(head)*3/4 {
		head = head[:j]
	}
	return head
}

// inText keeps the entities whose name occurs in text, ignoring case.
func inText(es []extract.Entity, text string) []extract.Entity {
	lower := strings.ToLower(text)
	out := es[:0]
	for _, e := range es {
		if strings.Contains(lower, strings.ToLower(e.Name)) {
			out = append(out, e)
		}
	}
	return out
}

// maxItems is the most items a reply's list may hold; a longer one is
// refused rather than read.
const maxItems = 1000

// ParseEntities parses a model's reply: exactly one JSON object with an
// "entities" array of objects, each with string "type" and "name" and an
// optional number "confidence" in [0, 1] (other fields are ignored), the
// whole optionally inside one Markdown code fence. Anything else is a
// *ParseError. The entities are returned through [extract.Check]:
// canonical types, at most extract.MaxEntities.
func ParseEntities(reply string) ([]extract.Entity, error) {
	s := strings.TrimSpace(reply)
	if strings.HasPrefix(s, "```") {
		nl := strings.IndexByte(s, '\n')
		if nl < 0 || !strings.HasSuffix(s, "```") || len(s) < nl+4 {
			return nil, &ParseError{Reason: "an unclosed code fence"}
		}
		if lang := strings.TrimSpace(s[3:nl]); lang != "" && !strings.EqualFold(lang, "json") {
			return nil, &ParseError{Reason: "a code fence that is not JSON"}
		}
		s = strings.TrimSpace(s[nl+1 : len(s)-3])
	}
	if !strings.HasPrefix(s, "{") {
		return nil, &ParseError{Reason: "not a JSON object"}
	}
	dec := json.NewDecoder(strings.NewReader(s))
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil {
		return nil, &ParseError{Reason: "not valid JSON"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ParseError{Reason: "text after the JSON object"}
	}
	raw, ok := top["entities"]
	if !ok {
		return nil, &ParseError{Reason: `no "entities"`}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil && string(raw) != "[]" {
		return nil, &ParseError{Reason: `"entities" is not an array`}
	}
	if len(items) > maxItems {
		return nil, &ParseError{Reason: "too many entities"}
	}
	es := make([]extract.Entity, 0, len(items))
	for i, it := range items {
		var e struct {
			Type       *string  `json:"type"`
			Name       *string  `json:"name"`
			Confidence *float64 `json:"confidence"`
		}
		if err := json.Unmarshal(it, &e); err != nil || bytes.TrimSpace(it)[0] != '{' {
			return nil, &ParseError{Reason: fmt.Sprintf("entity %d is not an object of strings type and name", i)}
		}
		if e.Type == nil || e.Name == nil {
			return nil, &ParseError{Reason: fmt.Sprintf("entity %d lacks type or name", i)}
		}
		c := DefaultConfidence
		if e.Confidence != nil {
			if *e.Confidence < 0 || *e.Confidence > 1 {
				return nil, &ParseError{Reason: fmt.Sprintf("entity %d has a confidence outside [0, 1]", i)}
			}
			c = *e.Confidence
		}
		es = append(es, extract.Entity{Type: *e.Type, Name: *e.Name, Confidence: c})
	}
	return extract.Check(es), nil
}
