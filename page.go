package memoryrelay

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Pagination: every list returns a memory.Page whose NextCursor, set
// exactly when HasMore, continues the list. Lists ordered by a stored
// position (memories, projects) use keyset cursors (the last row's
// created_at and id, keysetPage); the others read by offset, and their
// cursor carries the next offset (offsetPage).

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

// checkOffset accepts 0 to MaxOffset.
func checkOffset(off int) error {
	if off < 0 || off > MaxOffset {
		return invalid("Offset", "Offset must be between 0 and %d", MaxOffset)
	}
	return nil
}

// offsetParams checks the limit and offset of a list read by offset, and
// the cursor, if any, of an earlier page of it, which wins over the offset.
func offsetParams(limit, offset int, cursor string) (int, int, error) {
	limit, err := pageLimit(limit, DefaultPage, MaxPage)
	if err != nil {
		return 0, 0, err
	}
	if err := checkOffset(offset); err != nil {
		return 0, 0, err
	}
	if cursor != "" {
		if offset, err = decodeOffsetCursor(cursor); err != nil {
			return 0, 0, err
		}
	}
	return limit, offset, nil
}

// offsetPage is the page of rows read at offset of a list of total items.
func offsetPage[S, T any](rows []S, conv func(S) T, total, limit, offset int) memory.Page[T] {
	page := memory.Page[T]{Data: convertAll(rows, conv), Total: total, Limit: limit, Offset: offset,
		HasMore: offset+len(rows) < total}
	if page.HasMore {
		c := encodeOffsetCursor(offset + len(rows))
		page.NextCursor = &c
	}
	return page
}

// keysetPage is the page of a list read with one row beyond limit: when
// that row is there, the page has more and its cursor continues after the
// page's last row (pos gives its position).
func keysetPage[S, T any](rows []S, conv func(S) T, total, limit, offset int, pos func(S) store.Position) memory.Page[T] {
	page := memory.Page[T]{Total: total, Limit: limit, Offset: offset}
	if len(rows) > limit {
		rows, page.HasMore = rows[:limit], true
		c := encodeCursor(pos(rows[limit-1]), offset+limit)
		page.NextCursor = &c
	}
	page.Data = convertAll(rows, conv)
	return page
}

// encodeCursor makes the opaque cursor of the page after pos. The offset
// it carries only reports where the page starts (pos decides that), so it
// is capped at MaxOffset, which decodeCursor accepts.
func encodeCursor(pos store.Position, offset int) string {
	offset = min(offset, MaxOffset)
	raw := strconv.FormatInt(pos.CreatedAt, 10) + ":" + pos.ID + ":" + strconv.Itoa(offset)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(c string) (store.Position, int, error) {
	bad := invalid("Cursor", "Cursor is not valid")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return store.Position{}, 0, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 {
		return store.Position{}, 0, bad
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	off, err2 := strconv.Atoi(parts[2])
	id, ok := uuid.Canonical(parts[1])
	if err1 != nil || err2 != nil || !ok || off < 0 || off > MaxOffset {
		return store.Position{}, 0, bad
	}
	return store.Position{CreatedAt: at, ID: id}, off, nil
}

// offsetCursorPrefix marks the cursors of lists read by offset.
const offsetCursorPrefix = "o:"

func encodeOffsetCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(offsetCursorPrefix + strconv.Itoa(min(offset, MaxOffset))))
}

func decodeOffsetCursor(c string) (int, error) {
	bad := invalid("Cursor", "Cursor is not valid")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	rest, ok := strings.CutPrefix(string(raw), offsetCursorPrefix)
	if !ok {
		return 0, bad
	}
	off, err := strconv.Atoi(rest)
	if err != nil || off < 0 || off > MaxOffset {
		return 0, bad
	}
	return off, nil
}
