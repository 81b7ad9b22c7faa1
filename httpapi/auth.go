package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/scopes"
)

type authKey struct{}

// KeyFromContext returns the key that authenticated the request, as set by
// the handler's routes and by [RequireKey].
func KeyFromContext(ctx context.Context) (keys.Key, bool) {
	a, ok := ctx.Value(authKey{}).(memoryrelay.Auth)
	return a.Key, ok
}

// rawKey extracts the key from the request: "Authorization: Bearer <key>"
// (scheme case-insensitive) wins over "X-API-Key: <key>". An Authorization
// header with another scheme yields a value that fails verification.
func rawKey(r *http.Request) (string, bool) {
	if v := r.Header.Get("Authorization"); v != "" {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", true
		}
		return strings.TrimSpace(tok), true
	}
	if v := r.Header.Get("X-API-Key"); v != "" {
		return strings.TrimSpace(v), true
	}
	return "", false
}

// authorize authenticates r, sets the rate-limit headers and checks the
// scope. It returns the request with the key in its context, or an error
// for the caller to render.
func authorize(az Authorizer, w http.ResponseWriter, r *http.Request, required []scopes.Scope) (*http.Request, error) {
	raw, present := rawKey(r)
	if !present {
		noteAuth(r.Context(), keys.Key{}, errMissingKey)
		return nil, errMissingKey
	}
	if raw == "" {
		noteAuth(r.Context(), keys.Key{}, keys.ErrMalformed)
		return nil, keys.ErrMalformed
	}
	a, err := az.Authorize(r.Context(), raw, required...)
	noteAuth(r.Context(), a.Key, err)
	if a.Key.ID != "" {
		setRateHeaders(w.Header(), a.Decision)
	}
	if err != nil {
		return nil, err
	}
	// The request's embedder calls are charged to its key (API.md §10.2).
	ctx := memoryrelay.WithSpendKey(context.WithValue(r.Context(), authKey{}, a), a.Key)
	return r.WithContext(ctx), nil
}

func setRateHeaders(h http.Header, d limiter.Decision) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(d.ResetUnix(), 10))
}

func (h *handler) authenticate(scope scopes.Scope, next http.Handler) http.Handler {
	required := []scopes.Scope{scope}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, err := authorize(h.svc, w, r, required)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r2)
	})
}

// RequireKey returns middleware that lets a request through only with a
// valid key holding the required scopes, within its rate limit. It sets the
// X-RateLimit-* headers, puts the key in the request context (see
// [KeyFromContext]) and answers failures with the API's JSON error body.
// Hosts use it to protect their own routes with memoryrelay keys.
func RequireKey(az Authorizer, required ...scopes.Scope) func(http.Handler) http.Handler {
	eh := &handler{opts: Options{}}
	eh.opts.Logger = defaultLogger()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rid := requestIDFrom(r.Context())
			if rid == "" {
				rid = requestID(r.Header.Get("X-Request-ID"))
				w.Header().Set("X-Request-ID", rid)
				r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, rid))
			}
			r2, err := authorize(az, w, r, required)
			if err != nil {
				w.Header().Set("Content-Type", "application/json")
				eh.writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r2)
		})
	}
}
