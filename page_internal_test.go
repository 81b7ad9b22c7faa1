package memoryrelay

import (
	"errors"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestCursorCodec: a cursor decodes, for its list only, to the position
// and offset it was made of, whatever the id holds (agents' ids are the
// client's); the offset is capped at MaxOffset.
func TestCursorCodec(t *testing.T) {
	lists := []cursorList{memoriesList, projectsList, agentsList, entitiesList, sessionsList, decisionsList}
	for _, id := range []string{"0b0c4a2e-5d0e-4f3a-9a41-6f1c2b3d4e5f", "a:b:c", ":", "ü/x y", strings.Repeat("i", MaxAgentRef)} {
		for _, l := range lists {
			pos := store.Position{CreatedAt: -1773739800123, ID: id}
			for _, off := range []int{0, 7, MaxOffset, MaxOffset + 5} {
				c := encodeCursor(l, pos, off)
				got, gotOff, err := decodeCursor(l, c)
				if err != nil || got != pos || gotOff != min(off, MaxOffset) {
					t.Errorf("%s %q offset %d: %+v %d %v", l, id, off, got, gotOff, err)
				}
				for _, other := range append(lists, keysList) {
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
	for _, off := range []int{0, 3, MaxOffset, MaxOffset + 1} {
		c := encodeOffsetCursor(keysList, off)
		if got, err := decodeOffsetCursor(keysList, c); err != nil || got != min(off, MaxOffset) {
			t.Errorf("offset cursor %d: %d %v", off, got, err)
		}
		if _, _, err := decodeCursor(keysList, c); !isCursorError(err) {
			t.Errorf("an offset cursor read as a keyset one: %v", err)
		}
	}
}

func isCursorError(err error) bool {
	var ve *memory.ValidationError
	return errors.As(err, &ve) && ve.Field() == "Cursor"
}
