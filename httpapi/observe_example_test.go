package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
)

// One log line per request, and an observer of one's own beside it.
func ExampleRequestLog() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "httpapi-example")
	defer os.RemoveAll(dir)
	relay, _ := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	defer relay.Close()

	// Text lines on standard output, without the time and the duration
	// (they vary) so that the example's output is fixed.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == "duration" {
			return slog.Attr{}
		}
		return a
	}}))
	refused := httpapi.ObserverFunc(func(_ context.Context, in httpapi.RequestInfo) {
		if in.AuthFailure != "" {
			fmt.Println("refused:", in.AuthFailure)
		}
	})
	api, _ := httpapi.New(relay, httpapi.Options{Observers: []httpapi.Observer{httpapi.RequestLog(log), refused}})

	req := httptest.NewRequest("GET", "/v1/agents", nil)
	req.Header.Set("X-Request-ID", "req-1")
	api.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// level=INFO msg=request request_id=req-1 method=GET route=/v1/agents status=401 auth_failure=missing
	// refused: missing
}
