package store

// Embedded are the tables whose rows carry an embedding of their text, in
// the order a re-embedding walks them.
var Embedded = []string{"memories", "decisions", "patterns"}

// TextRow is one row's text to embed, by rowid.
type TextRow struct {
	RowID int64
	Text  string
}
