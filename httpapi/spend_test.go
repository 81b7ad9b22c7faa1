package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// pricedEmbedder is a paid embedder for the tests: the built-in one,
// billing one token per word, counted exactly as it bills them; fail makes
// its next call fail.
type pricedEmbedder struct {
	embed.Embedder
	tokens atomic.Int64
	fail   atomic.Bool
}

func (p *pricedEmbedder) CountTokens(texts []string) int {
	n := 0
	for _, t := range texts {
		n += len(strings.Fields(t))
	}
	return n
}

func (p *pricedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if p.fail.CompareAndSwap(true, false) {
		return nil, errors.New("the provider is down")
	}
	p.tokens.Add(int64(p.CountTokens(texts)))
	return p.Embedder.Embed(ctx, texts)
}

var _ memoryrelay.TokenCounter = (*pricedEmbedder)(nil)

// TestSpendLimits: with a priced embedder, the tokens of a key's requests
// are charged to it (creates, searches, v2 jobs), spend_info reports
// them, a request that would pass the key's daily limit is a 429 "Spend
// limit exceeded" with Retry-After until UTC midnight, a failed embedder
// call is refunded, another key is unaffected, raising the limit by PATCH
// lets requests through again, and the next day starts from 0.
func TestSpendLimits(t *testing.T) {
	pe := &pricedEmbedder{Embedder: embed.NewHashing(0)}
	// $1 per million tokens: a 5-word memory costs $0.000005.
	e := newEnv(t, memoryrelay.Options{Embedder: pe, EmbeddingPrice: 1, RateLimit: 100_000})
	admin := e.keys["admin"]
	r := e.do("POST", "/v1/keys", admin, map[string]any{"name": "metered", "scopes": []string{"read", "write"},
		"daily_spend_limit_usd": 0.00001, "monthly_spend_limit_usd": nil})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	key, id := r.body["key"].(string), r.body["id"].(string)
	info := r.body["key_info"].(map[string]any)
	if info["daily_spend_limit_usd"] != 0.00001 || info["monthly_spend_limit_usd"] != nil {
		t.Fatalf("key_info limits %v", info)
	}
	five := "one two three four five"
	for i := range 2 { // 2 × $0.000005 = the limit, exactly
		if r := e.do("POST", "/v1/memories", key, map[string]any{"content": five}); r.status != 201 {
			t.Fatalf("create %d: %d %s", i, r.status, r.raw)
		}
	}
	spent := pe.tokens.Load()
	r = e.do("POST", "/v1/memories", key, map[string]any{"content": "six"})
	checkError(t, r, http.StatusTooManyRequests, "rate_limit_error", "Spend limit exceeded")
	wantWait := int(time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC).Sub(e.clock.Now()).Seconds())
	if r.header.Get("Retry-After") != strconv.Itoa(wantWait) || r.body["retry_after"] != float64(wantWait) {
		t.Errorf("Retry-After %q, retry_after %v; want %d (UTC midnight)", r.header.Get("Retry-After"), r.body["retry_after"], wantWait)
	}
	if pe.tokens.Load() != spent {
		t.Error("the embedder was called for a refused request")
	}
	if r := e.do("POST", "/v1/memories/search", key, map[string]any{"query": "one"}); r.status != http.StatusTooManyRequests {
		t.Errorf("search past the limit: %d, want 429 (a query's tokens cost too)", r.status)
	}
	g := e.do("GET", "/v1/keys/"+id, admin, nil)
	si := g.body["spend_info"].(map[string]any)
	if si["today_usd"] != 0.00001 || si["month_usd"] != 0.00001 || si["daily_limit_usd"] != 0.00001 || si["monthly_limit_usd"] != nil {
		t.Errorf("spend_info %v", si)
	}
	// Another key, unlimited, is unaffected; its spend is its own.
	if r := e.do("POST", "/v1/memories", e.keys["rw"], map[string]any{"content": five}); r.status != 201 {
		t.Fatalf("another key: %d", r.status)
	}
	// Raise the limit: the next request passes; a failed embedding is refunded.
	r = e.do("PATCH", "/v1/keys/"+id, admin, map[string]any{"daily_spend_limit_usd": 0.00002})
	if r.status != 200 || r.body["daily_spend_limit_usd"] != 0.00002 {
		t.Fatalf("PATCH: %d %s", r.status, r.raw)
	}
	pe.fail.Store(true)
	if r := e.do("POST", "/v1/memories", key, map[string]any{"content": five}); r.status < 500 {
		t.Fatalf("a failing embedder: %d", r.status)
	}
	if si := e.do("GET", "/v1/keys/"+id, admin, nil).body["spend_info"].(map[string]any); si["today_usd"] != 0.00001 {
		t.Fatalf("after a failed embedding: spent %v, want it refunded", si["today_usd"])
	}
	// v2: the job's embedding is charged to the key that sent it.
	r = e.do("POST", "/v2/memories", key, map[string]any{"content": five})
	if r.status != 202 {
		t.Fatalf("v2: %d %s", r.status, r.raw)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		si := e.do("GET", "/v1/keys/"+id, admin, nil).body["spend_info"].(map[string]any)
		if si["today_usd"] == 0.000015 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the v2 job was not charged: %v", si)
		}
		time.Sleep(10 * time.Millisecond) // the worker runs in the background
	}
	// Removing the limit (null) lets everything through.
	if r := e.do("PATCH", "/v1/keys/"+id, admin, `{"daily_spend_limit_usd": null}`); r.status != 200 || r.body["daily_spend_limit_usd"] != nil {
		t.Fatalf("PATCH null: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/v1/memories", key, map[string]any{"content": strings.Repeat("word ", 50)}); r.status != 201 {
		t.Fatalf("unlimited again: %d", r.status)
	}
	// The next UTC day starts from 0.
	e.clock.Advance(15 * time.Hour)
	if si := e.do("GET", "/v1/keys/"+id, admin, nil).body["spend_info"].(map[string]any); si["today_usd"] != 0.0 || si["month_usd"] == 0.0 {
		t.Fatalf("the next day: %v", si)
	}
}

