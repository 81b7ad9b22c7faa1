package memory

import (
	"context"
	"encoding/json"
	"time"
)

// Limits and defaults of memories (API contract §1.6, §5.2, §5.3).
const (
	// MaxContentChars bounds a memory's Content, a search's Query (of
	// memories, decisions, patterns and context) and the text of Embed.
	MaxContentChars = 51_200 // characters
	// MaxUserID bounds a memory's UserID.
	MaxUserID = 255 // characters
	// DefaultHits and MaxHits are the default and the largest
	// SearchParams.Limit; a larger one is clamped.
	DefaultHits = 10
	MaxHits     = 100
	// MaxMetadataFilterKeys is the most keys SearchParams.MetadataFilter
	// may have (each is one SQL condition).
	MaxMetadataFilterKeys = 50
	// MaxBatch is the most memories one CreateBatch stores.
	MaxBatch = 1000
	// DefaultDedupThreshold is NewMemory.DedupThreshold when nil;
	// MinDedupThreshold is the lowest accepted.
	DefaultDedupThreshold = 0.95
	MinDedupThreshold     = 0.5
	// MaxWebhookURL bounds AsyncOptions.WebhookURL.
	MaxWebhookURL = 2048 // bytes
)

// Memory is a stored memory (API contract §4.1).
type Memory struct {
	ID      string // a UUID, made by the server
	AgentID string // the id of the memory's agent (§5.5), whatever reference created it
	UserID  *string
	Content string
	// Metadata is a JSON object, returned verbatim; nil means {}.
	Metadata   json.RawMessage
	MemoryType *string // fact, event, insight, task, preference, entity_reference, system; nil: none
	Visibility string  // private or confidential
	Importance float64 // in [0,1]
	Tier       string  // hot, warm or cold
	Scope      string  // long-term or session
	SessionID  *string
	Project    *string // the project slug as supplied
	ProjectID  *string // the project's id, when Project names one
	ArchivedAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time // ≥ CreatedAt; every change advances it
	// Entities are the entities linked to the memory, at most 100.
	Entities []EntityRef
	// The memory's entity extraction (API.md §10.6): ExtractionPending,
	// ExtractionCompleted or ExtractionFailed, the method ("builtin",
	// "llm", …) and the model that ran; nil when none was asked for.
	ExtractionStatus *string
	ExtractionMethod *string
	ExtractionModel  *string
}

// EntityRef is an entity linked to a memory, as the memory lists it.
type EntityRef struct {
	Type       string
	Value      string // the entity's name
	Confidence float64
}

// NewMemory is the input of [Memories.Create]. Nil pointers and empty
// strings take the defaults of the API contract §5.2.
type NewMemory struct {
	Content    string          // required, 1–51,200 characters (code points), not blank
	AgentID    string          // agent id or name (§5.5); default "default"; an unknown one becomes a new agent of that id and name
	UserID     *string         // optional, ≤ 255 characters
	Metadata   json.RawMessage // JSON object ≤ 10 KiB serialized, nested ≤ 32 levels; default {}
	MemoryType *string         // fact, event, insight, task, preference, entity_reference, system
	Visibility string          // private (default) or confidential
	Importance *float64        // [0,1]; default 0.5
	Tier       string          // hot, warm, cold; default hot if Importance ≥ 0.8, else warm
	Scope      string          // long-term (default) or session
	SessionID  *string         // must name an existing session of the account
	Project    *string         // project slug, ≤ 100 characters
	// ProjectID names a project of the account by its id (API.md §10.6);
	// it wins over Project. One that names no project of the account is
	// invalid.
	ProjectID *string
	// AutoExtractEntities: true extracts the content's entities and links
	// them (created, or matched by type and name), false never; nil: the
	// server's default (API.md §10.6).
	AutoExtractEntities *bool
	// Deduplicate, when set, stores nothing if a memory of the same agent
	// scores at least DedupThreshold ([0.5, 1]; default 0.95) against the
	// content; CreateResult then holds the existing memory.
	Deduplicate    bool
	DedupThreshold *float64
}

// CreateResult is the outcome of [Memories.Create].
type CreateResult struct {
	Memory Memory // the new memory, or the existing one when IsDuplicate
	// IsDuplicate reports that Deduplicate found an existing memory:
	// nothing was stored.
	IsDuplicate bool
}

// MemoryPatch is the input of [Memories.Update]. Nil fields are left
// unchanged. Metadata is merged into the stored object: non-null values
// overwrite, null deletes the key. The rules are NewMemory's.
type MemoryPatch struct {
	Content    *string
	Metadata   json.RawMessage
	UserID     *string
	MemoryType *string
	Visibility *string
	Importance *float64
	Tier       *string
	Scope      *string
	Project    *string
	ProjectID  *string // as NewMemory.ProjectID; wins over Project
}

// ListParams selects a page of memories, newest first.
type ListParams struct {
	Limit   int     // 1–100 (larger is clamped); 0: 20
	Offset  int     // ≥ 0; ignored when Cursor is set
	Cursor  string  // opaque, from Page.NextCursor; wins over Offset
	AgentID *string // agent id or name; unknown: an empty page
	UserID  *string
	Scope   string // long-term, session, or all (default)
}

// Search modes.
const (
	ModeHybrid   = "hybrid" // lexical and semantic candidates, fused (default)
	ModeSemantic = "semantic"
	ModeKeyword  = "keyword"
)

