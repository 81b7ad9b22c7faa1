package openai_test

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
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/embed/openai"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// oaiKey is the API key of the tests; no error may show it.
const oaiKey = "sk-SECRET-123"

// oaiRequest is a request as the fake server sees it.
type oaiRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     *int     `json:"dimensions"`

	Path, Query, Auth, ContentType string
}

// oaiItem is one element of a response's "data".
type oaiItem struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// oaiVector is the fake server's embedding of text "t<i>": (1, i, 2),
// from which the tests can tell which text a vector belongs to.
func oaiVector(text string) []float32 {
	i, _ := strconv.Atoi(strings.TrimPrefix(text, "t"))
	return []float32{1, float32(i), 2}
}

// oaiServer is a fake embeddings server. Its handler gets the decoded
// request and the 1-based request count; reply writes a valid response.
type oaiServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []oaiRequest
}

func newOAIServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, req oaiRequest, n int)) *oaiServer {
	t.Helper()
	s := &oaiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req oaiRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decoding request: %v", err)
		}
		req.Path, req.Query = r.URL.Path, r.URL.RawQuery
		req.Auth, req.ContentType = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		if r.Method != http.MethodPost {
			t.Errorf("method %s, want POST", r.Method)
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		n := len(s.requests)
		s.mu.Unlock()
		handler(w, r, req, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *oaiServer) Requests() []oaiRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]oaiRequest(nil), s.requests...)
}

// reply answers req with oaiVector of each input, listed in reverse
// order so that clients must use "index".
func reply(w http.ResponseWriter, req oaiRequest) {
	items := make([]oaiItem, len(req.Input))
	for i, text := range req.Input {
		items[len(items)-1-i] = oaiItem{"embedding", i, oaiVector(text)}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"object": "list", "data": items, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)},
	})
}

func okHandler(w http.ResponseWriter, _ *http.Request, req oaiRequest, _ int) { reply(w, req) }

// sleepRecorder is an Options.Sleep that records and does not
// sleep.
type sleepRecorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (s *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.sleeps = append(s.sleeps, d)
	s.mu.Unlock()
	return ctx.Err()
}

// newOAI returns a client of srv with the test key and dimension 3;
// change adjusts the options.
func newOAI(t *testing.T, srv *oaiServer, change func(*openai.Options)) (*openai.Client, *sleepRecorder) {
	t.Helper()
	sleeps := &sleepRecorder{}
	opts := openai.Options{
		BaseURL:   srv.URL + "/v1",
		Model:     "text-embedding-3-small",
		APIKey:    oaiKey,
		Dimension: 3,
		Sleep:     sleeps.Sleep,
		Getenv:    func(string) string { return "" },
	}
	if change != nil {
		change(&opts)
	}
	c, err := openai.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, sleeps
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "t" + strconv.Itoa(i)
	}
	return out
}

// checkVectors checks that vecs are the unit vectors of oaiVector for
// texts t0, t1, ..., in order.
func checkVectors(t *testing.T, vecs [][]float32, n int) {
	t.Helper()
	if len(vecs) != n {
		t.Fatalf("%d vectors for %d texts", len(vecs), n)
	}
	for i, v := range vecs {
		want := oaiVector("t" + strconv.Itoa(i))
		vector.Normalize(want)
		if !closeTo(v, want, 1e-6) {
			t.Fatalf("vector %d = %v, want %v", i, v, want)
		}
	}
}

func TestOpenAIBatches(t *testing.T) {
	srv := newOAIServer(t, okHandler)
	c, sleeps := newOAI(t, srv, func(o *openai.Options) {
		o.BaseURL = srv.URL + "/v1/" // the trailing slash is dropped
		o.BatchSize = 100
	})
	vecs, err := c.Embed(context.Background(), texts(250))
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	checkVectors(t, vecs, 250)

	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, want := range []int{100, 100, 50} {
		r := reqs[i]
		if len(r.Input) != want {
			t.Errorf("request %d has %d texts, want %d", i, len(r.Input), want)
		}
		if r.Input[0] != "t"+strconv.Itoa(100*i) {
			t.Errorf("request %d starts with %q", i, r.Input[0])
		}
		if r.Path != "/v1/embeddings" || r.Model != "text-embedding-3-small" || r.EncodingFormat != "float" || r.Dimensions != nil {
			t.Errorf("request %d: path %q, model %q, encoding_format %q, dimensions %v",
				i, r.Path, r.Model, r.EncodingFormat, r.Dimensions)
		}
		if r.Auth != "Bearer "+oaiKey || r.ContentType != "application/json" {
			t.Errorf("request %d: Authorization %q, Content-Type %q", i, r.Auth, r.ContentType)
		}
	}
	if len(sleeps.sleeps) != 0 {
		t.Errorf("slept %v", sleeps.sleeps)
	}
}

