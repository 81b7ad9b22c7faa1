package page

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// List names the list a cursor belongs to.
type List string

// The lists.
const (
	Memories  List = "m"
	Projects  List = "p"
	Agents    List = "a"
	Entities  List = "e"
	Sessions  List = "s"
	Decisions List = "d"
	Keys      List = "k" // an offset list
	Webhooks  List = "w" // an offset list
)

// Params are the checked limit and offset of a page, and for a keyset
// list the position it starts after (nil: the list's start).
type Params struct {
	Limit  int
	Offset int
	After  *store.Position
}

// checkOffset accepts 0 to memory.MaxOffset.
func checkOffset(p *valid.Problems, off int) {
	if off < 0 || off > memory.MaxOffset {
		p.Add("Offset", "Offset must be between 0 and %d", memory.MaxOffset)
	}
}

// Keyset checks the limit and offset of a page of the keyset list l, and
// decodes its cursor, if any: the position the page starts after and the
// offset it reports, which replaces offset. Problems go to p.
func Keyset(p *valid.Problems, l List, limit, offset int, cursor string) Params {
	q := Params{Limit: p.Limit(limit, memory.DefaultPageLimit, memory.MaxPageLimit), Offset: offset}
	checkOffset(p, offset)
	if cursor != "" {
		pos, off, err := decodeCursor(l, cursor)
		if err != nil {
			p.Merge(err)
			return q
		}
		q.After, q.Offset = &pos, off
	}
	return q
}

// KeysetPage is the page of the keyset list l read with one row beyond
// q.Limit: when that row is there, the page has more and its cursor
// continues after the page's last row (pos gives its position).
func KeysetPage[S, T any](l List, rows []S, conv func(S) T, total int, q Params, pos func(S) store.Position) memory.Page[T] {
	page := memory.Page[T]{Total: total, Limit: q.Limit, Offset: q.Offset}
	if len(rows) > q.Limit {
		rows, page.HasMore = rows[:q.Limit], true
		c := encodeCursor(l, pos(rows[q.Limit-1]), q.Offset+q.Limit)
		page.NextCursor = &c
	}
	page.Data = convert.All(rows, conv)
	return page
}

// Offset checks the limit and offset of a page of the offset list l, and
// the cursor, if any, of an earlier page of it, whose offset wins over
// offset. Problems go to p.
func Offset(p *valid.Problems, l List, limit, offset int, cursor string) Params {
	q := Params{Limit: p.Limit(limit, memory.DefaultPageLimit, memory.MaxPageLimit), Offset: offset}
	checkOffset(p, offset)
	if cursor != "" {
		off, err := decodeOffsetCursor(l, cursor)
		if err != nil {
			p.Merge(err)
			return q
		}
		q.Offset = off
	}
	return q
}

// OffsetPage is the page of the offset list l made of rows read at
// q.Offset of total items.
func OffsetPage[S, T any](l List, rows []S, conv func(S) T, total int, q Params) memory.Page[T] {
	page := memory.Page[T]{Data: convert.All(rows, conv), Total: total, Limit: q.Limit, Offset: q.Offset,
		HasMore: q.Offset+len(rows) < total}
	if page.HasMore {
		c := encodeOffsetCursor(l, q.Offset+len(rows))
		page.NextCursor = &c
	}
	return page
}

// badCursor is the error of a cursor that no page of its list made: a
// new one each time, as callers may change what they receive.
func badCursor() error { return valid.Invalid("Cursor", "Cursor is not valid") }

// encodeCursor makes the opaque cursor of the page of l after pos, which
// starts at offset; the offset is capped at memory.MaxOffset, which
// decodeCursor accepts.
func encodeCursor(l List, pos store.Position, offset int) string {
	raw := string(l) + ":" + strconv.FormatInt(pos.CreatedAt, 10) + ":" + strconv.Itoa(min(offset, memory.MaxOffset)) + ":" + pos.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeCursor returns the position and offset of a cursor of l, or
// badCursor. The id must be one a list can hold: 1–memory.MaxAgentRef
// bytes of UTF-8 (the ids of agents, the longest; the others are UUIDs).
func decodeCursor(l List, c string) (store.Position, int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return store.Position{}, 0, badCursor()
	}
	parts := strings.SplitN(string(raw), ":", 4)
	if len(parts) != 4 || parts[0] != string(l) {
		return store.Position{}, 0, badCursor()
	}
	at, err1 := strconv.ParseInt(parts[1], 10, 64)
	off, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || off < 0 || off > memory.MaxOffset {
		return store.Position{}, 0, badCursor()
	}
	if id := parts[3]; id == "" || len(id) > memory.MaxAgentRef || !utf8.ValidString(id) {
		return store.Position{}, 0, badCursor()
	}
	return store.Position{CreatedAt: at, ID: parts[3]}, off, nil
}

// encodeOffsetCursor makes the opaque cursor of the page of l at offset,
// capped at memory.MaxOffset.
func encodeOffsetCursor(l List, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(l) + ":" + strconv.Itoa(min(offset, memory.MaxOffset))))
}

// decodeOffsetCursor returns the offset of a cursor of l, or badCursor.
func decodeOffsetCursor(l List, c string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, badCursor()
	}
	rest, ok := strings.CutPrefix(string(raw), string(l)+":")
	if !ok {
		return 0, badCursor()
	}
	off, err := strconv.Atoi(rest)
	if err != nil || off < 0 || off > memory.MaxOffset {
		return 0, badCursor()
	}
	return off, nil
}