// TestKeyPatch: PATCH /v1/keys/{id} changes name, metadata and limits
// (null removes a limit, absent keeps it), refuses bad values with the
// field named, and answers 404 for another account's or a malformed id.
func TestKeyPatch(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	admin := e.keys["admin"]
	r := e.do("POST", "/v1/keys", admin, map[string]any{"name": "p", "monthly_spend_limit_usd": 12.5, "metadata": map[string]any{"a": 1}})
	id := r.body["id"].(string)
	r = e.do("PATCH", "/v1/keys/"+id, admin, map[string]any{"name": "renamed", "metadata": map[string]any{"b": 2}, "daily_spend_limit_usd": 0})
	if r.status != 200 || r.body["name"] != "renamed" || r.body["daily_spend_limit_usd"] != 0.0 || r.body["monthly_spend_limit_usd"] != 12.5 ||
		string(mustJSON(t, r.body["metadata"])) != `{"b":2}` {
		t.Fatalf("PATCH: %d %s", r.status, r.raw)
	}
	if _, ok := r.body["key"]; ok {
		t.Fatal("PATCH answer holds a key")
	}
	// null on name and metadata: unchanged (null means absent).
	if r := e.do("PATCH", "/v1/keys/"+id, admin, `{"name": null, "metadata": null}`); r.body["name"] != "renamed" || string(mustJSON(t, r.body["metadata"])) != `{"b":2}` {
		t.Fatalf("PATCH nulls: %s", r.raw)
	}
	for _, c := range []struct {
		body  string
		field string
		msg   string
	}{
		{`{"name": ""}`, "name", "name must be 1-255 characters"},
		{`{"name": 5}`, "name", "name must be a string"},
		{`{"daily_spend_limit_usd": -1}`, "daily_spend_limit_usd", "daily_spend_limit_usd must be a number from 0 to 1000000000"},
		{`{"monthly_spend_limit_usd": 1000000001}`, "monthly_spend_limit_usd", "monthly_spend_limit_usd must be a number from 0 to 1000000000"},
		{`{"daily_spend_limit_usd": "cheap"}`, "daily_spend_limit_usd", "daily_spend_limit_usd must be a number"},
		{`{"metadata": [1]}`, "metadata", "metadata must be a JSON object"},
	} {
		r := e.do("PATCH", "/v1/keys/"+id, admin, c.body)
		checkError(t, r, 400, "validation_error", c.msg)
		if d := r.body["details"].([]any)[0].(map[string]any); d["field"] != c.field {
			t.Errorf("%s: details %v", c.body, r.body["details"])
		}
	}
	if r := e.do("GET", "/v1/keys/"+id, admin, nil); r.body["name"] != "renamed" || r.body["daily_spend_limit_usd"] != 0.0 {
		t.Fatalf("refused PATCHes changed the key: %s", r.raw)
	}
	checkError(t, e.do("PATCH", "/v1/keys/"+id, e.keys["other"], map[string]any{"name": "x"}), 404, "not_found_error", "API key not found")
	checkError(t, e.do("PATCH", "/v1/keys/nope", admin, map[string]any{"name": "x"}), 404, "not_found_error", "API key not found")
	checkError(t, e.do("PATCH", "/v1/keys/"+id, e.keys["rw"], map[string]any{"name": "x"}), 403, "authorization_error", "Insufficient scope. Required: admin")
	// Create: the limits at the edges.
	for _, c := range []struct {
		v      any
		status int
	}{{0, 201}, {1000000000, 201}, {-0.000001, 400}, {1000000000.5, 400}, {"1", 400}, {nil, 201}} {
		if r := e.do("POST", "/v1/keys", admin, map[string]any{"daily_spend_limit_usd": c.v}); r.status != c.status {
			t.Errorf("create with daily limit %v: %d %s", c.v, r.status, r.raw)
		}
	}
}
