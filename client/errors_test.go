package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/client"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestErrorMapping maps each error answer to its error: the sentinel it
// matches, the typed error it unwraps to, and the *client.Error kept
// around it.
func TestErrorMapping(t *testing.T) {
	ctx := context.Background()
	all := []error{memory.ErrInvalid, memory.ErrNotFound, memory.ErrConflict, memory.ErrUnavailable, memory.ErrClosed,
		client.ErrAuthentication, client.ErrForbidden, client.ErrRateLimit}
	cases := []struct {
		name   string
		answer func(http.ResponseWriter)
		match  error // besides client.ErrAPI
		check  func(t *testing.T, err error)
	}{
		{"400 with details", answer(400, `{"type":"validation_error","message":"content is required","request_id":"req_1",
			"details":[{"field":"content","message":"content is required"},{"field":"agent_id","message":"agent_id is too long"}],
			"errors":[{"field":"content","message":"content is required"}]}`, "X-Request-ID", "req_1"),
			memory.ErrInvalid, func(t *testing.T, err error) {
				var verr *memory.ValidationError
				if !errors.As(err, &verr) || len(verr.Problems) != 2 || verr.Field() != "Content" || verr.Problems[1].Field != "AgentID" ||
					verr.Problems[1].Message != "agent_id is too long" {
					t.Errorf("%#v", verr)
				}
			}},
		{"400 with errors", answer(400, `{"type":"validation_error","message":"bad mode","errors":[{"field":"search_mode","message":"bad mode"}]}`),
			memory.ErrInvalid, func(t *testing.T, err error) {
				var verr *memory.ValidationError
				if !errors.As(err, &verr) || len(verr.Problems) != 1 || verr.Field() != "Mode" || verr.Error() != "bad mode" {
					t.Errorf("%#v", verr)
				}
			}},
		{"400 without fields", answer(400, errBody("validation_error", "Request body is not valid JSON")),
			memory.ErrInvalid, func(t *testing.T, err error) {
				var verr *memory.ValidationError
				if !errors.As(err, &verr) || len(verr.Problems) != 1 || verr.Field() != "" || verr.Problems[0].Message != "Request body is not valid JSON" {
					t.Errorf("%#v", verr)
				}
			}},
		{"400 without a body", answer(400, ``), memory.ErrInvalid, func(t *testing.T, err error) {
			var verr *memory.ValidationError
			if !errors.As(err, &verr) || verr.Problems[0].Message != "Bad Request" {
				t.Errorf("%#v", verr)
			}
		}},
		{"404 names the kind", answer(404, errBody("not_found_error", "Session not found")), memory.ErrNotFound, func(t *testing.T, err error) {
			var nf *memory.NotFoundError
			if !errors.As(err, &nf) || nf.Kind != "session" {
				t.Errorf("%#v", nf)
			}
		}},
		{"404 of a key", answer(404, errBody("not_found_error", "API key not found")), memory.ErrNotFound, func(t *testing.T, err error) {
			var nf *memory.NotFoundError
			if !errors.As(err, &nf) || nf.Kind != "key" {
				t.Errorf("%#v", nf)
			}
		}},
		{"404 without a kind", answer(404, errBody("not_found_error", "Gone")), memory.ErrNotFound, func(t *testing.T, err error) {
			var nf *memory.NotFoundError
			if !errors.As(err, &nf) || nf.Kind != "memory" {
				t.Errorf("%#v", nf)
			}
		}},
		{"409", answer(409, errBody("conflict_error", "Project slug already exists")), memory.ErrConflict, func(t *testing.T, err error) {
			var cerr *memory.ConflictError
			if !errors.As(err, &cerr) || cerr.Message != "Project slug already exists" {
				t.Errorf("%#v", cerr)
			}
		}},
		{"503 with Retry-After", answer(503, errBody("api_error", "The storage is busy; try again later"), "Retry-After", "5"), memory.ErrUnavailable, func(t *testing.T, err error) {
			var ue *memory.UnavailableError
			if !errors.As(err, &ue) || ue.RetryAfter != 5 || ue.Reason != "The storage is busy; try again later" {
				t.Errorf("%#v", ue)
			}
		}},
		{"503 without Retry-After", answer(503, errBody("api_error", "The database is damaged")), memory.ErrUnavailable, func(t *testing.T, err error) {
			var ue *memory.UnavailableError
			if !errors.As(err, &ue) || ue.RetryAfter != 0 {
				t.Errorf("%#v", ue)
			}
		}},
		{"500 is the client's own", answer(500, errBody("api_error", "Internal server error")), nil, func(t *testing.T, err error) {
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || apiErr.Unwrap() != nil {
				t.Errorf("%#v", apiErr)
			}
		}},
		{"401", answer(401, errBody("authentication_error", "Invalid API key")), client.ErrAuthentication, nil},
		{"403", answer(403, errBody("authorization_error", "Insufficient scope. Required: write")), client.ErrForbidden, nil},
		{"429", answer(429, errBody("rate_limit_error", "Rate limit exceeded. Try again in 9 seconds."), "Retry-After", "9"), client.ErrRateLimit, func(t *testing.T, err error) {
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || apiErr.RetryAfter != 9*time.Second {
				t.Errorf("%#v", apiErr)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, _, _ := scripted(t, c.answer)
			acct := scriptedAccount(t, srv, client.Options{MaxRetries: -1})
			_, err := acct.Memories().Get(ctx, "x")
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || !errors.Is(err, client.ErrAPI) || apiErr.StatusCode == 0 || apiErr.Message == "" {
				t.Fatalf("not an *Error: %#v", err)
			}
			if strings.Contains(c.name, "details") && apiErr.RequestID != "req_1" {
				t.Errorf("request id %q", apiErr.RequestID)
			}
			for _, s := range all {
				if errors.Is(err, s) != (s == c.match) {
					t.Errorf("errors.Is(%v, %v) = %v", err, s, !(s == c.match))
				}
			}
			if c.check != nil {
				c.check(t, err)
			}
		})
	}
}

// TestErrorsFromTheServer gets each class of error from the real handler.
func TestErrorsFromTheServer(t *testing.T) {
	ctx := context.Background()
	e := server(t)
	acct := e.admin.Account()
	m := must[memory.CreateResult](t, "memory")(acct.Memories().Create(ctx, memory.NewMemory{Content: "mine"})).Memory

	var verr *memory.ValidationError
	if _, err := acct.Memories().Create(ctx, memory.NewMemory{Content: ""}); !errors.As(err, &verr) || verr.Field() != "Content" {
		t.Errorf("empty content: %v (%#v)", err, verr)
	}
	if _, err := acct.Memories().Search(ctx, memory.SearchParams{Query: "x", Mode: "fuzzy"}); !errors.As(err, &verr) || verr.Field() != "Mode" {
		t.Errorf("bad mode: %v (%#v)", err, verr)
	}
	if _, err := acct.Memories().Create(ctx, memory.NewMemory{Content: "x", Importance: ptr(2.0)}); !errors.As(err, &verr) || verr.Field() != "Importance" {
		t.Errorf("importance 2: %v (%#v)", err, verr)
	}
	// Another account's memory is not found, as in process.
	var nf *memory.NotFoundError
	if _, err := e.otherAdmin.Account().Memories().Get(ctx, m.ID); !errors.As(err, &nf) || nf.Kind != "memory" {
		t.Errorf("other account: %v", err)
	}
	if err := e.otherAdmin.Account().Memories().Delete(ctx, m.ID); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("other account delete: %v", err)
	}
	if _, err := acct.Memories().Get(ctx, m.ID); err != nil {
		t.Errorf("still there: %v", err)
	}
	if _, err := acct.Projects().Create(ctx, memory.NewProject{Slug: "p", Name: "P"}); err != nil {
		t.Fatal(err)
	}
	if _, err := acct.Projects().Create(ctx, memory.NewProject{Slug: "p", Name: "P"}); !errors.Is(err, memory.ErrConflict) {
		t.Errorf("taken slug: %v", err)
	}
	reader := e.client(t, e.acct, scopes.NewSet(scopes.Read))
	if err := reader.Account().Memories().Delete(ctx, m.ID); !errors.Is(err, client.ErrForbidden) || errors.Is(err, memory.ErrNotFound) {
		t.Errorf("reader deletes: %v", err)
	}
	if _, _, err := reader.Account().Keys().Create(ctx, memory.NewKey{Name: "x", Scopes: scopes.NewSet(scopes.Read)}); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("reader makes keys: %v", err)
	}
	bad := e.clientOf(t, "mem_live_"+strings.Repeat("x", 40))
	if _, err := bad.Account().Agents().List(ctx, memory.PageParams{}); !errors.Is(err, client.ErrAuthentication) {
		t.Errorf("unknown key: %v", err)
	}
	// One request a minute: the second is limited.
	_, tok, err := e.relay.Account(e.acct).Keys().Create(ctx, memory.NewKey{Name: "slow", Scopes: scopes.NewSet(scopes.Read), RateLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	slow := e.clientOf(t, tok.Reveal())
	slow.Account().Agents().List(ctx, memory.PageParams{})
	var apiErr *client.Error
	if _, err := slow.Account().Agents().List(ctx, memory.PageParams{}); !errors.Is(err, client.ErrRateLimit) || !errors.As(err, &apiErr) || apiErr.RetryAfter <= 0 {
		t.Errorf("limited: %v", err)
	}
}
