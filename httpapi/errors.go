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
	"github.com/memoryrelay/memoryrelay/memory"
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

// noSecretMessage is the message of a 503 of the extraction-keys API on
// a server without a secret to encrypt keys with: an operator's setting,
// so it carries no Retry-After.
const noSecretMessage = "Extraction keys are not available: the server has no secret to encrypt them with (its operator sets Options.ServerSecret)"

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
	// Details is on every 400 validation_error (API.md §10.4): one entry
	// per problem, in input order. A problem of the body as a whole (not
	// JSON, too large) has the field "body".
	Details []fieldError `json:"details,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// requestError is an error the handler finds in the request itself (a
// body that is not JSON, a field of the wrong JSON type, a missing field):
// its field and message are the request's words already.
type requestError struct {
	field string // the request field, or ""
	msg   string
}

func (e *requestError) Error() string { return e.msg }

func badField(field, msg string) error { return &requestError{field: field, msg: msg} }

// goNames maps the Go names that the service's validation errors use for
// input fields (memory.Problem.Field, and the same words in its message:
// the Go field of the params struct, or the parameter of the method) to
// the request's names, where they differ. A route whose request names a
// field differently adds its own map (see named), which wins.
var goNames = map[string]string{
	"ID": "id", "Name": "name", "Content": "content", "AgentID": "agent_id", "UserID": "user_id",
	"Metadata": "metadata", "MemoryType": "memory_type", "Visibility": "visibility", "Importance": "importance",
	"Tier": "tier", "Scope": "scope", "Project": "project", "ProjectID": "project_id", "SessionID": "session_id",
	"DedupThreshold": "dedup_threshold", "Cursor": "cursor", "Limit": "limit", "Offset": "offset",
	"Query": "query", "Threshold": "threshold", "MinImportance": "min_importance", "Mode": "search_mode",
	"MetadataFilter": "metadata_filter", "Memories": "memories", "Description": "description",
	"Title": "title", "Status": "status", "Tags": "tags", "Rationale": "rationale",
	"Alternatives": "alternatives", "Category": "category", "ExampleCode": "example_code",
	"SourceProject": "source_project", "Slug": "slug", "RepoURL": "repo_url", "Stack": "stack",
	"Target": "target_project", "Type": "type", "Relationship": "relationship", "MaxTokens": "max_tokens",
	"MaxMemories": "max_memories", "ExcludeIDs": "exclude_memory_ids", "WebhookURL": "webhook_url",
	"Scopes": "scopes", "ExpiresAt": "expires_at", "RateLimit": "rate_limit",
	"DailySpendLimit": "daily_spend_limit_usd", "MonthlySpendLimit": "monthly_spend_limit_usd",
	"URL": "url", "EventTypes": "event_types", "Secret": "secret", "Enabled": "enabled",
	"Provider": "provider", "APIKey": "api_key", "Model": "model", "Label": "label", "BaseURL": "base_url",
	"AutoExtractEntities": "auto_extract_entities",
	"externalID":          "external_id", "userID": "user_id",
}

// Routes whose requests name a field otherwise than goNames.
var (
	decisionNames     = map[string]string{"Project": "project_slug"}
	relationshipNames = map[string]string{"Type": "relationship_type"}
	impactNames       = map[string]string{"slug": "project", "change": "change_description"}
)

type namesKey struct{}

// named serves fn with the route's field names (see goNames).
func named(names map[string]string, fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fn(w, r.WithContext(context.WithValue(r.Context(), namesKey{}, names)))
	}
}

// wireWord is the request's name for the Go name w, or w.
func wireWord(names map[string]string, w string) string {
	if n, ok := names[w]; ok {
		return n
	}
	if n, ok := goNames[w]; ok {
		return n
	}
	return w
}

// wireField is the request's name of a problem's field: its last path
// element ("Memories[3].Content" is an item's "content").
func wireField(names map[string]string, field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	return wireWord(names, field)
}

// wireMessage is a problem's message in the request's words: every Go
// field name in it becomes the request's name.
func wireMessage(names map[string]string, msg string) string {
	isWord := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	var b strings.Builder
	for i := 0; i < len(msg); {
		if !isWord(msg[i]) {
			b.WriteByte(msg[i])
			i++
			continue
		}
		j := i
		for j < len(msg) && isWord(msg[j]) {
			j++
		}
		b.WriteString(wireWord(names, msg[i:j]))
		i = j
	}
	return b.String()
}

// notFoundMessages are the contract's messages per memory.NotFoundError
// kind.
var notFoundMessages = map[string]string{
	"memory": "Memory not found", "agent": "Agent not found", "entity": "Entity not found",
	"session": "Session not found", "decision": "Decision not found", "pattern": "Pattern not found",
	"project": "Project not found", "key": "API key not found", "account": "Account not found",
	"webhook": "Webhook not found", "extraction key": "Extraction key not found",
}

func notFoundMessage(kind string) string {
	if m, ok := notFoundMessages[kind]; ok {
		return m
	}
	if kind == "" {
		return "Not found"
	}
	return strings.ToUpper(kind[:1]) + kind[1:] + " not found"
}

// bodyField is the field of a details entry for a problem of the request
// body as a whole.
const bodyField = "body"

// statusOf is the one place where errors become HTTP: the status, the
// contract's error type, the message a client may see and, for a
// validation error, its problems, one per entry, in the request's words
// (names: the route's, see goNames); an entry whose Field is "" is a
// problem of the body as a whole. Anything not recognised is an internal
// error whose text never reaches the client.
func statusOf(err error, names map[string]string) (status int, typ, msg string, fields []fieldError) {
	var uerr *memory.UnavailableError
	var (
		rerr    *requestError
		verr    *memory.ValidationError
		kerr    *keys.InvalidError
		nf      *memory.NotFoundError
		cerr    *memory.ConflictError
		missing *scopes.MissingError
		limited *limiter.LimitedError
		tooBig  *http.MaxBytesError
	)
	problems := func(ps []memory.Problem) (int, string, string, []fieldError) {
		var out []fieldError
		for _, p := range ps {
			f := ""
			if p.Field != "" {
				f = wireField(names, p.Field)
			}
			out = append(out, fieldError{Field: f, Message: wireMessage(names, p.Message)})
		}
		msg := "Invalid input"
		if len(ps) > 0 {
			msg = wireMessage(names, ps[0].Message)
		}
		return http.StatusBadRequest, typeValidation, msg, out
	}
	switch {
	case errors.As(err, &rerr):
		return http.StatusBadRequest, typeValidation, rerr.msg, []fieldError{{Field: rerr.field, Message: rerr.msg}}
	case errors.Is(err, keys.ErrLastAdmin):
		const m = "Cannot revoke the account's last admin key"
		return http.StatusBadRequest, typeValidation, m, []fieldError{{Field: "id", Message: m}}
	case errors.As(err, &verr):
		return problems(verr.Problems)
	case errors.As(err, &kerr): // the key store's own, should a Service pass one on
		return problems([]memory.Problem{{Field: kerr.Field, Message: kerr.Message}})
	case errors.As(err, &tooBig):
		m := "Request body must be at most " + strconv.FormatInt(tooBig.Limit, 10) + " bytes"
		return http.StatusBadRequest, typeValidation, m, []fieldError{{Message: m}}
	case errors.As(err, &nf):
		return http.StatusNotFound, typeNotFound, notFoundMessage(nf.Kind), nil
	case errors.As(err, &cerr):
		return http.StatusConflict, typeConflict, cerr.Message, nil
	case errors.Is(err, errRoute):
		return http.StatusNotFound, typeNotFound, "Route not found", nil
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed, typeValidation, "Method not allowed", nil
	case errors.Is(err, errMissingKey):
		return http.StatusUnauthorized, typeAuthentication, "Invalid API key: provide one in the Authorization (Bearer) or X-API-Key header", nil
	case errors.Is(err, keys.ErrExpired):
		return http.StatusUnauthorized, typeAuthentication, "API key has expired", nil
	case errors.Is(err, keys.ErrMalformed), errors.Is(err, keys.ErrNotFound), errors.Is(err, keys.ErrRevoked):
		return http.StatusUnauthorized, typeAuthentication, "Invalid API key", nil
	case errors.As(err, &missing):
		return http.StatusForbidden, typeAuthorization, missing.Error(), nil
	case errors.As(err, &limited):
		return http.StatusTooManyRequests, typeRateLimit, limited.Error(), nil
	case errors.Is(err, keys.ErrSpendLimit):
		return http.StatusTooManyRequests, typeRateLimit, "Spend limit exceeded", nil
	case errors.Is(err, memoryrelay.ErrDamaged):
		return http.StatusServiceUnavailable, typeAPI, damagedMessage, nil
	case errors.Is(err, memoryrelay.ErrNoServerSecret):
		return http.StatusServiceUnavailable, typeAPI, noSecretMessage, nil
	}
	// A storage failure the service left unclassified (a wrapper's, say)
	// is classified here as the Relay would.
	if uerr = memoryrelay.Unavailable(err); uerr != nil {
		return http.StatusServiceUnavailable, typeAPI, uerr.Reason + "; try again later", nil
	}
	return http.StatusInternalServerError, typeAPI, "Internal server error", nil
}

// firstField is the first named field of statusOf's entries, or nil.
func firstField(fields []fieldError) *string {
	for i := range fields {
		if fields[i].Field != "" {
			return &fields[i].Field
		}
	}
	return nil
}

// writeError renders err as the contract's error body.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	names, _ := r.Context().Value(namesKey{}).(map[string]string)
	status, typ, msg, fields := statusOf(err, names)
	rid := requestIDFrom(r.Context())
	if status >= 500 {
		if !errors.Is(err, context.Canceled) {
			h.opts.Logger.Error("httpapi: internal error", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", redactKeys(err))
		}
	}
	body := errorBody{Type: typ, Message: msg, Detail: msg, Error: msg, Code: status, RequestID: rid}
	if status == http.StatusBadRequest && typ == typeValidation {
		// errors (§3) names fields only; details (§10.4) every problem.
		if len(fields) == 0 {
			fields = []fieldError{{Message: msg}}
		}
		for _, f := range fields {
			if f.Field != "" {
				body.Errors = append(body.Errors, f)
			} else {
				f.Field = bodyField
			}
			body.Details = append(body.Details, f)
		}
	}
	if status == http.StatusServiceUnavailable && !errors.Is(err, memoryrelay.ErrDamaged) && !errors.Is(err, memoryrelay.ErrNoServerSecret) {
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	}
	var limited *limiter.LimitedError
	if errors.As(err, &limited) {
		n := limited.Decision.RetryAfterSeconds()
		body.RetryAfter = &n
		w.Header().Set("Retry-After", strconv.Itoa(n))
	}
	var spent *keys.SpendLimitError
	if errors.As(err, &spent) {
		// Until the period resets (API.md §10.2).
		n := spent.RetryAfterSeconds()
		body.RetryAfter = &n
		w.Header().Set("Retry-After", strconv.Itoa(n))
	}
	writeJSON(w, status, body)
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
