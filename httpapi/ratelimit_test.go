package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
)

// TestRateLimitUnderContention hammers one key from many goroutines with
// the clock frozen, then walks the clock through a window: exactly the
// documented number is admitted (limiter package: burst B, then one token
// every W/L), Remaining is never negative and counts down without gaps or
// repeats, Reset is never in the past, and another key is unaffected.
func TestRateLimitUnderContention(t *testing.T) {
	const limit = 60 // per minute: one token a second
	e := newEnv(t, memoryrelay.Options{RateLimit: limit})
	h, err := httpapi.New(e.relay, httpapi.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	send := func(key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/v1/quota", nil)
		req.Header.Set("X-API-Key", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var mu sync.Mutex
	remaining := map[int]int{}
	admitted, denied := 0, 0
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				rec := send(e.keys["rw"])
				rem, err := strconv.Atoi(rec.Header().Get("X-RateLimit-Remaining"))
				reset, err2 := strconv.ParseInt(rec.Header().Get("X-RateLimit-Reset"), 10, 64)
				mu.Lock()
				switch {
				case err != nil || err2 != nil || rem < 0:
					t.Errorf("headers: %v", rec.Header())
				case reset < e.clock.Now().Unix():
					t.Errorf("reset %d is in the past", reset)
				case rec.Code == http.StatusOK:
					admitted++
					remaining[rem]++
				case rec.Code == http.StatusTooManyRequests:
					denied++
					if rem != 0 || rec.Header().Get("Retry-After") != "1" {
						t.Errorf("429 with remaining %d, Retry-After %q", rem, rec.Header().Get("Retry-After"))
					}
				default:
					t.Errorf("status %d", rec.Code)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if admitted != limit || denied != 160-limit {
		t.Fatalf("frozen clock: %d admitted, %d denied; want %d and %d", admitted, denied, limit, 160-limit)
	}
	for r := 0; r < limit; r++ {
		if remaining[r] != 1 {
			t.Fatalf("Remaining %d was reported %d times", r, remaining[r])
		}
	}
	// Over the next 60 s, one request a second from a hammering client
	// gets through: 60 more in the window.
	more := 0
	for step := 0; step < 600; step++ {
		e.clock.Advance(100 * time.Millisecond)
		if send(e.keys["rw"]).Code == http.StatusOK {
			more++
		}
	}
	if more != limit {
		t.Fatalf("refill over one window admitted %d, want %d", more, limit)
	}
	// Another key of the same account was never touched.
	if rec := send(e.keys["read"]); rec.Code != 200 || rec.Header().Get("X-RateLimit-Remaining") != strconv.Itoa(limit-1) {
		t.Fatalf("other key: %d remaining %s", rec.Code, rec.Header().Get("X-RateLimit-Remaining"))
	}
}
