package store

// Usage is a number of requests made with one key on one UTC day.
type Usage struct {
	KeyID string
	Day   string // YYYY-MM-DD, UTC
	Count int64
}
