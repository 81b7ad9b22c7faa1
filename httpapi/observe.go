package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Observer is told of each request the handler served, once its response
// is written: the hook for metrics (package metrics) and request logs
// ([RequestLog]). ObserveRequest is called on the request's goroutine, so
// it must be safe for concurrent use and should return quickly.
type Observer interface {
	ObserveRequest(ctx context.Context, info RequestInfo)
}

// ObserverFunc adapts a function to [Observer].
type ObserverFunc func(ctx context.Context, info RequestInfo)

// ObserveRequest calls f.
func (f ObserverFunc) ObserveRequest(ctx context.Context, info RequestInfo) { f(ctx, info) }

// Reasons of [RequestInfo].AuthFailure.
const (
	AuthMissing   = "missing"   // no key in Authorization or X-API-Key
	AuthMalformed = "malformed" // not a well-formed key (a typo, another scheme than Bearer)
	AuthUnknown   = "unknown"   // well formed, but no such key
	AuthRevoked   = "revoked"   // revoked (or rotated past its grace)
	AuthExpired   = "expired"   // past its expiry
	AuthScope     = "scope"     // a valid key without the route's scope (403)
)

// RequestInfo describes one request the handler served. It never holds a
// key: only the key's display prefix (its first 12 characters, as stored
// and listed).
type RequestInfo struct {
	RequestID string // the X-Request-ID answered
	Method    string
	// Route is the pattern of the route that served the request, without
	// its method ("/v1/memories/{id}"), so that its values are few; "" when
	// no route matched (404, 405).
	Route    string
	Status   int           // the status written (200 when the handler wrote none)
	Duration time.Duration // from the start of ServeHTTP until the handler returned

	// The authenticated key's id and display prefix, and its account; ""
	// when the request carried no valid key.
	KeyID, KeyPrefix, AccountID string
	// AuthFailure is why the request's key was refused: AuthMissing,
	// AuthMalformed, AuthUnknown, AuthRevoked, AuthExpired or AuthScope;
	// "" when it was not (or the route needs no key).
	AuthFailure string
	// RateLimited is true when the request was refused with 429 by the
	// key's rate limit.
	RateLimited bool

	// SearchMode is the mode of the memory search the request ran
	// (memory.ModeHybrid, ModeSemantic or ModeKeyword: memory search and
	// context building), and SearchDuration how long the search itself
	// took; "" and 0 for other requests and for searches that failed.
	SearchMode     string
	SearchDuration time.Duration
}

// exchange is what the handler learns about a request while serving it,
// for its observers; ServeHTTP puts it in the request's context.
type exchange struct {
	key         keys.Key
	authFailure string
	limited     bool
	searchMode  string
	searchTime  time.Duration
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// noteAuth records the outcome of authenticating a request.
func noteAuth(ctx context.Context, k keys.Key, err error) {
	x := exchangeFrom(ctx)
	if x == nil {
		return
	}
	if k.ID != "" {
		x.key = k
	}
	var (
		missing *scopes.MissingError
		limited *limiter.LimitedError
	)
	switch {
	case err == nil:
	case errors.Is(err, errMissingKey):
		x.authFailure = AuthMissing
	case errors.Is(err, keys.ErrMalformed):
		x.authFailure = AuthMalformed
	case errors.Is(err, keys.ErrNotFound):
		x.authFailure = AuthUnknown
	case errors.Is(err, keys.ErrRevoked):
		x.authFailure = AuthRevoked
	case errors.Is(err, keys.ErrExpired):
		x.authFailure = AuthExpired
	case errors.As(err, &missing):
		x.authFailure = AuthScope
	case errors.As(err, &limited):
		x.limited = true
	}
}

// noteSearch records a memory search that ran in mode and took d. Only
// the modes a search accepts are recorded, so that metrics' labels stay
// few.
func noteSearch(ctx context.Context, mode string, d time.Duration) {
	x := exchangeFrom(ctx)
	if x == nil {
		return
	}
	if mode == "" {
		mode = memory.ModeHybrid
	}
	switch mode {
	case memory.ModeHybrid, memory.ModeSemantic, memory.ModeKeyword:
		x.searchMode, x.searchTime = mode, d
	}
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RequestLog returns an Observer that logs one line per request to l:
// message "request" with request_id, method, route, status, duration,
// and, when the request had a valid key, key (its display prefix, never
// the key) and account; auth_failure, rate_limited and search_mode when
// they apply. Requests answered 5xx are logged at Error, others at Info,
// so the level of l's handler chooses what is kept. For text or JSON,
// give l a slog.TextHandler or slog.JSONHandler.
func RequestLog(l *slog.Logger) Observer {
	return ObserverFunc(func(ctx context.Context, in RequestInfo) {
		level := slog.LevelInfo
		if in.Status >= 500 {
			level = slog.LevelError
		}
		if !l.Enabled(ctx, level) {
			return
		}
		route := in.Route
		if route == "" {
			route = "-"
		}
		attrs := []slog.Attr{
			slog.String("request_id", in.RequestID),
			slog.String("method", in.Method),
			slog.String("route", route),
			slog.Int("status", in.Status),
			slog.Duration("duration", in.Duration),
		}
		if in.KeyPrefix != "" {
			attrs = append(attrs, slog.String("key", in.KeyPrefix), slog.String("account", in.AccountID))
		}
		if in.AuthFailure != "" {
			attrs = append(attrs, slog.String("auth_failure", in.AuthFailure))
		}
		if in.RateLimited {
			attrs = append(attrs, slog.Bool("rate_limited", true))
		}
		if in.SearchMode != "" {
			attrs = append(attrs, slog.String("search_mode", in.SearchMode))
		}
		l.LogAttrs(ctx, level, "request", attrs...)
	})
}
