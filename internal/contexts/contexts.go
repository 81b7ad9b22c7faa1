package contexts

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/contextpack"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/memories"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// DuplicateCosine is the cosine similarity at or above which Build treats
// two memories as near-duplicates and keeps only the better ranked one.
const DuplicateCosine = 0.95

// rules are the packing rules of context building.
var rules = contextpack.Rules{CharsPerToken: memory.CharsPerToken, SeparatorTokens: memory.SeparatorTokens, DuplicateCosine: DuplicateCosine}

// EstimateTokens is the token estimate of s that context building uses:
// ceil(runes/memory.CharsPerToken), so "" is 0 tokens, 1–4 characters 1
// token, 5–8 characters 2 tokens.
func EstimateTokens(s string) int { return rules.Tokens(s) }

// Store is the storage context building reads the vectors of memories
// from.
type Store interface {
	Vectors(ctx context.Context, seqs []int64) (map[int64][]float32, error)
}

// Service builds the contexts of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct {
	st       Store
	gate     guard.Gate
	clock    func() time.Time
	memories *memories.Service
}

// New returns the context building of the memories searched by mem, whose
// vectors st reads; gate admits each call, clock times a build.
func New(st Store, gate guard.Gate, clock func() time.Time, mem *memories.Service) *Service {
	return &Service{st: st, gate: gate, clock: clock, memories: mem}
}

// For returns the context API of the account.
func (s *Service) For(accountID string) memory.Contexts { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Contexts = account{}

func (a account) Text(ctx context.Context, p memory.TextContextParams) (memory.TextContext, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.TextContext, error) { return a.s.text(ctx, a.id, p) })
}

func (a account) Build(ctx context.Context, p memory.BuildContextParams) (memory.BuiltContext, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.BuiltContext, error) { return a.s.build(ctx, a.id, p) })
}

// text searches the account's memories (hybrid mode, as memory search)
// and joins the matches' content, best first, with contextpack.Join into
// one text of at most MaxTokens·memory.CharsPerToken characters. Whole
// memories are added while they fit; the first one that does not fit is
// cut at the last word boundary (whitespace) within the remaining budget,
// never inside a word, and ends the text; if not even its first word fits,
// it is left out. Text is therefore always a prefix, at a word boundary,
// of the text an unlimited budget would give.
func (s *Service) text(ctx context.Context, accountID string, p memory.TextContextParams) (memory.TextContext, error) {
	var v valid.Problems
	limit := v.Limit(p.Limit, memory.DefaultContextLimit, memory.MaxContextLimit)
	if p.MaxTokens < 0 {
		v.Add("MaxTokens", "MaxTokens must be a positive integer")
	}
	if p.Project != nil {
		if n := utf8.RuneCountInString(*p.Project); n == 0 || n > memory.MaxProjectSlug {
			v.Add("Project", "Project must be 1-%d characters", memory.MaxProjectSlug)
		}
	}
	q := memories.Query(&v, accountID, memory.SearchParams{
		Query: p.Query, Limit: limit, Threshold: p.Threshold, AgentID: p.AgentID, Project: p.Project,
	})
	if err := v.Err(); err != nil {
		return memory.TextContext{}, err
	}
	hits, err := s.memories.Run(ctx, q)
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
		out.Hits = append(out.Hits, convert.Hit(h))
	}
	return out, nil
}

// build ranks the account's memories against the query and packs the
// best of them, whole, into a token budget (contextpack.Rules.Pack):
//
//   - Candidates are the top memory.MaxHits search matches (as memory
//     search in the given mode) minus ExcludeIDs, best first.
//   - Near-duplicates are dropped: a candidate whose content equals, after
//     lowercasing and collapsing whitespace, that of a memory already
//     packed, or whose embedding has cosine similarity ≥ DuplicateCosine
//     with one, is skipped.
//   - Each memory costs EstimateTokens(content) + memory.SeparatorTokens,
//     i.e. ceil(runes/4) + 1 tokens. A memory that does not fit in what
//     remains of MaxTokens is skipped whole (never cut) and packing goes
//     on with the next, smaller ones, so TokenCount never exceeds
//     MaxTokens.
//   - Packing stops at MaxMemories memories.
func (s *Service) build(ctx context.Context, accountID string, p memory.BuildContextParams) (memory.BuiltContext, error) {
	start := s.clock()
	var v valid.Problems
	if p.MaxMemories == 0 {
		p.MaxMemories = memory.DefaultContextMemories
	}
	if p.MaxMemories < 1 || p.MaxMemories > memory.MaxContextMemories {
		v.Add("MaxMemories", "MaxMemories must be between 1 and %d", memory.MaxContextMemories)
	}
	if p.MaxTokens != 0 && (p.MaxTokens < memory.MinContextTokens || p.MaxTokens > memory.MaxContextTokens) {
		v.Add("MaxTokens", "MaxTokens must be between %d and %d", memory.MinContextTokens, memory.MaxContextTokens)
	}
	if len(p.ExcludeIDs) > memory.MaxExcludeIDs {
		v.Add("ExcludeIDs", "ExcludeIDs must hold at most %d ids", memory.MaxExcludeIDs)
	}
	q := memories.Query(&v, accountID, memory.SearchParams{Query: p.Query, Limit: memory.MaxHits, Mode: p.Mode, AgentID: p.AgentID})
	if err := v.Err(); err != nil {
		return memory.BuiltContext{}, err
	}
	hits, err := s.memories.Run(ctx, q)
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
	vecs, err := s.st.Vectors(ctx, seqs)
	if err != nil {
		return memory.BuiltContext{}, fmt.Errorf("memoryrelay: context vectors: %w", err)
	}
	candidates := make([]contextpack.Candidate, len(kept))
	for i, h := range kept {
		candidates[i] = contextpack.Candidate{Text: h.Memory.Content, Vector: vecs[h.Memory.Seq]} // nil: none, or not decodable
	}
	packed, tokens := rules.Pack(candidates, p.MaxMemories, p.MaxTokens)
	out := memory.BuiltContext{Items: make([]memory.ContextItem, 0, len(packed)), TokenCount: tokens}
	for _, k := range packed {
		h := kept[k.Index]
		out.Items = append(out.Items, memory.ContextItem{Memory: convert.Memory(h.Memory), Score: h.Score, Tokens: k.Tokens})
	}
	out.Latency = max(s.clock().Sub(start), 0)
	return out, nil
}
