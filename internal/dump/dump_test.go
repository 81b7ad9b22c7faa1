package dump

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

var testSchema = Schema{
	{Name: "account", Fields: []Field{{"id", Text}, {"created_at", Time}}},
	{Name: "memory", Fields: []Field{{"id", Text}, {"content", Text}, {"n", Int}, {"importance", Real}, {"metadata", JSON}, {"vector", Vector}, {"archived_at", Time}}},
}

func float32s(fs ...float32) []byte {
	b := make([]byte, 0, 4*len(fs))
	for _, f := range fs {
		u := math.Float32bits(f)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

// TestRoundTrip: every kind reads back as written, bit for bit, and
// writing what was read gives the same bytes.
func TestRoundTrip(t *testing.T) {
	recs := []Record{
		{Type: "account", Values: []any{"a1", int64(1764652107123)}},
		{Type: "memory", Values: []any{"m1", "plain \"quoted\" <html> & ünïcødé 😀\n\ttabs", int64(-42), 0.1, json.RawMessage(`{"a":[1,2,{"b":null}],"z":"é"}`),
			float32s(0.5, -0, float32(math.Inf(1)), math.Float32frombits(0x7fc00001), math.SmallestNonzeroFloat32), nil}},
		{Type: "memory", Values: []any{"m2", "bad \xff\xfe utf-8", int64(math.MaxInt64), 1e300, json.RawMessage(`{ "spaced" : true }`), []byte{}, int64(0)}},
		{Type: "memory", Values: []any{"m3", nil, nil, nil, nil, nil, nil}},
	}
	h := Header{Embedder: "memoryrelay-hash-v1-384/384", Accounts: []string{"a1"}, Counts: map[string]int64{"memory": 3, "account": 1}}
	first := write(t, h, recs)
	r, err := NewReader(bytes.NewReader(first), testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header(); got.Format != Format || got.Version != Version || got.Embedder != h.Embedder || got.Counts["memory"] != 3 {
		t.Fatalf("header %+v", got)
	}
	var got []Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d records read, %d written", len(got), len(recs))
	}
	for i := range recs {
		for j, want := range recs[i].Values {
			g := got[i].Values[j]
			switch w := want.(type) {
			case []byte:
				if !bytes.Equal(g.([]byte), w) {
					t.Errorf("record %d field %d: %x, want %x", i, j, g, w)
				}
			case json.RawMessage:
				var c bytes.Buffer
				json.Compact(&c, w)
				if string(g.(json.RawMessage)) != c.String() {
					t.Errorf("record %d field %d: %s, want %s", i, j, g, c.String())
				}
			default:
				if g != want {
					t.Errorf("record %d field %d: %#v, want %#v", i, j, g, want)
				}
			}
		}
	}
	if second := write(t, r.Header(), got); !bytes.Equal(first, second) {
		t.Fatalf("rewritten export differs:\n%s\n%s", first, second)
	}
	for _, want := range []string{`"created_at":"2025-12-02T05:08:27.123Z"`, `"content":{"base64":"YmFkIP/+IHV0Zi04"}`, `"archived_at":null`, `"metadata":{"spaced":true}`, `"vector":""`} {
		if !bytes.Contains(first, []byte(want)) {
			t.Errorf("export lacks %s:\n%s", want, first)
		}
	}
}

func write(t *testing.T, h Header, recs []Record) []byte {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b, testSchema)
	if err := w.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWriteRefuses(t *testing.T) {
	w := NewWriter(io.Discard, testSchema)
	for _, c := range []struct {
		rec  Record
		want string
	}{
		{Record{Type: "ghost"}, `no record type "ghost"`},
		{Record{Type: "account", Values: []any{"a"}}, "1 values for 2 fields"},
		{Record{Type: "account", Values: []any{7, nil}}, "a text value is int"},
		{Record{Type: "memory", Values: []any{"m", "c", int64(1), math.NaN(), nil, nil, nil}}, "NaN cannot be written"},
		{Record{Type: "memory", Values: []any{"m", "c", int64(1), 0.5, json.RawMessage(`{oops`), nil, nil}}, "not JSON"},
		{Record{Type: "memory", Values: []any{"m", "c", int64(1), 0.5, nil, []byte{1, 2, 3}, nil}}, "3 bytes is not float32s"},
	} {
		if err := w.Write(c.rec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.rec, err, c.want)
		}
	}
}

const header = `{"format":"memoryrelay-export","version":1,"embedder":"e/3","accounts":[],"counts":{}}` + "\n"

// TestReaderRefuses: each malformed export is refused with ErrFormat,
// naming its line.
func TestReaderRefuses(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", "empty: no header line"},
		{"not json header", "hello\n", "line 1: the header is not the header"},
		{"other format", `{"format":"csv","version":1}` + "\n", `not a memoryrelay export (format "csv")`},
		{"newer version", `{"format":"memoryrelay-export","version":2}` + "\n", "an export of version 2"},
		{"header field", `{"format":"memoryrelay-export","version":1,"extra":1}` + "\n", "line 1"},
		{"not an object", header + "[1]\n", "line 2: not a JSON object"},
		{"two values", header + `{"type":"account"} {}` + "\n", "line 2: more than one JSON value"},
		{"no type", header + `{"id":"a"}` + "\n", `line 2: no "type"`},
		{"unknown type", header + `{"type":"ghost"}` + "\n", `unknown record type "ghost"`},
		{"unknown field", header + `{"type":"account","id":"a","colour":"red"}` + "\n", `account has no field "colour"`},
		{"out of order", header + `{"type":"memory","id":"m"}` + "\n" + `{"type":"account","id":"a"}` + "\n", "line 3: a account record after the memory records"},
		{"text type", header + `{"type":"account","id":5}` + "\n", "account.id: a text is a JSON string"},
		{"text base64", header + `{"type":"account","id":{"base64":"!!"}}` + "\n", "bad base64"},
		{"int fraction", header + `{"type":"memory","n":1.5}` + "\n", "1.5 is not an integer"},
		{"int overflow", header + `{"type":"memory","n":9223372036854775808}` + "\n", "is not an integer"},
		{"real string", header + `{"type":"memory","importance":"x"}` + "\n", "is not a number"},
		{"time number", header + `{"type":"account","created_at":5}` + "\n", "a time is an RFC 3339 string"},
		{"time words", header + `{"type":"account","created_at":"yesterday"}` + "\n", "is not an RFC 3339 time"},
		{"time micro", header + `{"type":"account","created_at":"2026-01-01T00:00:00.0001Z"}` + "\n", "finer than milliseconds"},
		{"vector bytes", header + `{"type":"memory","vector":"AAA="}` + "\n", "2 bytes are not float32s"},
		{"vector type", header + `{"type":"memory","vector":[1,2]}` + "\n", "a vector is a base64 string"},
		{"cut short", header + `{"type":"account","id":"a"}`, "line 2: the last line has no newline"},
	} {
		err := readAll(c.in, MaxLine)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func readAll(in string, max int) error {
	r, err := newReader(strings.NewReader(in), testSchema, max)
	if err != nil {
		return err
	}
	for {
		if _, err := r.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// TestMaxLine: a line of exactly the limit is read, one byte more is
// refused, and so with the default limit.
func TestMaxLine(t *testing.T) {
	line := func(n int) string {
		rec := `{"type":"account","id":"` // the id pads the line to n bytes
		return rec + strings.Repeat("x", n-len(rec)-2) + `"}` + "\n"
	}
	const small = 200
	if err := readAll(header+line(small), small); err != nil {
		t.Fatalf("a line of the limit: %v", err)
	}
	if err := readAll(header+line(small+1), small); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "line 2: longer than 200 bytes") {
		t.Fatalf("one past the limit: %v", err)
	}
	if testing.Short() {
		return
	}
	if err := readAll(header+line(MaxLine), MaxLine); err != nil {
		t.Fatalf("a line of MaxLine: %v", err)
	}
	if err := readAll(header+line(MaxLine+1), MaxLine); !errors.Is(err, ErrFormat) {
		t.Fatalf("a line of MaxLine+1: %v", err)
	}
}

// FuzzReader: any input is read or refused with ErrFormat, never a panic;
// what is read writes back and reads again as the same records.
func FuzzReader(f *testing.F) {
	f.Add(header + `{"type":"account","id":"a","created_at":"2026-01-01T00:00:00.000Z"}` + "\n")
	f.Add(header + `{"type":"memory","id":"m","content":{"base64":"/w=="},"n":3,"importance":0.25,"metadata":{"k":[1]},"vector":"AACAPw==","archived_at":null}` + "\n")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := newReader(strings.NewReader(in), testSchema, 1<<12)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("header: not ErrFormat: %v", err)
			}
			return
		}
		var recs []Record
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("not ErrFormat: %v", err)
				}
				return
			}
			recs = append(recs, rec)
		}
		var b bytes.Buffer
		w := NewWriter(&b, testSchema)
		w.WriteHeader(r.Header())
		for _, rec := range recs {
			if err := w.Write(rec); err != nil {
				t.Fatalf("a record read does not write: %v", err)
			}
		}
		w.Flush()
		again := write(t, r.Header(), recs)
		if !bytes.Equal(b.Bytes(), again) {
			t.Fatal("unstable")
		}
		if err := readAll(b.String(), 1<<20); err != nil {
			t.Fatalf("rewritten export does not read: %v", err)
		}
	})
}
