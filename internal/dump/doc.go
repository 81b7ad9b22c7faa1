// Package dump is the format of memoryrelay's exports: JSON Lines, one
// header line and then one record per stored row, each a JSON object whose
// "type" names its kind ("memory", "agent", …) followed by its fields in a
// fixed order. It knows nothing of any database: the storage says which
// fields each type has and of what kind (a Schema), and reads and writes
// the rows.
//
// # Values
//
// Each field has a Kind, which fixes its JSON form so that a round trip is
// exact:
//
//   - Text: a JSON string; text that is not valid UTF-8 (which a JSON string
//     cannot carry) is {"base64": "…"} of its bytes.
//   - Int: a JSON integer.
//   - Real: a JSON number, in the shortest form that reads back as the same
//     float64 (NaN and infinities are refused).
//   - Time: epoch milliseconds as an RFC 3339 string with exactly three
//     decimals, in UTC: "2026-12-02T05:08:27.123Z".
//   - JSON: the stored JSON value itself, compacted.
//   - Vector: base64 (standard, padded) of the float32 values, each 4 bytes
//     little-endian: bit-exact, NaN payloads included.
//
// Any field may be null. A reader refuses unknown types and fields, values
// of the wrong form, and lines longer than MaxLine, naming the line.
//
// # Concurrency
//
// A Writer or a Reader is for one goroutine at a time.
package dump
