package memorytest

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

// paging describes a list for checkPaging.
type paging[T any] struct {
	// list returns a page; cursor "" means none.
	list func(ctx context.Context, limit, offset int, cursor string) (memory.Page[T], error)
	id   func(T) string
	// want is the id of every item of the list, in list order; at least 5.
	want []string
	// add, when set, adds an item that sorts first in the list, to check
	// that a cursor continues after its page rather than at an offset
	// (every list but the keys, whose cursor is an offset).
	add func(t *testing.T)
}

// checkPaging checks the pagination rules of package memory and API.md
// §1.6 on a list: default and clamped limits, invalid limits and offsets,
// exact page sizes, Total, HasMore, NextCursor set exactly when HasMore,
// walks by offset and by cursor that give the whole list once, in order.
func checkPaging[T any](t *testing.T, p paging[T]) {
	t.Helper()
	ctx := t.Context()
	total := len(p.want)
	if total < 5 {
		t.Fatalf("checkPaging needs 5 items or more, got %d", total)
	}
	ids := func(pg memory.Page[T]) []string {
		out := make([]string, len(pg.Data))
		for i, v := range pg.Data {
			out[i] = p.id(v)
		}
		return out
	}
	// page checks what every page must be; offset is Data[0]'s position.
	page := func(what string, pg memory.Page[T], limit, offset int) {
		t.Helper()
		size := max(0, min(limit, total-offset))
		if pg.Data == nil {
			t.Errorf("%s: Data is nil, want a slice (never nil)", what)
		}
		if len(pg.Data) != size {
			t.Errorf("%s: %d items, want %d (limit %d, offset %d, total %d)", what, len(pg.Data), size, limit, offset, total)
		}
		if pg.Total != total {
			t.Errorf("%s: Total = %d, want %d", what, pg.Total, total)
		}
		if pg.Limit != limit {
			t.Errorf("%s: Limit = %d, want %d", what, pg.Limit, limit)
		}
		if pg.Offset != offset {
			t.Errorf("%s: Offset = %d, want %d", what, pg.Offset, offset)
		}
		if more := offset+len(pg.Data) < total; pg.HasMore != more {
			t.Errorf("%s: HasMore = %v, want %v", what, pg.HasMore, more)
		}
		if (pg.NextCursor != nil) != pg.HasMore {
			t.Errorf("%s: NextCursor = %v with HasMore %v; want a cursor exactly when HasMore", what, showPtr(pg.NextCursor), pg.HasMore)
		}
		if pg.NextCursor != nil && *pg.NextCursor == "" {
			t.Errorf("%s: NextCursor is an empty string", what)
		}
	}

	all := try(p.list(ctx, 100, 0, "")).must(t)
	page("limit 100", all, 100, 0)
	wantEqual(t, "limit 100: the ids, in order", ids(all), p.want[:min(total, 100)])

	def := try(p.list(ctx, 0, 0, "")).must(t)
	page("limit 0 (the default, 20)", def, 20, 0)
	clamped := try(p.list(ctx, 1000, 0, "")).must(t)
	page("limit 1000 (clamped to 100)", clamped, 100, 0)

	_, err := p.list(ctx, -1, 0, "")
	wantInvalid(t, "limit -1", err, "Limit")
	_, err = p.list(ctx, 10, -1, "")
	wantInvalid(t, "offset -1", err, "Offset")

	var walked []string
	for off := 0; off < total; off += 2 {
		pg := try(p.list(ctx, 2, off, "")).must(t)
		page("limit 2 offset "+strconv.Itoa(off), pg, 2, off)
		walked = append(walked, ids(pg)...)
	}
	wantEqual(t, "walk by offset: the ids, in order", walked, p.want)

	past := try(p.list(ctx, 2, total+3, "")).must(t)
	page("offset past the end", past, 2, total+3)

	walked = walked[:0]
	cursor := ""
	for i := 0; i <= total; i++ {
		// The offset is ignored when a cursor is given: pass a wrong one.
		off := 0
		if cursor != "" {
			off = total + 10
		}
		pg := try(p.list(ctx, 2, off, cursor)).must(t)
		page("walk by cursor, page "+strconv.Itoa(i), pg, 2, 2*i)
		walked = append(walked, ids(pg)...)
		if !pg.HasMore || pg.NextCursor == nil {
			break
		}
		cursor = *pg.NextCursor
	}
	wantEqual(t, "walk by cursor: the ids, in order", walked, p.want)

	_, err = p.list(ctx, 2, 0, "not a cursor")
	wantInvalid(t, "a malformed cursor", err, "Cursor")

	if p.add != nil {
		first := try(p.list(ctx, 2, 0, "")).must(t)
		if first.NextCursor == nil {
			t.Fatal("no NextCursor on the first page")
		}
		p.add(t)
		next := try(p.list(ctx, 2, 0, *first.NextCursor)).must(t)
		wantEqual(t, "the page after a cursor, once a newer item was added", ids(next), p.want[2:4])
	}
}

func showPtr[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}

// newestFirst returns the ids of items in list order: CreatedAt
// descending, then id descending (API.md §1.6).
func newestFirst[T any](items []T, created func(T) time.Time, id func(T) string) []string {
	s := slices.Clone(items)
	slices.SortFunc(s, func(a, b T) int {
		if c := created(b).Compare(created(a)); c != 0 {
			return c
		}
		return cmp.Compare(id(b), id(a))
	})
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = id(v)
	}
	return out
}
