package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// chars is n characters of two bytes each: limits count code points
// (API.md §1.6), not bytes.
func chars(n int) string { return strings.Repeat("é", n) }

// ascii is n one-byte characters; for limits in bytes.
func ascii(n int) string { return strings.Repeat("a", n) }

// jsonOf is a JSON object of exactly n bytes, serialized compactly.
func jsonOf(n int) json.RawMessage {
	const frame = len(`{"k":""}`)
	return json.RawMessage(`{"k":"` + ascii(n-frame) + `"}`)
}

// tags is n tags of one character.
func tags(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i % 10)
	}
	return out
}

// TestStoredFieldLimits is the table of README "Limits" → "Stored fields":
// every stored field of every object, over HTTP, at its limit (stored)
// and one past it (400 validation_error naming the field, nothing
// stored).
func TestStoredFieldLimits(t *testing.T) {
	e := unlimitedEnv(t)
	rw := e.keys["rw"]
	mem := e.createMemory(rw, map[string]any{"content": "a memory to update and link"})
	ent := expect(t, e.do("POST", "/v1/entities", rw, map[string]any{"name": "linked"}), 201)["id"].(string)
	session := expect(t, e.do("POST", "/v1/sessions", rw, map[string]any{}), 201)["id"].(string)
	expect(t, e.do("POST", "/v1/projects", rw, map[string]any{"slug": "source", "name": "Source"}), 201)
	decision := func(extra map[string]any) map[string]any {
		b := map[string]any{"title": "T", "rationale": "R"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	pattern := func(extra map[string]any) map[string]any {
		b := map[string]any{"title": "T", "description": "D"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	// seq makes values that must be unique (names, slugs) differ.
	seq := 0
	next := func() int { seq++; return seq }

	cases := []struct {
		object, field string
		limit         int
		method, path  string
		created       int
		body          func(n int) any
	}{
		{"memory", "content", memory.MaxContentChars, "POST", "/v1/memories", 201, func(n int) any { return map[string]any{"content": chars(n)} }},
		{"memory", "user_id", memory.MaxUserID, "POST", "/v1/memories", 201, func(n int) any { return map[string]any{"content": "x", "user_id": chars(n)} }},
		{"memory", "user_id", memory.MaxUserID, "PATCH", "/v1/memories/" + mem, 200, func(n int) any { return map[string]any{"user_id": chars(n)} }},
		{"memory", "agent_id", memory.MaxAgentRef, "POST", "/v1/memories", 201, func(n int) any { return map[string]any{"content": "x", "agent_id": ascii(n)} }},
		{"memory", "project", memory.MaxProjectSlug, "POST", "/v1/memories", 201, func(n int) any { return map[string]any{"content": "x", "project": chars(n)} }},
		{"memory", "metadata", memory.MaxMetadataSize, "POST", "/v1/memories", 201, func(n int) any { return map[string]any{"content": "x", "metadata": jsonOf(n)} }},
		{"memory", "metadata", memory.MaxMetadataSize, "POST", "/v2/memories", 202, func(n int) any { return map[string]any{"content": "x", "metadata": jsonOf(n)} }},
		{"memory", "webhook_url", memory.MaxWebhookURL, "POST", "/v2/memories", 202, func(n int) any {
			return map[string]any{"content": "x", "webhook_url": "https://example.com/" + ascii(n-len("https://example.com/"))}
		}},

		{"agent", "name", memory.MaxAgentName, "POST", "/v1/agents", 201, func(n int) any { return map[string]any{"name": chars(n)} }},
		{"agent", "description", memory.MaxAgentDescription, "POST", "/v1/agents", 201, func(n int) any {
			return map[string]any{"name": fmt.Sprint("agent ", next()), "description": chars(n)}
		}},
		{"agent", "metadata", memory.MaxMetadataSize, "POST", "/v1/agents", 201, func(n int) any {
			return map[string]any{"name": fmt.Sprint("agent ", next()), "metadata": jsonOf(n)}
		}},

		{"session", "title", memory.MaxSessionTitle, "POST", "/v1/sessions", 201, func(n int) any { return map[string]any{"title": chars(n)} }},
		{"session", "project", memory.MaxSessionProject, "POST", "/v1/sessions", 201, func(n int) any { return map[string]any{"project": chars(n)} }},
		{"session", "metadata", memory.MaxMetadataSize, "POST", "/v1/sessions", 201, func(n int) any { return map[string]any{"metadata": jsonOf(n)} }},
		{"session", "external_id", memory.MaxExternalID, "POST", "/v1/sessions/get-or-create", 201, func(n int) any { return map[string]any{"external_id": chars(n)} }},
		{"session", "summary", memory.MaxSessionSummary, "POST", "/v1/sessions/" + session + "/end", 200, func(n int) any { return map[string]any{"summary": chars(n)} }},

		{"entity", "name", memory.MaxEntityName, "POST", "/v1/entities", 201, func(n int) any { return map[string]any{"name": chars(n)} }},
		{"entity", "type", memory.MaxEntityType, "POST", "/v1/entities", 201, func(n int) any { return map[string]any{"name": "x", "type": chars(n)} }},
		{"entity", "metadata", memory.MaxMetadataSize, "POST", "/v1/entities", 201, func(n int) any { return map[string]any{"name": "x", "metadata": jsonOf(n)} }},
		{"entity link", "relationship", memory.MaxRelationship, "POST", "/v1/entities/links", 201, func(n int) any {
			// A new memory each time, so that the link at the limit is new.
			return map[string]any{"entity_id": ent, "memory_id": e.createMemory(rw, map[string]any{"content": "linked"}), "relationship": chars(n)}
		}},

		{"decision", "title", memory.MaxDecisionTitle, "POST", "/v1/decisions", 201, func(n int) any { return decision(map[string]any{"title": chars(n)}) }},
		{"decision", "rationale", memory.MaxDecisionRationale, "POST", "/v1/decisions", 201, func(n int) any { return decision(map[string]any{"rationale": chars(n)}) }},
		{"decision", "alternatives", memory.MaxDecisionAlternatives, "POST", "/v1/decisions", 201, func(n int) any { return decision(map[string]any{"alternatives": chars(n)}) }},
		{"decision", "tags", memory.MaxTags, "POST", "/v1/decisions", 201, func(n int) any { return decision(map[string]any{"tags": tags(n)}) }},
		{"decision", "tags", memory.MaxTagChars, "POST", "/v1/decisions", 201, func(n int) any { return decision(map[string]any{"tags": []string{"ok", chars(n)}}) }},
		{"decision", "project_slug", memory.MaxProjectSlug, "POST", "/v1/decisions", 201, func(n int) any { return decision(map[string]any{"project_slug": chars(n)}) }},
		{"decision", "metadata", memory.MaxMetadataSize, "POST", "/v1/decisions", 201, func(n int) any { return decision(map[string]any{"metadata": jsonOf(n)}) }},

		{"pattern", "title", memory.MaxPatternTitle, "POST", "/v1/patterns", 201, func(n int) any { return pattern(map[string]any{"title": chars(n)}) }},
		{"pattern", "description", memory.MaxPatternDescription, "POST", "/v1/patterns", 201, func(n int) any { return pattern(map[string]any{"description": chars(n)}) }},
		{"pattern", "category", memory.MaxPatternCategory, "POST", "/v1/patterns", 201, func(n int) any { return pattern(map[string]any{"category": chars(n)}) }},
		{"pattern", "example_code", memory.MaxPatternExampleCode, "POST", "/v1/patterns", 201, func(n int) any { return pattern(map[string]any{"example_code": chars(n)}) }},
		{"pattern", "tags", memory.MaxTags, "POST", "/v1/patterns", 201, func(n int) any { return pattern(map[string]any{"tags": tags(n)}) }},
		{"pattern", "tags", memory.MaxTagChars, "POST", "/v1/patterns", 201, func(n int) any { return pattern(map[string]any{"tags": []string{chars(n)}}) }},
		{"pattern", "source_project", memory.MaxProjectSlug, "POST", "/v1/patterns", 201, func(n int) any { return pattern(map[string]any{"source_project": chars(n)}) }},
		{"pattern", "metadata", memory.MaxMetadataSize, "POST", "/v1/patterns", 201, func(n int) any { return pattern(map[string]any{"metadata": jsonOf(n)}) }},

		{"project", "slug", memory.MaxProjectSlug, "POST", "/v1/projects", 201, func(n int) any { return map[string]any{"slug": ascii(n), "name": "P"} }},
		{"project", "name", memory.MaxProjectName, "POST", "/v1/projects", 201, func(n int) any { return map[string]any{"slug": fmt.Sprint("p", next()), "name": chars(n)} }},
		{"project", "description", memory.MaxProjectDescription, "POST", "/v1/projects", 201, func(n int) any {
			return map[string]any{"slug": fmt.Sprint("p", next()), "name": "P", "description": chars(n)}
		}},
		{"project", "stack", memory.MaxProjectStack, "POST", "/v1/projects", 201, func(n int) any {
			return map[string]any{"slug": fmt.Sprint("p", next()), "name": "P", "stack": jsonOf(n)}
		}},
		{"project", "repo_url", memory.MaxRepoURL, "POST", "/v1/projects", 201, func(n int) any {
			return map[string]any{"slug": fmt.Sprint("p", next()), "name": "P", "repo_url": chars(n)}
		}},
		{"project", "metadata", memory.MaxMetadataSize, "POST", "/v1/projects", 201, func(n int) any {
			return map[string]any{"slug": fmt.Sprint("p", next()), "name": "P", "metadata": jsonOf(n)}
		}},

		{"project relationship", "relationship_type", memory.MaxRelationshipType, "POST", "/v1/projects/source/relationships", 201, func(n int) any {
			return map[string]any{"target_project": "target", "relationship_type": chars(n)}
		}},
		{"project relationship", "target_project", memory.MaxProjectSlug, "POST", "/v1/projects/source/relationships", 201, func(n int) any {
			return map[string]any{"target_project": strings.Repeat("t", n), "relationship_type": "depends_on"}
		}},
		{"project relationship", "metadata", memory.MaxMetadataSize, "POST", "/v1/projects/source/relationships", 201, func(n int) any {
			return map[string]any{"target_project": fmt.Sprint("t", next()), "relationship_type": "depends_on", "metadata": jsonOf(n)}
		}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s %s %d", c.method, c.object, c.field, c.limit), func(t *testing.T) {
			expect(t, e.do(c.method, c.path, rw, c.body(c.limit)), c.created)
			r := e.do(c.method, c.path, rw, c.body(c.limit+1))
			checkError(t, r, http.StatusBadRequest, "validation_error", c.field)
			if fe, _ := r.body["errors"].([]any); len(fe) != 1 || fe[0].(map[string]any)["field"] != c.field {
				t.Errorf("errors %v, want the field %s", r.body["errors"], c.field)
			}
		})
	}
}

// timedOutReads is a Service whose agent list ran past the statement
// timeout, as internal/sqlitedb reports it (unclassified: a wrapper's).
type timedOutReads struct{ httpapi.Service }

func (t timedOutReads) AccountFor(k keys.Key) memory.Account {
	return timedOutAccount{t.Service.AccountFor(k)}
}

type timedOutAccount struct{ memory.Account }

func (a timedOutAccount) Agents() memory.Agents { return timedOutAgents{a.Account.Agents()} }

type timedOutAgents struct{ memory.Agents }

func (timedOutAgents) List(context.Context, memory.PageParams) (memory.Page[memory.Agent], error) {
	return memory.Page[memory.Agent]{}, fmt.Errorf("store: list agents: %w (5s)", sqlitedb.ErrStatementTimeout)
}

// TestStatementTimeoutAnswers503: a read cut off by
// Options.StatementTimeout is the storage's failure, not the client's: 503
// api_error with Retry-After (internal/sqlitedb TestStatementTimeout
// checks that SQLite really interrupts such a read).
func TestStatementTimeoutAnswers503(t *testing.T) {
	e := newEnv(t, memoryrelay.Options{})
	h, err := httpapi.New(timedOutReads{e.relay}, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e.srv = srv
	r := e.do("GET", "/v1/agents", e.keys["read"], nil)
	checkError(t, r, http.StatusServiceUnavailable, "api_error", "The storage took too long to answer")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
