package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/memory"
)

func defaultLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// MaxRequestDepth is the deepest nesting of arrays and objects accepted
// in a request body (the body itself is level 1); a deeper body is a 400
// before it is decoded, so no parser recursion, ours or SQLite's, is
// unbounded. It leaves room above memory.MaxJSONDepth (stored JSON)
// for the levels a request puts around a stored value (a batch item's
// metadata is 3 levels down).
const MaxRequestDepth = 64

// decodeBody reads a JSON object into dst. An empty body reads as {};
// unknown fields are ignored; null fields stay absent (dst's fields are
// pointers or json.RawMessage); a value of the wrong type is a 400 naming
// the field and the type it must have, a number out of its type's range a
// 400 naming the range; a body over the size limit or nested deeper than
// MaxRequestDepth is a 400.
func decodeBody(r *http.Request, dst any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return badField("", "Request body could not be read")
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	if data[0] != '{' {
		if json.Valid(data) {
			return badField("", "Request body must be a JSON object")
		}
		return badField("", "Request body is not valid JSON")
	}
	if storedjson.Exceeds(data, MaxRequestDepth) {
		return badField("", "Request body must be nested at most "+strconv.Itoa(MaxRequestDepth)+" levels deep")
	}
	if err := json.Unmarshal(data, dst); err != nil {
		if err := typeError(err, dst); err != nil {
			return err
		}
		return badField("", "Request body is not valid JSON")
	}
	return nil
}

// typeError turns what json.Unmarshal into dst reported about one field
// into the client's 400, or returns nil when err is about no field.
func typeError(err error, dst any) error {
	var fe *fieldErr
	if errors.As(err, &fe) {
		return badField(fe.field, fe.msg)
	}
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return nil
	}
	field := jsonPath(te.Field)
	want := declaredType(reflect.TypeOf(dst), te.Field)
	if want == nil {
		want = te.Type
	}
	if lit, ok := strings.CutPrefix(te.Value, "number "); ok {
		// A number that the field's Go type could not hold.
		if msg := numberProblem(lit, te.Type); msg != "" {
			return badField(field, field+" "+msg)
		}
	}
	return badField(field, field+" must be "+jsonKind(want))
}

// numberProblem says what is wrong with the JSON number lit for a field of
// Go type t: not an integer, or out of t's range (with the range); "" if
// t is not a number type.
func numberProblem(lit string, t reflect.Type) string {
	f, err := strconv.ParseFloat(lit, 64)
	integral := err == nil && f == math.Trunc(f) || errors.Is(err, strconv.ErrRange)
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !integral {
			return "must be an integer"
		}
		bits := t.Bits()
		lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
		if err == nil && f >= float64(lo) && f < -float64(lo) {
			return "must be an integer written without a fraction or an exponent"
		}
		return fmt.Sprintf("is out of range: it must be an integer between %d and %d", lo, hi)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !integral {
			return "must be an integer"
		}
		return fmt.Sprintf("is out of range: it must be an integer between 0 and %d", uint64(1)<<t.Bits()-1)
	case reflect.Float32, reflect.Float64:
		max := math.MaxFloat64
		if t.Kind() == reflect.Float32 {
			max = math.MaxFloat32
		}
		return fmt.Sprintf("is out of range: it must be a number between %g and %g", -max, max)
	}
	return ""
}

// declaredType is the Go type of the field at the decoder's path in the
// struct type t (pointers followed, embedded structs by their Go name),
// or nil. The decoder reports the type it failed on, which for an array
// element is the element's; the declared type says what the client must
// send.
func declaredType(t reflect.Type, path string) reflect.Type {
	for _, seg := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		var found reflect.Type
		for i := 0; i < t.NumField() && found == nil; i++ {
			sf := t.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == seg || (name == "" && sf.Name == seg) {
				found = sf.Type
			}
		}
		if found == nil {
			return nil
		}
		t = found
	}
	return t
}

// jsonPath turns the decoder's field path into the client's: segments
// that name embedded Go structs (mixed case; our JSON names are snake_case)
// are dropped.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	out := parts[:0]
	for _, p := range parts {
		if strings.ToLower(p) == p {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return field
	}
	return strings.Join(out, ".")
}

