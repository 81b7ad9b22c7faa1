package memoryrelay

import (
	"context"
	"encoding/json"
	"strings"
	"unicode"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// Defaults and limits of pattern search (API contract §5.8); the limits of
// the stored fields are in limits.go.
const (
	DefaultPatternHits      = 10
	MaxPatternHits          = 50
	DefaultPatternThreshold = 0.3
)

var patternScopes = []string{"global", "project"}

// Pattern is a reusable practice (API contract §4.5). Tags is never nil.
type Pattern = store.Pattern

// NewPattern is the input of [Relay.CreatePattern].
type NewPattern struct {
	Title       string   // required, 1–500 characters, not blank
	Description string   // required, 1–50,000 characters, not blank
	Category    *string  // ≤ 100 characters
	ExampleCode *string  // ≤ 50,000 characters
	Scope       string   // global (default) or project
	Tags        []string // at most 20, each ≤ 100 characters
	// SourceProject is the slug of the project the pattern comes from,
	// ≤ 100 characters, required when Scope is project; created if unknown.
	SourceProject *string
	Metadata      json.RawMessage // JSON object ≤ 10 KiB; default {}
}

// CreatePattern validates, embeds (title and description) and stores a
// pattern.
func (r *Relay) CreatePattern(ctx context.Context, accountID string, in NewPattern) (Pattern, error) {
	if err := textField("title", in.Title, MaxPatternTitle); err != nil {
		return Pattern{}, err
	}
	if err := textField("description", in.Description, MaxPatternDescription); err != nil {
		return Pattern{}, err
	}
	if err := optTextField("category", in.Category, MaxPatternCategory); err != nil {
		return Pattern{}, err
	}
	if err := optTextField("example_code", in.ExampleCode, MaxPatternExampleCode); err != nil {
		return Pattern{}, err
	}
	scope := "global"
	if in.Scope != "" {
		if !oneOf(in.Scope, patternScopes) {
			return Pattern{}, invalid("scope", "scope must be global or project")
		}
		scope = in.Scope
	}
	if err := checkTags(in.Tags); err != nil {
		return Pattern{}, err
	}
	if scope == "project" && in.SourceProject == nil {
		return Pattern{}, invalid("source_project", "source_project is required when scope is project")
	}
	if err := checkProjectRef("source_project", in.SourceProject); err != nil {
		return Pattern{}, err
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return Pattern{}, err
	}
	now := r.now()
	p := Pattern{
		ID: uuid.New(), AccountID: accountID, Title: in.Title, Description: in.Description, Category: in.Category,
		ExampleCode: in.ExampleCode, Scope: scope, Tags: in.Tags, SourceProjectSlug: in.SourceProject, Metadata: meta,
		CreatedAt: now, UpdatedAt: now,
	}
	idx, err := r.index(ctx, patternText(p))
	if err != nil {
		return Pattern{}, err
	}
	if err := r.store.InsertPattern(ctx, &p, idx.Vector); err != nil {
		return Pattern{}, storeErr(err, "Pattern")
	}
	return p, nil
}

// patternText is what a pattern's embedding is made from.
func patternText(p Pattern) string { return p.Title + "\n\n" + p.Description }

// GetPattern returns the account's pattern with the id. An id that is not
// a UUID, or names no pattern of the account, is a *NotFoundError.
func (r *Relay) GetPattern(ctx context.Context, accountID, id string) (Pattern, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Pattern{}, &NotFoundError{Kind: "Pattern"}
	}
	p, err := r.store.GetPattern(ctx, accountID, id)
	return p, storeErr(err, "Pattern")
}

// PatternSearchParams is the input of [Relay.SearchPatterns].
type PatternSearchParams struct {
	// Query ranks the patterns; empty or blank lists them by
	// adoption_count instead, with score 0 and no threshold.
	Query     string
	Category  *string  // exact category
	Project   *string  // patterns sourced from or adopted by this project slug
	Limit     int      // 1–50 (larger is clamped); default 10
	Threshold *float64 // keep hits with score ≥ it; [0,1]; default 0.3
}

