package patterns

import (
	"context"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/internal/rank"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Store is the storage of patterns.
type Store interface {
	AdoptPattern(ctx context.Context, accountID, id, slug string, now time.Time) (store.Pattern, error)
	GetPattern(ctx context.Context, accountID, id string) (store.Pattern, error)
	InsertPattern(ctx context.Context, p *store.Pattern, vec []float32) error
	PatternCandidates(ctx context.Context, f store.PatternFilter, vec []float32, limit int, fn func(store.RankCandidate)) error
	PatternsByID(ctx context.Context, accountID string, ids []string) ([]store.Pattern, error)
	SuggestPatterns(ctx context.Context, accountID, slug string, limit int) ([]store.Pattern, error)
	TopPatterns(ctx context.Context, f store.PatternFilter, limit int) ([]store.Pattern, error)
}

// Scopes of a pattern.
const (
	scopeGlobal  = "global"
	scopeProject = "project"
)

// Service serves the patterns of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct {
	st    Store
	gate  guard.Gate
	now   func() time.Time
	index indexing.Indexer
}

// New returns the patterns kept in st, embedded by index; gate admits
// each call, now is the clock in the stored precision (UTC milliseconds).
func New(st Store, gate guard.Gate, now func() time.Time, index indexing.Indexer) *Service {
	return &Service{st: st, gate: gate, now: now, index: index}
}

// For returns the pattern API of the account.
func (s *Service) For(accountID string) memory.Patterns { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Patterns = account{}

func (a account) Create(ctx context.Context, in memory.NewPattern) (memory.Pattern, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Pattern, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) Get(ctx context.Context, id string) (memory.Pattern, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Pattern, error) { return a.s.get(ctx, a.id, id) })
}

func (a account) Search(ctx context.Context, p memory.PatternSearchParams) ([]memory.PatternHit, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() ([]memory.PatternHit, error) { return a.s.search(ctx, a.id, p) })
}

func (a account) Adopt(ctx context.Context, id, project string) (memory.Pattern, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Pattern, error) { return a.s.adopt(ctx, a.id, id, project) })
}

func (a account) Suggest(ctx context.Context, project string, limit int) ([]memory.Pattern, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() ([]memory.Pattern, error) { return a.s.suggest(ctx, a.id, project, limit) })
}

// create validates, embeds (title and description) and stores a pattern.
func (s *Service) create(ctx context.Context, accountID string, in memory.NewPattern) (memory.Pattern, error) {
	var p valid.Problems
	p.Text("Title", in.Title, memory.MaxPatternTitle)
	p.Text("Description", in.Description, memory.MaxPatternDescription)
	p.OptText("Category", in.Category, memory.MaxPatternCategory)
	p.OptText("ExampleCode", in.ExampleCode, memory.MaxPatternExampleCode)
	scope := scopeGlobal
	if in.Scope != "" {
		if in.Scope != scopeGlobal && in.Scope != scopeProject {
			p.Add("Scope", "Scope must be global or project")
		}
		scope = in.Scope
	}
	p.Tags(in.Tags)
	if scope == scopeProject && in.SourceProject == nil {
		p.Add("SourceProject", "SourceProject is required when Scope is project")
	}
	p.ProjectRef("SourceProject", in.SourceProject)
	meta := p.Metadata(in.Metadata)
	if err := p.Err(); err != nil {
		return memory.Pattern{}, err
	}
	now := s.now()
	pt := store.Pattern{
		ID: uuid.New(), AccountID: accountID, Title: in.Title, Description: in.Description, Category: in.Category,
		ExampleCode: in.ExampleCode, Scope: scope, Tags: in.Tags, SourceProjectSlug: in.SourceProject, Metadata: meta,
		CreatedAt: now, UpdatedAt: now,
	}
	vec, err := s.index.Embed(ctx, text(pt))
	if err != nil {
		return memory.Pattern{}, err
	}
	if err := s.st.InsertPattern(ctx, &pt, vec); err != nil {
		return memory.Pattern{}, apierr.FromStore(err, apierr.Pattern)
	}
	return convert.Pattern(pt), nil
}

// text is what a pattern's embedding is made from.
func text(p store.Pattern) string { return p.Title + "\n\n" + p.Description }

