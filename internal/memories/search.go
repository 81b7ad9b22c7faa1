package memories

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search"
)

// Hits checks p and ranks the account's memories against it, in one call
// of the engine (search.Engine.Search: scores, modes, fusion by the
// Relay's Options.Fusion, filters applied inside the search). Search and
// impact analysis search through it; context building through Query and
// Run.
func (s *Service) Hits(ctx context.Context, accountID string, p memory.SearchParams) ([]Hit, error) {
	var v valid.Problems
	q := Query(&v, accountID, p)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.Run(ctx, q)
}

// Run ranks memories against a query of the engine (made by Query).
func (s *Service) Run(ctx context.Context, q search.Query) ([]Hit, error) {
	return s.c.Engine.Search(ctx, q)
}

// Query checks the params of a search of the account's memories,
// recording their problems in v, and returns the engine's query.
func Query(v *valid.Problems, accountID string, p memory.SearchParams) search.Query {
	if valid.Blank(p.Query) {
		v.Add("Query", "Query is required")
	} else if utf8.RuneCountInString(p.Query) > memory.MaxContentChars {
		v.Add("Query", "Query must be 1-%d characters", memory.MaxContentChars)
	}
	limit := v.Limit(p.Limit, memory.DefaultHits, memory.MaxHits)
	v.Unit("Threshold", p.Threshold)
	if p.MinImportance != nil {
		v.Unit("MinImportance", *p.MinImportance)
	}
	mode := p.Mode
	if mode == "" {
		mode = search.ModeHybrid
	}
	if !valid.OneOf(mode, []string{search.ModeHybrid, search.ModeSemantic, search.ModeKeyword}) {
		v.Add("Mode", "Mode must be hybrid, semantic or keyword")
	}
	checkScopeFilter(v, p.Scope)
	f := search.Filter{
		AccountID: accountID, AgentID: p.AgentID, UserID: p.UserID, SessionID: p.SessionID, Tier: p.Tier,
		MinImportance: p.MinImportance, Project: p.Project, Scope: p.Scope, Namespace: p.Namespace,
		IncludeConfidential: p.IncludeConfidential, IncludeArchived: p.IncludeArchived,
	}
	if len(p.MetadataFilter) > memory.MaxMetadataFilterKeys {
		v.Add("MetadataFilter", "MetadataFilter must have at most %d keys", memory.MaxMetadataFilterKeys)
	} else if len(p.MetadataFilter) > 0 {
		f.Metadata = make(map[string][]byte, len(p.MetadataFilter))
		for k, val := range p.MetadataFilter {
			if !json.Valid(val) {
				v.Add("MetadataFilter", "MetadataFilter values must be JSON")
				break
			}
			// Counted as in stored metadata, the filter object being level
			// 1: anything deeper could match nothing stored.
			if storedjson.Exceeds(val, memory.MaxJSONDepth-1) {
				v.Add("MetadataFilter", "MetadataFilter must be nested at most %d levels deep", memory.MaxJSONDepth)
				break
			}
			f.Metadata[k] = val
		}
	}
	return search.Query{Text: p.Query, Mode: mode, Limit: limit, Threshold: p.Threshold, Filter: f}
}

// embed returns the vector of text (1–memory.MaxContentChars characters,
// not blank) from the embedder memories are indexed with. prefix is "",
// memory.EmbedPrefixQuery or memory.EmbedPrefixDocument; the embedder is
// symmetric (queries and documents are embedded alike, so that the
// vector is comparable with stored ones), so it is checked but does not
// change the result.
func (s *Service) embed(ctx context.Context, text, prefix string) (memory.Embedding, error) {
	var v valid.Problems
	n := utf8.RuneCountInString(text)
	if !utf8.ValidString(text) || n == 0 || n > memory.MaxContentChars || valid.Blank(text) {
		v.Add("text", "text must be 1-%d characters and not blank", memory.MaxContentChars)
	}
	switch prefix {
	case "", memory.EmbedPrefixQuery, memory.EmbedPrefixDocument:
	default:
		v.Add("prefix", "prefix must be search_query or search_document")
	}
	if err := v.Err(); err != nil {
		return memory.Embedding{}, err
	}
	vec, err := s.c.Index.Embed(ctx, text)
	if err != nil {
		return memory.Embedding{}, err
	}
	return memory.Embedding{Vector: vec, Dimension: len(vec), Model: s.c.Index.Embedder.Model()}, nil
}