// PatternHit is a pattern and its score in [0,1].
type PatternHit struct {
	Pattern Pattern
	Score   float64
}

// SearchPatterns ranks the account's patterns against a query, best first
// (ties: newer first), scored like [Relay.CheckDecisions] over the title
// and description: of the MaxRankCandidates patterns whose embeddings are
// nearest the query's, only the title and description are read, one row at
// a time, and only the hits are read whole (example_code included).
// Without a query it lists the most adopted patterns.
func (r *Relay) SearchPatterns(ctx context.Context, accountID string, p PatternSearchParams) ([]PatternHit, error) {
	f := store.PatternFilter{AccountID: accountID, Category: p.Category, Project: p.Project}
	if strings.TrimFunc(p.Query, unicode.IsSpace) == "" {
		limit, err := pageLimit(p.Limit, DefaultPatternHits, MaxPatternHits)
		if err != nil {
			return nil, err
		}
		if _, err := scoreThreshold(p.Threshold, 0); err != nil {
			return nil, err
		}
		ps, err := r.store.TopPatterns(ctx, f, limit)
		if err != nil {
			return nil, err
		}
		hits := make([]PatternHit, len(ps))
		for i, pt := range ps {
			hits[i] = PatternHit{Pattern: pt}
		}
		return hits, nil
	}
	limit, threshold, err := scoredParams(p.Query, p.Limit, DefaultPatternHits, MaxPatternHits, p.Threshold, DefaultPatternThreshold)
	if err != nil {
		return nil, err
	}
	q, err := r.index(ctx, p.Query)
	if err != nil {
		return nil, err
	}
	qt := newQueryTerms(p.Query)
	best := newTop(limit)
	err = r.store.PatternCandidates(ctx, f, q.Vector, MaxRankCandidates, func(c store.RankCandidate) {
		best.add(threshold, ranking{qt.score(c.Distance, c.Title, c.Body), c.CreatedAt, c.ID})
	})
	if err != nil {
		return nil, err
	}
	ps, err := r.store.PatternsByID(ctx, accountID, best.ids())
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Pattern, len(ps))
	for _, pt := range ps {
		byID[pt.ID] = pt
	}
	hits := make([]PatternHit, 0, len(best.items))
	for _, it := range best.items {
		if pt, ok := byID[it.id]; ok { // gone if deleted in between
			hits = append(hits, PatternHit{Pattern: pt, Score: it.score})
		}
	}
	return hits, nil
}

// AdoptPattern records that the account's project (a slug, created if
// unknown) adopted the pattern, and returns the pattern. Only the
// project's first adoption raises adoption_count.
func (r *Relay) AdoptPattern(ctx context.Context, accountID, id, project string) (Pattern, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return Pattern{}, &NotFoundError{Kind: "Pattern"}
	}
	if !store.ValidSlug(project) {
		return Pattern{}, invalid("project", "project must be a project slug (lowercase letters, digits and '-', 1-%d characters)", MaxProjectSlug)
	}
	p, err := r.store.AdoptPattern(ctx, accountID, id, project, r.now())
	return p, storeErr(err, "Pattern")
}

// SuggestPatterns returns up to limit (1–50, larger clamped; 0: 10) of the
// account's patterns that the project has not adopted: global ones first,
// then the most adopted. An unknown project is a *NotFoundError.
func (r *Relay) SuggestPatterns(ctx context.Context, accountID, project string, limit int) ([]Pattern, error) {
	if project == "" {
		return nil, invalid("project", "project is required")
	}
	limit, err := pageLimit(limit, DefaultPatternHits, MaxPatternHits)
	if err != nil {
		return nil, err
	}
	ps, err := r.store.SuggestPatterns(ctx, accountID, project, limit)
	if err != nil {
		return nil, storeErr(err, "Project")
	}
	return ps, nil
}
