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
