package redislimit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/internal/redistest"
	"github.com/memoryrelay/memoryrelay/limiter/redislimit"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestHTTP serves the REST API with the Redis limiter and kills Redis:
// the rate-limit headers come from Redis while it is up; then FailClosed
// answers 503 with Retry-After and the contract's error body, and
// FailOpen keeps answering 200 with the in-process figures.
func TestHTTP(t *testing.T) {
	for _, policy := range []redislimit.Policy{redislimit.FailClosed, redislimit.FailOpen} {
		t.Run(policy.String(), func(t *testing.T) {
			srv := redistest.Start(t)
			lim := newLimiter(t, newClient(t, srv), redislimit.Options{Prefix: freshPrefix(), OnUnavailable: policy, RetryInterval: time.Hour})
			ctx := context.Background()
			relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "api.db"), Limiter: lim, RateLimit: 5, Workers: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { relay.Close() })
			acct, err := relay.CreateAccount(ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			_, tok, err := relay.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
			if err != nil {
				t.Fatal(err)
			}
			h, err := httpapi.New(relay, httpapi.Options{})
			if err != nil {
				t.Fatal(err)
			}
			get := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, "/v1/quota", nil)
				req.Header.Set("Authorization", "Bearer "+tok.Reveal())
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			for i, want := range []string{"4", "3"} {
				rec := get()
				if rec.Code != http.StatusOK || rec.Header().Get("X-RateLimit-Limit") != "5" || rec.Header().Get("X-RateLimit-Remaining") != want {
					t.Fatalf("request %d: %d %v; want 200, limit 5, remaining %s", i, rec.Code, rec.Header(), want)
				}
			}
			srv.Kill(t)
			rec := get()
			switch policy {
			case redislimit.FailClosed:
				var body struct {
					Type    string `json:"type"`
					Message string `json:"message"`
					Code    int    `json:"code"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("body %q: %v", rec.Body, err)
				}
				if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
					body.Code != 503 || body.Type != "api_error" || body.Message != "The rate limiter is unavailable; try again later" {
					t.Fatalf("with Redis down: %d %v %s; want 503 with Retry-After and the contract's body", rec.Code, rec.Header(), rec.Body)
				}
			case redislimit.FailOpen:
				if rec.Code != http.StatusOK || rec.Header().Get("X-RateLimit-Remaining") != "4" {
					t.Fatalf("with Redis down: %d %v; want 200 with the in-process figures (remaining 4)", rec.Code, rec.Header())
				}
			}
		})
	}
}
