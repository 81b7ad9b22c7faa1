package memory

import (
	"context"
	"encoding/json"
	"time"
)

// Limits and defaults of patterns (API contract §5.8, §10.5). Tags are
// bounded by MaxTags and MaxTagChars.
const (
	MaxPatternTitle       = 500    // characters
	MaxPatternDescription = 50_000 // characters
	MaxPatternCategory    = 100    // characters
	MaxPatternExampleCode = 50_000 // characters
	// DefaultPatternHits and MaxPatternHits are the default and the
	// largest limit of Search and Suggest; a larger one is clamped.
	DefaultPatternHits = 10
	MaxPatternHits     = 50
	// DefaultPatternThreshold is PatternSearchParams.Threshold when nil.
	DefaultPatternThreshold = 0.3
)

// Pattern is a reusable practice that projects can adopt (API contract
// §4.5).
type Pattern struct {
	ID                string
	Title             string
	Description       string
	Category          *string
	ExampleCode       *string
	Scope             string   // "global" or "project"
	Tags              []string // never nil
	SourceProjectID   *string  // the source project's id, when SourceProjectSlug names one
	SourceProjectSlug *string  // as supplied
	// Metadata is a JSON object; nil means {}.
	Metadata      json.RawMessage
	AdoptionCount int // projects that adopted it
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// NewPattern is the input of [Patterns.Create].
type NewPattern struct {
	Title       string   // required, 1–500 characters, not blank
	Description string   // required, 1–50,000 characters, not blank
	Category    *string  // ≤ 100 characters
	ExampleCode *string  // ≤ 50,000 characters
	Scope       string   // "global" (default) or "project"
	Tags        []string // at most 20, each at most 100 characters
	// SourceProject is the slug of the project the pattern comes from,
	// ≤ 100 characters, required when Scope is "project"; created if
	// unknown.
	SourceProject *string
	Metadata      json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// PatternSearchParams is the input of [Patterns.Search].
type PatternSearchParams struct {
	// Query ranks the patterns; empty or blank lists them by
	// AdoptionCount instead, with score 0 and no threshold.
	Query     string
	Category  *string  // exact category
	Project   *string  // patterns sourced from or adopted by this project slug
	Limit     int      // 1–50 (larger is clamped); 0: 10
	Threshold *float64 // keep hits with score ≥ it; [0,1]; default 0.3
}

// PatternHit is a pattern and its score in [0,1].
type PatternHit struct {
	Pattern Pattern
	Score   float64
}

// Patterns is the pattern API of an account.
type Patterns interface {
	Create(ctx context.Context, in NewPattern) (Pattern, error)
	Get(ctx context.Context, id string) (Pattern, error)
	Search(ctx context.Context, p PatternSearchParams) ([]PatternHit, error)
	// Adopt records that the project (a slug) adopted the pattern.
	Adopt(ctx context.Context, id, project string) (Pattern, error)
	// Suggest returns patterns the project has not adopted, global ones
	// first, then by AdoptionCount; limit 1–50, 0: 10.
	Suggest(ctx context.Context, project string, limit int) ([]Pattern, error)
}
