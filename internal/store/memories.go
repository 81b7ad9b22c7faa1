package store

import (
	"time"
)

// Memory is one stored memory. Field meanings follow the API contract §4.1.
type Memory struct {
	Seq        int64 // internal row number; the search tables' docid
	ID         string
	AccountID  string
	AgentID    string // the agent's id (§5.5), whatever reference created it
	AgentRef   string // the agent reference as supplied at creation
	UserID     *string
	Content    string
	Metadata   []byte // JSON object, verbatim; nil means {}
	MemoryType *string
	Visibility string
	Importance float64
	Tier       string
	Scope      string
	SessionID  *string
	Project    *string // project slug as supplied
	ProjectID  *string // the project's id, when Project is a valid slug
	ArchivedAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Entities   []EntityRef // linked entities; filled by reads, ignored by writes
	// The memory's entity extraction (API.md §10.6): its status
	// ("pending", "completed", "failed"), method and model; nil when none
	// was asked for.
	ExtractionStatus *string
	ExtractionMethod *string
	ExtractionModel  *string
}

// ExtractedEntity is an entity an extractor found in a memory: linked to
// it, created first unless the account has one of the type and name
// (case-insensitively, ASCII letters).
type ExtractedEntity struct {
	Type       string
	Name       string
	Confidence float64
}

// Indexed is what the search tables hold for a memory: its embedding and
// its normalised terms, space-joined. How the vector is stored is the
// implementation's business.
type Indexed struct {
	Vector []float32
	Terms  string
}

// Filter selects memories of one account. Zero fields filter nothing.
type Filter struct {
	AccountID     string
	AgentRef      *string // agent id or name; an unknown agent matches nothing
	UserID        *string
	Scope         string // "session", "long-term"; "" or "all": any
	SessionID     *string
	Tier          *string
	MinImportance *float64
	Project       *string
	Metadata      map[string][]byte // top-level key → JSON value that must be equal; one SQL condition each: the caller bounds the keys
	Namespace     *string           // metadata.namespace
	// IncludeConfidential and IncludeArchived widen searches; lists
	// always include both.
	IncludeConfidential bool
	IncludeArchived     bool
}

// BatchItem is one memory of the storage's InsertMemories.
type BatchItem struct {
	// Memory is the memory to store: ID, AccountID, AgentRef and the
	// timestamps must be set; Seq, AgentID and ProjectID are filled in
	// when it is stored.
	Memory *Memory
	// Index holds the memory's embedding and terms.
	Index Indexed
	// Dedup, when set, stores nothing if a memory of the same agent
	// (one of the batch's earlier items included) has a cosine similarity
	// of at least DedupThreshold with Index.Vector.
	Dedup          bool
	DedupThreshold float64
	// Extracted are entities to link to the memory once stored (a v2 job
	// completing a memory stored at accept time links them with its
	// index, and writes the memory's extraction fields).
	Extracted []ExtractedEntity
}

// BatchOutcome is what became of one [BatchItem].
type BatchOutcome struct {
	// DuplicateID is the id of the existing memory a Dedup item matched;
	// nothing was stored for the item. Empty otherwise.
	DuplicateID string
	// Score is the cosine similarity with the duplicate, when there is one.
	Score float64
	// Err is the item's own failure (ErrSessionNotFound); the other items
	// are unaffected. Nil when the item was stored or is a duplicate.
	Err error
}
