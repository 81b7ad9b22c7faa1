package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/memoryrelay/memoryrelay/memory"
)

// Sentinels matched by *Error with errors.Is, for the answers that have no
// counterpart in package memory. The others (400, 404, 409, 503) match the
// sentinels of package memory.
var (
	// ErrAuthentication: a 401 (missing, unknown, revoked or expired key),
	// or New without a key.
	ErrAuthentication = errors.New("client: authentication failed")
	// ErrForbidden: a 403, the key lacks the scope the method needs.
	ErrForbidden = errors.New("client: forbidden")
	// ErrRateLimit: a 429, after the retries; Error.RetryAfter says how
	// long the server asked to wait.
	ErrRateLimit = errors.New("client: rate limited")
	// ErrAPI matches every *Error: the server answered with an error.
	ErrAPI = errors.New("client: API error")
)

// Error is an error answer of the API (or a missing key at New). It
// unwraps to the error of package memory of its class, if any: see the
// package documentation.
type Error struct {
	StatusCode int           // HTTP status; 0 when raised before any request
	Type       string        // the contract's error type, e.g. "not_found_error"
	Message    string        // the server's message
	RequestID  string        // X-Request-ID of the request
	RetryAfter time.Duration // from the Retry-After header (429, 503); 0 when absent

	err error // the memory error of the class, or nil
}

func (e *Error) Error() string {
	if e.StatusCode == 0 {
		return "memoryrelay: " + e.Message
	}
	return fmt.Sprintf("memoryrelay: %d %s: %s (request %s)", e.StatusCode, e.Type, e.Message, e.RequestID)
}

// Is matches the sentinel of the error's class.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrAuthentication:
		return e.StatusCode == http.StatusUnauthorized || (e.StatusCode == 0 && e.Type == "authentication_error")
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimit:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrAPI:
		return true
	}
	return false
}

// Unwrap returns the error of package memory that the answer stands for:
// a *memory.ValidationError, *memory.NotFoundError, *memory.ConflictError
// or *memory.UnavailableError; nil for the other statuses.
func (e *Error) Unwrap() error { return e.err }

// errorBody is the contract's error body (§3, §10.4).
type errorBody struct {
	Type    string      `json:"type"`
	Message string      `json:"message"`
	Details []fieldJSON `json:"details"`
	Errors  []fieldJSON `json:"errors"`
}

type fieldJSON struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// errorOf reads an error answer; kind is what a 404 did not find unless
// the message says, field what a 400 is about unless the body says.
func errorOf(res *http.Response, data []byte, kind, field string) *Error {
	e := &Error{StatusCode: res.StatusCode, RequestID: res.Header.Get("X-Request-ID"), Type: "api_error",
		Message: http.StatusText(res.StatusCode), RetryAfter: retryAfter(res.Header)}
	var body errorBody
	if json.Unmarshal(data, &body) == nil && body.Message != "" {
		e.Type, e.Message = body.Type, body.Message
	}
	switch res.StatusCode {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		fields := body.Details
		if len(fields) == 0 {
			fields = body.Errors
		}
		verr := &memory.ValidationError{}
		for _, f := range fields {
			verr.Problems = append(verr.Problems, memory.Problem{Field: goField(f.Field), Message: f.Message})
		}
		if len(verr.Problems) == 0 {
			verr.Problems = []memory.Problem{{Field: field, Message: e.Message}}
		}
		e.err = verr
	case http.StatusNotFound:
		e.err = &memory.NotFoundError{Kind: notFoundKind(e.Message, kind)}
	case http.StatusConflict:
		e.err = &memory.ConflictError{Message: e.Message}
	case http.StatusServiceUnavailable:
		e.err = &memory.UnavailableError{Reason: e.Message, RetryAfter: int(e.RetryAfter / time.Second)}
	}
	return e
}

// notFoundKind is the kind a 404's message names ("Memory not found" →
// "memory", "API key not found" → "key"), else def.
func notFoundKind(msg, def string) string {
	k, ok := strings.CutSuffix(msg, " not found")
	if !ok || k == "" {
		return def
	}
	if k == "API key" {
		return "key"
	}
	return strings.ToLower(k)
}

// wireToGo names the wire fields whose Go field is not their CamelCase.
var wireToGo = map[string]string{
	"search_mode":             "Mode",
	"project_slug":            "Project",
	"exclude_memory_ids":      "ExcludeIDs",
	"target_project":          "Target",
	"relationship_type":       "Type",
	"entity_type":             "Type",
	"min_score":               "Threshold",
	"q":                       "Query",
	"grace_seconds":           "Grace",
	"change_description":      "Change",
	"webhook_url":             "WebhookURL",
	"daily_spend_limit_usd":   "DailySpendLimit",
	"monthly_spend_limit_usd": "MonthlySpendLimit",
}

// goField turns a wire field path into the Go one: "agent_id" → "AgentID",
// "memories[3].content" → "Memories[3].Content".
func goField(wire string) string {
	if wire == "" {
		return ""
	}
	parts := strings.Split(wire, ".")
	for i, p := range parts {
		name, index, _ := strings.Cut(p, "[")
		if g, ok := wireToGo[name]; ok {
			name = g
		} else {
			name = camel(name)
		}
		if index != "" {
			name += "[" + index
		}
		parts[i] = name
	}
	return strings.Join(parts, ".")
}

// camel turns snake_case into Go's CamelCase with its initialisms.
func camel(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(s, "_") {
		switch w {
		case "":
		case "id", "url", "ms", "api":
			b.WriteString(strings.ToUpper(w))
		case "ids":
			b.WriteString("IDs")
		default:
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			b.WriteString(string(r))
		}
	}
	return b.String()
}
