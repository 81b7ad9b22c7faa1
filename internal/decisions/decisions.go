package decisions

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/rank"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Store is the storage of decisions.
type Store interface {
	DecisionCandidates(ctx context.Context, f store.DecisionFilter, vec []float32, limit int, fn func(store.RankCandidate)) error
	DecisionsByID(ctx context.Context, accountID string, ids []string) ([]store.Decision, error)
	GetDecision(ctx context.Context, accountID, id string) (store.Decision, error)
	InsertDecision(ctx context.Context, d *store.Decision, vec []float32) error
	ListDecisions(ctx context.Context, f store.DecisionFilter, limit, offset int, after *store.Position) ([]store.Decision, int, error)
	SupersedeDecision(ctx context.Context, accountID, oldID string, d *store.Decision, vec []float32, prepare func(old store.Decision, d *store.Decision) error) error
}

// Decision statuses: a new decision is active or experimental; superseding
// makes it superseded; reverted is accepted in filters.
var (
	newStatuses = []string{memory.DecisionActive, memory.DecisionExperimental}
	statuses    = []string{memory.DecisionActive, memory.DecisionExperimental, memory.DecisionSuperseded, memory.DecisionReverted}
)

// Service serves the decisions of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct {
	st    Store
	gate  guard.Gate
	now   func() time.Time
	index indexing.Indexer
}

// New returns the decisions kept in st, embedded by index; gate admits
// each call, now is the clock in the stored precision (UTC milliseconds).
func New(st Store, gate guard.Gate, now func() time.Time, index indexing.Indexer) *Service {
	return &Service{st: st, gate: gate, now: now, index: index}
}

// For returns the decision API of the account.
func (s *Service) For(accountID string) memory.Decisions { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Decisions = account{}

func (a account) Create(ctx context.Context, in memory.NewDecision) (memory.Decision, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Decision, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) Get(ctx context.Context, id string) (memory.Decision, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Decision, error) { return a.s.get(ctx, a.id, id) })
}

func (a account) List(ctx context.Context, p memory.DecisionListParams) (memory.Page[memory.Decision], error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Page[memory.Decision], error) { return a.s.list(ctx, a.id, p) })
}

func (a account) Supersede(ctx context.Context, id string, p memory.SupersedeParams) (memory.Decision, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() (memory.Decision, error) { return a.s.supersede(ctx, a.id, id, p) })
}

func (a account) Check(ctx context.Context, p memory.DecisionCheckParams) ([]memory.DecisionHit, error) {
	return guard.Call(ctx, a.s.gate, a.id, func() ([]memory.DecisionHit, error) { return a.s.check(ctx, a.id, p) })
}

// create validates, embeds (title and rationale) and stores a decision.
func (s *Service) create(ctx context.Context, accountID string, in memory.NewDecision) (memory.Decision, error) {
	var p valid.Problems
	checkText(&p, in.Title, in.Rationale, in.Alternatives, in.Tags)
	status := checkStatus(&p, in.Status)
	p.ProjectRef("Project", in.Project)
	meta := p.Metadata(in.Metadata)
	if in.AgentID != "" {
		p.AgentID(in.AgentID)
	}
	var sessionID *string
	if in.SessionID != nil {
		id, ok := uuid.Canonical(*in.SessionID)
		if !ok {
			p.Merge(apierr.ErrNoSession)
		}
		sessionID = &id
	}
	if err := p.Err(); err != nil {
		return memory.Decision{}, err
	}
	now := s.now()
	d := store.Decision{
		ID: uuid.New(), AccountID: accountID, ProjectSlug: in.Project, Title: in.Title, Rationale: in.Rationale,
		Alternatives: in.Alternatives, Status: status, Tags: in.Tags, Metadata: meta, SessionID: sessionID,
		CreatedAt: now, UpdatedAt: now,
	}
	if in.AgentID != "" {
		d.AgentRef = &in.AgentID
	}
	vec, err := s.index.Embed(ctx, text(d))
	if err != nil {
		return memory.Decision{}, err
	}
	if err := s.st.InsertDecision(ctx, &d, vec); err != nil {
		return memory.Decision{}, apierr.FromStore(err, apierr.Decision)
	}
	return convert.Decision(d), nil
}

// checkText checks the fields a new decision and a superseding one share.
func checkText(p *valid.Problems, title, rationale string, alternatives *string, tags []string) {
	p.Text("Title", title, memory.MaxDecisionTitle)
	p.Text("Rationale", rationale, memory.MaxDecisionRationale)
	p.OptText("Alternatives", alternatives, memory.MaxDecisionAlternatives)
	p.Tags(tags)
}

// checkStatus returns the status of a new decision: active by default, or
// experimental.
func checkStatus(p *valid.Problems, status string) string {
	if status == "" {
		return memory.DecisionActive
	}
	if !valid.OneOf(status, newStatuses) {
		p.Add("Status", "Status must be active or experimental")
	}
	return status
}

// text is what a decision's embedding is made from.
func text(d store.Decision) string { return d.Title + "\n\n" + d.Rationale }

// get returns the account's decision with the id. An id that is not a
// UUID, or names no decision of the account, is a *memory.NotFoundError.
func (s *Service) get(ctx context.Context, accountID, id string) (memory.Decision, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Decision{}, apierr.NotFound(apierr.Decision)
	}
	d, err := s.st.GetDecision(ctx, accountID, id)
	if err != nil {
		return memory.Decision{}, apierr.FromStore(err, apierr.Decision)
	}
	return convert.Decision(d), nil
}

