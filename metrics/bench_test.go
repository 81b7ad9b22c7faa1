package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/metrics"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// BenchmarkObservers: the cost the observers add to a request, side by
// side: an authenticated request answered without SQLite (GET
// /v1/memories/not-a-uuid: routing, auth, limiter, a JSON 404), served in
// process with no observer, with the metrics, and with the metrics and a
// JSON request log (to io.Discard).
func BenchmarkObservers(b *testing.B) {
	ctx := context.Background()
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(b.TempDir(), "b.db"), RateLimit: 1_000_000_000})
	if err != nil {
		b.Fatal(err)
	}
	defer relay.Close()
	acct, _ := relay.CreateAccount(ctx, "b")
	_, tok, err := relay.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "b", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		b.Fatal(err)
	}
	m, err := metrics.New(relay, metrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	log := httpapi.RequestLog(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	for _, c := range []struct {
		name      string
		observers []httpapi.Observer
	}{
		{"none", nil},
		{"metrics", []httpapi.Observer{m}},
		{"metrics+log", []httpapi.Observer{m, log}},
	} {
		h, err := httpapi.New(relay, httpapi.Options{Observers: c.observers})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/v1/memories/not-a-uuid", nil)
				req.Header.Set("X-API-Key", tok.Reveal())
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 404 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

// BenchmarkObserveRequest: one request counted by the metrics alone.
func BenchmarkObserveRequest(b *testing.B) {
	m, err := metrics.New(fakeSource{}, metrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	in := httpapi.RequestInfo{Method: "POST", Route: "/v1/memories/search", Status: 200, Duration: 3 * time.Millisecond, SearchMode: "hybrid", SearchDuration: 2 * time.Millisecond}
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest(context.Background(), in)
	}
}

type fakeSource struct{}

func (fakeSource) Health(context.Context) memoryrelay.Health { return memoryrelay.Health{} }
func (fakeSource) Stats(context.Context) (memoryrelay.Stats, error) {
	return memoryrelay.Stats{}, nil
}
