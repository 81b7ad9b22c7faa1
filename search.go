package memoryrelay

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/storedjson"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/index"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// indexStore is the storage the in-process vector index is built over: the
// change feed and the reads of a search of the index.
type indexStore interface {
	index.Store
	OpenVectorFeed(ctx context.Context) (index.Feed, error)
}

// The wiring of retrieval: searches are package search's Engine over the
// store, and its vector candidates come from package search/index's Index
// over the store's change feed once Open has built it (memoryrelay.go).

// hit is a search hit as the engine returns it: the stored row (its Seq
// reads its vector) and the score.
type hit = search.Result[store.Memory]

// openIndex builds the in-process vector index over st's change feed.
func openIndex(ctx context.Context, st indexStore, dim int) (*index.Index, error) {
	feed, err := st.OpenVectorFeed(ctx)
	if err != nil {
		return nil, err
	}
	return index.Open(ctx, feed, st, vector.IndexOptions{Dim: dim})
}

// searchMemories checks p and ranks the account's memories against it, in
// one call of the engine (search.Engine.Search: scores, modes, fusion by
// Options.Fusion, filters applied inside the search).
func (r *Relay) searchMemories(ctx context.Context, accountID string, p memory.SearchParams) ([]hit, error) {
	if strings.TrimFunc(p.Query, unicode.IsSpace) == "" {
		return nil, invalid("Query", "Query is required")
	}
	if utf8.RuneCountInString(p.Query) > MaxContentChars {
		return nil, invalid("Query", "Query must be 1-%d characters", MaxContentChars)
	}
	limit, err := pageLimit(p.Limit, DefaultHits, MaxHits)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(p.Threshold) || p.Threshold < 0 || p.Threshold > 1 {
		return nil, invalid("Threshold", "Threshold must be between 0 and 1")
	}
	if p.MinImportance != nil && (math.IsNaN(*p.MinImportance) || *p.MinImportance < 0 || *p.MinImportance > 1) {
		return nil, invalid("MinImportance", "MinImportance must be between 0 and 1")
	}
	mode := p.Mode
	if mode == "" {
		mode = search.ModeHybrid
	}
	if !oneOf(mode, []string{search.ModeHybrid, search.ModeSemantic, search.ModeKeyword}) {
		return nil, invalid("Mode", "Mode must be hybrid, semantic or keyword")
	}
	if p.Scope != "" && p.Scope != "all" && !oneOf(p.Scope, memScopes) {
		return nil, invalid("Scope", "Scope must be session, long-term or all")
	}
	f := search.Filter{
		AccountID: accountID, AgentID: p.AgentID, UserID: p.UserID, SessionID: p.SessionID, Tier: p.Tier,
		MinImportance: p.MinImportance, Project: p.Project, Scope: p.Scope, Namespace: p.Namespace,
		IncludeConfidential: p.IncludeConfidential, IncludeArchived: p.IncludeArchived,
	}
	if len(p.MetadataFilter) > MaxMetadataFilterKeys {
		return nil, invalid("MetadataFilter", "MetadataFilter must have at most %d keys", MaxMetadataFilterKeys)
	}
	if len(p.MetadataFilter) > 0 {
		f.Metadata = make(map[string][]byte, len(p.MetadataFilter))
		for k, v := range p.MetadataFilter {
			if !json.Valid(v) {
				return nil, invalid("MetadataFilter", "MetadataFilter values must be JSON")
			}
			// Counted as in stored metadata, the filter object being level
			// 1: anything deeper could match nothing stored.
			if storedjson.Exceeds(v, MaxJSONDepth-1) {
				return nil, invalid("MetadataFilter", "MetadataFilter must be nested at most %d levels deep", MaxJSONDepth)
			}
			f.Metadata[k] = v
		}
	}
	return r.engine.Search(ctx, search.Query{Text: p.Query, Mode: mode, Limit: limit, Threshold: p.Threshold, Filter: f})
}
