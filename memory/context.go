package memory

import (
	"context"
	"time"
)

// Limits and defaults of context building (API contract §5.2 #10, §5.3
// #13).
const (
	// DefaultContextLimit and MaxContextLimit are the default and the
	// largest TextContextParams.Limit; a larger one is clamped.
	DefaultContextLimit = 10
	MaxContextLimit     = 50
	// DefaultContextMemories and MaxContextMemories are the default and
	// the largest BuildContextParams.MaxMemories.
	DefaultContextMemories = 20
	MaxContextMemories     = 100
	// MinContextTokens and MaxContextTokens bound a non-zero
	// BuildContextParams.MaxTokens.
	MinContextTokens = 100
	MaxContextTokens = 128_000
	// MaxExcludeIDs is the most ids BuildContextParams.ExcludeIDs may list.
	MaxExcludeIDs = 1000

	// CharsPerToken is the estimate behind every token budget: a token is
	// about 4 characters (code points) of text, so a text of n characters
	// is ceil(n/4) tokens.
	CharsPerToken = 4
	// SeparatorTokens is what Build charges each packed memory on top of
	// its text (ContextItem.Tokens), for the separator and framing a
	// client puts between memories.
	SeparatorTokens = 1
	// TextContextSeparator joins the memories of a TextContext.
	TextContextSeparator = "\n\n"
)

// TextContextParams is the input of [Contexts.Text].
type TextContextParams struct {
	Query     string  // required, 1–51,200 characters
	AgentID   *string // agent id or name; nil: every agent; unknown: no matches
	Limit     int     // memories searched: 1–50 (larger is clamped); 0: 10
	Threshold float64 // keep matches with score ≥ Threshold; [0,1]; default 0
	MaxTokens int     // the text's budget in estimated tokens; 0: none
	Project   *string // project slug filter
}

// TextContext is a block of text built from the memories that best match
// a query.
type TextContext struct {
	Text       string // the matches' content, best first, cut to the budget
	Hits       []Hit  // the memories whose text is in Text, best first
	TotalChars int    // the length of Text in characters (code points)
}

// BuildContextParams is the input of [Contexts.Build].
type BuildContextParams struct {
	Query       string  // required, 1–51,200 characters
	AgentID     *string // agent id or name; nil: every agent; unknown: no memories
	MaxMemories int     // 1–100; 0: 20
	MaxTokens   int     // the token budget, 100–128,000; 0: none
	Mode        string  // ModeHybrid (default), ModeSemantic or ModeKeyword
	// ExcludeIDs are memory ids never to include (at most 1,000).
	ExcludeIDs []string
}

// BuiltContext is the result of [Contexts.Build].
type BuiltContext struct {
	Items      []ContextItem // best first
	TokenCount int           // the sum of Items' Tokens; ≤ MaxTokens when a budget is set
	Latency    time.Duration // time taken
}

// ContextItem is a memory packed into a BuiltContext.
type ContextItem struct {
	Memory Memory
	Score  float64 // the search score, in [0,1]
	Tokens int     // the estimated tokens of the content and its separator
}

// Contexts builds prompt context from an account's memories.
type Contexts interface {
	// Text joins the content of the best matches of a query into one
	// block of text within a budget.
	Text(ctx context.Context, p TextContextParams) (TextContext, error)
	// Build packs the best matches of a query into a token budget.
	Build(ctx context.Context, p BuildContextParams) (BuiltContext, error)
}
