package store

import (
	"time"
)

// Pattern is a reusable practice that projects can adopt. Field meanings
// follow the API contract §4.5.
type Pattern struct {
	ID                string
	AccountID         string
	Title             string
	Description       string
	Category          *string
	ExampleCode       *string
	Scope             string   // global or project
	Tags              []string // never nil on reads
	SourceProjectID   *string  // the source project's id, when SourceProjectSlug is a valid slug
	SourceProjectSlug *string  // as supplied
	Metadata          []byte   // JSON object, verbatim; nil means {}
	AdoptionCount     int      // number of projects that adopted it
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// PatternFilter selects patterns of one account. Nil fields filter nothing.
type PatternFilter struct {
	AccountID string
	Category  *string
	// Project keeps the patterns sourced from or adopted by the project
	// with this slug; an unknown project matches nothing.
	Project *string
}
