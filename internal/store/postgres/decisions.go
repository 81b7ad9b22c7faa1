package postgres

import (
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// decisionColumns reads a Decision; d.agent_id is the agent's row key, and
// the agent's id is read from its row.
const decisionColumns = `d.id, d.account_id, (SELECT ag.public_id FROM agents ag WHERE ag.id = d.agent_id), d.agent_ref, d.session_id, d.project_slug, d.title, d.rationale,
	d.alternatives, d.status, d.superseded_by, d.tags, d.metadata, d.created_at, d.updated_at`

func scanDecision(r rowScanner) (store.Decision, error) {
	var d store.Decision
	var tags, meta string
	var created, updated int64
	if err := r.Scan(&d.ID, &d.AccountID, &d.AgentID, &d.AgentRef, &d.SessionID, &d.ProjectSlug, &d.Title, &d.Rationale,
		&d.Alternatives, &d.Status, &d.SupersededBy, &tags, &meta, &created, &updated); err != nil {
		return store.Decision{}, err
	}
	var err error
	if d.Tags, err = decodeTagList(tags); err != nil {
		return store.Decision{}, err
	}
	d.Metadata = fromJSONObject(meta)
	d.CreatedAt, d.UpdatedAt = fromMS(created), fromMS(updated)
	return d, nil
}

// encodeTagList stores tags as a JSON array of strings.
func encodeTagList(tags []string) (string, error) {
	if len(tags) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(tags)
	return string(b), err
}

func decodeTagList(s string) ([]string, error) {
	tags := []string{}
	if s == "" || s == "[]" {
		return tags, nil
	}
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, fmt.Errorf("store: stored tags: %w", err)
	}
	return tags, nil
}

// vectorArg is the stored form of vec: NULL for none.
func vectorArg(vec []float32) []byte {
	if vec == nil {
		return nil
	}
	return encodeVector(vec)
}

// InsertDecision stores d with its embedding (vec; nil for none) in
// one transaction: its agent (d.AgentRef, when set) is created if unknown,
// its session (d.SessionID, when set) must exist (else
// ErrSessionNotFound), and its project (d.ProjectSlug, when a valid slug)
// is created if unknown. d.ID, d.AccountID, d.Status and the timestamps
// must be set; d.AgentID is filled in.
func (s *Store) InsertDecision(ctx context.Context, d *store.Decision, vec []float32) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		d.AgentID = nil
		var key *string
		if d.AgentRef != nil {
			agent, err := findAgent(ctx, tx, d.AccountID, *d.AgentRef, true, d.CreatedAt)
			if err != nil {
				return err
			}
			d.AgentID, key = &agent.id, &agent.key
		}
		return insertDecision(ctx, tx, d, key, vec)
	})
}

// insertDecision inserts d, whose agent has the row key agentKey (nil for
// none).
func insertDecision(ctx context.Context, q querier, d *store.Decision, agentKey *string, vec []float32) error {
	if d.SessionID != nil {
		if err := checkSession(ctx, q, d.AccountID, *d.SessionID); err != nil {
			return err
		}
	}
	if d.ProjectSlug != nil {
		if _, err := ensureProject(ctx, q, d.AccountID, *d.ProjectSlug, d.CreatedAt); err != nil {
			return err
		}
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	tags, err := encodeTagList(d.Tags)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO decisions(id, account_id, agent_id, agent_ref, session_id, project_slug, title, rationale,
		alternatives, status, superseded_by, tags, metadata, embedding, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		d.ID, d.AccountID, agentKey, d.AgentRef, d.SessionID, d.ProjectSlug,
		d.Title, d.Rationale, d.Alternatives, d.Status, d.SupersededBy, tags, jsonOrEmpty(d.Metadata),
		vectorArg(vec), ms(d.CreatedAt), ms(d.UpdatedAt))
	return err
}

// GetDecision returns the account's decision with the id, or ErrNotFound.
func (s *Store) GetDecision(ctx context.Context, accountID, id string) (store.Decision, error) {
	var d store.Decision
	err := s.do(ctx, func(q querier) error {
		var err error
		d, err = getDecision(ctx, q, accountID, id, false)
		return err
	})
	return d, err
}

func getDecision(ctx context.Context, q querier, accountID, id string, lock bool) (store.Decision, error) {
	query := "SELECT " + decisionColumns + " FROM decisions d WHERE d.account_id = $1 AND d.id = $2"
	if lock {
		query += " FOR UPDATE"
	}
	return queryOne(ctx, q, scanDecision, query, accountID, id)
}

// SupersedeDecision replaces the account's decision oldID by d in one
// transaction, the old decision's row locked meanwhile. prepare sees the
// old decision and completes d (inherited fields); its error aborts and
// is returned as is. d inherits the old decision's agent. d is then
// stored with its embedding, and the old decision becomes superseded by
// it. d.ID, d.AccountID, d.Status and the timestamps must be set.
func (s *Store) SupersedeDecision(ctx context.Context, accountID, oldID string, d *store.Decision, vec []float32, prepare func(old store.Decision, d *store.Decision) error) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		old, err := getDecision(ctx, tx, accountID, oldID, true)
		if err != nil {
			return err
		}
		if err := prepare(old, d); err != nil {
			return err
		}
		// The agent is inherited as the old decision holds it, by row
		// key: a reference resolved again could name another agent
		// after a rename.
		key, err := queryValue[*string](ctx, tx, "SELECT agent_id FROM decisions WHERE id = $1", old.ID)
		if err != nil {
			return err
		}
		d.AgentID, d.AgentRef = old.AgentID, old.AgentRef
		if err := insertDecision(ctx, tx, d, key, vec); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE decisions SET status = 'superseded', superseded_by = $1, updated_at = greatest(updated_at + 1, $2) WHERE id = $3",
			d.ID, ms(d.CreatedAt), old.ID)
		return err
	})
}

