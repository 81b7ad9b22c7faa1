package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/extract"
	"github.com/memoryrelay/memoryrelay/extract/llm"
	"github.com/memoryrelay/memoryrelay/internal/outbound"
	"github.com/memoryrelay/memoryrelay/secret"
)

const apiKey = "sk-test-0123456789abcdefSECRET"

// fakeLLM is an OpenAI-compatible chat endpoint; reply writes the answer
// to the nth (1-based) request.
type fakeLLM struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []fakeReq
}

type fakeReq struct {
	path, query string
	header      http.Header
	body        map[string]any
}

func newFake(t *testing.T, reply func(n int, w http.ResponseWriter, r *http.Request)) *fakeLLM {
	t.Helper()
	f := &fakeLLM{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		data, _ := io.ReadAll(r.Body)
		json.Unmarshal(data, &body)
		f.mu.Lock()
		f.reqs = append(f.reqs, fakeReq{path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: body})
		n := len(f.reqs)
		f.mu.Unlock()
		reply(n, w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeLLM) requests() []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeReq(nil), f.reqs...)
}

// completion writes a chat completion whose message content is content.
func completion(w http.ResponseWriter, model, content string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": model,
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
	})
}

// sleeps records the waits between attempts instead of waiting.
type sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
	return ctx.Err()
}

var loopback = outbound.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowHTTP: []string{"127.0.0.1"}}

func newExtractor(t *testing.T, f *fakeLLM, mod func(*llm.Options)) (*llm.Extractor, *sleeps) {
	t.Helper()
	s := &sleeps{}
	o := llm.Options{BaseURL: f.URL + "/v1", Model: "gpt-4o-mini", APIKey: secret.New(apiKey),
		HTTPClient: loopback.Client(0), Timeout: 2 * time.Second, Sleep: s.sleep}
	if mod != nil {
		mod(&o)
	}
	x, err := llm.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return x, s
}

const note = "Sarah Chen from Stripe wants the billing service on PostgreSQL; she lives in Lisbon."

func TestExtract(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		completion(w, "gpt-4o-mini-2024-07-18", `{"entities":[
			{"type":"person","name":"Sarah Chen","confidence":0.95},
			{"type":"Organization","name":"Stripe"},
			{"type":"technology","name":"postgresql","confidence":0.9},
			{"type":"place","name":"Lisbon","confidence":0.9},
			{"type":"person","name":"Elon Musk","confidence":0.9},
			{"type":"person","name":"Sarah Chen","confidence":0.5}
		],"reasoning":"ignored"}`)
	})
	x, _ := newExtractor(t, f, nil)
	r, err := x.Extract(context.Background(), note)
	if err != nil {
		t.Fatal(err)
	}
	want := []extract.Entity{
		{Type: "person", Name: "Sarah Chen", Confidence: 0.95},
		{Type: "organization", Name: "Stripe", Confidence: llm.DefaultConfidence},
		{Type: "technology", Name: "postgresql", Confidence: 0.9},
		{Type: "location", Name: "Lisbon", Confidence: 0.9},
	}
	if fmt.Sprint(r.Entities) != fmt.Sprint(want) || r.Method != "llm" || r.Model != "gpt-4o-mini-2024-07-18" {
		t.Fatalf("Extract = %+v", r)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	q := reqs[0]
	if q.path != "/v1/chat/completions" || q.header.Get("Authorization") != "Bearer "+apiKey || q.header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %v", q.path, q.header)
	}
	msgs, _ := q.body["messages"].([]any)
	if q.body["model"] != "gpt-4o-mini" || q.body["temperature"] != 0.0 || len(msgs) != 2 ||
		msgs[1].(map[string]any)["content"] != note || msgs[0].(map[string]any)["role"] != "system" {
		t.Fatalf("body %v", q.body)
	}
	if rf, _ := q.body["response_format"].(map[string]any); rf["type"] != "json_object" {
		t.Fatalf("response_format %v", q.body["response_format"])
	}
}

func TestExtractProviders(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { completion(w, "", `{"entities":[]}`) })
	// Azure: api-key header, the base URL's query kept.
	x, _ := newExtractor(t, f, func(o *llm.Options) {
		o.BaseURL = f.URL + "/openai/deployments/extract/?api-version=2024-06-01"
		o.Auth = llm.APIKeyHeader
	})
	r, err := x.Extract(context.Background(), note)
	if err != nil || r.Model != "gpt-4o-mini" || len(r.Entities) != 0 {
		t.Fatalf("Extract = %+v, %v", r, err)
	}
	// A local Ollama: no key, no JSON mode.
	y, _ := newExtractor(t, f, func(o *llm.Options) { o.APIKey = secret.Text{}; o.NoJSONMode = true })
	if _, err := y.Extract(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	az, ol := reqs[0], reqs[1]
	if az.path != "/openai/deployments/extract/chat/completions" || az.query != "api-version=2024-06-01" ||
		az.header.Get("api-key") != apiKey || az.header.Get("Authorization") != "" {
		t.Fatalf("azure request %s?%s %v", az.path, az.query, az.header)
	}
	if ol.header.Get("Authorization") != "" || ol.header.Get("api-key") != "" || ol.body["response_format"] != nil {
		t.Fatalf("ollama request %v %v", ol.header, ol.body)
	}
}

