// Package jsonobj checks the JSON objects memoryrelay stores verbatim (the
// metadata of memories, keys and the other objects): one rule, one set of
// limits, whichever package stores the object.
package jsonobj

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Limits on a stored JSON object.
const (
	// MaxSize is the most bytes an object may take once compacted
	// (API.md §1.6 and §10.5: metadata ≤ 10 KiB on every object).
	MaxSize = 10 << 10
	// MaxDepth is the deepest nesting of arrays and objects accepted: what
	// SQLite's JSON functions parse (JSON_MAX_DEPTH); they fail on
	// anything deeper.
	MaxDepth = 1000
)

// Error says why a value is not an acceptable object. Rule completes a
// sentence that starts with the field's name, as in "metadata must be a
// JSON object".
type Error struct{ Rule string }

func (e *Error) Error() string { return "jsonobj: value " + e.Rule }

// Object checks raw and returns it compacted. Nothing (empty or only white
// space), null and {} return nil: no object. Anything else must be a JSON
// object of valid UTF-8, at most maxSize bytes once compacted and nested at
// most MaxDepth levels deep; otherwise the error is an *Error.
func Object(raw []byte, maxSize int) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' || !json.Valid(raw) {
		return nil, &Error{Rule: "must be a JSON object"}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, &Error{Rule: "must be a JSON object"}
	}
	if buf.Len() > maxSize {
		return nil, &Error{Rule: fmt.Sprintf("must be at most %d bytes when serialized", maxSize)}
	}
	// Go's decoder lets both through; stored, the first breaks every JSON
	// response that returns the object and the second every SQLite JSON
	// function over it.
	if !utf8.Valid(buf.Bytes()) {
		return nil, &Error{Rule: "must be valid UTF-8"}
	}
	if Depth(buf.Bytes()) > MaxDepth {
		return nil, &Error{Rule: fmt.Sprintf("must be nested at most %d levels deep", MaxDepth)}
	}
	if buf.String() == "{}" {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// Depth returns the deepest nesting of arrays and objects in the valid
// JSON b.
func Depth(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = c == '\\'
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
