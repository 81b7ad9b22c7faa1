package store

import (
	"time"
)

// Account owns keys and data. No query crosses accounts.
type Account struct {
	ID        string
	Name      string
	CreatedAt time.Time
}
