package storedjson

import (
	"errors"
	"strings"
	"testing"
)

func nest(n int) string { return strings.Repeat(`{"a":`, n-1) + `{}` + strings.Repeat("}", n-1) }

func TestExceeds(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want bool
	}{
		{`1`, 0, false},
		{`{}`, 0, true},
		{`{}`, 1, false},
		{`[[1],[2]]`, 2, false},
		{`[[[1]]]`, 2, true},
		{`{"a":"[[[[[[{{{{"}`, 1, false},       // brackets in strings do not count
		{`{"a\"[[[":"\\"}`, 1, false},          // nor after escaped quotes
		{`{"a":"\\\"[[[[","b":[1]}`, 2, false}, // an escaped backslash ends nothing
		{nest(MaxDepth), MaxDepth, false},
		{nest(MaxDepth + 1), MaxDepth, true},
	} {
		if got := Exceeds([]byte(c.in), c.max); got != c.want {
			t.Errorf("Exceeds(%.40q, %d) = %v, want %v", c.in, c.max, got, c.want)
		}
	}
}

func TestObject(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
		err  error
	}{
		{"", 0, "", nil},
		{" null ", 0, "", nil},
		{"{ }", 0, "", nil},
		{`{ "a" : [1, 2] }`, 0, `{"a":[1,2]}`, nil},
		{`[1]`, 0, "", ErrNotObject},
		{`{"a":`, 0, "", ErrNotObject},
		{`"x"`, 0, "", ErrNotObject},
		{`{"a":"bcd"}`, 10, "", ErrTooLarge},
		{`{"a":"bc"}`, 10, `{"a":"bc"}`, nil},
		{"{\"\xff\":1}", 0, "", ErrInvalidUTF8},
		{"{\"a\":[\"\xc3\"]}", 0, "", ErrInvalidUTF8},
		{nest(MaxDepth), 0, nest(MaxDepth), nil},
		{nest(MaxDepth + 1), 0, "", ErrTooDeep},
		{nest(MaxDepth + 1), 10, "", ErrTooLarge}, // size is checked first
	} {
		got, err := Object([]byte(c.in), c.max)
		if !errors.Is(err, c.err) || string(got) != c.want {
			t.Errorf("Object(%.40q, %d) = %q, %v; want %q, %v", c.in, c.max, got, err, c.want, c.err)
		}
	}
	if _, err := Object([]byte(`{"a":"bcd"}`), 10); err.Error() != "must be at most 10 bytes when serialized" {
		t.Errorf("size error text %q", err)
	}
}
