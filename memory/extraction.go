package memory

import (
	"context"
	"time"

	"github.com/memoryrelay/memoryrelay/secret"
)

// Statuses of a memory's entity extraction (Memory.ExtractionStatus,
// API.md §10.6).
const (
	// ExtractionPending: a v2 create's extraction, made by its job.
	ExtractionPending = "pending"
	// ExtractionCompleted: the entities found are linked to the memory.
	ExtractionCompleted = "completed"
	// ExtractionFailed: the extractor failed; the memory is stored, with
	// no entities linked by it.
	ExtractionFailed = "failed"
)

// Limits of extraction keys (API.md §10.7).
const (
	MaxExtractionKeys   = 10   // per account (ours)
	MaxExtractionAPIKey = 1024 // characters
	MaxExtractionModel  = 200  // characters
	MaxExtractionLabel  = 255  // characters
)

// ExtractionProviders are the providers whose API is OpenAI-compatible,
// the ones this server calls (API.md §10.7). openai and ollama have a
// default base URL; azure and custom need one.
var ExtractionProviders = []string{"openai", "ollama", "azure", "custom"}

// ExtractionKey is a bring-your-own key for the LLM that extracts
// entities. The key itself is never returned: MaskedKey shows its ends.
type ExtractionKey struct {
	ID              string
	Provider        string
	Label           *string
	Model           string
	BaseURL         *string
	Active          bool
	MaskedKey       string // "sk-…abcd"
	LastValidatedAt *time.Time
	LastUsedAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// NewExtractionKey is the input of [Extraction.CreateKey]. The new key
// is active when the account has no active key, inactive otherwise.
type NewExtractionKey struct {
	Provider string      // one of ExtractionProviders
	APIKey   secret.Text // required for openai, azure and custom; ≤ MaxExtractionAPIKey
	Model    string      // required, ≤ MaxExtractionModel characters
	Label    *string     // ≤ MaxExtractionLabel characters
	// BaseURL is the API's base (e.g. https://x.openai.azure.com/openai/
	// deployments/d?api-version=2024-06-01); required for azure and
	// custom. It must pass the server's outbound-call policy.
	BaseURL *string
}

// ExtractionSettings report how an account's entities are extracted
// (GET /v1/extraction/settings).
type ExtractionSettings struct {
	Tier string // "self-hosted"
	// Extractor names what runs: "builtin" (the offline extractor),
	// "byok" (the account's active key), or "custom" (the server's own).
	Extractor string
	// BYOKEnabledGlobally reports whether the server can keep keys (it
	// has a secret to seal them with).
	BYOKEnabledGlobally bool
	BYOKConfigured      bool // the account has keys
	BYOKActive          bool // one of them is active, and used
	// Of the active key, when there is one.
	MaskedAPIKey    *string
	PreferredModel  *string
	BaseURL         *string
	LastValidatedAt *time.Time
	Keys            []ExtractionKey
}

// Extraction manages how an account's entities are extracted: its
// bring-your-own LLM keys (API.md §10.7). Without the server's secret to
// seal keys with, every method but Settings is a *UnavailableError.
type Extraction interface {
	Settings(ctx context.Context) (ExtractionSettings, error)
	CreateKey(ctx context.Context, in NewExtractionKey) (ExtractionKey, error)
	// ActivateKey makes the key the account's only active one.
	ActivateKey(ctx context.Context, id string) (ExtractionKey, error)
	// DeactivateKeys deactivates every key; it returns how many were
	// active.
	DeactivateKeys(ctx context.Context) (int, error)
	DeleteKey(ctx context.Context, id string) error
}
