package memoryrelay

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/contextpack"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// contextStore is the storage context building reads the vectors of memories from.
type contextStore interface {
	Vectors(ctx context.Context, seqs []int64) (map[int64][]float32, error)
}

// DuplicateCosine is the cosine similarity at or above which
// Contexts.Build treats two memories as near-duplicates and keeps only the
// better ranked one.
const DuplicateCosine = 0.95

// contextRules are the packing rules of context building, the constants
// above.
var contextRules = contextpack.Rules{CharsPerToken: memory.CharsPerToken, SeparatorTokens: memory.SeparatorTokens, DuplicateCosine: DuplicateCosine}

// EstimateTokens is the token estimate of s used by context building:
// ceil(runes/memory.CharsPerToken), so "" is 0 tokens, 1–4 characters 1 token,
// 5–8 characters 2 tokens.
func EstimateTokens(s string) int { return contextRules.Tokens(s) }

// textContext searches the account's memories (hybrid mode, as
// searchMemories) and joins the matches' content, best first, with
// contextpack.Join into one text of at most MaxTokens·memory.CharsPerToken
// characters. Whole memories are added while they fit; the first one that
// does not fit is cut at the last word boundary (whitespace) within the
// remaining budget, never inside a word, and ends the text; if not even
// its first word fits, it is left out. Text is therefore always a prefix,
// at a word boundary, of the text an unlimited budget would give.
func (r *Relay) textContext(ctx context.Context, accountID string, p memory.TextContextParams) (memory.TextContext, error) {
	limit, err := pageLimit(p.Limit, memory.DefaultContextLimit, memory.MaxContextLimit)
	if err != nil {
		return memory.TextContext{}, err
	}
	if p.MaxTokens < 0 {
		return memory.TextContext{}, invalid("MaxTokens", "MaxTokens must be a positive integer")
	}
	if p.Project != nil {
		if n := utf8.RuneCountInString(*p.Project); n == 0 || n > memory.MaxProjectSlug {
			return memory.TextContext{}, invalid("Project", "Project must be 1-%d characters", memory.MaxProjectSlug)
		}
	}
	hits, err := r.searchMemories(ctx, accountID, memory.SearchParams{
		Query: p.Query, Limit: limit, Threshold: p.Threshold, AgentID: p.AgentID, Project: p.Project,
	})
	if err != nil {
		return memory.TextContext{}, err
	}
	texts := make([]string, len(hits))
	for i, h := range hits {
		texts[i] = h.Memory.Content
	}
	out := memory.TextContext{Hits: []memory.Hit{}}
	var n int
	out.Text, n, out.TotalChars = contextpack.Join(texts, memory.TextContextSeparator, p.MaxTokens*memory.CharsPerToken)
	for _, h := range hits[:n] {
		out.Hits = append(out.Hits, hitOf(h))
	}
	return out, nil
}

// buildContext ranks the account's memories against the query and packs
// the best of them, whole, into a token budget (contextpack.Rules.Pack):
//
//   - Candidates are the top 100 search matches (as searchMemories
//     in the given mode) minus ExcludeIDs, best first.
//   - Near-duplicates are dropped: a candidate whose content equals, after
//     lowercasing and collapsing whitespace, that of a memory already
//     packed, or whose embedding has cosine similarity ≥ DuplicateCosine
//     with one, is skipped.
//   - Each memory costs EstimateTokens(content) + memory.SeparatorTokens, i.e.
//     ceil(runes/4) + 1 tokens. A memory that does not fit in what remains
//     of MaxTokens is skipped whole (never cut) and packing goes on with
//     the next, smaller ones, so TokenCount never exceeds MaxTokens.
//   - Packing stops at MaxMemories memories.
func (r *Relay) buildContext(ctx context.Context, accountID string, p memory.BuildContextParams) (memory.BuiltContext, error) {
	start := r.opts.Now()
	if p.MaxMemories == 0 {
		p.MaxMemories = memory.DefaultContextMemories
	}
	if p.MaxMemories < 1 || p.MaxMemories > memory.MaxContextMemories {
		return memory.BuiltContext{}, invalid("MaxMemories", "MaxMemories must be between 1 and %d", memory.MaxContextMemories)
	}
	if p.MaxTokens != 0 && (p.MaxTokens < memory.MinContextTokens || p.MaxTokens > memory.MaxContextTokens) {
		return memory.BuiltContext{}, invalid("MaxTokens", "MaxTokens must be between %d and %d", memory.MinContextTokens, memory.MaxContextTokens)
	}
	if len(p.ExcludeIDs) > memory.MaxExcludeIDs {
		return memory.BuiltContext{}, invalid("ExcludeIDs", "ExcludeIDs must hold at most %d ids", memory.MaxExcludeIDs)
	}
	hits, err := r.searchMemories(ctx, accountID, memory.SearchParams{Query: p.Query, Limit: memory.MaxHits, Mode: p.Mode, AgentID: p.AgentID})
	if err != nil {
		return memory.BuiltContext{}, err
	}
	exclude := make(map[string]bool, len(p.ExcludeIDs))
	for _, id := range p.ExcludeIDs {
		if id, ok := uuid.Canonical(id); ok {
			exclude[id] = true
		}
	}
	kept := hits[:0:0]
	seqs := make([]int64, 0, len(hits))
	for _, h := range hits {
		if !exclude[h.Memory.ID] {
			kept = append(kept, h)
			seqs = append(seqs, h.Memory.Seq)
		}
	}
	vecs, err := r.store.Vectors(ctx, seqs)
	if err != nil {
		return memory.BuiltContext{}, fmt.Errorf("memoryrelay: context vectors: %w", err)
	}
	candidates := make([]contextpack.Candidate, len(kept))
	for i, h := range kept {
		candidates[i] = contextpack.Candidate{Text: h.Memory.Content, Vector: vecs[h.Memory.Seq]} // nil: none, or not decodable
	}
	packed, tokens := contextRules.Pack(candidates, p.MaxMemories, p.MaxTokens)
	out := memory.BuiltContext{Items: make([]memory.ContextItem, 0, len(packed)), TokenCount: tokens}
	for _, k := range packed {
		h := kept[k.Index]
		out.Items = append(out.Items, memory.ContextItem{Memory: memoryOf(h.Memory), Score: h.Score, Tokens: k.Tokens})
	}
	out.Latency = max(r.opts.Now().Sub(start), 0)
	return out, nil
}
