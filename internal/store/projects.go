package store

import (
	"regexp"
	"time"
)

// Project is a named group of memories, sessions, decisions and patterns
// within an account, addressed by its slug (API contract §4.5, §5.9).
type Project struct {
	ID          string
	AccountID   string
	Slug        string
	Name        string
	Description *string
	Stack       []byte // JSON object, or nil for none
	RepoURL     *string
	Metadata    []byte // JSON object; nil means {}
	MemoryCount int    // memories whose project_id is this project; filled by reads
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ProjectRelationship is a directed, typed edge between two projects of an
// account.
type ProjectRelationship struct {
	ID        string
	AccountID string
	Source    string // source project slug
	Target    string // target project slug
	Type      string // e.g. depends_on, api_consumer, shares_schema
	Metadata  []byte // JSON object; nil means {}
	CreatedAt time.Time
}

// Directions of a [ProjectLink].
const (
	Outgoing = "outgoing"
	Incoming = "incoming"
)

// ProjectLink is one edge as seen from a project: the project at its other
// end, the edge's type and direction.
type ProjectLink struct {
	Slug             string // the project at the other end
	Name             string
	RelationshipType string
	Direction        string // Outgoing (the project is the source) or Incoming
	Metadata         []byte // the edge's; nil means {}
	CreatedAt        time.Time
}

// Dependent is a project reached by walking incoming edges back from
// another: it depends, directly or through others, on that project.
type Dependent struct {
	ProjectID        string
	Slug             string
	Name             string
	RelationshipType string // the type of the edge by which it was first reached
	Depth            int    // 1 for a direct dependent, 2 for a dependent of one, …
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// MaxSlug is the longest project slug.
const MaxSlug = 100

// ValidSlug reports whether s is a project slug (API contract §5.9):
// ^[a-z0-9][a-z0-9-]*$, at most 100 characters.
func ValidSlug(s string) bool { return len(s) <= MaxSlug && slugRE.MatchString(s) }

// ReservedSlug reports whether s is a path segment that routes claim
// under /v1/projects and so can never name a project.
func ReservedSlug(s string) bool { return s == "impact-analysis" || s == "shared-patterns" }
