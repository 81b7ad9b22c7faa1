package memory

// Page is one page of a list, newest first unless the method says
// otherwise.
type Page[T any] struct {
	Data    []T  // the items; never nil
	HasMore bool // more items follow this page
	Total   int  // items in the whole list
	Limit   int  // the page size applied (after clamping)
	Offset  int  // the position of Data[0] in the whole list
	// NextCursor continues the list after this page; nil exactly when
	// HasMore is false. Pass it as the next call's Cursor, with the same
	// filters. Unless the list's method says otherwise, the next page
	// starts after this page's last item, wherever items added or deleted
	// meanwhile put it. A cursor is valid for its list only: another
	// list's, or a malformed one, is a *ValidationError naming Cursor.
	NextCursor *string
}

// PageParams selects a page of a list without filters.
type PageParams struct {
	Limit  int    // 1–100 (larger is clamped); 0: 20
	Offset int    // ≥ 0; ignored when Cursor is set
	Cursor string // opaque, from Page.NextCursor; wins over Offset
}

// Limits of every list (API contract §1.6).
const (
	// DefaultPageLimit is the page size of a list whose Limit is 0.
	DefaultPageLimit = 20
	// MaxPageLimit is the largest page; a larger Limit is clamped to it.
	MaxPageLimit = 100
	// MaxOffset is the largest Offset a list accepts, as a parameter or
	// inside a cursor; a cursor that claims a larger one is not valid.
	// Offsets and offset+limit stay far from integer overflow.
	MaxOffset = 1_000_000_000
)
