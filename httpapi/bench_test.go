package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// BenchmarkAuthenticatedRequest compares, in one run, a bare http.Handler
// with the same handler behind RequireKey, and a request through the API
// handler that authenticates and answers without touching SQLite (a 404
// for a malformed memory id). The difference is our per-request overhead.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	e := newEnv(b, memoryrelay.Options{RateLimit: 1 << 30})
	key := e.keys["rw"]
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	api, err := httpapi.New(e.relay, httpapi.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"bare", bare, "/x"},
		{"RequireKey", httpapi.RequireKey(e.relay, scopes.Read)(bare), "/x"},
		{"api-404", api, "/v1/memories/not-a-uuid"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest("GET", c.path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			for b.Loop() {
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				if rec.Code != 200 && rec.Code != 404 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