func TestOpenAIDefaultBatchSize(t *testing.T) {
	srv := newOAIServer(t, okHandler)
	c, _ := newOAI(t, srv, nil)
	vecs, err := c.Embed(context.Background(), texts(openai.DefaultBatchSize+1))
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, vecs, openai.DefaultBatchSize+1)
	if reqs := srv.Requests(); len(reqs) != 2 || len(reqs[0].Input) != openai.DefaultBatchSize {
		t.Errorf("%d requests, the first of %d texts", len(reqs), len(reqs[0].Input))
	}
}

func TestOpenAISendDimensions(t *testing.T) {
	srv := newOAIServer(t, okHandler)
	c, _ := newOAI(t, srv, func(o *openai.Options) { o.SendDimensions = true })
	if _, err := c.Embed(context.Background(), texts(2)); err != nil {
		t.Fatal(err)
	}
	if d := srv.Requests()[0].Dimensions; d == nil || *d != 3 {
		t.Errorf("dimensions = %v, want 3", d)
	}
}

func TestOpenAIBaseURL(t *testing.T) {
	tests := []struct {
		base, wantPath, wantQuery string
	}{
		{"/v1", "/v1/embeddings", ""},
		{"/v1///", "/v1/embeddings", ""},
		{"", "/embeddings", ""},
		{"/", "/embeddings", ""},
		{"/openai/deployments/x?api-version=2024-02-01", "/openai/deployments/x/embeddings", "api-version=2024-02-01"},
		{"/v1#fragment", "/v1/embeddings", ""},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			srv := newOAIServer(t, okHandler)
			c, _ := newOAI(t, srv, func(o *openai.Options) { o.BaseURL = srv.URL + tt.base })
			if _, err := c.Embed(context.Background(), texts(1)); err != nil {
				t.Fatal(err)
			}
			r := srv.Requests()[0]
			if r.Path != tt.wantPath || r.Query != tt.wantQuery {
				t.Errorf("request to %q?%q, want %q?%q", r.Path, r.Query, tt.wantPath, tt.wantQuery)
			}
		})
	}
}

func TestOpenAIAPIKey(t *testing.T) {
	tests := []struct {
		name      string
		key, env  string
		vars      map[string]string
		wantAuth  string
		wantNames []string // environment variables looked up
	}{
		{"explicit key wins", "sk-explicit", "", map[string]string{"OPENAI_API_KEY": "sk-env"}, "Bearer sk-explicit", nil},
		// The server is not OpenAI's: the OpenAI key in the environment
		// stays there unless its variable is named.
		{"default variable not sent to another host", "", "", map[string]string{"OPENAI_API_KEY": "sk-env"}, "", nil},
		{"default variable named", "", "OPENAI_API_KEY", map[string]string{"OPENAI_API_KEY": "sk-env"}, "Bearer sk-env", []string{"OPENAI_API_KEY"}},
		{"custom variable", "", "MY_KEY", map[string]string{"OPENAI_API_KEY": "sk-env", "MY_KEY": "sk-mine"}, "Bearer sk-mine", []string{"MY_KEY"}},
		{"lookup disabled", "", "-", map[string]string{"OPENAI_API_KEY": "sk-env"}, "", nil},
		{"no key anywhere", "", "MY_KEY", nil, "", []string{"MY_KEY"}},
		{"whitespace trimmed", "", "MY_KEY", map[string]string{"MY_KEY": " sk-env\n"}, "Bearer sk-env", []string{"MY_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOAIServer(t, okHandler)
			var looked []string
			c, _ := newOAI(t, srv, func(o *openai.Options) {
				o.APIKey, o.APIKeyEnv = tt.key, tt.env
				o.Getenv = func(name string) string {
					looked = append(looked, name)
					return tt.vars[name]
				}
			})
			if _, err := c.Embed(context.Background(), texts(1)); err != nil {
				t.Fatal(err)
			}
			if got := srv.Requests()[0].Auth; got != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
			if strings.Join(looked, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("looked up %v, want %v", looked, tt.wantNames)
			}
		})
	}
}

