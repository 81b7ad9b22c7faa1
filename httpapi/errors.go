package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// Error types of the API contract §3.
const (
	typeValidation     = "validation_error"
	typeAuthentication = "authentication_error"
	typeAuthorization  = "authorization_error"
	typeNotFound       = "not_found_error"
	typeConflict       = "conflict_error"
	typeRateLimit      = "rate_limit_error"
	typeAPI            = "api_error"
)

// unavailableRetryAfter is the Retry-After, in seconds, of a 503 for a
// passing condition (busy, full, read-only). A 503 because the database is
// damaged has none: it lasts until an operator restores the file, so a
// client retrying soon gains nothing.
const unavailableRetryAfter = 5

// damagedMessage is the message of a 503 answered because the database
// was found damaged (memoryrelay.ErrDamaged): writes are refused, and a
// read failed on damaged pages.
const damagedMessage = "The database is damaged: writes are refused until an operator restores it from a backup"

// Errors the handler itself produces.
var (
	errMissingKey = errors.New("httpapi: no API key")
	errMethod     = errors.New("httpapi: method not allowed")
	errRoute      = errors.New("httpapi: route not found")
	errPanic      = errors.New("httpapi: panic")
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// errorBody is the JSON body of every non-2xx response (contract §3).
type errorBody struct {
	Type       string       `json:"type"`
	Message    string       `json:"message"`
	Detail     string       `json:"detail"`
	Error      string       `json:"error"`
	Code       int          `json:"code"`
	RequestID  string       `json:"request_id"`
	RetryAfter *int         `json:"retry_after,omitempty"`
	Errors     []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// statusOf is the one place where errors become HTTP: the status, the
// contract's error type and the message a client may see. Anything not
// recognised is an internal error whose text never reaches the client.
func statusOf(err error) (status int, typ, msg string) {
	var (
		verr    *memoryrelay.ValidationError
		kerr    *keys.InvalidError
		nf      *memoryrelay.NotFoundError
		cerr    *memoryrelay.ConflictError
		missing *scopes.MissingError
		limited *limiter.LimitedError
		tooBig  *http.MaxBytesError
	)
	switch {
	case errors.As(err, &verr):
		return http.StatusBadRequest, typeValidation, verr.Message
	case errors.As(err, &kerr): // the key store's own, should a Service pass one on
		return http.StatusBadRequest, typeValidation, kerr.Message
	case errors.As(err, &tooBig):
		return http.StatusBadRequest, typeValidation, "Request body must be at most " + strconv.FormatInt(tooBig.Limit, 10) + " bytes"
	case errors.As(err, &nf):
		return http.StatusNotFound, typeNotFound, nf.Error()
	case errors.As(err, &cerr):
		return http.StatusConflict, typeConflict, cerr.Message
	case errors.Is(err, errRoute):
		return http.StatusNotFound, typeNotFound, "Route not found"
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed, typeValidation, "Method not allowed"
	case errors.Is(err, errMissingKey):
		return http.StatusUnauthorized, typeAuthentication, "Invalid API key: provide one in the Authorization (Bearer) or X-API-Key header"
	case errors.Is(err, keys.ErrExpired):
		return http.StatusUnauthorized, typeAuthentication, "API key has expired"
	case errors.Is(err, keys.ErrMalformed), errors.Is(err, keys.ErrNotFound), errors.Is(err, keys.ErrRevoked):
		return http.StatusUnauthorized, typeAuthentication, "Invalid API key"
	case errors.As(err, &missing):
		return http.StatusForbidden, typeAuthorization, missing.Error()
	case errors.As(err, &limited):
		return http.StatusTooManyRequests, typeRateLimit, limited.Error()
	case errors.Is(err, keys.ErrLastAdmin):
		return http.StatusBadRequest, typeValidation, "Cannot revoke the account's last admin key"
	}
	if errors.Is(err, memoryrelay.ErrDamaged) {
		return http.StatusServiceUnavailable, typeAPI, damagedMessage
	}
	if ue := memoryrelay.Unavailable(err); ue != nil {
		return http.StatusServiceUnavailable, typeAPI, ue.Reason + "; try again later"
	}
	return http.StatusInternalServerError, typeAPI, "Internal server error"
}

// writeError renders err as the contract's error body.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, typ, msg := statusOf(err)
	rid := requestIDFrom(r.Context())
	if status >= 500 {
		if !errors.Is(err, context.Canceled) {
			h.opts.Logger.Error("httpapi: internal error", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", redactKeys(err))
		}
	}
	body := errorBody{Type: typ, Message: msg, Detail: msg, Error: msg, Code: status, RequestID: rid}
	if field := fieldOf(err); field != "" {
		body.Errors = []fieldError{{Field: field, Message: msg}}
	}
	if status == http.StatusServiceUnavailable && !errors.Is(err, memoryrelay.ErrDamaged) {
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	}
	var limited *limiter.LimitedError
	if errors.As(err, &limited) {
		n := limited.Decision.RetryAfterSeconds()
		body.RetryAfter = &n
		w.Header().Set("Retry-After", strconv.Itoa(n))
	}
	writeJSON(w, status, body)
}

// fieldOf returns the request field a validation error names, or "".
func fieldOf(err error) string {
	var (
		verr *memoryrelay.ValidationError
		kerr *keys.InvalidError
	)
	switch {
	case errors.As(err, &verr):
		return verr.Field
	case errors.As(err, &kerr):
		return kerr.Field
	}
	return ""
}

// redactKeys renders v (an error or a panic value) for the log with the
// secret of every key-shaped token cut off: "mem_" and a run of base62 or
// '_' characters, 20 or more in all (API.md §2.1), keeps its first 12
// characters followed by "…", as keys.Token prints itself. Internal errors
// and panics are not ours to trust: a wrapper, a driver or a careless
// fmt.Errorf may carry the raw key, and Options.Logger promises never keys.
func redactKeys(v any) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for {
		i := strings.Index(s, "mem_")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len("mem_")
		for end < len(s) && (s[end] == '_' || '0' <= s[end] && s[end] <= '9' || 'A' <= s[end] && s[end] <= 'Z' || 'a' <= s[end] && s[end] <= 'z') {
			end++
		}
		if end-i < 20 {
			b.WriteString(s[:end])
		} else {
			b.WriteString(s[:i+12])
			b.WriteString("…")
		}
		s = s[end:]
	}
}

type requestIDKey struct{}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestID echoes a client's id of 1–128 visible ASCII characters, or
// makes "req_" plus 24 random alphanumerics.
func requestID(given string) string {
	if n := len(given); n >= 1 && n <= 128 {
		ok := true
		for i := 0; i < n; i++ {
			if given[i] < 0x21 || given[i] > 0x7e {
				ok = false
				break
			}
		}
		if ok {
			return given
		}
	}
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [28]byte
	copy(b[:], "req_")
	rand.Read(b[4:])
	for i := 4; i < len(b); i++ {
		b[i] = alphabet[int(b[i])%len(alphabet)] // slight bias is harmless for a trace id
	}
	return string(b[:])
}
