package memoryrelay

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// decisionStore is the storage of decisions, as decisions.go uses it.
type decisionStore interface {
	DecisionCandidates(ctx context.Context, f store.DecisionFilter, vec []float32, limit int, fn func(store.RankCandidate)) error
	DecisionsByID(ctx context.Context, accountID string, ids []string) ([]store.Decision, error)
	GetDecision(ctx context.Context, accountID, id string) (store.Decision, error)
	InsertDecision(ctx context.Context, d *store.Decision, vec []float32) error
	ListDecisions(ctx context.Context, f store.DecisionFilter, limit, offset int, after *store.Position) ([]store.Decision, int, error)
	SupersedeDecision(ctx context.Context, accountID, oldID string, d *store.Decision, vec []float32, prepare func(old store.Decision, d *store.Decision) error) error
}

// Defaults and limits of decision check (API contract §5.7); the limits
// of the stored fields are in limits.go.
const (
	DefaultDecisionCheck  = 5
	MaxDecisionCheck      = 20
	DefaultCheckThreshold = 0.3
)

const (
	decisionActive     = "active"
	decisionSuperseded = "superseded"
)

// Decision statuses: a new decision is active or experimental; superseding
// makes it superseded; reverted is accepted in filters.
var (
	newDecisionStatuses = []string{"active", "experimental"}
	decisionStatuses    = []string{"active", "experimental", "superseded", "reverted"}
)

// createDecision validates, embeds (title and rationale) and stores a
// decision.
func (r *Relay) createDecision(ctx context.Context, accountID string, in memory.NewDecision) (memory.Decision, error) {
	if err := checkDecisionText(in.Title, in.Rationale, in.Alternatives, in.Tags); err != nil {
		return memory.Decision{}, err
	}
	status := decisionActive
	if in.Status != "" {
		if !oneOf(in.Status, newDecisionStatuses) {
			return memory.Decision{}, invalid("Status", "Status must be active or experimental")
		}
		status = in.Status
	}
	if err := checkProjectRef("Project", in.Project); err != nil {
		return memory.Decision{}, err
	}
	meta, err := checkMetadata(in.Metadata)
	if err != nil {
		return memory.Decision{}, err
	}
	now := r.now()
	d := store.Decision{
		ID: uuid.New(), AccountID: accountID, ProjectSlug: in.Project, Title: in.Title, Rationale: in.Rationale,
		Alternatives: in.Alternatives, Status: status, Tags: in.Tags, Metadata: meta, CreatedAt: now, UpdatedAt: now,
	}
	if in.AgentID != "" {
		if err := checkAgentRef(in.AgentID); err != nil {
			return memory.Decision{}, err
		}
		d.AgentRef = &in.AgentID
	}
	if in.SessionID != nil {
		id, ok := uuid.Canonical(*in.SessionID)
		if !ok {
			return memory.Decision{}, errNoSession
		}
		d.SessionID = &id
	}
	idx, err := r.index(ctx, decisionText(d))
	if err != nil {
		return memory.Decision{}, err
	}
	if err := r.store.InsertDecision(ctx, &d, idx.Vector); err != nil {
		return memory.Decision{}, storeErr(err, kindDecision)
	}
	return decisionOf(d), nil
}

func checkDecisionText(title, rationale string, alternatives *string, tags []string) error {
	if err := textField("Title", title, MaxDecisionTitle); err != nil {
		return err
	}
	if err := textField("Rationale", rationale, MaxDecisionRationale); err != nil {
		return err
	}
	if err := optTextField("Alternatives", alternatives, MaxDecisionAlternatives); err != nil {
		return err
	}
	return checkTags(tags)
}

// checkProjectRef accepts a nil slug or one of 1–100 characters; one that
// is not a valid slug is stored as given and creates no project (§5.9).
func checkProjectRef(field string, slug *string) error {
	if slug != nil {
		if n := utf8.RuneCountInString(*slug); n == 0 || n > MaxProjectSlug || !utf8.ValidString(*slug) {
			return invalid(field, "%s must be 1-%d characters", field, MaxProjectSlug)
		}
	}
	return nil
}

// decisionText is what a decision's embedding is made from.
func decisionText(d store.Decision) string { return d.Title + "\n\n" + d.Rationale }

// getDecision returns the account's decision with the id. An id that is
// not a UUID, or names no decision of the account, is a
// *memory.NotFoundError.
func (r *Relay) getDecision(ctx context.Context, accountID, id string) (memory.Decision, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Decision{}, notFound(kindDecision)
	}
	d, err := r.store.GetDecision(ctx, accountID, id)
	if err != nil {
		return memory.Decision{}, storeErr(err, kindDecision)
	}
	return decisionOf(d), nil
}

