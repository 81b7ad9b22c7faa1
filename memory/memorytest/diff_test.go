package memorytest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

func TestDiff(t *testing.T) {
	at := time.Date(2025, 3, 17, 9, 30, 0, 0, time.UTC)
	m := memory.Memory{ID: "x", Content: "c", CreatedAt: at, Metadata: json.RawMessage(`{"a": 1.50}`)}
	for _, tc := range []struct {
		name      string
		got, want any
		same      bool
	}{
		{"equal", m, m, true},
		{"the same instant in another location", memory.Memory{CreatedAt: at.In(time.FixedZone("X", 3600))}, memory.Memory{CreatedAt: at}, true},
		{"another instant", memory.Memory{CreatedAt: at.Add(time.Millisecond)}, memory.Memory{CreatedAt: at}, false},
		{"metadata white space", memory.Memory{Metadata: json.RawMessage(`{ "a" : 1.50 }`)}, memory.Memory{Metadata: json.RawMessage(`{"a":1.50}`)}, true},
		{"metadata number spelling", memory.Memory{Metadata: json.RawMessage(`{"a":1.5}`)}, memory.Memory{Metadata: json.RawMessage(`{"a":1.50}`)}, false},
		{"metadata key order", memory.Memory{Metadata: json.RawMessage(`{"b":1,"a":2}`)}, memory.Memory{Metadata: json.RawMessage(`{"a":2,"b":1}`)}, false},
		{"nil metadata is {}", memory.Memory{}, memory.Memory{Metadata: json.RawMessage(`{}`)}, true},
		{"null metadata is {}", memory.Memory{Metadata: json.RawMessage(`null`)}, memory.Memory{Metadata: json.RawMessage(`{}`)}, true},
		{"nil stack is null, not {}", memory.Project{}, memory.Project{Stack: json.RawMessage(`{}`)}, false},
		{"nil and empty slices", memory.Decision{}, memory.Decision{Tags: []string{}}, true},
		{"slices differ", memory.Decision{Tags: []string{"a"}}, memory.Decision{Tags: []string{"b"}}, false},
		{"nil and set pointers", memory.Memory{UserID: ptr("u")}, memory.Memory{}, false},
		{"pointees", memory.Memory{UserID: ptr("u")}, memory.Memory{UserID: ptr("u")}, true},
		{"errors by nil-ness", memory.BatchItemResult{Err: errors.New("a")}, memory.BatchItemResult{Err: errors.New("b")}, true},
		{"an error and none", memory.BatchItemResult{Err: errors.New("a")}, memory.BatchItemResult{}, false},
		{"floats", memory.Hit{Score: 0.5}, memory.Hit{Score: 0.5000001}, false},
	} {
		if d := diff(tc.got, tc.want); (d == "") != tc.same {
			t.Errorf("%s: diff = %q, want same %v", tc.name, d, tc.same)
		}
	}
}

func TestSameField(t *testing.T) {
	for _, tc := range []struct {
		got, want string
		same      bool
	}{
		{"Content", "Content", true},
		{"content", "Content", true},
		{"agent_id", "AgentID", true},
		{"Memories[3].Content", "Content", true},
		{"Tags[2]", "Tags", true},
		{"search_mode", "Mode", false},
		{"Title", "Rationale", false},
	} {
		if got := sameField(tc.got, tc.want); got != tc.same {
			t.Errorf("sameField(%q, %q) = %v, want %v", tc.got, tc.want, got, tc.same)
		}
	}
}

func TestNewestFirst(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := []memory.Memory{{ID: "a", CreatedAt: at}, {ID: "c", CreatedAt: at}, {ID: "b", CreatedAt: at.Add(time.Millisecond)}}
	wantEqual(t, "newestFirst", newestFirst(ms, memCreated, memID), []string{"b", "c", "a"})
}