// TestOpenAIAPIKeyDefaultHost: with APIKeyEnv empty, OPENAI_API_KEY is
// read for OpenAI's own host only (New makes no request, so nothing
// is sent anywhere here).
func TestOpenAIAPIKeyDefaultHost(t *testing.T) {
	for _, tt := range []struct {
		base string
		want []string
	}{
		{"https://api.openai.com/v1", []string{"OPENAI_API_KEY"}},
		{"https://API.OpenAI.com:443/v1", []string{"OPENAI_API_KEY"}},
		{"http://localhost:11434/v1", nil},
		{"https://api.openai.com.example.net/v1", nil},
		{"https://proxy.example/api.openai.com/v1", nil},
	} {
		var looked []string
		_, err := openai.New(openai.Options{
			BaseURL: tt.base, Model: "m", Dimension: 3,
			Getenv: func(name string) string { looked = append(looked, name); return "sk-env" },
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(looked, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: looked up %v, want %v", tt.base, looked, tt.want)
		}
	}
}

// oaiStep is one answer of a scripted server: a status (0 means a valid
// 200 response), a Retry-After header and a body.
type oaiStep struct {
	status     int
	retryAfter string
	body       string
}

func scriptedHandler(t *testing.T, steps []oaiStep) func(http.ResponseWriter, *http.Request, oaiRequest, int) {
	return func(w http.ResponseWriter, _ *http.Request, req oaiRequest, n int) {
		if n > len(steps) {
			t.Errorf("request %d, but the script has %d steps", n, len(steps))
			w.WriteHeader(http.StatusTeapot)
			return
		}
		s := steps[n-1]
		if s.status == 0 {
			reply(w, req)
			return
		}
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.WriteHeader(s.status)
		io.WriteString(w, s.body)
	}
}

func TestOpenAIRetries(t *testing.T) {
	ok := oaiStep{}
	tests := []struct {
		name       string
		change     func(*openai.Options)
		steps      []oaiStep
		wantSleeps []time.Duration // exact; nil with sleepRange to check ranges
		sleepRange [][2]time.Duration
		wantErr    *openai.APIError // nil for success
	}{
		{
			name:       "429 with Retry-After seconds",
			steps:      []oaiStep{{429, "2", `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`}, ok},
			wantSleeps: []time.Duration{2 * time.Second},
		},
		{
			name:       "503 twice",
			steps:      []oaiStep{{503, "", "busy"}, {503, "", "busy"}, ok},
			sleepRange: [][2]time.Duration{{250 * time.Millisecond, 500 * time.Millisecond}, {500 * time.Millisecond, time.Second}},
		},
		{
			name:       "408 is retried",
			steps:      []oaiStep{{408, "", ""}, ok},
			sleepRange: [][2]time.Duration{{250 * time.Millisecond, 500 * time.Millisecond}},
		},
		{
			name:   "Retry-After capped at MaxBackoff",
			change: func(o *openai.Options) { o.MaxBackoff = 5 * time.Second },
			steps:  []oaiStep{{429, "3600", ""}, ok}, wantSleeps: []time.Duration{5 * time.Second},
		},
		{
			name:   "Retry-After as an HTTP date",
			change: func(o *openai.Options) { o.MaxBackoff = 7 * time.Second },
			steps:  []oaiStep{{503, "Fri, 01 Jan 2100 00:00:00 GMT", ""}, ok}, wantSleeps: []time.Duration{7 * time.Second},
		},
		{
			name:    "400 is not retried",
			steps:   []oaiStep{{400, "", `{"error":{"message":"Invalid input: too long","type":"invalid_request_error","param":null,"code":null}}`}},
			wantErr: &openai.APIError{Status: 400, Type: "invalid_request_error", Message: "Invalid input: too long"},
		},
		{
			name:    "401 is not retried",
			steps:   []oaiStep{{401, "", `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`}},
			wantErr: &openai.APIError{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "Incorrect API key provided"},
		},
		{
			name:    "error as a string",
			steps:   []oaiStep{{404, "", `{"error":"model \"nomic\" not found, try pulling it first"}`}},
			wantErr: &openai.APIError{Status: 404, Message: `model "nomic" not found, try pulling it first`},
		},
		{
			name:    "vLLM error shape",
			steps:   []oaiStep{{400, "", `{"object":"error","message":"bad input","type":"BadRequestError","param":null,"code":400}`}},
			wantErr: &openai.APIError{Status: 400, Type: "BadRequestError", Code: "400", Message: "bad input"},
		},
		{
			name:    "plain text body",
			steps:   []oaiStep{{404, "", "404 page not found\n"}},
			wantErr: &openai.APIError{Status: 404, Message: "404 page not found"},
		},
		{
			name:    "empty body",
			steps:   []oaiStep{{403, "", ""}},
			wantErr: &openai.APIError{Status: 403, Message: "Forbidden"},
		},
		{
			name:       "5xx until retries run out",
			change:     func(o *openai.Options) { o.MaxRetries = 2 },
			steps:      []oaiStep{{500, "", "a"}, {502, "", "b"}, {500, "", `{"error":{"message":"c","type":"server_error"}}`}},
			sleepRange: [][2]time.Duration{{250 * time.Millisecond, 500 * time.Millisecond}, {500 * time.Millisecond, time.Second}},
			wantErr:    &openai.APIError{Status: 500, Type: "server_error", Message: "c"},
		},
		{
			name:       "429 until retries run out keeps Retry-After",
			change:     func(o *openai.Options) { o.MaxRetries = 1 },
			steps:      []oaiStep{{429, "2", ""}, {429, "3", ""}},
			wantSleeps: []time.Duration{2 * time.Second},
			wantErr:    &openai.APIError{Status: 429, Message: "Too Many Requests", RetryAfter: 3 * time.Second},
		},
		{
			name:    "retries disabled",
			change:  func(o *openai.Options) { o.MaxRetries = -1 },
			steps:   []oaiStep{{503, "", ""}},
			wantErr: &openai.APIError{Status: 503, Message: "Service Unavailable"},
		},
		{
			name:  "default MaxRetries is 4",
			steps: []oaiStep{{500, "", ""}, {500, "", ""}, {500, "", ""}, {500, "", ""}, {500, "", ""}},
			sleepRange: [][2]time.Duration{
				{250 * time.Millisecond, 500 * time.Millisecond}, {500 * time.Millisecond, time.Second},
				{time.Second, 2 * time.Second}, {2 * time.Second, 4 * time.Second}},
			wantErr: &openai.APIError{Status: 500, Message: "Internal Server Error"},
		},
		{
			name:   "backoff capped at MaxBackoff",
			change: func(o *openai.Options) { o.MinBackoff, o.MaxBackoff = 100*time.Millisecond, 300*time.Millisecond },
			steps:  []oaiStep{{500, "", ""}, {500, "", ""}, {500, "", ""}, {500, "", ""}, ok},
			sleepRange: [][2]time.Duration{
				{50 * time.Millisecond, 100 * time.Millisecond}, {100 * time.Millisecond, 200 * time.Millisecond},
				{150 * time.Millisecond, 300 * time.Millisecond}, {150 * time.Millisecond, 300 * time.Millisecond}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOAIServer(t, scriptedHandler(t, tt.steps))
			c, sleeps := newOAI(t, srv, tt.change)
			vecs, err := c.Embed(context.Background(), texts(2))
			if got := len(srv.Requests()); got != len(tt.steps) {
				t.Errorf("%d requests, want %d", got, len(tt.steps))
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Embed: %v", err)
				}
				checkVectors(t, vecs, 2)
			} else {
				var apiErr *openai.APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("Embed = %v (%T), want *APIError", err, err)
				}
				if *apiErr != *tt.wantErr {
					t.Errorf("APIError = %+v, want %+v", *apiErr, *tt.wantErr)
				}
				if vecs != nil {
					t.Errorf("Embed returned vectors with an error")
				}
				if !strings.HasPrefix(err.Error(), "openai: ") || !strings.Contains(err.Error(), strconv.Itoa(tt.wantErr.Status)) {
					t.Errorf("error text %q", err)
				}
			}
			got := sleeps.sleeps
			if tt.sleepRange != nil {
				if len(got) != len(tt.sleepRange) {
					t.Fatalf("sleeps %v, want %d in %v", got, len(tt.sleepRange), tt.sleepRange)
				}
				for i, r := range tt.sleepRange {
					if got[i] < r[0] || got[i] > r[1] {
						t.Errorf("sleep %d = %v, want in [%v, %v]", i, got[i], r[0], r[1])
					}
				}
			} else if fmt.Sprint(got) != fmt.Sprint(tt.wantSleeps) {
				t.Errorf("sleeps %v, want %v", got, tt.wantSleeps)
			}
		})
	}
}

