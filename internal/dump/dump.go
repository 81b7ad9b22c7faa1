package dump

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Format and Version name the format in every header. A reader accepts
// only its own version.
const (
	Format  = "memoryrelay-export"
	Version = 1
)

// MaxLine is the longest line a Reader accepts, in bytes (newline
// excluded). The largest record the library can store is well under it:
// a decision of 50,000-character title, rationale and alternatives, all
// escaped, with 10 KiB of metadata and a vector of a few thousand
// dimensions.
const MaxLine = 16 << 20

// ErrFormat is matched by every error a Reader returns for a malformed
// export.
var ErrFormat = errors.New("dump: malformed export")

// ErrExists is matched by the error of an import that met a row already
// in the database (the export was imported before).
var ErrExists = errors.New("already in the database")

// Kind is the kind of a field's values.
type Kind uint8

// The kinds of values, and their Go types in a Record: Text string, Int
// int64, Real float64, Time int64 (epoch milliseconds), JSON
// json.RawMessage, Vector []byte (float32 little-endian). Any value may be
// nil (null).
const (
	Text Kind = iota + 1
	Int
	Real
	Time
	JSON
	Vector
)

// Field is one field of a record type.
type Field struct {
	Name string
	Kind Kind
}

// Type is a record type: its name and its fields, in the order they are
// written.
type Type struct {
	Name   string
	Fields []Field
}

// Schema is the record types of an export, in the order their records
// come. No field may be named "type", the key of the record's type.
type Schema []Type

func (s Schema) lookup(name string) (*Type, bool) {
	for i := range s {
		if s[i].Name == name {
			return &s[i], true
		}
	}
	return nil, false
}

// Record is one row: its type's name and one value per field of the type,
// in order.
type Record struct {
	Type   string
	Values []any
}

// Header is the first line of an export.
type Header struct {
	Format  string `json:"format"`  // Format
	Version int    `json:"version"` // Version
	// Embedder is the embedder the vectors were made with, as the
	// database records it ("memoryrelay-hash-v1-384/384").
	Embedder string `json:"embedder"`
	// Accounts are the ids of the accounts exported, in order.
	Accounts []string `json:"accounts"`
	// Counts is the number of records of each type that follow.
	Counts map[string]int64 `json:"counts"`
}

// Writer writes an export.
type Writer struct {
	w      *bufio.Writer
	schema Schema
	buf    bytes.Buffer
}

// NewWriter returns a Writer of records of schema to w. Call Flush at the
// end.
func NewWriter(w io.Writer, schema Schema) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 1<<16), schema: schema}
}

// WriteHeader writes h, with Format and Version set, as the first line.
func (w *Writer) WriteHeader(h Header) error {
	h.Format, h.Version = Format, Version
	if h.Accounts == nil {
		h.Accounts = []string{}
	}
	if h.Counts == nil {
		h.Counts = map[string]int64{}
	}
	b, err := json.Marshal(h) // map keys sorted: a fixed line
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.w.Write(b)
	return err
}

// Write writes one record.
func (w *Writer) Write(r Record) error {
	t, ok := w.schema.lookup(r.Type)
	if !ok {
		return fmt.Errorf("dump: no record type %q", r.Type)
	}
	if len(r.Values) != len(t.Fields) {
		return fmt.Errorf("dump: %s: %d values for %d fields", r.Type, len(r.Values), len(t.Fields))
	}
	b := &w.buf
	b.Reset()
	b.WriteString(`{"type":`)
	writeString(b, r.Type)
	for i, f := range t.Fields {
		b.WriteByte(',')
		writeString(b, f.Name)
		b.WriteByte(':')
		if err := encodeValue(b, f.Kind, r.Values[i]); err != nil {
			return fmt.Errorf("dump: %s.%s: %w", r.Type, f.Name, err)
		}
	}
	b.WriteString("}\n")
	_, err := w.w.Write(b.Bytes())
	return err
}

// Flush writes what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }

func writeString(b *bytes.Buffer, s string) {
	out, _ := json.Marshal(s) // valid UTF-8 here: cannot fail, and is exact
	b.Write(out)
}

func encodeValue(b *bytes.Buffer, k Kind, v any) error {
	if v == nil {
		b.WriteString("null")
		return nil
	}
	switch k {
	case Text:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("a text value is %T", v)
		}
		if !utf8.ValidString(s) {
			b.WriteString(`{"base64":"`)
			b.WriteString(base64.StdEncoding.EncodeToString([]byte(s)))
			b.WriteString(`"}`)
			return nil
		}
		writeString(b, s)
	case Int:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("an integer value is %T", v)
		}
		b.WriteString(strconv.FormatInt(n, 10))
	case Real:
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("a number value is %T", v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%v cannot be written in JSON", f)
		}
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case Time:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("a time value is %T", v)
		}
		b.WriteByte('"')
		b.WriteString(FormatTime(n))
		b.WriteByte('"')
	case JSON:
		raw, ok := v.(json.RawMessage)
		if !ok {
			return fmt.Errorf("a JSON value is %T", v)
		}
		if err := json.Compact(b, raw); err != nil {
			return fmt.Errorf("the stored value is not JSON: %w", err)
		}
	case Vector:
		blob, ok := v.([]byte)
		if !ok {
			return fmt.Errorf("a vector value is %T", v)
		}
		if len(blob)%4 != 0 {
			return fmt.Errorf("a vector of %d bytes is not float32s", len(blob))
		}
		b.WriteByte('"')
		b.WriteString(base64.StdEncoding.EncodeToString(blob))
		b.WriteByte('"')
	default:
		return fmt.Errorf("unknown kind %d", k)
	}
	return nil
}