// jsonKind names the JSON type a value of Go type t is decoded from: "an
// object", "an array of strings", "an integer"...
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == optIntType {
		return "an integer"
	}
	if t == optLimitType {
		return "a number"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // json.RawMessage: any JSON
			return "JSON"
		}
		if kind := jsonKind(t.Elem()); strings.HasPrefix(kind, "a") && !strings.HasPrefix(kind, "an array") {
			// "a string" → "strings", "an object" → "objects"
			_, noun, _ := strings.Cut(kind, " ")
			return "an array of " + noun + "s"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "of another type"
}

type fieldErr struct{ field, msg string }

func (e *fieldErr) Error() string { return e.msg }

// maxOptInt bounds the magnitude an optInt holds.
const maxOptInt = 1_000_000_000

// optInt is an optional JSON integer: a number with no fractional part
// (1e3 included). An integer beyond ±maxOptInt, however large, is held as
// ±(maxOptInt+1): every field of this type has a range well inside that,
// so its own check reports the value as out of that range, and a limit is
// clamped to its maximum as the contract (§1.6) asks.
type optInt struct {
	set bool
	v   int
}

func (o *optInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if errors.Is(err, strconv.ErrRange) {
		err = nil // ±Inf: held saturated below
	}
	mantissa, _, _ := strings.Cut(strings.ToLower(string(b)), "e")
	if err != nil || f != math.Trunc(f) || f == 0 && strings.ContainsAny(mantissa, "123456789") {
		// The last: a fraction so small it reads as 0 (1e-400).
		return &json.UnmarshalTypeError{Value: "number", Type: optIntType}
	}
	o.set, o.v = true, int(max(-maxOptInt-1, min(f, maxOptInt+1)))
	return nil
}

var optIntType = reflect.TypeFor[optInt]()

// queryInt reads an optional integer query parameter; one beyond
// ±maxOptInt is held as in optInt.
func queryInt(r *http.Request, name string) (optInt, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return optInt{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		err = nil // v is ±MaxInt64
	}
	if err != nil {
		return optInt{}, badField(name, name+" must be an integer")
	}
	return optInt{set: true, v: int(max(-maxOptInt-1, min(v, maxOptInt+1)))}, nil
}

// limitParam applies the contract's rule to an explicit limit: below 1 is
// an error (clamping above the maximum is the core's job).
func limitParam(o optInt, max int) (int, error) {
	if !o.set {
		return 0, nil
	}
	if o.v < 1 {
		return 0, badField("limit", "limit must be an integer between 1 and "+strconv.Itoa(max))
	}
	return o.v, nil
}

func offsetParam(o optInt) (int, error) {
	if o.set && (o.v < 0 || o.v > memory.MaxOffset) {
		return 0, badField("offset", "offset must be between 0 and "+strconv.Itoa(memory.MaxOffset))
	}
	return o.v, nil
}

// queryString returns a pointer to a non-empty query parameter, else nil.
func queryString(r *http.Request, name string) *string {
	if v := r.URL.Query().Get(name); v != "" {
		return &v
	}
	return nil
}

// writeJSON encodes v before writing anything, so that a value that cannot
// be encoded becomes a 500 with the contract's body, not a 2xx with an
// empty one. The failure is logged when w is the handler's own writer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		if rw, ok := w.(*responseWriter); ok {
			rw.encodeFailed(status, err)
		}
		status = http.StatusInternalServerError
		buf.Reset()
		fmt.Fprintf(&buf, `{"type":%q,"message":"Internal server error","detail":"Internal server error","error":"Internal server error","code":500,"request_id":%q}`+"\n",
			typeAPI, w.Header().Get("X-Request-ID"))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// responseWriter is the writer ServeHTTP hands to the routes: it lets
// writeJSON, which sees only the writer, log a response that could not be
// encoded with the request it answers.
type responseWriter struct {
	http.ResponseWriter
	log *slog.Logger
	r   *http.Request // the routed request: its Pattern is the route
}

// Unwrap gives http.ResponseController the underlying writer.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// encodeFailed logs that the answer to rw.r, meant to have the status,
// could not be encoded. The route is the pattern, never the path, and the
// error is redacted as every internal error: no key reaches the log.
func (rw *responseWriter) encodeFailed(status int, err error) {
	rw.log.Error("httpapi: response could not be encoded",
		"request_id", rw.ResponseWriter.Header().Get("X-Request-ID"), "method", rw.r.Method, "route", rw.r.Pattern,
		"status", status, "err", redactKeys(err))
}
