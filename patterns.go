package memoryrelay

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// patternStore is the storage of patterns, as patterns.go uses it.
type patternStore interface {
	AdoptPattern(ctx context.Context, accountID, id, slug string, now time.Time) (store.Pattern, error)
	GetPattern(ctx context.Context, accountID, id string) (store.Pattern, error)
	InsertPattern(ctx context.Context, p *store.Pattern, vec []float32) error
	PatternCandidates(ctx context.Context, f store.PatternFilter, vec []float32, limit int, fn func(store.RankCandidate)) error
	PatternsByID(ctx context.Context, accountID string, ids []string) ([]store.Pattern, error)
	SuggestPatterns(ctx context.Context, accountID, slug string, limit int) ([]store.Pattern, error)
	TopPatterns(ctx context.Context, f store.PatternFilter, limit int) ([]store.Pattern, error)
}

// Defaults and limits of pattern search (API contract §5.8); the limits of
// the stored fields are in limits.go.
const (
	DefaultPatternHits      = 10
	MaxPatternHits          = 50
	DefaultPatternThreshold = 0.3
)

var patternScopes = []string{"global", "project"}

// createPattern validates, embeds (title and description) and stores a
// pattern.
func (r *Relay) createPattern(ctx context.Context, accountID string, in memory.NewPattern) (memory.Pattern, error) {
	if err := textField("Title", in.Title, MaxPatternTitle); err != nil {
		return memory.Pattern{}, err
	}
	if err := textField("Description", in.Description, MaxPatternDescription); err != nil {
		return memory.Pattern{}, err
	}
	if err := optTextField("Category", in.Category, MaxPatternCategory); err != nil {
		return memory.Pattern{}, err
	}
	if err := optTextField("ExampleCode", in.ExampleCode, MaxPatternExampleCode); err != nil {
		return memory.Pattern{}, err
	}
	scope := "global"
	if in.Scope != "" {
		if !oneOf(in.Scope, patternScopes) {
			return memory.Pattern{}, invalid("Scope", "Scope must be global or project")
		}
		scope = in.Scope
	}
	if err := checkTags(in.Tags); err != nil {
		return memory.Pattern{}, err
	}
	if scope == "project" && in.SourceProject == nil {
		return memory.Pattern{}, invalid("SourceProject", "SourceProject is required when Scope is project")
	}
	if err := checkProjectRef("SourceProject", in.SourceProject); err != nil {
		return memory.Pattern{}, err
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return memory.Pattern{}, err
	}
	now := r.now()
	p := store.Pattern{
		ID: uuid.New(), AccountID: accountID, Title: in.Title, Description: in.Description, Category: in.Category,
		ExampleCode: in.ExampleCode, Scope: scope, Tags: in.Tags, SourceProjectSlug: in.SourceProject, Metadata: meta,
		CreatedAt: now, UpdatedAt: now,
	}
	idx, err := r.index(ctx, patternText(p))
	if err != nil {
		return memory.Pattern{}, err
	}
	if err := r.store.InsertPattern(ctx, &p, idx.Vector); err != nil {
		return memory.Pattern{}, storeErr(err, kindPattern)
	}
	return patternOf(p), nil
}

// patternText is what a pattern's embedding is made from.
func patternText(p store.Pattern) string { return p.Title + "\n\n" + p.Description }

// getPattern returns the account's pattern with the id. An id that is not
// a UUID, or names no pattern of the account, is a *memory.NotFoundError.
func (r *Relay) getPattern(ctx context.Context, accountID, id string) (memory.Pattern, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Pattern{}, notFound(kindPattern)
	}
	p, err := r.store.GetPattern(ctx, accountID, id)
	if err != nil {
		return memory.Pattern{}, storeErr(err, kindPattern)
	}
	return patternOf(p), nil
}

// searchPatterns ranks the account's patterns against a query, best first
// (ties: newer first), scored like checkDecisions over the title
// and description: of the MaxRankCandidates patterns whose embeddings are
// nearest the query's, only the title and description are read, one row at
// a time, and only the hits are read whole (example_code included).
// Without a query it lists the most adopted patterns.
func (r *Relay) searchPatterns(ctx context.Context, accountID string, p memory.PatternSearchParams) ([]memory.PatternHit, error) {
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
		hits := make([]memory.PatternHit, len(ps))
		for i, pt := range ps {
			hits[i] = memory.PatternHit{Pattern: patternOf(pt)}
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
	return hits(best, ps, func(pt store.Pattern) string { return pt.ID }, func(pt store.Pattern, score float64) memory.PatternHit {
		return memory.PatternHit{Pattern: patternOf(pt), Score: score}
	}), nil
}

// adoptPattern records that the account's project (a slug, created if
// unknown) adopted the pattern, and returns the pattern. Only the
// project's first adoption raises adoption_count.
func (r *Relay) adoptPattern(ctx context.Context, accountID, id, project string) (memory.Pattern, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Pattern{}, notFound(kindPattern)
	}
	if !store.ValidSlug(project) {
		return memory.Pattern{}, invalid("project", "project must be a project slug (lowercase letters, digits and '-', 1-%d characters)", MaxProjectSlug)
	}
	p, err := r.store.AdoptPattern(ctx, accountID, id, project, r.now())
	if err != nil {
		return memory.Pattern{}, storeErr(err, kindPattern)
	}
	return patternOf(p), nil
}

// suggestPatterns returns up to limit (1–50, larger clamped; 0: 10) of the
// account's patterns that the project has not adopted: global ones first,
// then the most adopted. An unknown project is a *memory.NotFoundError.
func (r *Relay) suggestPatterns(ctx context.Context, accountID, project string, limit int) ([]memory.Pattern, error) {
	if project == "" {
		return nil, invalid("project", "project is required")
	}
	limit, err := pageLimit(limit, DefaultPatternHits, MaxPatternHits)
	if err != nil {
		return nil, err
	}
	ps, err := r.store.SuggestPatterns(ctx, accountID, project, limit)
	if err != nil {
		return nil, storeErr(err, kindProject)
	}
	return convertAll(ps, patternOf), nil
}
