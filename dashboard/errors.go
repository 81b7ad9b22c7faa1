package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// formError is a value of a form or query the dashboard itself refuses
// (a number that is not one, say), in words for the page.
type formError struct{ msg string }

func (e *formError) Error() string { return e.msg }

func badInput(msg string) error { return &formError{msg} }

// lastAdminMessage says why the account's last admin key stays.
const lastAdminMessage = "This is the account's last admin key, so it cannot be revoked: " +
	"nothing could manage the account after it. Create another admin key first."

// labels are the form's words for the Go field names that the library's
// validation messages use.
var labels = map[string]string{
	"ExpiresAt": "Expiry", "RateLimit": "Rate limit", "grace": "Grace period", "Scopes": "Scopes",
	"Query": "Search text", "AgentID": "Agent", "Offset": "Offset", "Limit": "Page size",
	"Cursor": "Page", "Threshold": "Threshold", "Mode": "Mode", "Name": "Name",
}

// describe is the one place where errors become pages: the status and a
// message for people. A caller's mistake is a 4xx with the reason;
// anything not recognised is a 500 whose detail goes to the log, never to
// the page.
func (h *handler) describe(err error) (status int, msg string) {
	var (
		ferr    *formError
		verr    *memory.ValidationError
		kerr    *keys.InvalidError
		nf      *memory.NotFoundError
		cerr    *memory.ConflictError
		uerr    *memory.UnavailableError
		limited *limiter.LimitedError
		missing *scopes.MissingError
	)
	switch {
	case errors.As(err, &ferr):
		return http.StatusBadRequest, ferr.msg
	case errors.Is(err, keys.ErrLastAdmin):
		return http.StatusConflict, lastAdminMessage
	case errors.As(err, &verr):
		var msgs []string
		for _, p := range verr.Problems {
			msgs = append(msgs, sentence(relabel(p.Message)))
		}
		if len(msgs) == 0 {
			msgs = append(msgs, "The input is not valid.")
		}
		return http.StatusBadRequest, strings.Join(msgs, " ")
	case errors.As(err, &kerr):
		return http.StatusBadRequest, sentence(relabel(kerr.Message))
	case errors.As(err, &nf):
		return http.StatusNotFound, notFoundMessage(nf.Kind)
	case errors.Is(err, keys.ErrNotFound):
		return http.StatusNotFound, notFoundMessage("key")
	case errors.As(err, &cerr):
		return http.StatusConflict, sentence(cerr.Message)
	case errors.Is(err, memory.ErrClosed):
		return http.StatusServiceUnavailable, "The service is shutting down."
	case errors.As(err, &uerr):
		msg := sentence(uerr.Reason)
		if uerr.RetryAfter > 0 {
			msg += " Try again in " + seconds(uerr.RetryAfter) + "."
		}
		return http.StatusServiceUnavailable, msg
	case errors.As(err, &limited):
		return http.StatusTooManyRequests, limited.Error()
	case errors.As(err, &missing):
		return http.StatusForbidden, missing.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "The request was cancelled or took too long. Try again."
	}
	h.opts.Logger.Error("dashboard: internal error", "err", err)
	return http.StatusInternalServerError, "Something went wrong on the server; the error was logged. Try again later."
}

var notFoundMessages = map[string]string{
	"memory": "Memory not found. It may have been deleted.", "agent": "Agent not found.",
	"key": "API key not found.", "account": "Account not found.",
}

func notFoundMessage(kind string) string {
	if m, ok := notFoundMessages[kind]; ok {
		return m
	}
	if kind == "" {
		return "Not found."
	}
	return strings.ToUpper(kind[:1]) + kind[1:] + " not found."
}

// relabel replaces the Go field names in a message by the form's words.
func relabel(msg string) string {
	words := strings.Fields(msg)
	for i, w := range words {
		if l, ok := labels[w]; ok {
			words[i] = l
		}
	}
	return strings.Join(words, " ")
}

// sentence makes msg start with a capital and end with a full stop.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
