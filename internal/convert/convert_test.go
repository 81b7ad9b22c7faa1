package convert_test

import (
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/store"
)

// TestConvert: lists are never nil, tags never nil, and nil JSON stays nil
// (memory: nil means {}).
func TestConvert(t *testing.T) {
	if got := convert.All([]store.Decision(nil), convert.Decision); got == nil || len(got) != 0 {
		t.Errorf("All(nil) = %#v", got)
	}
	d := convert.Decision(store.Decision{ID: "d", Title: "t"})
	if d.Tags == nil || d.Metadata != nil || d.ID != "d" {
		t.Errorf("decision: %+v", d)
	}
	if p := convert.Pattern(store.Pattern{Metadata: []byte(`{"a":1}`)}); p.Tags == nil || string(p.Metadata) != `{"a":1}` {
		t.Errorf("pattern: %+v", p)
	}
	m := convert.Memory(store.Memory{ID: "m", Seq: 42, AccountID: "acct", Entities: []store.EntityRef{{Type: "person", Value: "Ada"}}})
	if m.ID != "m" || len(m.Entities) != 1 || m.Entities[0].Value != "Ada" {
		t.Errorf("memory: %+v", m)
	}
}