// listDecisions returns a page of the account's decisions, newest first.
func (r *Relay) listDecisions(ctx context.Context, accountID string, p memory.DecisionListParams) (memory.Page[memory.Decision], error) {
	limit, offset, after, err := keysetParams(decisionsList, p.Limit, p.Offset, p.Cursor)
	if err != nil {
		return memory.Page[memory.Decision]{}, err
	}
	if p.Status != nil && !oneOf(*p.Status, decisionStatuses) {
		return memory.Page[memory.Decision]{}, invalid("Status", "Status must be one of %s", strings.Join(decisionStatuses, ", "))
	}
	tags := slices.Compact(slices.Sorted(slices.Values(p.Tags)))
	if len(tags) > MaxTagFilter {
		return memory.Page[memory.Decision]{}, invalid("Tags", "Tags must list at most %d distinct tags", MaxTagFilter)
	}
	f := store.DecisionFilter{AccountID: accountID, Project: p.Project, Status: p.Status, Tags: tags}
	ds, total, err := r.store.ListDecisions(ctx, f, limit+1, offset, after)
	if err != nil {
		return memory.Page[memory.Decision]{}, err
	}
	return keysetPage(decisionsList, ds, decisionOf, total, limit, offset, func(d store.Decision) store.Position {
		return store.Position{CreatedAt: d.CreatedAt.UnixMilli(), ID: d.ID}
	}), nil
}

// supersedeDecision records a new decision that replaces the account's
// decision id, in one transaction: the new one inherits the project and
// agent (and the tags unless given), the old one becomes superseded with
// superseded_by set. Superseding a superseded decision is a
// *ValidationError.
func (r *Relay) supersedeDecision(ctx context.Context, accountID, id string, p memory.SupersedeParams) (memory.Decision, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Decision{}, notFound(kindDecision)
	}
	if err := checkDecisionText(p.Title, p.Rationale, p.Alternatives, p.Tags); err != nil {
		return memory.Decision{}, err
	}
	status := decisionActive
	if p.Status != "" {
		if !oneOf(p.Status, newDecisionStatuses) {
			return memory.Decision{}, invalid("Status", "Status must be active or experimental")
		}
		status = p.Status
	}
	meta, err := checkMetadata(p.Metadata)
	if err != nil {
		return memory.Decision{}, err
	}
	now := r.now()
	d := store.Decision{
		ID: uuid.New(), AccountID: accountID, Title: p.Title, Rationale: p.Rationale, Alternatives: p.Alternatives,
		Status: status, Tags: p.Tags, Metadata: meta, CreatedAt: now, UpdatedAt: now,
	}
	// Embed before the write transaction: it may be slow. The text does
	// not depend on anything inherited.
	idx, err := r.index(ctx, decisionText(d))
	if err != nil {
		return memory.Decision{}, err
	}
	err = r.store.SupersedeDecision(ctx, accountID, id, &d, idx.Vector, func(old store.Decision, d *store.Decision) error {
		if old.Status == decisionSuperseded {
			return invalid("id", "Decision is already superseded")
		}
		d.ProjectSlug = old.ProjectSlug // the store inherits the agent
		if d.Tags == nil {
			d.Tags = old.Tags
		}
		return nil
	})
	if err != nil {
		return memory.Decision{}, storeErr(err, kindDecision)
	}
	return decisionOf(d), nil
}

// checkDecisions ranks the account's decisions against a proposed change
// or question, best first (ties: newer first). The score (§7) is the
// better of two views: the whole decision, blending the cosine similarity
// of the embeddings with a lexical overlap (search.Blend), and the title
// alone, lexically, so that quoting a decision's title finds it with a
// score of at least 0.8.
//
// The candidates are the MaxRankCandidates decisions whose embeddings are
// nearest the query's; of them only the title and rationale are read,
// one row at a time, and only the hits are read whole.
func (r *Relay) checkDecisions(ctx context.Context, accountID string, p memory.DecisionCheckParams) ([]memory.DecisionHit, error) {
	limit, threshold, err := scoredParams(p.Query, p.Limit, DefaultDecisionCheck, MaxDecisionCheck, p.Threshold, DefaultCheckThreshold)
	if err != nil {
		return nil, err
	}
	q, err := r.index(ctx, p.Query)
	if err != nil {
		return nil, err
	}
	f := store.DecisionFilter{AccountID: accountID, Project: p.Project, ExcludeSuperseded: !p.IncludeSuperseded}
	return r.rankDecisions(ctx, f, q.Vector, newQueryTerms(p.Query), MaxRankCandidates, threshold, limit)
}

// rankDecisions scores the decisions of f that are candidates for the
// query (the nearest candidates, see checkDecisions) and returns the best
// limit of those scoring at least threshold, read whole.
func (r *Relay) rankDecisions(ctx context.Context, f store.DecisionFilter, vec []float32, qt queryTerms, candidates int, threshold float64, limit int) ([]memory.DecisionHit, error) {
	best := newTop(limit)
	err := r.store.DecisionCandidates(ctx, f, vec, candidates, func(c store.RankCandidate) {
		best.add(threshold, ranking{qt.score(c.Distance, c.Title, c.Body), c.CreatedAt, c.ID})
	})
	if err != nil {
		return nil, err
	}
	ds, err := r.store.DecisionsByID(ctx, f.AccountID, best.ids())
	if err != nil {
		return nil, err
	}
	return hits(best, ds, func(d store.Decision) string { return d.ID }, func(d store.Decision, score float64) memory.DecisionHit {
		return memory.DecisionHit{Decision: decisionOf(d), Score: score}
	}), nil
}