// SearchParams is the input of [Memories.Search].
type SearchParams struct {
	Query         string   // required, 1–51,200 characters
	Mode          string   // ModeHybrid (default), ModeSemantic or ModeKeyword
	Limit         int      // 1–100 (larger is clamped); 0: 10
	Threshold     float64  // keep hits with score ≥ Threshold; [0,1]; default 0
	AgentID       *string  // agent id or name; unknown: no hits
	UserID        *string  // filter
	SessionID     *string  // filter; an unknown id matches nothing
	Tier          *string  // filter
	MinImportance *float64 // filter, [0,1]
	Project       *string  // filter, a project slug
	Scope         string   // long-term, session, or all (default)
	Namespace     *string  // filter on metadata.namespace
	// MetadataFilter keeps memories whose metadata has each key with an
	// equal JSON value; at most 50 keys.
	MetadataFilter      map[string]json.RawMessage
	IncludeConfidential bool // include confidential memories
	IncludeArchived     bool // include archived memories
}

// Hit is a search result: a memory and its score in [0,1] (contract §7).
type Hit struct {
	Memory Memory
	Score  float64
}

// BatchParams is the input of [Memories.CreateBatch].
type BatchParams struct {
	// Memories are the memories to store: 1–1,000 items, each validated
	// as by Create, Deduplicate included. Items stand alone: one that
	// fails does not stop the others.
	Memories []NewMemory
	// AgentID is the agent of items without their own; default "default".
	AgentID string
}

// Batch item outcomes.
const (
	BatchSuccess = "success"
	BatchFailed  = "failed"
	BatchSkipped = "skipped" // a duplicate: nothing stored
)

// BatchResult is the outcome of [Memories.CreateBatch].
type BatchResult struct {
	Items                      []BatchItemResult // one per input item, in order
	Succeeded, Failed, Skipped int
	Timing                     BatchTiming
}

// BatchTiming is where the time of a batch went, as measured where it
// ran (on a remote server, there).
type BatchTiming struct {
	Total     time.Duration // the whole call
	Embedding time.Duration // the one embedder call
	Database  time.Duration // the one write transaction
}

// BatchItemResult is the outcome of one item of a batch.
type BatchItemResult struct {
	Status string // BatchSuccess, BatchFailed or BatchSkipped
	// MemoryID is the new memory's id, or for a skipped item the existing
	// duplicate's; "" when the item failed.
	MemoryID string
	// Err says why the item failed: a *ValidationError for bad input,
	// anything else for an internal failure. Nil unless Status is
	// BatchFailed.
	Err error
}

// Job states of an asynchronous create.
const (
	JobPending    = "pending"
	JobProcessing = "processing"
	JobReady      = "ready"
	JobFailed     = "failed"
)

// Job is the state of an asynchronous memory create ([Memories.CreateAsync]).
type Job struct {
	ID        string  // the memory's id
	JobID     string  // job_<uuid>
	Status    string  // JobPending, JobProcessing, JobReady or JobFailed
	Error     *string // why it failed; nil unless Status is JobFailed
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AsyncOptions are the options of [Memories.CreateAsync].
type AsyncOptions struct {
	// WebhookURL, when set, receives the job's completion (an
	// embedding.completed event), if the server allows calls to it.
	WebhookURL *string
}

// Prefixes accepted by [Memories.Embed]. The built-in embedders are
// symmetric: a prefix is checked but does not change the vector.
const (
	EmbedPrefixQuery    = "search_query"
	EmbedPrefixDocument = "search_document"
)

// Embedding is a text's vector from the server's embedder.
type Embedding struct {
	Vector    []float32
	Dimension int    // len(Vector)
	Model     string // the embedder's model id
}

// Memories is the memory API of an account.
type Memories interface {
	// Create stores a memory (or, with Deduplicate, finds its duplicate).
	Create(ctx context.Context, in NewMemory) (CreateResult, error)
	// CreateBatch stores up to 1,000 memories with one embedder call and
	// one transaction.
	CreateBatch(ctx context.Context, p BatchParams) (BatchResult, error)
	// CreateAsync stores a memory at once and embeds it in the background:
	// it is readable and listed at once, and found by search once its job
	// is JobReady.
	CreateAsync(ctx context.Context, in NewMemory, o AsyncOptions) (Job, error)
	// Job returns the state of an asynchronous create by the memory's id.
	Job(ctx context.Context, id string) (Job, error)
	Get(ctx context.Context, id string) (Memory, error)
	List(ctx context.Context, p ListParams) (Page[Memory], error)
	Update(ctx context.Context, id string, p MemoryPatch) (Memory, error)
	// SetImportance sets a memory's importance and, unless tier is nil,
	// its tier.
	SetImportance(ctx context.Context, id string, importance float64, tier *string) (Memory, error)
	Delete(ctx context.Context, id string) error
	// DeleteUser deletes every memory of a user (erasure) and returns how
	// many.
	DeleteUser(ctx context.Context, userID string) (int, error)
	// Search ranks the account's memories against a query, best first.
	Search(ctx context.Context, p SearchParams) ([]Hit, error)
	// Embed returns the vector of a text (1–51,200 characters, not blank)
	// from the embedder memories are indexed with; prefix is "",
	// EmbedPrefixQuery or EmbedPrefixDocument.
	Embed(ctx context.Context, text, prefix string) (Embedding, error)
}