func TestOpenAITimeout(t *testing.T) {
	srv := newOAIServer(t, func(w http.ResponseWriter, r *http.Request, _ oaiRequest, _ int) {
		<-r.Context().Done() // slower than any timeout
	})
	c, sleeps := newOAI(t, srv, func(o *openai.Options) {
		o.Timeout = 50 * time.Millisecond
		o.MaxRetries = 1
	})
	start := time.Now()
	vecs, err := c.Embed(context.Background(), texts(1))
	if err == nil || vecs != nil {
		t.Fatalf("Embed = %v, %v; want an error", vecs, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Embed = %v, want an error matching context.DeadlineExceeded", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (a timed-out attempt is retried)", n)
	}
	if len(sleeps.sleeps) != 1 {
		t.Errorf("sleeps %v", sleeps.sleeps)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Embed took %v", d)
	}
}

func TestOpenAICancel(t *testing.T) {
	t.Run("during a request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		srv := newOAIServer(t, func(w http.ResponseWriter, r *http.Request, _ oaiRequest, _ int) {
			cancel()
			<-r.Context().Done()
		})
		c, _ := newOAI(t, srv, nil)
		start := time.Now()
		vecs, err := c.Embed(ctx, texts(3))
		if !errors.Is(err, context.Canceled) || vecs != nil {
			t.Fatalf("Embed = %v, %v; want context.Canceled", vecs, err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests after cancel, want 1", n)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Embed took %v", d)
		}
	})
	t.Run("during backoff, default Sleep", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		srv := newOAIServer(t, scriptedHandler(t, []oaiStep{{503, "", ""}}))
		c, _ := newOAI(t, srv, func(o *openai.Options) {
			o.Sleep = nil
			o.MinBackoff, o.MaxBackoff = time.Hour, time.Hour
		})
		start := time.Now()
		_, err := c.Embed(ctx, texts(1))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Embed = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Embed took %v", d)
		}
	})
	t.Run("Sleep error", func(t *testing.T) {
		stop := errors.New("stop")
		srv := newOAIServer(t, scriptedHandler(t, []oaiStep{{503, "", ""}}))
		c, _ := newOAI(t, srv, func(o *openai.Options) {
			o.Sleep = func(context.Context, time.Duration) error { return stop }
		})
		if _, err := c.Embed(context.Background(), texts(1)); !errors.Is(err, stop) {
			t.Fatalf("Embed = %v, want the Sleep error", err)
		}
	})
	t.Run("already done", func(t *testing.T) {
		srv := newOAIServer(t, okHandler)
		c, _ := newOAI(t, srv, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, in := range [][]string{nil, texts(2)} {
			if _, err := c.Embed(ctx, in); !errors.Is(err, context.Canceled) {
				t.Errorf("Embed(%d texts) = %v, want context.Canceled", len(in), err)
			}
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("%d requests", n)
		}
	})
}