func decisionWhere(f store.DecisionFilter, p *params) string {
	cond := "d.account_id = " + p.add(f.AccountID)
	if f.Project != nil {
		cond += " AND d.project_slug = " + p.add(*f.Project)
	}
	if f.Status != nil {
		cond += " AND d.status = " + p.add(*f.Status)
	}
	if f.ExcludeSuperseded {
		cond += " AND d.status <> 'superseded'"
	}
	for _, t := range f.Tags {
		cond += " AND d.tags::jsonb ? " + p.add(t)
	}
	return cond
}

// ListDecisions returns a page of the decisions matching f, newest first
// (created_at, then id, descending), and the total that match. after, when
// not nil, starts the page after that position instead of at offset.
func (s *Store) ListDecisions(ctx context.Context, f store.DecisionFilter, limit, offset int, after *store.Position) ([]store.Decision, int, error) {
	var out []store.Decision
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		var p params
		cond := decisionWhere(f, &p)
		l := listQuery{columns: decisionColumns, from: "decisions d", cond: cond, at: "d.created_at", id: "d.id"}
		var err error
		out, total, err = queryPage(ctx, tx, scanDecision, l, p, limit, offset, after)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// DecisionCandidates calls fn, in no particular order, for each of the at
// most limit decisions matching f whose embeddings are nearest vec
// (those without one come last, newest first). The distances are computed
// here, from a stream of the rows' embeddings alone; the titles and
// rationales of the chosen ones are read afterwards, so that at most
// limit of them are ever held.
func (s *Store) DecisionCandidates(ctx context.Context, f store.DecisionFilter, vec []float32, limit int, fn func(store.RankCandidate)) error {
	var p params
	cond := decisionWhere(f, &p)
	return s.rankCandidates(ctx, "SELECT d.id, d.created_at, d.embedding FROM decisions d WHERE "+cond, p,
		"SELECT d.id, d.title, d.rationale FROM decisions d WHERE d.id = ANY($1::text[])", vec, limit, fn)
}

// ranked is a row in the running of rankCandidates.
type ranked struct {
	id      string
	created int64
	dist    float64 // NaN: no embedding
}

// worse reports whether a ranks after b: those without a distance last,
// then by distance, then newest first, then by id descending.
func worse(a, b ranked) bool {
	an, bn := math.IsNaN(a.dist), math.IsNaN(b.dist)
	if an != bn {
		return an
	}
	if !an && a.dist != b.dist {
		return a.dist > b.dist
	}
	if a.created != b.created {
		return a.created < b.created
	}
	return a.id < b.id
}

// worstFirst is a heap of the best rows so far, the worst on top.
type worstFirst []ranked

func (h worstFirst) Len() int           { return len(h) }
func (h worstFirst) Less(i, j int) bool { return worse(h[i], h[j]) }
func (h worstFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *worstFirst) Push(x any)        { *h = append(*h, x.(ranked)) }
func (h *worstFirst) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// rankCandidates keeps the limit best rows of scan (id, created_at,
// embedding) by their distance to vec, then reads their title and body
// with texts (ids as $1) and calls fn with each, in one snapshot.
func (s *Store) rankCandidates(ctx context.Context, scan string, args params, texts string, vec []float32, limit int, fn func(store.RankCandidate)) error {
	if limit <= 0 {
		return nil
	}
	return s.read(ctx, func(tx pgx.Tx) error {
		var best worstFirst
		var buf []float32
		err := queryEach(ctx, tx, func(r rowScanner) error {
			var c ranked
			var blob []byte
			if err := r.Scan(&c.id, &c.created, &blob); err != nil {
				return err
			}
			c.dist = math.NaN()
			if blob != nil {
				buf, c.dist = distance(buf, blob, vec)
			}
			if len(best) < limit {
				heap.Push(&best, c)
			} else if worse(best[0], c) {
				best[0] = c
				heap.Fix(&best, 0)
			}
			return nil
		}, scan, args...)
		if err != nil || len(best) == 0 {
			return err
		}
		byID := make(map[string]ranked, len(best))
		ids := make([]string, len(best))
		for i, c := range best {
			byID[c.id], ids[i] = c, c.id
		}
		return queryEach(ctx, tx, func(r rowScanner) error {
			var c store.RankCandidate
			if err := r.Scan(&c.ID, &c.Title, &c.Body); err != nil {
				return err
			}
			k := byID[c.ID]
			c.CreatedAt, c.Distance = fromMS(k.created), k.dist
			fn(c)
			return nil
		}, texts, ids)
	})
}

// DecisionsByID returns the account's decisions with the ids, in no
// particular order; ids it does not have are left out.
func (s *Store) DecisionsByID(ctx context.Context, accountID string, ids []string) ([]store.Decision, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []store.Decision
	err := s.do(ctx, func(q querier) error {
		var err error
		out, err = queryAll(ctx, q, scanDecision, "SELECT "+decisionColumns+" FROM decisions d WHERE d.account_id = $1 AND d.id = ANY($2::text[])", accountID, ids)
		return err
	})
	return out, err
}
