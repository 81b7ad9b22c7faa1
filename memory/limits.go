package memory

import (
	"github.com/memoryrelay/memoryrelay/internal/storedjson"
)

// Limits shared by the inputs of several resource groups. Every string a
// caller can store has a maximum (the constants here and beside each
// resource's types); past one a call fails with a *ValidationError (HTTP
// 400 validation_error) and nothing is written. Characters are Unicode
// code points, as the API contract §1.6 counts content; bytes are UTF-8
// bytes. The values are the contract's (§1.6, §5, §10.5) where it gives
// one; the others are the implementation's, and README.md ("Limits")
// lists every stored field.
const (
	// MaxMetadataSize bounds the serialized JSON of the metadata of every
	// object that has one (§1.6, §10.5): memories, agents, sessions,
	// entities, decisions, patterns, projects, project relationships and
	// API keys.
	MaxMetadataSize = storedjson.MaxSize // bytes (10 KiB)

	// MaxJSONDepth is the deepest nesting of arrays and objects accepted
	// in every stored JSON value (every metadata, a project's Stack) and
	// in a value of SearchParams.MetadataFilter, which is compared with
	// stored values. The outermost object is level 1.
	MaxJSONDepth = storedjson.MaxDepth // 32 levels

	// MaxAgentRef bounds an agent reference (an AgentID field or filter,
	// an agent's ID): 1 to 255 bytes of UTF-8, not only whitespace.
	MaxAgentRef = 255 // bytes

	// MaxProjectSlug bounds a project reference: NewMemory.Project,
	// NewDecision.Project, NewPattern.SourceProject and the Project
	// filters.
	MaxProjectSlug = 100 // characters

	// MaxTags is the most tags a decision or a pattern may carry, each at
	// most MaxTagChars characters (§10.5).
	MaxTags     = 20
	MaxTagChars = 100 // characters

	// DefaultAgent is the agent of a memory or session created without
	// one.
	DefaultAgent = "default"
)
