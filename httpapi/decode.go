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

	"github.com/memoryrelay/memoryrelay"
)

func defaultLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func badField(field, msg string) error {
	return &memoryrelay.ValidationError{Field: field, Message: msg}
}

// decodeBody reads a JSON object into dst. An empty body reads as {};
// unknown fields are ignored; null fields stay absent (dst's fields are
// pointers or json.RawMessage); a value of the wrong type is a 400 naming
// the field; a body over the limit is a 400.
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
	if err := json.Unmarshal(data, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			field := jsonPath(te.Field)
			return badField(field, field+" must be "+jsonKind(te.Type.String()))
		}
		var fe *fieldErr
		if errors.As(err, &fe) {
			return badField(fe.field, fe.msg)
		}
		return badField("", "Request body is not valid JSON")
	}
	return nil
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

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "int":
		return "an integer"
	case strings.Contains(goType, "string"):
		return "a string"
	case strings.Contains(goType, "float"), strings.Contains(goType, "int"), strings.Contains(goType, "Number"):
		return "a number"
	case strings.Contains(goType, "bool"):
		return "a boolean"
	case strings.HasPrefix(goType, "map"), strings.Contains(goType, "struct"):
		return "an object"
	}
	return "of another type"
}

type fieldErr struct{ field, msg string }

func (e *fieldErr) Error() string { return e.msg }

// optInt is an optional JSON integer: a number with no fractional part.
type optInt struct {
	set bool
	v   int
}

func (o *optInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return &json.UnmarshalTypeError{Value: "number", Type: intType}
	}
	o.set, o.v = true, int(f)
	return nil
}

var intType = reflect.TypeFor[int]()

// queryInt reads an optional integer query parameter.
func queryInt(r *http.Request, name string) (optInt, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return optInt{}, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return optInt{}, badField(name, name+" must be an integer")
	}
	return optInt{set: true, v: v}, nil
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
	if o.set && o.v < 0 {
		return 0, badField("offset", "offset must be 0 or more")
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