func TestOpenAIEmptyInput(t *testing.T) {
	srv := newOAIServer(t, okHandler)
	c, _ := newOAI(t, srv, nil)
	for _, in := range [][]string{nil, {}} {
		vecs, err := c.Embed(context.Background(), in)
		if err != nil || len(vecs) != 0 {
			t.Errorf("Embed(%v) = %v, %v; want no vectors, no error", in, vecs, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests for no texts", n)
	}
	if c.Model() != "openai:text-embedding-3-small" || c.Dimension() != 3 {
		t.Errorf("Model %q, Dimension %d", c.Model(), c.Dimension())
	}
}

func b64(xs ...float32) string {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestOpenAIResponses(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		body    string
		want    [][]float32 // normalised, if no error
		wantErr error
	}{
		{name: "no index: position order", body: `{"data":[{"embedding":[3,4,0]},{"embedding":[0,0,2]}]}`,
			want: [][]float32{{0.6, 0.8, 0}, {0, 0, 1}}},
		{name: "base64", body: `{"data":[{"index":1,"embedding":"` + b64(0, 0, 2) + `"},{"index":0,"embedding":"` + b64(3, 4, 0) + `"}]}`,
			want: [][]float32{{0.6, 0.8, 0}, {0, 0, 1}}},
		{name: "wrong dimension", body: `{"data":[{"index":0,"embedding":[1,2,3,4]},{"index":1,"embedding":[1,2,3,4]}]}`,
			wantErr: vector.ErrDimensionMismatch},
		{name: "garbage", body: `<html>oops</html>`, wantErr: openai.ErrBadResponse},
		{name: "truncated", body: `{"data":[{"index":0,"embedding":[1,2,`, wantErr: openai.ErrBadResponse},
		{name: "NaN literal", body: `{"data":[{"index":0,"embedding":[NaN,1,2]},{"index":1,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "NaN in base64", body: `{"data":[{"index":0,"embedding":"` + b64(nan, 1, 2) + `"},{"index":1,"embedding":[1,1,1]}]}`, wantErr: vector.ErrInvalid},
		{name: "out of float32 range", body: `{"data":[{"index":0,"embedding":[1e39,1,2]},{"index":1,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "zero vector", body: `{"data":[{"index":0,"embedding":[0,0,0]},{"index":1,"embedding":[1,1,1]}]}`, wantErr: vector.ErrInvalid},
		{name: "null embedding", body: `{"data":[{"index":0,"embedding":null},{"index":1,"embedding":[1,1,1]}]}`, wantErr: vector.ErrInvalid},
		{name: "strings", body: `{"data":[{"index":0,"embedding":["a","b","c"]},{"index":1,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "bad base64", body: `{"data":[{"index":0,"embedding":"!!!"},{"index":1,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "base64 of 5 bytes", body: `{"data":[{"index":0,"embedding":"AAAAAAA="},{"index":1,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "too few", body: `{"data":[{"index":0,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "too many", body: `{"data":[{"index":0,"embedding":[1,1,1]},{"index":1,"embedding":[1,1,1]},{"index":2,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "no data", body: `{"object":"list"}`, wantErr: openai.ErrBadResponse},
		{name: "repeated index", body: `{"data":[{"index":1,"embedding":[1,1,1]},{"index":1,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "index out of range", body: `{"data":[{"index":0,"embedding":[1,1,1]},{"index":2,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "negative index", body: `{"data":[{"index":-1,"embedding":[1,1,1]},{"index":1,"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
		{name: "some indexes missing", body: `{"data":[{"index":1,"embedding":[1,1,1]},{"embedding":[1,1,1]}]}`, wantErr: openai.ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOAIServer(t, func(w http.ResponseWriter, _ *http.Request, _ oaiRequest, _ int) {
				io.WriteString(w, tt.body)
			})
			c, sleeps := newOAI(t, srv, nil)
			vecs, err := c.Embed(context.Background(), texts(2))
			if n := len(srv.Requests()); n != 1 || len(sleeps.sleeps) != 0 {
				t.Errorf("%d requests, sleeps %v: a bad response must not be retried", n, sleeps.sleeps)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || vecs != nil {
					t.Fatalf("Embed = %v, %v; want an error matching %v", vecs, err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "openai: ") {
					t.Errorf("error text %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Embed: %v", err)
			}
			for i := range tt.want {
				if !closeTo(vecs[i], tt.want[i], 1e-6) {
					t.Errorf("vector %d = %v, want %v", i, vecs[i], tt.want[i])
				}
			}
		})
	}
}

func TestOpenAIDimensionError(t *testing.T) {
	srv := newOAIServer(t, func(w http.ResponseWriter, _ *http.Request, _ oaiRequest, _ int) {
		io.WriteString(w, `{"data":[{"index":0,"embedding":[1,2,3,4,5]}]}`)
	})
	c, _ := newOAI(t, srv, nil)
	_, err := c.Embed(context.Background(), texts(1))
	var de *vector.DimensionError
	if !errors.As(err, &de) || de.Got != 5 || de.Want != 3 {
		t.Fatalf("Embed = %v, want *DimensionError{Got: 5, Want: 3}", err)
	}
}

// TestOpenAIAllOrNothing checks that a failed batch fails the call after
// earlier batches succeeded, and that no later batch is sent.
func TestOpenAIAllOrNothing(t *testing.T) {
	srv := newOAIServer(t, scriptedHandler(t, []oaiStep{{}, {400, "", `{"error":{"message":"no"}}`}}))
	c, _ := newOAI(t, srv, func(o *openai.Options) { o.BatchSize = 1 })
	vecs, err := c.Embed(context.Background(), texts(3))
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || vecs != nil {
		t.Fatalf("Embed = %v, %v; want no vectors and an *APIError", vecs, err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestOpenAINetworkError(t *testing.T) {
	srv := newOAIServer(t, okHandler)
	c, sleeps := newOAI(t, srv, func(o *openai.Options) { o.MaxRetries = 2 })
	srv.Close()
	_, err := c.Embed(context.Background(), texts(1))
	if err == nil || !strings.HasPrefix(err.Error(), "openai: ") {
		t.Fatalf("Embed = %v, want a network error", err)
	}
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("a network error is an *APIError: %v", err)
	}
	if len(sleeps.sleeps) != 2 {
		t.Errorf("sleeps %v, want 2 retries", sleeps.sleeps)
	}
}

// TestOpenAIKeyNeverShown has a server quote the Authorization header
// back in every way it can, and checks no error shows the key.
func TestOpenAIKeyNeverShown(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   func(auth string) string
	}{
		{"JSON message", 401, func(a string) string {
			return `{"error":{"message":"Incorrect API key provided: ` + a + `","type":"` + a + `","code":"` + a + `"}}`
		}},
		{"JSON escapes", 401, func(a string) string {
			return `{"error":{"message":"key \u0073k-SECRET-123 is wrong"}}`
		}},
		{"plain text", 400, func(a string) string { return "bad header: " + a }},
		{"long plain text", 400, func(a string) string { return strings.Repeat("x", 1020) + a }},
		{"5xx", 503, func(a string) string { return a }},
		{"garbage 200", 200, func(a string) string { return `{"data":[` + a }},
		{"bad vector 200", 200, func(a string) string { return `{"data":[{"index":0,"embedding":"` + a + `"}]}` }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOAIServer(t, func(w http.ResponseWriter, r *http.Request, _ oaiRequest, _ int) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body(r.Header.Get("Authorization")))
			})
			c, _ := newOAI(t, srv, func(o *openai.Options) { o.MaxRetries = -1 })
			_, err := c.Embed(context.Background(), texts(1))
			if err == nil {
				t.Fatal("Embed succeeded")
			}
			shown := []string{err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err)}
			var apiErr *openai.APIError
			if errors.As(err, &apiErr) {
				shown = append(shown, apiErr.Message, apiErr.Type, apiErr.Code)
			}
			for _, s := range shown {
				if strings.Contains(s, oaiKey) {
					t.Errorf("the key shows in %q", s)
				}
			}
		})
	}
	t.Run("printing the client", func(t *testing.T) {
		srv := newOAIServer(t, okHandler)
		c, _ := newOAI(t, srv, nil)
		if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, oaiKey) {
			t.Errorf("the key shows in %q", s)
		}
	})
}

func TestNewErrors(t *testing.T) {
	valid := openai.Options{BaseURL: "http://localhost:11434/v1", Model: "m", Dimension: 8, APIKey: oaiKey}
	tests := []struct {
		name   string
		change func(*openai.Options)
	}{
		{"no BaseURL", func(o *openai.Options) { o.BaseURL = "" }},
		{"relative BaseURL", func(o *openai.Options) { o.BaseURL = "/v1" }},
		{"BaseURL without host", func(o *openai.Options) { o.BaseURL = "http:///v1" }},
		{"ftp BaseURL", func(o *openai.Options) { o.BaseURL = "ftp://example.com/v1" }},
		{"unparsable BaseURL", func(o *openai.Options) { o.BaseURL = "http://" + oaiKey + "@host:port:x/%zz" }},
		{"no Model", func(o *openai.Options) { o.Model = "" }},
		{"no Dimension", func(o *openai.Options) { o.Dimension = 0 }},
		{"negative Dimension", func(o *openai.Options) { o.Dimension = -1 }},
		{"negative BatchSize", func(o *openai.Options) { o.BatchSize = -1 }},
		{"negative MinBackoff", func(o *openai.Options) { o.MinBackoff = -time.Second }},
		{"negative MaxBackoff", func(o *openai.Options) { o.MaxBackoff = -time.Second }},
		{"MinBackoff above MaxBackoff", func(o *openai.Options) { o.MinBackoff, o.MaxBackoff = time.Minute, time.Second }},
		{"MinBackoff above default MaxBackoff", func(o *openai.Options) { o.MinBackoff = time.Minute }},
		{"key with a newline", func(o *openai.Options) { o.APIKey = oaiKey + "\nX-Evil: 1" }},
		{"key from env with a control character", func(o *openai.Options) {
			o.APIKey, o.APIKeyEnv = "", "MY_KEY"
			o.Getenv = func(string) string { return oaiKey + "\x00" }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := valid
			tt.change(&opts)
			c, err := openai.New(opts)
			if err == nil {
				t.Fatalf("New = %v, want an error", c)
			}
			if !strings.HasPrefix(err.Error(), "openai: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if strings.Contains(err.Error(), oaiKey) {
				t.Errorf("error %q shows the key", err)
			}
		})
	}
	if _, err := openai.New(valid); err != nil {
		t.Errorf("New(valid) = %v", err)
	}
}

var _ embed.Embedder = (*openai.Client)(nil)

// roundTripFunc is an http.RoundTripper answering in memory.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func FuzzOpenAIResponse(f *testing.F) {
	f.Add(200, []byte(`{"data":[{"index":1,"embedding":[0,0,2]},{"index":0,"embedding":[3,4,0]}]}`))
	f.Add(200, []byte(`{"data":[{"embedding":[3,4,0]},{"embedding":"`+b64(1, 2, 3)+`"}]}`))
	f.Add(200, []byte(`{"data":[{"index":0,"embedding":[1e39,4,0]},{"index":0,"embedding":[3,4,0]}]}`))
	f.Add(200, []byte(`{"data":[{"index":-5,"embedding":[1,1,1]},{"index":99999999999,"embedding":[3,4,0]}]}`))
	f.Add(200, []byte(`{"data":null}`))
	f.Add(200, []byte(`[]`))
	f.Add(429, []byte(`{"error":{"message":"slow down `+oaiKey+`","type":"requests","code":429}}`))
	f.Add(400, []byte(`{"error":"`+oaiKey+`"}`))
	f.Add(500, []byte("\xff\xfe"+oaiKey))
	f.Add(404, []byte(`{"message":1,"error":{"code":{"a":1}}}`))

	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			status = 200 + (status%800+800)%800
		}
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			h := http.Header{}
			h.Set("Retry-After", "1")
			return &http.Response{
				StatusCode: status, Header: h, Request: r,
				Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
			}, nil
		})}
		c, err := openai.New(openai.Options{
			BaseURL: "http://embed.invalid/v1", Model: "m", APIKey: oaiKey, Dimension: 3,
			HTTPClient: client, MaxRetries: 1,
			Sleep: func(context.Context, time.Duration) error { return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		vecs, err := c.Embed(context.Background(), []string{"a", "b"})
		if err != nil {
			if vecs != nil {
				t.Fatalf("vectors and an error")
			}
			if strings.Contains(err.Error(), oaiKey) {
				t.Fatalf("the key shows in %q", err)
			}
			var apiErr *openai.APIError
			if errors.As(err, &apiErr) && (strings.Contains(apiErr.Message, oaiKey) || strings.Contains(apiErr.Type, oaiKey) || strings.Contains(apiErr.Code, oaiKey)) {
				t.Fatalf("the key shows in %+v", *apiErr)
			}
			return
		}
		if status < 200 || status > 299 {
			t.Fatalf("status %d, but Embed succeeded", status)
		}
		if len(vecs) != 2 {
			t.Fatalf("%d vectors", len(vecs))
		}
		for _, v := range vecs {
			if err := vector.Check(v, 3); err != nil {
				t.Fatal(err)
			}
			if n := vector.Dot(v, v); math.Abs(float64(n)-1) > 1e-5 {
				t.Fatalf("vector %v has squared norm %v", v, n)
			}
		}
	})
}

// ExampleNew embeds texts with an OpenAI-compatible server. The
// example runs a stand-in server; in use, BaseURL names a real one, such
// as "https://api.openai.com/v1" or Ollama's "http://localhost:11434/v1".
func ExampleNew() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		data := make([]map[string]any, len(req.Input))
		for i := range req.Input {
			data[i] = map[string]any{"index": i, "embedding": []float32{3, 4}}
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer srv.Close()

	emb, err := openai.New(openai.Options{
		BaseURL:   srv.URL + "/v1",
		Model:     "nomic-embed-text",
		Dimension: 2,
		APIKeyEnv: "-", // a local server needs no key
	})
	if err != nil {
		panic(err)
	}
	vecs, err := emb.Embed(context.Background(), []string{"The user prefers TypeScript."})
	if err != nil {
		panic(err)
	}
	fmt.Println(emb.Model(), emb.Dimension(), vecs[0])
	// Output: openai:nomic-embed-text 2 [0.6 0.8]
}

func closeTo(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i])-float64(b[i])) > tol {
			return false
		}
	}
	return true
}

// forwarding is a wrapper that names the provider of what it wraps.
type forwarding struct{ embed.Embedder }

func (f forwarding) Provider() string { return embed.ProviderOf(f.Embedder) }

func TestOpenAIProvider(t *testing.T) {
	c, err := openai.New(openai.Options{BaseURL: "http://127.0.0.1:1/v1", Model: "m", Dimension: 8, APIKeyEnv: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if got := embed.ProviderOf(c); got != embed.ProviderOpenAI {
		t.Errorf("ProviderOf = %q, want %q", got, embed.ProviderOpenAI)
	}
	if got := embed.ProviderOf(forwarding{c}); got != embed.ProviderOpenAI {
		t.Errorf("ProviderOf(a forwarding wrapper) = %q, want %q", got, embed.ProviderOpenAI)
	}
	if embed.IsLexical(c) {
		t.Error("IsLexical of an OpenAI client = true")
	}
}
