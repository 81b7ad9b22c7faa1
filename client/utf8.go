package client

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/memory"
)

// checkUTF8 refuses a request body holding a string (or raw JSON) that is
// not valid UTF-8, as the library does in process: encoding/json would
// otherwise send it with U+FFFD in place of the bad bytes, and the server
// would store other text than the caller gave. The problem names the Go
// field.
func checkUTF8(body any) error {
	if body == nil {
		return nil
	}
	if field, bad := badUTF8(reflect.ValueOf(body), ""); bad {
		f := goField(field)
		return memory.Invalid(f, f+" must be valid UTF-8")
	}
	return nil
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

// badUTF8 returns the wire path of the first invalid string in v.
func badUTF8(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return badUTF8(v.Elem(), path)
	case reflect.String:
		return path, !utf8.ValidString(v.String())
	case reflect.Slice:
		if v.Type() == rawMessage {
			return path, !utf8.Valid(v.Bytes())
		}
		for i := range v.Len() {
			if p, bad := badUTF8(v.Index(i), path+"["+strconv.Itoa(i)+"]"); bad {
				return p, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if k := it.Key(); k.Kind() == reflect.String && !utf8.ValidString(k.String()) {
				return path, true
			}
			if p, bad := badUTF8(it.Value(), path); bad {
				return p, true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p := path
			if !f.Anonymous {
				if name == "" {
					name = f.Name
				}
				if p != "" {
					p += "."
				}
				p += name
			}
			if p, bad := badUTF8(v.Field(i), p); bad {
				return p, true
			}
		}
	}
	return "", false
}
