package valid

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Problems collects the problems of one input. The zero value is empty and
// ready; it is not safe for concurrent use.
type Problems struct {
	list []memory.Problem
}

// Add records a problem of the field; the message, made of format and args,
// names the field.
func (p *Problems) Add(field, format string, args ...any) {
	p.list = append(p.list, memory.Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Merge records the problems of err when it is a *memory.ValidationError
// and returns nil; any other error is returned as it is.
func (p *Problems) Merge(err error) error {
	var verr *memory.ValidationError
	if errors.As(err, &verr) {
		p.list = append(p.list, verr.Problems...)
		return nil
	}
	return err
}

// OK reports whether no problem was found so far.
func (p *Problems) OK() bool { return len(p.list) == 0 }

// Has reports whether a problem of the field was found.
func (p *Problems) Has(field string) bool {
	for _, x := range p.list {
		if x.Field == field {
			return true
		}
	}
	return false
}

// Err is nil when no problem was found, else a *memory.ValidationError
// holding every problem in the order found.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &memory.ValidationError{Problems: append([]memory.Problem(nil), p.list...)}
}

// Invalid is a *memory.ValidationError with one problem.
func Invalid(field, format string, args ...any) error {
	return memory.Invalid(field, fmt.Sprintf(format, args...))
}

// Blank reports whether s is empty or only whitespace.
func Blank(s string) bool { return strings.TrimFunc(s, unicode.IsSpace) == "" }

// Text requires s to be valid UTF-8 of 1–max characters, not blank.
func (p *Problems) Text(field, s string, max int) {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n == 0 || n > max || Blank(s) {
		p.Add(field, "%s must be 1-%d characters and not blank", field, max)
	}
}

// OptText requires an optional s, when not nil, to be valid UTF-8 of at
// most max characters; it may be empty.
func (p *Problems) OptText(field string, s *string, max int) {
	if s != nil && (!utf8.ValidString(*s) || utf8.RuneCountInString(*s) > max) {
		p.Add(field, "%s must be at most %d characters", field, max)
	}
}

// Ref requires an optional reference, when not nil, to be valid UTF-8 of
// 1–max characters (it may be blank).
func (p *Problems) Ref(field string, s *string, max int) {
	if s != nil {
		if n := utf8.RuneCountInString(*s); n == 0 || n > max || !utf8.ValidString(*s) {
			p.Add(field, "%s must be 1-%d characters", field, max)
		}
	}
}

// ProjectRef is Ref of a project slug reference (memory.MaxProjectSlug):
// one that is not a valid slug is stored as given and creates no project.
func (p *Problems) ProjectRef(field string, slug *string) { p.Ref(field, slug, memory.MaxProjectSlug) }

// Tags accepts at most memory.MaxTags tags of valid UTF-8, each at most
// memory.MaxTagChars characters.
func (p *Problems) Tags(tags []string) {
	if len(tags) > memory.MaxTags {
		p.Add("Tags", "Tags must have at most %d items", memory.MaxTags)
		return
	}
	for _, t := range tags {
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > memory.MaxTagChars {
			p.Add("Tags", "Tags must be strings of valid UTF-8, each at most %d characters", memory.MaxTagChars)
			return
		}
	}
}

// Metadata accepts nil or JSON null (none) or a JSON object of at most
// memory.MaxMetadataSize bytes, valid UTF-8 and at most
// memory.MaxJSONDepth levels deep, returned compacted. Every metadata of
// every object goes through it, on create and on update alike.
func (p *Problems) Metadata(raw json.RawMessage) []byte {
	return p.Stored("Metadata", raw, memory.MaxMetadataSize)
}

// Stored applies storedjson.Object, the one rule of stored JSON objects,
// to the field; maxBytes 0 means no size limit. It returns the object
// compacted, or nil.
func (p *Problems) Stored(field string, raw json.RawMessage, maxBytes int) []byte {
	b, err := storedjson.Object(raw, maxBytes)
	if err != nil {
		p.Add(field, "%s %v", field, err)
		return nil
	}
	return b
}

// Object is Stored with no size limit of its own, whose message for a
// value that is not an object says that null is allowed too.
func (p *Problems) Object(field string, raw json.RawMessage) []byte {
	b, err := storedjson.Object(raw, 0)
	switch {
	case errors.Is(err, storedjson.ErrNotObject):
		p.Add(field, "%s must be a JSON object or null", field)
		return nil
	case err != nil:
		p.Add(field, "%s %v", field, err)
		return nil
	}
	return b
}

// AgentRef reports whether s can be an agent id or a reference to an
// agent: 1–memory.MaxAgentRef bytes of UTF-8, not only whitespace.
func AgentRef(s string) bool {
	return len(s) <= memory.MaxAgentRef && strings.TrimSpace(s) != "" && utf8.ValidString(s)
}

// AgentID requires s to be an agent reference (AgentRef) in the AgentID
// field of an input.
func (p *Problems) AgentID(s string) {
	if !AgentRef(s) {
		p.Add("AgentID", "AgentID must be an agent id or name of 1-%d bytes", memory.MaxAgentRef)
	}
}

// Query requires a search query: not blank, valid UTF-8, at most
// memory.MaxContentChars characters.
func (p *Problems) Query(s string) {
	if Blank(s) {
		p.Add("Query", "Query is required")
		return
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > memory.MaxContentChars {
		p.Add("Query", "Query must be 1-%d characters", memory.MaxContentChars)
	}
}

// Limit applies the contract's limit rules to v: 0 means def, below 1 is
// a problem, above max is clamped.
func (p *Problems) Limit(v, def, max int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		p.Add("Limit", "Limit must be between 1 and %d", max)
		return def
	case v > max:
		return max
	}
	return v
}

// Unit requires v to be a number in [0,1].
func (p *Problems) Unit(field string, v float64) {
	if math.IsNaN(v) || v < 0 || v > 1 {
		p.Add(field, "%s must be between 0 and 1", field)
	}
}

// Threshold returns *t, which must be in [0,1], or def when t is nil.
func (p *Problems) Threshold(t *float64, def float64) float64 {
	if t == nil {
		return def
	}
	p.Unit("Threshold", *t)
	return *t
}

// OneOf reports whether s is one of set.
func OneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}