// get returns the account's pattern with the id. An id that is not a
// UUID, or names no pattern of the account, is a *memory.NotFoundError.
func (s *Service) get(ctx context.Context, accountID, id string) (memory.Pattern, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Pattern{}, apierr.NotFound(apierr.Pattern)
	}
	p, err := s.st.GetPattern(ctx, accountID, id)
	if err != nil {
		return memory.Pattern{}, apierr.FromStore(err, apierr.Pattern)
	}
	return convert.Pattern(p), nil
}

// search ranks the account's patterns against a query, best first (ties:
// newer first), scored as decision check scores decisions
// (rank.Query.Score) over the title and description: of the
// rank.MaxCandidates patterns whose embeddings are nearest the query's,
// only the title and description are read, one row at a time, and only
// the hits are read whole (example_code included). Without a query it
// lists the most adopted patterns.
func (s *Service) search(ctx context.Context, accountID string, p memory.PatternSearchParams) ([]memory.PatternHit, error) {
	f := store.PatternFilter{AccountID: accountID, Category: p.Category, Project: p.Project}
	var v valid.Problems
	if valid.Blank(p.Query) {
		limit := v.Limit(p.Limit, memory.DefaultPatternHits, memory.MaxPatternHits)
		v.Threshold(p.Threshold, 0)
		if err := v.Err(); err != nil {
			return nil, err
		}
		ps, err := s.st.TopPatterns(ctx, f, limit)
		if err != nil {
			return nil, err
		}
		hits := make([]memory.PatternHit, len(ps))
		for i, pt := range ps {
			hits[i] = memory.PatternHit{Pattern: convert.Pattern(pt)}
		}
		return hits, nil
	}
	v.Query(p.Query)
	limit := v.Limit(p.Limit, memory.DefaultPatternHits, memory.MaxPatternHits)
	threshold := v.Threshold(p.Threshold, memory.DefaultPatternThreshold)
	if err := v.Err(); err != nil {
		return nil, err
	}
	vec, err := s.index.Embed(ctx, p.Query)
	if err != nil {
		return nil, err
	}
	q := rank.NewQuery(p.Query)
	best := rank.NewTop(limit, threshold)
	err = s.st.PatternCandidates(ctx, f, vec, rank.MaxCandidates, func(c store.RankCandidate) {
		best.Add(q.Score(c.Distance, c.Title, c.Body), c.CreatedAt, c.ID)
	})
	if err != nil {
		return nil, err
	}
	ps, err := s.st.PatternsByID(ctx, accountID, best.IDs())
	if err != nil {
		return nil, err
	}
	return rank.Hits(best, ps, func(pt store.Pattern) string { return pt.ID }, func(pt store.Pattern, score float64) memory.PatternHit {
		return memory.PatternHit{Pattern: convert.Pattern(pt), Score: score}
	}), nil
}

// adopt records that the account's project (a slug, created if unknown)
// adopted the pattern, and returns the pattern. Only the project's first
// adoption raises adoption_count.
func (s *Service) adopt(ctx context.Context, accountID, id, project string) (memory.Pattern, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Pattern{}, apierr.NotFound(apierr.Pattern)
	}
	if !store.ValidSlug(project) {
		return memory.Pattern{}, valid.Invalid("project", "project must be a project slug (lowercase letters, digits and '-', 1-%d characters)", memory.MaxProjectSlug)
	}
	p, err := s.st.AdoptPattern(ctx, accountID, id, project, s.now())
	if err != nil {
		return memory.Pattern{}, apierr.FromStore(err, apierr.Pattern)
	}
	return convert.Pattern(p), nil
}

// suggest returns up to limit (1–50, larger clamped; 0: 10) of the
// account's patterns that the project has not adopted: global ones first,
// then the most adopted. An unknown project is a *memory.NotFoundError.
func (s *Service) suggest(ctx context.Context, accountID, project string, limit int) ([]memory.Pattern, error) {
	var v valid.Problems
	if project == "" {
		v.Add("project", "project is required")
	}
	limit = v.Limit(limit, memory.DefaultPatternHits, memory.MaxPatternHits)
	if err := v.Err(); err != nil {
		return nil, err
	}
	ps, err := s.st.SuggestPatterns(ctx, accountID, project, limit)
	if err != nil {
		return nil, apierr.FromStore(err, apierr.Project)
	}
	return convert.All(ps, convert.Pattern), nil
}
