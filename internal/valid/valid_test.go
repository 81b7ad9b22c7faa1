package valid_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// fields returns the fields of err's problems, in order.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var verr *memory.ValidationError
	if !errors.As(err, &verr) || !errors.Is(err, memory.ErrInvalid) {
		t.Fatalf("%v is no *memory.ValidationError", err)
	}
	var out []string
	for _, p := range verr.Problems {
		out = append(out, p.Field)
	}
	return out
}

// TestProblemsCollectsAll: every rule broken is reported, one problem
// per field, in the order checked; the error's text is the first one's
// message when there is one problem, and nil when there is none.
func TestProblemsCollectsAll(t *testing.T) {
	var p valid.Problems
	if p.Err() != nil || !p.OK() {
		t.Fatal("an empty Problems is not OK")
	}
	p.Text("Title", "", 10)
	p.OptText("Alternatives", ptr(strings.Repeat("x", 11)), 10)
	p.Tags(make([]string, memory.MaxTags+1))
	p.Metadata([]byte(`[1]`))
	p.AgentID(" ")
	p.Query("")
	if got := p.Limit(-1, 10, 50); got != 10 {
		t.Errorf("Limit(-1) = %d, want the default", got)
	}
	p.Threshold(ptr(math.NaN()), 0.3)
	err := p.Err()
	want := []string{"Title", "Alternatives", "Tags", "Metadata", "AgentID", "Query", "Limit", "Threshold"}
	if got := fields(t, err); !slices.Equal(got, want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
	var verr *memory.ValidationError
	errors.As(err, &verr)
	if verr.Field() != "Title" || !strings.HasPrefix(err.Error(), "Title must be 1-10 characters and not blank; ") {
		t.Errorf("first problem %q, error %q", verr.Field(), err)
	}
	if !p.Has("Tags") || p.Has("Name") {
		t.Error("Has")
	}
}

// TestRulesAtTheirLimits: each rule accepts its limit and refuses one
// past it.
func TestRulesAtTheirLimits(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   func(p *valid.Problems)
		bad  func(p *valid.Problems)
	}{
		{"Text", func(p *valid.Problems) { p.Text("F", strings.Repeat("é", 5), 5) }, func(p *valid.Problems) { p.Text("F", strings.Repeat("é", 6), 5) }},
		{"Text blank", func(p *valid.Problems) { p.Text("F", " a ", 5) }, func(p *valid.Problems) { p.Text("F", " \t\n", 5) }},
		{"Text UTF-8", func(p *valid.Problems) { p.Text("F", "ok", 5) }, func(p *valid.Problems) { p.Text("F", "\xff", 5) }},
		{"OptText", func(p *valid.Problems) { p.OptText("F", ptr(""), 0) }, func(p *valid.Problems) { p.OptText("F", ptr("x"), 0) }},
		{"Ref", func(p *valid.Problems) { p.Ref("F", ptr(strings.Repeat("x", 3)), 3) }, func(p *valid.Problems) { p.Ref("F", ptr(""), 3) }},
		{"ProjectRef", func(p *valid.Problems) { p.ProjectRef("F", ptr(strings.Repeat("x", memory.MaxProjectSlug))) },
			func(p *valid.Problems) { p.ProjectRef("F", ptr(strings.Repeat("x", memory.MaxProjectSlug+1))) }},
		{"Tags count", func(p *valid.Problems) { p.Tags(make([]string, memory.MaxTags)) }, func(p *valid.Problems) { p.Tags(make([]string, memory.MaxTags+1)) }},
		{"Tags length", func(p *valid.Problems) { p.Tags([]string{strings.Repeat("t", memory.MaxTagChars)}) },
			func(p *valid.Problems) { p.Tags([]string{strings.Repeat("t", memory.MaxTagChars+1)}) }},
		{"AgentID", func(p *valid.Problems) { p.AgentID(strings.Repeat("a", memory.MaxAgentRef)) },
			func(p *valid.Problems) { p.AgentID(strings.Repeat("a", memory.MaxAgentRef+1)) }},
		{"Query", func(p *valid.Problems) { p.Query(strings.Repeat("q", memory.MaxContentChars)) },
			func(p *valid.Problems) { p.Query(strings.Repeat("q", memory.MaxContentChars+1)) }},
		{"Unit", func(p *valid.Problems) { p.Unit("F", 1) }, func(p *valid.Problems) { p.Unit("F", 1.0000001) }},
		{"Metadata", func(p *valid.Problems) {
			p.Metadata([]byte(`{"a":"` + strings.Repeat("x", memory.MaxMetadataSize-8) + `"}`))
		},
			func(p *valid.Problems) {
				p.Metadata([]byte(`{"a":"` + strings.Repeat("x", memory.MaxMetadataSize-7) + `"}`))
			}},
		{"Object", func(p *valid.Problems) { p.Object("Stack", []byte(`null`)) }, func(p *valid.Problems) { p.Object("Stack", []byte(`"x"`)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ok, bad valid.Problems
			c.ok(&ok)
			c.bad(&bad)
			if err := ok.Err(); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			if got := fields(t, bad.Err()); len(got) != 1 {
				t.Errorf("past the limit: %q", got)
			}
		})
	}
}

// TestLimit: 0 is the default, above max is clamped, below 1 a problem.
func TestLimit(t *testing.T) {
	for _, c := range []struct{ in, want int }{{0, 20}, {1, 1}, {100, 100}, {101, 100}} {
		var p valid.Problems
		if got := p.Limit(c.in, 20, 100); got != c.want || !p.OK() {
			t.Errorf("Limit(%d) = %d (%v), want %d", c.in, got, p.Err(), c.want)
		}
	}
}

// TestMerge: the problems of a validation error join the list; another
// error is handed back.
func TestMerge(t *testing.T) {
	var p valid.Problems
	if err := p.Merge(valid.Invalid("Cursor", "Cursor is not valid")); err != nil {
		t.Fatal(err)
	}
	other := errors.New("disk")
	if err := p.Merge(other); err != other {
		t.Fatalf("Merge of another error: %v", err)
	}
	if got := fields(t, p.Err()); !slices.Equal(got, []string{"Cursor"}) {
		t.Errorf("%q", got)
	}
}

func ptr[T any](v T) *T { return &v }
