package memorytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

var (
	timeType  = reflect.TypeFor[time.Time]()
	rawType   = reflect.TypeFor[json.RawMessage]()
	errorType = reflect.TypeFor[error]()
)

// diff describes the first difference between got and want, or returns
// "". It compares what two implementations must agree on, and nothing of
// how they happen to represent it:
//
//   - instants with time.Time.Equal (their location and millisecond
//     rounding are checked by clock.instant);
//   - JSON (json.RawMessage, and []byte fields named Metadata) once
//     compacted, so key order and number spelling count but white space
//     does not; nil is JSON null, and for a field named Metadata nil and
//     null are the empty object {} (package memory's convention);
//   - nil and empty slices and maps alike;
//   - errors by whether they are nil;
//   - everything else with ==, field by field.
func diff(got, want any) string {
	return diffValue("", reflect.ValueOf(got), reflect.ValueOf(want), false)
}

func diffValue(path string, g, w reflect.Value, metadata bool) string {
	if !g.IsValid() || !w.IsValid() {
		if g.IsValid() != w.IsValid() {
			return fmt.Sprintf("%s: got %v, want %v", at(path), show(g), show(w))
		}
		return ""
	}
	if g.Type() != w.Type() {
		return fmt.Sprintf("%s: got a %v, want a %v", at(path), g.Type(), w.Type())
	}
	t := g.Type()
	switch {
	case t == timeType:
		gt, wt := g.Interface().(time.Time), w.Interface().(time.Time)
		if !gt.Equal(wt) {
			return fmt.Sprintf("%s: got %v, want %v", at(path), gt, wt)
		}
		return ""
	case t == rawType || metadata && t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		gj, wj := normJSON(g.Bytes(), metadata), normJSON(w.Bytes(), metadata)
		if gj != wj {
			return fmt.Sprintf("%s: got JSON %s, want %s", at(path), gj, wj)
		}
		return ""
	case t == errorType:
		if g.IsNil() != w.IsNil() {
			return fmt.Sprintf("%s: got error %v, want %v", at(path), show(g), show(w))
		}
		return ""
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if g.IsNil() || w.IsNil() {
			if g.IsNil() != w.IsNil() {
				return fmt.Sprintf("%s: got %v, want %v", at(path), show(g), show(w))
			}
			return ""
		}
		return diffValue(path, g.Elem(), w.Elem(), metadata)
	case reflect.Struct:
		for i := range t.NumField() {
			if !t.Field(i).IsExported() { // an opaque value, such as a keys.Token
				if !reflect.DeepEqual(g.Interface(), w.Interface()) {
					return fmt.Sprintf("%s: got %v, want %v", at(path), show(g), show(w))
				}
				return ""
			}
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if d := diffValue(path+"."+f.Name, g.Field(i), w.Field(i), f.Name == "Metadata"); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		if g.Len() != w.Len() {
			return fmt.Sprintf("%s: got %d items, want %d (got %v, want %v)", at(path), g.Len(), w.Len(), show(g), show(w))
		}
		for i := range g.Len() {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), g.Index(i), w.Index(i), false); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if g.Len() != w.Len() {
			return fmt.Sprintf("%s: got %d entries, want %d", at(path), g.Len(), w.Len())
		}
		for _, k := range w.MapKeys() {
			gv := g.MapIndex(k)
			if !gv.IsValid() {
				return fmt.Sprintf("%s: no entry %v", at(path), k)
			}
			if d := diffValue(fmt.Sprintf("%s[%v]", path, k), gv, w.MapIndex(k), false); d != "" {
				return d
			}
		}
		return ""
	}
	if g.Interface() != w.Interface() {
		return fmt.Sprintf("%s: got %v, want %v", at(path), show(g), show(w))
	}
	return ""
}

func at(path string) string {
	if path == "" {
		return "value"
	}
	return path[1:]
}

func show(v reflect.Value) string {
	if !v.IsValid() {
		return "nothing"
	}
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return "nil"
	}
	return fmt.Sprintf("%+v", v.Interface())
}

// normJSON is b compacted; nil is null, and for metadata null is {}.
func normJSON(b []byte, metadata bool) string {
	var buf bytes.Buffer
	if len(bytes.TrimSpace(b)) == 0 {
		buf.WriteString("null")
	} else if err := json.Compact(&buf, b); err != nil {
		return "invalid JSON " + string(b)
	}
	if metadata && buf.String() == "null" {
		return "{}"
	}
	return buf.String()
}

// sameJSON reports whether two JSON texts hold equal values, whatever
// their key order: for objects an implementation rewrote (a merge).
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(normBytes(a), &x) != nil || json.Unmarshal(normBytes(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func normBytes(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return []byte("{}")
	}
	return b
}
