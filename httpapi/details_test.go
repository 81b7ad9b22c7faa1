package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// checkDetails asserts API.md §10.4 on a 400 validation_error: details is
// a non-empty list of {field, message} strings, its first message is the
// body's message, and every entry of errors (§3) is one of them.
func checkDetails(t testing.TB, r response) {
	t.Helper()
	details, ok := r.body["details"].([]any)
	if !ok || len(details) == 0 {
		t.Errorf("400 without details: %s", r.raw)
		return
	}
	seen := map[[2]string]bool{}
	for i, d := range details {
		m, _ := d.(map[string]any)
		field, fok := m["field"].(string)
		msg, mok := m["message"].(string)
		if !fok || !mok || field == "" || msg == "" || len(m) != 2 {
			t.Errorf("details[%d] = %v, want {field, message} strings", i, d)
			continue
		}
		if i == 0 && msg != r.body["message"] {
			t.Errorf("details[0].message %q, message %q", msg, r.body["message"])
		}
		seen[[2]string{field, msg}] = true
	}
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		msg, _ := m["message"].(string)
		if !seen[[2]string{f, msg}] {
			t.Errorf("errors entry %v not in details %v", e, details)
		}
	}
}

// problems is a Service whose memory creates fail with a validation error
// of several problems, as the Go side returns all it finds.
type problems struct {
	httpapi.Service
	err error
}

func (p problems) AccountFor(k keys.Key) memory.Account {
	return problemsAccount{p.Service.AccountFor(k), p.err}
}

type problemsAccount struct {
	memory.Account
	err error
}

func (a problemsAccount) Memories() memory.Memories {
	return problemsMemories{a.Account.Memories(), a.err}
}

type problemsMemories struct {
	memory.Memories
	err error
}

func (m problemsMemories) Create(context.Context, memory.NewMemory) (memory.CreateResult, error) {
	return memory.CreateResult{}, m.err
}

func TestDetailsListEveryProblem(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	verr := &memory.ValidationError{Problems: []memory.Problem{
		{Field: "Content", Message: "Content must be 1-51200 characters"},
		{Field: "Metadata", Message: "Metadata must be a JSON object of at most 10240 bytes"},
		{Field: "Importance", Message: "Importance must be between 0 and 1"},
		{Field: "", Message: "the memory as a whole is odd"},
	}}
	h, err := httpapi.New(problems{e.relay, verr}, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = h
	r := e.do("POST", "/v1/memories", e.keys["rw"], map[string]any{"content": "x"})
	checkError(t, r, http.StatusBadRequest, "validation_error", "content must be 1-51200 characters")
	details, _ := r.body["details"].([]any)
	want := [][2]string{
		{"content", "content must be 1-51200 characters"},
		{"metadata", "metadata must be a JSON object of at most 10240 bytes"},
		{"importance", "importance must be between 0 and 1"},
		{"body", "the memory as a whole is odd"},
	}
	if len(details) != len(want) {
		t.Fatalf("details %v, want %d entries", details, len(want))
	}
	for i, w := range want {
		m := details[i].(map[string]any)
		if m["field"] != w[0] || m["message"] != w[1] {
			t.Errorf("details[%d] = %v, want %v", i, m, w)
		}
	}
	if errs, _ := r.body["errors"].([]any); len(errs) != 3 {
		t.Errorf("errors %v, want the 3 named fields", errs)
	}
}

func TestDetailsOnEveryValidation400(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	big := `{"content":"` + strings.Repeat("a", httpapi.DefaultMaxBodyBytes) + `"}`
	cases := []struct {
		name, method, path, key string
		body                    any
		field                   string
	}{
		{"not JSON", "POST", "/v1/memories", "rw", `{"content":`, "body"},
		{"not an object", "POST", "/v1/memories", "rw", `[1]`, "body"},
		{"too large", "POST", "/v1/memories", "rw", big, "body"},
		{"missing field", "POST", "/v1/memories", "rw", map[string]any{}, "content"},
		{"wrong type", "POST", "/v1/memories", "rw", map[string]any{"content": 5}, "content"},
		{"bad query", "GET", "/v1/memories?limit=0", "rw", nil, "limit"},
		{"service rule", "POST", "/v1/memories", "rw", map[string]any{"content": "x", "importance": 7}, "importance"},
		{"key field", "POST", "/v1/keys", "admin", map[string]any{"name": strings.Repeat("n", 300), "scopes": []string{"read"}}, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, e.keys[c.key], c.body)
			checkError(t, r, http.StatusBadRequest, "validation_error", "")
			d := r.body["details"].([]any)[0].(map[string]any)
			if d["field"] != c.field {
				t.Errorf("details %v, want field %q first", r.body["details"], c.field)
			}
		})
	}
	// Not a 400: no details.
	for _, r := range []response{
		e.do("PATCH", "/v1/keys", e.keys["admin"], nil), // 405
		e.do("GET", "/v1/memories/00000000-0000-4000-8000-000000000000", e.keys["rw"], nil),
		e.do("DELETE", "/v1/memories/x", e.keys["read"], nil),
	} {
		if _, ok := r.body["details"]; ok || r.status == http.StatusBadRequest {
			t.Errorf("%d: %s", r.status, r.raw)
		}
	}
}
