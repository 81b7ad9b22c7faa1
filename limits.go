package memoryrelay

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/storedjson"
)

// Limits on stored fields. Every string a caller can store has a maximum,
// checked by the facade before anything is written, whichever path (Go or
// HTTP) it comes by; beyond it the call fails with a *ValidationError
// (HTTP 400 validation_error). Characters are Unicode code points, as the
// API contract §1.6 counts content; bytes are UTF-8 bytes. The values are
// the contract's (§1.6, §5, §10.5) where it gives one; the others are ours
// and documented in README.md, "Limits" → "Stored fields", which lists
// every stored field.
//
// The limits of agents are in agents.go (MaxAgentName,
// MaxAgentDescription) and those of keys in keys.go (MaxKeyName).
const (
	// MaxContentChars bounds memory content (1–51,200 characters, §1.6),
	// search queries and embed texts.
	MaxContentChars = 51_200
	// MaxMetadataSize bounds the serialized JSON of metadata on every
	// object that has one (§1.6, §10.5): memories, agents, sessions,
	// entities, decisions, patterns, projects and project relationships.
	MaxMetadataSize = storedjson.MaxSize // bytes (10 KiB)
	// MaxAgentRef bounds an agent reference (agent_id): an id or a name.
	MaxAgentRef = 255 // bytes
	// MaxUserID bounds a memory's user_id (ours: the contract gives none).
	MaxUserID = 255 // characters
	// MaxProjectSlug bounds a project reference (memory project, decision
	// project_slug, pattern source_project).
	MaxProjectSlug = 100 // characters

	// Sessions (§5.6, §10.6).
	MaxSessionTitle   = 500    // characters
	MaxSessionProject = 255    // characters
	MaxExternalID     = 500    // characters
	MaxSessionSummary = 50_000 // characters

	// Entities (§5.4, §10.5).
	MaxEntityName   = 255 // characters (§10.5 raises §5.4's 200)
	MaxEntityType   = 50  // characters
	MaxRelationship = 100 // characters, of an entity link

	// Decisions (§5.7, §10.5).
	MaxDecisionTitle        = 500    // characters
	MaxDecisionRationale    = 50_000 // characters
	MaxDecisionAlternatives = 50_000 // characters

	// Tags of decisions and patterns (§10.5): at most MaxTags of them, each
	// at most MaxTagChars characters.
	MaxTags     = 20
	MaxTagChars = 100

	// Patterns (§5.8, §10.5).
	MaxPatternTitle       = 500    // characters
	MaxPatternDescription = 50_000 // characters
	MaxPatternCategory    = 100    // characters
	MaxPatternExampleCode = 50_000 // characters
	MaxPatternTags        = MaxTags

	// Projects (§5.9, §10.5).
	MaxProjectName        = 255      // characters
	MaxProjectDescription = 5_000    // characters
	MaxProjectStack       = 10 << 10 // bytes of serialized JSON
	MaxRepoURL            = 500      // characters
	MaxRelationshipType   = 100      // characters, of a project relationship

	// MaxAccountName bounds an account's name (Go API only; ours).
	MaxAccountName = 255 // characters
)

// Limits on the work of one request, whatever is stored. They are not
// errors: past them a read returns less, as documented on each.
const (
	// MaxSessionMemories is how many memories a session read embeds (the
	// newest; GET /v1/sessions/{id}). Session.MemoryCount counts them all.
	MaxSessionMemories = 100
	// MaxMemoryEntities is how many linked entities a memory lists in its
	// Entities (the first linked, then by name), on every read.
	MaxMemoryEntities = store.MaxMemoryEntities
	// MaxRankCandidates is how many decisions (decision check, impact
	// analysis) or patterns (pattern search) are ranked per request: those
	// whose embeddings are nearest the query's. Only their titles and
	// bodies are read for ranking, one row at a time, and only the final
	// hits are read whole. Scoring a body of 50,000 characters takes about
	// 1.5 ms, so even at the limits a request ranks in about a second.
	MaxRankCandidates = 500
	// MaxSharedPatterns is how many patterns shared-patterns returns at
	// most (the most adopted).
	MaxSharedPatterns = 100
	// MaxProjectLinks is how many edges the dependencies, dependents and
	// related endpoints return at most (the newest).
	MaxProjectLinks = 100
	// MaxImpactProjects is how many dependent projects impact analysis
	// examines at most (the nearest, by depth then slug); each costs a
	// decision ranking and a memory search.
	MaxImpactProjects = 20
	// MaxImpactCandidates is how many of each affected project's active
	// decisions impact analysis ranks (the nearest the change), so that
	// the whole analysis ranks at most 20 × 50 decisions.
	MaxImpactCandidates = 50
)

// textField requires s to be valid UTF-8 of 1–max characters, not blank.
// field is the Go field (or parameter) that holds s.
func textField(field, s string, max int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n == 0 || n > max || strings.TrimFunc(s, unicode.IsSpace) == "" {
		return invalid(field, "%s must be 1-%d characters and not blank", field, max)
	}
	return nil
}

// optTextField is textField for an optional field of at most max
// characters that may be empty.
func optTextField(field string, s *string, max int) error {
	if s != nil && (!utf8.ValidString(*s) || utf8.RuneCountInString(*s) > max) {
		return invalid(field, "%s must be at most %d characters", field, max)
	}
	return nil
}

// checkTags accepts at most MaxTags tags of valid UTF-8, each at most
// MaxTagChars characters.
func checkTags(tags []string) error {
	if len(tags) > MaxTags {
		return invalid("Tags", "Tags must have at most %d items", MaxTags)
	}
	for _, t := range tags {
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > MaxTagChars {
			return invalid("Tags", "Tags must be strings of valid UTF-8, each at most %d characters", MaxTagChars)
		}
	}
	return nil
}