// timeLayout is RFC 3339 with exactly three decimals.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// FormatTime renders epoch milliseconds as a Time field does.
func FormatTime(msec int64) string { return time.UnixMilli(msec).UTC().Format(timeLayout) }

// Reader reads an export.
type Reader struct {
	r      *bufio.Reader
	schema Schema
	line   int
	header Header
	max    int
	typ    int // index in schema of the last type read, for order
}

// NewReader reads the header of the export on r, whose records must be of
// schema's types, in its order.
func NewReader(r io.Reader, schema Schema) (*Reader, error) {
	return newReader(r, schema, MaxLine)
}

func newReader(r io.Reader, schema Schema, max int) (*Reader, error) {
	rd := &Reader{r: bufio.NewReaderSize(r, 1<<16), schema: schema, max: max}
	line, err := rd.readLine()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: empty: no header line", ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rd.header); err != nil {
		return nil, rd.errorf("the header is not the header of an export: %v", err)
	}
	if rd.header.Format != Format {
		return nil, rd.errorf("not a memoryrelay export (format %q)", rd.header.Format)
	}
	if rd.header.Version != Version {
		return nil, rd.errorf("an export of version %d; this program reads version %d", rd.header.Version, Version)
	}
	return rd, nil
}

// Header is the export's header.
func (r *Reader) Header() Header { return r.header }

// Line is the number of the line last read (the header is line 1).
func (r *Reader) Line() int { return r.line }

func (r *Reader) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrFormat, r.line, fmt.Sprintf(format, args...))
}

// readLine reads the next line without its newline; io.EOF at the end.
func (r *Reader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.r.ReadSlice('\n')
		line = append(line, chunk...)
		n := len(line)
		if err == nil {
			n-- // the newline
		}
		if n > r.max {
			r.line++
			return nil, r.errorf("longer than %d bytes", r.max)
		}
		switch {
		case err == nil:
			r.line++
			return line[:n], nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF) && len(line) > 0:
			r.line++
			return nil, r.errorf("the last line has no newline (is the export cut short?)")
		default:
			return nil, err
		}
	}
}

// Next reads the next record; io.EOF after the last.
func (r *Reader) Next() (Record, error) {
	line, err := r.readLine()
	if err != nil {
		return Record{}, err
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return Record{}, r.errorf("not a JSON object: %v", err)
	}
	if dec.More() {
		return Record{}, r.errorf("more than one JSON value")
	}
	var name string
	if err := json.Unmarshal(obj["type"], &name); err != nil || name == "" {
		return Record{}, r.errorf(`no "type"`)
	}
	idx := -1
	for i := range r.schema {
		if r.schema[i].Name == name {
			idx = i
		}
	}
	if idx < 0 {
		return Record{}, r.errorf("unknown record type %q", name)
	}
	if idx < r.typ {
		return Record{}, r.errorf("a %s record after the %s records: types come in the order %s", name, r.schema[r.typ].Name, r.order())
	}
	r.typ = idx
	t := &r.schema[idx]
	for k := range obj {
		if k != "type" && !t.has(k) {
			return Record{}, r.errorf("%s has no field %q", name, k)
		}
	}
	rec := Record{Type: name, Values: make([]any, len(t.Fields))}
	for i, f := range t.Fields {
		raw, ok := obj[f.Name]
		if !ok {
			continue // null
		}
		v, err := decodeValue(f.Kind, raw)
		if err != nil {
			return Record{}, r.errorf("%s.%s: %v", name, f.Name, err)
		}
		rec.Values[i] = v
	}
	return rec, nil
}

func (r *Reader) order() string {
	s := ""
	for i, t := range r.schema {
		if i > 0 {
			s += ", "
		}
		s += t.Name
	}
	return s
}

func (t *Type) has(name string) bool {
	for _, f := range t.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func decodeValue(k Kind, raw json.RawMessage) (any, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	switch k {
	case Text:
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, nil
		}
		var wrapped struct {
			Base64 *string `json:"base64"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&wrapped); err != nil || wrapped.Base64 == nil {
			return nil, errors.New(`a text is a JSON string or {"base64": "…"}`)
		}
		b, err := base64.StdEncoding.DecodeString(*wrapped.Base64)
		if err != nil {
			return nil, fmt.Errorf("bad base64: %v", err)
		}
		return string(b), nil
	case Int:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not an integer", raw)
		}
		return n, nil
	case Real:
		var num json.Number
		if err := json.Unmarshal(raw, &num); err != nil {
			return nil, fmt.Errorf("%s is not a number", raw)
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not a number", raw)
		}
		return f, nil
	case Time:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("a time is an RFC 3339 string")
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an RFC 3339 time", s)
		}
		if t.Nanosecond()%int(time.Millisecond) != 0 {
			return nil, fmt.Errorf("%q is finer than milliseconds", s)
		}
		return t.UnixMilli(), nil
	case JSON:
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		return json.RawMessage(b.Bytes()), nil
	case Vector:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("a vector is a base64 string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("bad base64: %v", err)
		}
		if len(b)%4 != 0 {
			return nil, fmt.Errorf("%d bytes are not float32s", len(b))
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown kind %d", k)
}
