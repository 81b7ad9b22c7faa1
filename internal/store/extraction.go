package store

import "time"

// ExtractionKey is a stored bring-your-own key for the LLM entity
// extractor (API.md §10.7). The key itself is stored sealed (package
// secret), never in clear.
type ExtractionKey struct {
	ID        string
	AccountID string
	Provider  string // openai, ollama, azure, custom
	Label     *string
	Model     string
	BaseURL   *string
	// Sealed is the key sealed under the server secret, bound to the
	// account and the key's id.
	Sealed []byte
	// Masked is the key's display form ("sk-…abcd").
	Masked          string
	Active          bool
	LastValidatedAt *time.Time
	LastUsedAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}
