package limiter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/memoryrelay/memoryrelay/limiter"
)

func ExampleLocal_AllowAt() {
	// 3 requests per minute: burst 3, then a token every 20 seconds.
	lim, err := limiter.NewLocal(limiter.Options{Limit: 3})
	if err != nil {
		panic(err)
	}
	start := time.Date(2025, 3, 17, 12, 0, 0, 0, time.UTC)
	for _, after := range []time.Duration{0, 0, 0, 0, 5 * time.Second, 20 * time.Second} {
		now := start.Add(after)
		d := lim.AllowAt("key_1", 0, now)
		fmt.Printf("t+%-3v allowed=%-5v remaining=%d reset=t+%v retry-after=%ds\n",
			after, d.Allowed, d.Remaining, d.Reset.Sub(start).Round(time.Millisecond), d.RetryAfterSeconds())
	}
	// Output:
	// t+0s  allowed=true  remaining=2 reset=t+20s retry-after=0s
	// t+0s  allowed=true  remaining=1 reset=t+40s retry-after=0s
	// t+0s  allowed=true  remaining=0 reset=t+1m0s retry-after=0s
	// t+0s  allowed=false remaining=0 reset=t+1m0s retry-after=20s
	// t+5s  allowed=false remaining=0 reset=t+1m0s retry-after=15s
	// t+20s allowed=true  remaining=0 reset=t+1m20s retry-after=0s
}

func ExampleLocal_Allow() {
	// Options.Now is fixed here so that the output is stable.
	lim, err := limiter.NewLocal(limiter.Options{
		Now: func() time.Time { return time.Unix(1710700000, 0) },
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// A key without its own limit gets Options.Limit (default 100 per minute);
	// a key row may carry its own.
	d, _ := lim.Allow(ctx, "key_default", 0)
	fmt.Println(d.Limit, d.Remaining, d.ResetUnix())
	d, _ = lim.Allow(ctx, "key_premium", 1000)
	fmt.Println(d.Limit, d.Remaining, d.ResetUnix())
	// Output:
	// 100 99 1710700001
	// 1000 999 1710700001
}

func ExampleDecision_Err() {
	lim, err := limiter.NewLocal(limiter.Options{Limit: 1})
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 3, 17, 12, 0, 0, 0, time.UTC)
	lim.AllowAt("key_1", 0, now)
	d := lim.AllowAt("key_1", 0, now.Add(27500*time.Millisecond))

	err = fmt.Errorf("authorize: %w", d.Err())
	fmt.Println(err)
	fmt.Println(errors.Is(err, limiter.ErrLimited))
	var limited *limiter.LimitedError
	if errors.As(err, &limited) {
		fmt.Println(limited.Decision.RetryAfterSeconds())
	}
	// Output:
	// authorize: Rate limit exceeded. Try again in 33 seconds.
	// true
	// 33
}

// An HTTP layer sets the headers from a Decision; this package has no
// HTTP code of its own.
func Example_headers() {
	lim, err := limiter.NewLocal(limiter.Options{
		Limit: 2,
		Now:   func() time.Time { return time.Unix(1710700000, 0) },
	})
	if err != nil {
		panic(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := lim.Allow(r.Context(), "key_1", 0)
		if err != nil {
			http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(d.ResetUnix(), 10))
		if err := d.Err(); err != nil {
			h.Set("Retry-After", strconv.Itoa(d.RetryAfterSeconds()))
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, "%s", err)
			return
		}
		fmt.Fprint(w, "ok")
	})
	for range 3 {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/memories", nil))
		h := rec.Header()
		fmt.Printf("%d limit=%s remaining=%s reset=%s retry-after=%q %s\n", rec.Code,
			h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"),
			h.Get("X-RateLimit-Reset"), h.Get("Retry-After"), rec.Body)
	}
	// Output:
	// 200 limit=2 remaining=1 reset=1710700030 retry-after="" ok
	// 200 limit=2 remaining=0 reset=1710700060 retry-after="" ok
	// 429 limit=2 remaining=0 reset=1710700060 retry-after="30" Rate limit exceeded. Try again in 30 seconds.
}