func TestExtractRetries(t *testing.T) {
	ok := func(w http.ResponseWriter) {
		completion(w, "m", `{"entities":[{"type":"person","name":"Sarah Chen"}]}`)
	}
	cases := []struct {
		name      string
		reply     func(n int, w http.ResponseWriter, r *http.Request)
		requests  int
		sleeps    []time.Duration // exact, or 0: any backoff within [250ms, 500ms·2ⁿ⁻¹]
		wantErr   error
		wantCode  int
		wantParse bool
	}{
		{"500 then 200", func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				w.WriteHeader(500)
				return
			}
			ok(w)
		}, 2, []time.Duration{0}, nil, 0, false},
		{"429 with Retry-After", func(n int, w http.ResponseWriter, _ *http.Request) {
			if n < 3 {
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(429)
				return
			}
			ok(w)
		}, 3, []time.Duration{7 * time.Second, 7 * time.Second}, nil, 0, false},
		{"timeout then 200", func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				<-r.Context().Done()
				return
			}
			ok(w)
		}, 2, []time.Duration{0}, nil, 0, false},
		{"503 every time", func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, 3, []time.Duration{0, 0}, nil, 503, false},
		{"Retry-After too long", func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(429)
		}, 1, nil, nil, 429, false},
		{"401 is not retried", func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+apiKey+`"}}`)
		}, 1, nil, nil, 401, false},
		{"redirect is not followed", func(_ int, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, 1, nil, nil, 302, false},
		{"reply too large", func(_ int, w http.ResponseWriter, _ *http.Request) {
			completion(w, "m", `{"entities":[`+strings.Repeat(`{"type":"x","name":"y"},`, 2000)+`{"type":"x","name":"y"}]}`)
		}, 1, nil, llm.ErrTooLarge, 0, false},
		{"not a completion", func(_ int, w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>") }, 1, nil, nil, 0, true},
		{"content not JSON", func(_ int, w http.ResponseWriter, _ *http.Request) {
			completion(w, "m", "Sure! Here are the entities: Sarah")
		}, 1, nil, nil, 0, true},
		{"no choices", func(_ int, w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"choices":[]}`) }, 1, nil, nil, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, c.reply)
			x, s := newExtractor(t, f, func(o *llm.Options) {
				o.Timeout = 200 * time.Millisecond
				o.MaxResponseBytes = 32 << 10
			})
			r, err := x.Extract(context.Background(), note)
			if n := len(f.requests()); n != c.requests {
				t.Errorf("%d requests, want %d", n, c.requests)
			}
			if len(s.ds) != len(c.sleeps) {
				t.Errorf("slept %v, want %d waits", s.ds, len(c.sleeps))
			}
			for i, d := range s.ds {
				if i < len(c.sleeps) && c.sleeps[i] != 0 && d != c.sleeps[i] {
					t.Errorf("wait %d: %v, want %v", i, d, c.sleeps[i])
				}
				if i < len(c.sleeps) && c.sleeps[i] == 0 && (d < 250*time.Millisecond || d > llm.DefaultMinBackoff<<i) {
					t.Errorf("backoff %d: %v", i, d)
				}
			}
			var se *llm.StatusError
			var pe *llm.ParseError
			switch {
			case c.wantCode != 0:
				if !errors.As(err, &se) || se.Code != c.wantCode {
					t.Fatalf("err %v, want status %d", err, c.wantCode)
				}
			case c.wantErr != nil:
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err %v, want %v", err, c.wantErr)
				}
			case c.wantParse:
				if !errors.As(err, &pe) {
					t.Fatalf("err %v, want a ParseError", err)
				}
			default:
				if err != nil || len(r.Entities) != 1 {
					t.Fatalf("Extract = %+v, %v", r, err)
				}
			}
			if err != nil && (strings.Contains(err.Error(), apiKey) || strings.Contains(err.Error(), "Sarah")) {
				t.Fatalf("error shows the key or the text: %v", err)
			}
		})
	}
}

func TestExtractHonoursContext(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	x, err := llm.New(llm.Options{BaseURL: f.URL, Model: "m", HTTPClient: loopback.Client(0), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := x.Extract(ctx, note); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("returned after %v", d)
	}
}

// TestDefaultClientAppliesPolicy: without an HTTPClient of its own, the
// extractor refuses a loopback endpoint, as the outbound policy says.
func TestDefaultClientAppliesPolicy(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { completion(w, "m", `{"entities":[]}`) })
	x, err := llm.New(llm.Options{BaseURL: strings.Replace(f.URL, "http://", "https://", 1), Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Extract(context.Background(), note); !errors.Is(err, outbound.ErrBlocked) {
		t.Fatalf("err %v, want ErrBlocked", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests reached the endpoint", n)
	}
}

func TestInputIsCut(t *testing.T) {
	f := newFake(t, func(_ int, w http.ResponseWriter, _ *http.Request) { completion(w, "m", `{"entities":[]}`) })
	x, _ := newExtractor(t, f, func(o *llm.Options) { o.MaxInputChars = 100 })
	long := strings.Repeat("word ", 100)
	if _, err := x.Extract(context.Background(), long); err != nil {
		t.Fatal(err)
	}
	sent := f.requests()[0].body["messages"].([]any)[1].(map[string]any)["content"].(string)
	if n := len([]rune(sent)); n > 100 || n < 75 || strings.HasSuffix(sent, "wor") {
		t.Fatalf("sent %d characters: %q", n, sent)
	}
}

func TestNewChecksOptions(t *testing.T) {
	for _, o := range []llm.Options{
		{BaseURL: "https://api.openai.com/v1"},
		{Model: "m"},
		{Model: "m", BaseURL: "ftp://x"},
		{Model: "m", BaseURL: "https://u:p@x"},
		{Model: "m", BaseURL: "https://x", Timeout: -1},
	} {
		if _, err := llm.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	// Options print without the key.
	o := llm.Options{BaseURL: "https://x", Model: "m", APIKey: secret.New(apiKey)}
	if s := fmt.Sprintf("%+v %#v", o, o); strings.Contains(s, "SECRET") {
		t.Fatalf("options print the key: %s", s)
	}
}

func TestParseEntities(t *testing.T) {
	cases := []struct {
		reply string
		n     int // entities, or -1 for an error
	}{
		{`{"entities":[{"type":"person","name":"A"}]}`, 1},
		{"```json\n{\"entities\":[{\"type\":\"person\",\"name\":\"A\"}]}\n```", 1},
		{"```\n{\"entities\":[]}\n```", 0},
		{"  {\"entities\": []}  \n", 0},
		{`{"entities":[{"type":"person","name":"A","confidence":0.3,"extra":true}],"note":"x"}`, 1},
		{"```python\n{\"entities\":[]}\n```", -1},
		{"```json\n{\"entities\":[]}", -1},
		{`{"entities":[]} trailing`, -1},
		{`{"entities":[]}{"entities":[]}`, -1},
		{`[{"type":"person","name":"A"}]`, -1},
		{`{"items":[]}`, -1},
		{`{"entities":null}`, -1},
		{`{"entities":{}}`, -1},
		{`{"entities":["A"]}`, -1},
		{`{"entities":[{"name":"A"}]}`, -1},
		{`{"entities":[{"type":"person","name":5}]}`, -1},
		{`{"entities":[{"type":"person","name":"A","confidence":1.5}]}`, -1},
		{`{"entities":[{"type":"person","name":"A","confidence":"high"}]}`, -1},
		{`Here you go: {"entities":[]}`, -1},
		{``, -1},
		{`{"entities":[` + strings.Repeat(`{"type":"t","name":"n"},`, 1000) + `{"type":"t","name":"n"}]}`, -1},
		{`{"entities":[` + strings.Repeat(`{"type":"t","name":"n"},`, 99) + `{"type":"t","name":"n"}]}`, 1}, // duplicates
	}
	for _, c := range cases {
		es, err := llm.ParseEntities(c.reply)
		var pe *llm.ParseError
		if c.n < 0 {
			if !errors.As(err, &pe) {
				t.Errorf("ParseEntities(%.60q) = %v, %v; want a ParseError", c.reply, es, err)
			}
			continue
		}
		if err != nil || len(es) != c.n {
			t.Errorf("ParseEntities(%.60q) = %d entities, %v; want %d", c.reply, len(es), err, c.n)
		}
	}
}

func FuzzParseEntities(f *testing.F) {
	for _, s := range []string{`{"entities":[{"type":"person","name":"A","confidence":0.5}]}`, "```json\n{\"entities\":[]}\n```",
		`{"entities":[{"type":"place","name":" B "}]}`, `{"entities":[1]}`, "```", `{"entities":[{"type":"","name":""}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		es, err := llm.ParseEntities(reply)
		if err != nil {
			var pe *llm.ParseError
			if !errors.As(err, &pe) || strings.Contains(err.Error(), reply) && len(reply) > 40 {
				t.Fatalf("error %v", err)
			}
			return
		}
		if len(es) > extract.MaxEntities || fmt.Sprint(extract.Check(es)) != fmt.Sprint(es) {
			t.Fatalf("entities %+v", es)
		}
	})
}