// list returns a page of the account's decisions, newest first.
func (s *Service) list(ctx context.Context, accountID string, p memory.DecisionListParams) (memory.Page[memory.Decision], error) {
	var v valid.Problems
	q := page.Keyset(&v, page.Decisions, p.Limit, p.Offset, p.Cursor)
	if p.Status != nil && !valid.OneOf(*p.Status, statuses) {
		v.Add("Status", "Status must be one of %s", strings.Join(statuses, ", "))
	}
	tags := slices.Compact(slices.Sorted(slices.Values(p.Tags)))
	if len(tags) > memory.MaxTagFilter {
		v.Add("Tags", "Tags must list at most %d distinct tags", memory.MaxTagFilter)
	}
	if err := v.Err(); err != nil {
		return memory.Page[memory.Decision]{}, err
	}
	f := store.DecisionFilter{AccountID: accountID, Project: p.Project, Status: p.Status, Tags: tags}
	ds, total, err := s.st.ListDecisions(ctx, f, q.Limit+1, q.Offset, q.After)
	if err != nil {
		return memory.Page[memory.Decision]{}, err
	}
	return page.KeysetPage(page.Decisions, ds, convert.Decision, total, q, func(d store.Decision) store.Position {
		return store.Position{CreatedAt: d.CreatedAt.UnixMilli(), ID: d.ID}
	}), nil
}

// supersede records a new decision that replaces the account's decision
// id, in one transaction: the new one inherits the project and agent (and
// the tags unless given), the old one becomes superseded with
// superseded_by set. Superseding a superseded decision is a
// *memory.ValidationError.
func (s *Service) supersede(ctx context.Context, accountID, id string, p memory.SupersedeParams) (memory.Decision, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Decision{}, apierr.NotFound(apierr.Decision)
	}
	var v valid.Problems
	checkText(&v, p.Title, p.Rationale, p.Alternatives, p.Tags)
	status := checkStatus(&v, p.Status)
	meta := v.Metadata(p.Metadata)
	if err := v.Err(); err != nil {
		return memory.Decision{}, err
	}
	now := s.now()
	d := store.Decision{
		ID: uuid.New(), AccountID: accountID, Title: p.Title, Rationale: p.Rationale, Alternatives: p.Alternatives,
		Status: status, Tags: p.Tags, Metadata: meta, CreatedAt: now, UpdatedAt: now,
	}
	// Embed before the write transaction: it may be slow. The text does
	// not depend on anything inherited.
	vec, err := s.index.Embed(ctx, text(d))
	if err != nil {
		return memory.Decision{}, err
	}
	err = s.st.SupersedeDecision(ctx, accountID, id, &d, vec, func(old store.Decision, d *store.Decision) error {
		if old.Status == memory.DecisionSuperseded {
			return valid.Invalid("id", "Decision is already superseded")
		}
		d.ProjectSlug = old.ProjectSlug // the store inherits the agent
		if d.Tags == nil {
			d.Tags = old.Tags
		}
		return nil
	})
	if err != nil {
		return memory.Decision{}, apierr.FromStore(err, apierr.Decision)
	}
	return convert.Decision(d), nil
}

// check ranks the account's decisions against a proposed change or
// question, best first (ties: newer first). The score (§7) is
// rank.Query.Score: the better of the whole decision, blending the cosine
// similarity of the embeddings with a lexical overlap, and the title
// alone, lexically, so that quoting a decision's title finds it with a
// score of at least 0.8.
//
// The candidates are the rank.MaxCandidates decisions whose embeddings are
// nearest the query's; of them only the title and rationale are read, one
// row at a time, and only the hits are read whole.
func (s *Service) check(ctx context.Context, accountID string, p memory.DecisionCheckParams) ([]memory.DecisionHit, error) {
	var v valid.Problems
	v.Query(p.Query)
	limit := v.Limit(p.Limit, memory.DefaultDecisionCheck, memory.MaxDecisionCheck)
	threshold := v.Threshold(p.Threshold, memory.DefaultCheckThreshold)
	if err := v.Err(); err != nil {
		return nil, err
	}
	vec, err := s.index.Embed(ctx, p.Query)
	if err != nil {
		return nil, err
	}
	f := store.DecisionFilter{AccountID: accountID, Project: p.Project, ExcludeSuperseded: !p.IncludeSuperseded}
	return s.Rank(ctx, f, vec, rank.NewQuery(p.Query), rank.MaxCandidates, threshold, limit)
}

// Rank scores the decisions of f that are candidates for the query — the
// candidates decisions whose embeddings are nearest vec, the query's
// stored vector — and returns the best limit of those scoring at least
// threshold, read whole. Decision check and impact analysis rank with it.
func (s *Service) Rank(ctx context.Context, f store.DecisionFilter, vec []float32, q rank.Query, candidates int, threshold float64, limit int) ([]memory.DecisionHit, error) {
	best := rank.NewTop(limit, threshold)
	err := s.st.DecisionCandidates(ctx, f, vec, candidates, func(c store.RankCandidate) {
		best.Add(q.Score(c.Distance, c.Title, c.Body), c.CreatedAt, c.ID)
	})
	if err != nil {
		return nil, err
	}
	ds, err := s.st.DecisionsByID(ctx, f.AccountID, best.IDs())
	if err != nil {
		return nil, err
	}
	return rank.Hits(best, ds, func(d store.Decision) string { return d.ID }, func(d store.Decision, score float64) memory.DecisionHit {
		return memory.DecisionHit{Decision: convert.Decision(d), Score: score}
	}), nil
}
