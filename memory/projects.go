package memory

import (
	"context"
	"encoding/json"
	"time"
)

// Limits of projects (API contract §5.9, §10.5).
const (
	MaxProjectName        = 255      // characters
	MaxProjectDescription = 5_000    // characters
	MaxProjectStack       = 10 << 10 // bytes of serialized JSON
	MaxRepoURL            = 500      // characters
	MaxRelationshipType   = 100      // characters, of a project relationship
	// MaxChangeDescription bounds the change of Projects.Impact.
	MaxChangeDescription = 5_000 // characters
)

// Project is a named group of memories, sessions, decisions and patterns
// within an account, addressed by its slug (API contract §4.5, §5.9).
type Project struct {
	ID          string
	Slug        string
	Name        string
	Description *string
	Stack       json.RawMessage // a JSON object, or nil for none
	RepoURL     *string
	// Metadata is a JSON object; nil means {}.
	Metadata    json.RawMessage
	MemoryCount int // memories of the project
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewProject is the input of [Projects.Create].
type NewProject struct {
	Slug        string          // required: ^[a-z0-9][a-z0-9-]*$, ≤ 100 characters, not reserved; a taken slug is a *ConflictError
	Name        string          // required, 1–255 characters
	Description *string         // ≤ 5,000 characters
	Stack       json.RawMessage // JSON object ≤ 10 KiB serialized, or null
	RepoURL     *string         // ≤ 500 characters
	Metadata    json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// ProjectListParams selects a page of projects, newest first.
type ProjectListParams struct {
	Limit  int    // 1–100 (larger is clamped); 0: 20
	Offset int    // ≥ 0; ignored when Cursor is set
	Cursor string // opaque, from Page.NextCursor; wins over Offset
}

// NewProjectRelationship is the input of [Projects.Relate].
type NewProjectRelationship struct {
	Target   string          // required: the target project's slug; created if unknown
	Type     string          // required, free-form, 1–100 characters, e.g. "depends_on"
	Metadata json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// ProjectRelationship is a directed, typed edge between two projects.
type ProjectRelationship struct {
	ID     string
	Source string // the source project's slug
	Target string // the target project's slug
	Type   string
	// Metadata is a JSON object; nil means {}.
	Metadata  json.RawMessage
	CreatedAt time.Time
}

// Directions of a ProjectLink.
const (
	Outgoing = "outgoing" // the project is the edge's source
	Incoming = "incoming" // the project is the edge's target
)

// ProjectLink is one edge as seen from a project: the project at its
// other end, the edge's type and direction.
type ProjectLink struct {
	Slug             string // the project at the other end
	Name             string
	RelationshipType string
	Direction        string          // Outgoing or Incoming
	Metadata         json.RawMessage // the edge's; nil means {}
	CreatedAt        time.Time
}

// ProjectContext is what an agent loads about a project when it starts.
type ProjectContext struct {
	Project     Project
	HotMemories []Memory   // hot, unarchived memories, newest first, ≤ 20
	Decisions   []Decision // active decisions, newest first, ≤ 10
	Patterns    []Pattern  // patterns it adopted or is the source of, most adopted first, ≤ 10
	Markdown    string     // a digest of the three lists, one bullet per item
}

// Impact is the result of [Projects.Impact].
type Impact struct {
	Project           string // the changed project's slug
	ChangeDescription string
	Affected          []AffectedProject // by depth, then slug
}

// AffectedProject is a project that depends, directly (Depth 1) or
// through others, on a changed project, with what of it the change may
// touch.
type AffectedProject struct {
	Slug             string
	Name             string
	RelationshipType string // of the edge by which it was first reached
	Depth            int
	Decisions        []DecisionHit // its active decisions matching the change, best first
	Memories         []Hit         // its memories matching the change, best first
}

// Projects is the project API of an account. Projects are addressed by
// slug.
type Projects interface {
	Create(ctx context.Context, in NewProject) (Project, error)
	Get(ctx context.Context, slug string) (Project, error)
	List(ctx context.Context, p ProjectListParams) (Page[Project], error)
	// Relate adds an edge from the project to another, or returns the
	// existing one; created reports which.
	Relate(ctx context.Context, slug string, in NewProjectRelationship) (rel ProjectRelationship, created bool, err error)
	Dependencies(ctx context.Context, slug string) ([]ProjectLink, error)
	Dependents(ctx context.Context, slug string) ([]ProjectLink, error)
	Related(ctx context.Context, slug string) ([]ProjectLink, error)
	Context(ctx context.Context, slug string) (ProjectContext, error)
	// Impact finds what of the projects depending on one a change may
	// touch.
	Impact(ctx context.Context, slug, change string) (Impact, error)
	// SharedPatterns returns the patterns both projects adopted.
	SharedPatterns(ctx context.Context, a, b string) ([]Pattern, error)
}
