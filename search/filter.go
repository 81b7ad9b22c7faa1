package search

// Filter selects the memories of one account that a search ranks. A nil
// pointer and an empty string or map select everything; each set field
// narrows the selection (conditions are joined by AND). Filters are
// applied inside candidate generation, on the lexical and the vector side
// alike, so a filtered search still finds Limit hits when that many match.
type Filter struct {
	// AccountID is the account whose memories are searched. Required: a
	// search never crosses accounts.
	AccountID string

	// AgentID is an agent's id or name (API.md §5.5); one the account has
	// no agent by selects nothing.
	AgentID *string
	// UserID, SessionID, Tier and Project select the memories whose field
	// equals the value.
	UserID    *string
	SessionID *string
	Tier      *string
	Project   *string // the project slug, as stored with the memory
	// MinImportance selects the memories whose importance is at least
	// the value, in [0,1].
	MinImportance *float64
	// Scope is "session" or "long-term"; "" and "all" select either.
	Scope string
	// Metadata maps top-level keys of a memory's metadata to the JSON
	// values they must equal (objects and arrays compared as JSON, other
	// values by type and value). The caller bounds the number of keys: the
	// storage may turn each into one condition.
	Metadata map[string][]byte
	// Namespace selects the memories whose metadata "namespace" equals
	// the value.
	Namespace *string

	// IncludeConfidential and IncludeArchived widen a search to the
	// memories it skips by default: those of visibility "confidential"
	// and those archived.
	IncludeConfidential bool
	IncludeArchived     bool
}
