package memoryrelay

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Pagination: every list returns a memory.Page whose NextCursor, set
// exactly when HasMore, continues the list, and takes that cursor back
// (its params' Cursor, which wins over Offset). Every list but the keys
// uses keyset cursors: the page's last row's position in the list's order
// (created_at, or a session's started_at, and id), so that rows added or
// removed before it do not shift the next page (keysetParams,
// keysetPage). The keys read by offset, their cursor carrying the next
// offset (offsetParams, offsetPage): the key store's Repository, a public
// interface hosts implement, lists by offset, and an account's keys are
// few and made by hand.
//
// A cursor names its list, so a cursor of one list is not valid for
// another: base64url (unpadded) of "list:created_at:offset:id" (keyset,
// created_at in epoch ms) or "list:offset" (offset). A keyset cursor's
// offset only reports where its page starts; its position decides that.
// A cursor is checked for shape and range, not signed: one forged to hold
// another position reads the account's list from there, nothing more.

// cursorList names the list a cursor belongs to.
type cursorList string

const (
	memoriesList  cursorList = "m"
	projectsList  cursorList = "p"
	agentsList    cursorList = "a"
	entitiesList  cursorList = "e"
	sessionsList  cursorList = "s"
	decisionsList cursorList = "d"
	keysList      cursorList = "k"
)

// pageLimit applies the contract's limit rules: 0 means the default, below
// 1 is an error, above max is clamped.
func pageLimit(v, def, max int) (int, error) {
	switch {
	case v == 0:
		return def, nil
	case v < 0:
		return 0, invalid("Limit", "Limit must be between 1 and %d", max)
	case v > max:
		return max, nil
	}
	return v, nil
}

// checkOffset accepts 0 to memory.MaxOffset.
func checkOffset(off int) error {
	if off < 0 || off > memory.MaxOffset {
		return invalid("Offset", "Offset must be between 0 and %d", memory.MaxOffset)
	}
	return nil
}

// keysetParams checks the limit and offset of a page of the keyset list
// l, and decodes its cursor, if any: the position the page starts after
// (nil without a cursor) and the offset it reports, which replaces
// offset.
func keysetParams(l cursorList, limit, offset int, cursor string) (int, int, *store.Position, error) {
	limit, err := pageLimit(limit, memory.DefaultPageLimit, memory.MaxPageLimit)
	if err != nil {
		return 0, 0, nil, err
	}
	if err := checkOffset(offset); err != nil {
		return 0, 0, nil, err
	}
	if cursor == "" {
		return limit, offset, nil, nil
	}
	pos, offset, err := decodeCursor(l, cursor)
	if err != nil {
		return 0, 0, nil, err
	}
	return limit, offset, &pos, nil
}

// keysetPage is the page of the keyset list l read with one row beyond
// limit: when that row is there, the page has more and its cursor
// continues after the page's last row (pos gives its position).
func keysetPage[S, T any](l cursorList, rows []S, conv func(S) T, total, limit, offset int, pos func(S) store.Position) memory.Page[T] {
	page := memory.Page[T]{Total: total, Limit: limit, Offset: offset}
	if len(rows) > limit {
		rows, page.HasMore = rows[:limit], true
		c := encodeCursor(l, pos(rows[limit-1]), offset+limit)
		page.NextCursor = &c
	}
	page.Data = convertAll(rows, conv)
	return page
}

// offsetParams checks the limit and offset of a page of the offset list
// l, and the cursor, if any, of an earlier page of it, whose offset wins
// over offset.
func offsetParams(l cursorList, limit, offset int, cursor string) (int, int, error) {
	limit, err := pageLimit(limit, memory.DefaultPageLimit, memory.MaxPageLimit)
	if err != nil {
		return 0, 0, err
	}
	if err := checkOffset(offset); err != nil {
		return 0, 0, err
	}
	if cursor != "" {
		if offset, err = decodeOffsetCursor(l, cursor); err != nil {
			return 0, 0, err
		}
	}
	return limit, offset, nil
}

// offsetPage is the page of the offset list l made of rows read at offset
// of total items.
func offsetPage[S, T any](l cursorList, rows []S, conv func(S) T, total, limit, offset int) memory.Page[T] {
	page := memory.Page[T]{Data: convertAll(rows, conv), Total: total, Limit: limit, Offset: offset,
		HasMore: offset+len(rows) < total}
	if page.HasMore {
		c := encodeOffsetCursor(l, offset+len(rows))
		page.NextCursor = &c
	}
	return page
}

// badCursor is the error of a cursor that no page of its list made: a
// new one each time, as callers may change what they receive.
func badCursor() error { return invalid("Cursor", "Cursor is not valid") }

// encodeCursor makes the opaque cursor of the page of l after pos, which
// starts at offset; the offset is capped at memory.MaxOffset, which decodeCursor
// accepts.
func encodeCursor(l cursorList, pos store.Position, offset int) string {
	raw := string(l) + ":" + strconv.FormatInt(pos.CreatedAt, 10) + ":" + strconv.Itoa(min(offset, memory.MaxOffset)) + ":" + pos.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeCursor returns the position and offset of a cursor of l, or
// badCursor. The id must be one a list can hold: 1–memory.MaxAgentRef bytes
// of UTF-8 (the ids of agents, the longest; the others are UUIDs).
func decodeCursor(l cursorList, c string) (store.Position, int, error) {
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
func encodeOffsetCursor(l cursorList, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(l) + ":" + strconv.Itoa(min(offset, memory.MaxOffset))))
}

// decodeOffsetCursor returns the offset of a cursor of l, or badCursor.
func decodeOffsetCursor(l cursorList, c string) (int, error) {
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
