package memoryrelay

import (
	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/search"
)

// Limits on what a request may hold, beyond the API contract's own
// (README "Limits"). Past each one the call is a *ValidationError (400
// over HTTP), never an internal error: each bounds a list or a nesting
// that would otherwise become one SQL term, variable or recursion level
// per element.
const (
	// MaxJSONDepth is the deepest nesting of arrays and objects accepted
	// in every JSON value that is stored: the metadata of memories
	// (create, update, batch, v2), agents, entities, sessions, decisions,
	// patterns, projects, project relationships and API keys, and a
	// project's stack; and in a metadata_filter value, which is compared
	// with stored values. The outermost object is level 1.
	MaxJSONDepth = storedjson.MaxDepth

	// MaxQueryTerms is how many distinct terms of a search query the
	// full-text side considers (search.MaxQueryTerms): the first
	// MaxQueryTerms distinct terms in the order they appear in the query
	// (repeats count once). Of those, the rarest are matched within
	// Options.MaxTextCandidates, and at most 64 of them (the longest) go
	// into SQLite's MATCH expression. The query's embedding is made from
	// the whole query. So every query of up to MaxContentChars characters
	// is answered, on search, text context and v2 context alike.
	MaxQueryTerms = search.MaxQueryTerms

	// MaxMetadataFilterKeys is the most keys a search's metadata_filter
	// may have (each is one SQL condition).
	MaxMetadataFilterKeys = 50

	// MaxTagFilter is the most distinct tags a decision list may filter
	// on (?tags=a,b,…; each is one SQL condition). It equals the most
	// tags a decision may carry, so no filter that could match is
	// refused.
	MaxTagFilter = 20

	// MaxExcludeIDs is the most ids a context build's exclude_memory_ids
	// may list.
	MaxExcludeIDs = 1000

	// MaxOffset is the largest offset a list accepts, as a parameter or
	// inside a cursor; a cursor that claims a larger one is not valid.
	// Offsets and offset+limit stay far from integer overflow.
	MaxOffset = 1_000_000_000
)
