package store

// Position is a place in a list ordered newest first: the created_at
// (for sessions, started_at) and the id of its row. A page that starts
// after a position is not moved by rows added or removed before it.
type Position struct {
	CreatedAt int64 // epoch ms
	ID        string
}
