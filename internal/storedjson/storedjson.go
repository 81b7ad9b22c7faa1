package storedjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects accepted in a
// stored JSON value. The outermost object is level 1, so {"a":{"b":[1]}}
// is 3 levels deep.
//
// 32 is well inside what every official client parses (Python's json
// module fails near 1,000 levels, and then on every list response that
// holds the value) and inside SQLite's JSON_MAX_DEPTH (1,000), with room
// for the levels a response adds around a stored value.
const MaxDepth = 32

// MaxSize is the size limit of a stored metadata object once compacted
// (API.md §1.6 and §10.5: metadata ≤ 10 KiB on every object).
const MaxSize = 10 << 10

// Errors of [Object]. Their text completes a sentence that starts with the
// field's name: "metadata must be a JSON object".
var (
	ErrNotObject   = errors.New("must be a JSON object")
	ErrTooLarge    = errors.New("too large when serialized")
	ErrInvalidUTF8 = errors.New("must be valid UTF-8")
	ErrTooDeep     = fmt.Errorf("must be nested at most %d levels deep", MaxDepth)
)

// Object checks raw as a JSON object to store and returns it compacted;
// nil for an absent value (empty or JSON null) and for {}. The checks, in
// order: a JSON object ([ErrNotObject]); at most maxBytes bytes compacted,
// when maxBytes > 0 (a [*SizeError], which is [ErrTooLarge]); valid UTF-8 throughout, keys included ([ErrInvalidUTF8]: Go's
// decoder would let it through and the stored value would make every
// response that returns it invalid JSON); at most [MaxDepth] levels deep
// ([ErrTooDeep]).
func Object(raw []byte, maxBytes int) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, ErrNotObject
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, ErrNotObject
	}
	if maxBytes > 0 && buf.Len() > maxBytes {
		return nil, &SizeError{Max: maxBytes}
	}
	if !utf8.Valid(buf.Bytes()) {
		return nil, ErrInvalidUTF8
	}
	if Exceeds(buf.Bytes(), MaxDepth) {
		return nil, ErrTooDeep
	}
	if buf.String() == "{}" {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// SizeError is the error of [Object] for an object over its size limit;
// errors.Is(err, ErrTooLarge) holds for it.
type SizeError struct{ Max int } // bytes

func (e *SizeError) Error() string {
	return fmt.Sprintf("must be at most %d bytes when serialized", e.Max)
}

// Is makes a *SizeError match [ErrTooLarge].
func (e *SizeError) Is(target error) bool { return target == ErrTooLarge }

// Exceeds reports whether the JSON text b nests arrays and objects more
// than max levels deep. It scans without recursion and stops at the first
// byte past the limit; it does not otherwise check that b is valid JSON
// (brackets inside strings are skipped, everything else is counted).
func Exceeds(b []byte, max int) bool {
	depth, inString, escaped := 0, false, false
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
			if depth > max {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}
