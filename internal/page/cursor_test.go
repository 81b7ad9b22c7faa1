package page

import (
	"errors"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestCursorCodec: a cursor decodes, for its list only, to the position
// and offset it was made of, whatever the id holds (agents' ids are the
// client's); the offset is capped at memory.MaxOffset.
func TestCursorCodec(t *testing.T) {
	lists := []List{Memories, Projects, Agents, Entities, Sessions, Decisions}
	for _, id := range []string{"0b0c4a2e-5d0e-4f3a-9a41-6f1c2b3d4e5f", "a:b:c", ":", "ü/x y", strings.Repeat("i", memory.MaxAgentRef)} {
		for _, l := range lists {
			pos := store.Position{CreatedAt: -1773739800123, ID: id}
			for _, off := range []int{0, 7, memory.MaxOffset, memory.MaxOffset + 5} {
				c := encodeCursor(l, pos, off)
				got, gotOff, err := decodeCursor(l, c)
				if err != nil || got != pos || gotOff != min(off, memory.MaxOffset) {
					t.Errorf("%s %q offset %d: %+v %d %v", l, id, off, got, gotOff, err)
				}
				for _, other := range append(lists, Keys) {
					if other == l {
						continue
					}
					if _, _, err := decodeCursor(other, c); !isCursorError(err) {
						t.Errorf("a cursor of %s read as one of %s: %v", l, other, err)
					}
					if _, err := decodeOffsetCursor(other, c); !isCursorError(err) {
						t.Errorf("a cursor of %s read as an offset cursor of %s: %v", l, other, err)
					}
				}
			}
		}
	}
	for _, off := range []int{0, 3, memory.MaxOffset, memory.MaxOffset + 1} {
		c := encodeOffsetCursor(Keys, off)
		if got, err := decodeOffsetCursor(Keys, c); err != nil || got != min(off, memory.MaxOffset) {
			t.Errorf("offset cursor %d: %d %v", off, got, err)
		}
		if _, _, err := decodeCursor(Keys, c); !isCursorError(err) {
			t.Errorf("an offset cursor read as a keyset one: %v", err)
		}
	}
}

func isCursorError(err error) bool {
	var ve *memory.ValidationError
	return errors.As(err, &ve) && ve.Field() == "Cursor"
}

// TestKeysetCollects: the limit, the offset and the cursor are each
// checked, every problem reported, the limit's first.
func TestKeysetCollects(t *testing.T) {
	var p valid.Problems
	Keyset(&p, Memories, -1, -1, "%%%")
	var ve *memory.ValidationError
	if !errors.As(p.Err(), &ve) || len(ve.Problems) != 3 || ve.Field() != "Limit" ||
		ve.Problems[1].Field != "Offset" || ve.Problems[2].Field != "Cursor" {
		t.Fatalf("problems: %v", p.Err())
	}
}

// TestPages: a keyset page read with one row past its limit has more and
// a cursor that starts after its last row; an offset page has more while
// rows are left.
func TestPages(t *testing.T) {
	rows := []store.Position{{CreatedAt: 3, ID: "c"}, {CreatedAt: 2, ID: "b"}, {CreatedAt: 1, ID: "a"}}
	id := func(p store.Position) string { return p.ID }
	self := func(p store.Position) store.Position { return p }
	var p valid.Problems
	q := Keyset(&p, Memories, 2, 0, "")
	pg := KeysetPage(Memories, rows, id, 3, q, self)
	if !pg.HasMore || pg.NextCursor == nil || len(pg.Data) != 2 || pg.Data[1] != "b" || pg.Limit != 2 || pg.Total != 3 {
		t.Fatalf("first page: %+v", pg)
	}
	q = Keyset(&p, Memories, 2, 0, *pg.NextCursor)
	if q.After == nil || *q.After != rows[1] || q.Offset != 2 || !p.OK() {
		t.Fatalf("next params: %+v %v", q, p.Err())
	}
	if last := KeysetPage(Memories, rows[2:], id, 3, q, self); last.HasMore || last.NextCursor != nil || len(last.Data) != 1 {
		t.Fatalf("last page: %+v", last)
	}
	q = Offset(&p, Keys, 2, 0, "")
	op := OffsetPage(Keys, rows[:2], id, 3, q)
	if !op.HasMore || op.NextCursor == nil {
		t.Fatalf("offset page: %+v", op)
	}
	if q = Offset(&p, Keys, 2, 0, *op.NextCursor); q.Offset != 2 || !p.OK() {
		t.Fatalf("offset cursor: %+v %v", q, p.Err())
	}
	if empty := OffsetPage(Keys, []store.Position{}, id, 0, Params{Limit: 20}); empty.Data == nil || empty.HasMore {
		t.Errorf("empty page: %+v", empty)
	}
}
