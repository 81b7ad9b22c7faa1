package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// decisionColumns reads a Decision; d.agent_id is the agent's row key, and
// the agent's id is read from its row.
const decisionColumns = `d.id, d.account_id, (SELECT ag.public_id FROM agents ag WHERE ag.id = d.agent_id), d.agent_ref, d.session_id, d.project_slug, d.title, d.rationale,
	d.alternatives, d.status, d.superseded_by, d.tags, d.metadata, d.created_at, d.updated_at`

func scanDecision(r rowScanner) (store.Decision, error) {
	var d store.Decision
	var agentID, agentRef, session, project, alts, by sql.NullString
	var tags, meta string
	var created, updated int64
	if err := r.Scan(&d.ID, &d.AccountID, &agentID, &agentRef, &session, &project, &d.Title, &d.Rationale,
		&alts, &d.Status, &by, &tags, &meta, &created, &updated); err != nil {
		return store.Decision{}, err
	}
	d.AgentID, d.AgentRef, d.SessionID = fromNullString(agentID), fromNullString(agentRef), fromNullString(session)
	d.ProjectSlug, d.Alternatives, d.SupersededBy = fromNullString(project), fromNullString(alts), fromNullString(by)
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

// InsertDecision stores d with its embedding (vec; nil for none) in
// one transaction: its agent (d.AgentRef, when set) is created if unknown,
// its session (d.SessionID, when set) must exist (else
// ErrSessionNotFound), and its project (d.ProjectSlug, when a valid slug)
// is created if unknown. d.ID, d.AccountID, d.Status and the timestamps
// must be set; d.AgentID is filled in.
func (s *Store) InsertDecision(ctx context.Context, d *store.Decision, vec []float32) error {
	return s.write(ctx, func(tx *sql.Tx) error {
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
func insertDecision(ctx context.Context, tx *sql.Tx, d *store.Decision, agentKey *string, vec []float32) error {
	if d.SessionID != nil {
		if err := checkSession(ctx, tx, d.AccountID, *d.SessionID); err != nil {
			return err
		}
	}
	if d.ProjectSlug != nil {
		if _, err := ensureProject(ctx, tx, d.AccountID, *d.ProjectSlug, d.CreatedAt); err != nil {
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
	_, err = tx.ExecContext(ctx, `INSERT INTO decisions(id, account_id, agent_id, agent_ref, session_id, project_slug, title, rationale,
		alternatives, status, superseded_by, tags, metadata, embedding, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.AccountID, nullString(agentKey), nullString(d.AgentRef), nullString(d.SessionID), nullString(d.ProjectSlug),
		d.Title, d.Rationale, nullString(d.Alternatives), d.Status, nullString(d.SupersededBy), tags, jsonOrEmpty(d.Metadata),
		vectorArg(vec), ms(d.CreatedAt), ms(d.UpdatedAt))
	return err
}

// GetDecision returns the account's decision with the id, or ErrNotFound.
func (s *Store) GetDecision(ctx context.Context, accountID, id string) (store.Decision, error) {
	return getDecision(ctx, s.q(ctx), accountID, id)
}

func getDecision(ctx context.Context, q queryer, accountID, id string) (store.Decision, error) {
	return queryOne(ctx, q, scanDecision, "SELECT "+decisionColumns+" FROM decisions d WHERE d.account_id = ? AND d.id = ?", accountID, id)
}

// SupersedeDecision replaces the account's decision oldID by d in one
// transaction. prepare sees the old decision and completes d (inherited
// fields); its error aborts and is returned as is. d inherits the old
// decision's agent. d is then stored with
// its embedding, and the old decision becomes superseded by it.
// d.ID, d.AccountID, d.Status and the timestamps must be set.
func (s *Store) SupersedeDecision(ctx context.Context, accountID, oldID string, d *store.Decision, vec []float32, prepare func(old store.Decision, d *store.Decision) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		old, err := getDecision(ctx, tx, accountID, oldID)
		if err != nil {
			return err
		}
		if err := prepare(old, d); err != nil {
			return err
		}
		// The agent is inherited as the old decision holds it, by row
		// key: a reference resolved again could name another agent
		// after a rename.
		key, err := queryValue[sql.NullString](ctx, tx, "SELECT agent_id FROM decisions WHERE id = ?", old.ID)
		if err != nil {
			return err
		}
		d.AgentID, d.AgentRef = old.AgentID, old.AgentRef
		if err := insertDecision(ctx, tx, d, fromNullString(key), vec); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE decisions SET status = 'superseded', superseded_by = ?, updated_at = max(updated_at + 1, ?) WHERE id = ?",
			d.ID, ms(d.CreatedAt), old.ID)
		return err
	})
}

func decisionWhere(f store.DecisionFilter) (string, []any) {
	cond := "d.account_id = ?"
	args := []any{f.AccountID}
	if f.Project != nil {
		cond += " AND d.project_slug = ?"
		args = append(args, *f.Project)
	}
	if f.Status != nil {
		cond += " AND d.status = ?"
		args = append(args, *f.Status)
	}
	if f.ExcludeSuperseded {
		cond += " AND d.status <> 'superseded'"
	}
	for _, t := range f.Tags {
		cond += " AND EXISTS (SELECT 1 FROM json_each(d.tags) t WHERE t.value = ?)"
		args = append(args, t)
	}
	return cond, args
}

// ListDecisions returns a page of the decisions matching f, newest first
// (created_at, then id, descending), and the total that match. after, when
// not nil, starts the page after that position instead of at offset.
func (s *Store) ListDecisions(ctx context.Context, f store.DecisionFilter, limit, offset int, after *store.Position) ([]store.Decision, int, error) {
	cond, args := decisionWhere(f)
	l := listQuery{columns: decisionColumns, from: "decisions d", cond: cond, at: "d.created_at", id: "d.id"}
	return queryPage(ctx, s.q(ctx), scanDecision, l, args, limit, offset, after)
}

// DecisionCandidates calls fn, in no particular order, for each of the at
// most limit decisions matching f whose embeddings are nearest vec
// (those without one come last, newest first).
// Rows are streamed: one is held at a time, whatever limit is.
func (s *Store) DecisionCandidates(ctx context.Context, f store.DecisionFilter, vec []float32, limit int, fn func(store.RankCandidate)) error {
	cond, args := decisionWhere(f)
	return s.rankCandidates(ctx, `SELECT d.id, d.title, d.rationale, d.created_at, c.dist FROM (
		SELECT d.id AS id, `+cosineDistanceSQL("d.embedding")+` AS dist FROM decisions d WHERE `+cond+`
		ORDER BY dist IS NULL, dist, d.created_at DESC, d.id DESC LIMIT ?) c
		JOIN decisions d ON d.id = c.id`, append(append([]any{vectorArg(vec)}, args...), limit), fn)
}

func (s *Store) rankCandidates(ctx context.Context, q string, args []any, fn func(store.RankCandidate)) error {
	return queryEach(ctx, s.q(ctx), func(r rowScanner) error {
		var c store.RankCandidate
		var created int64
		var dist sql.NullFloat64
		if err := r.Scan(&c.ID, &c.Title, &c.Body, &created, &dist); err != nil {
			return err
		}
		c.CreatedAt, c.Distance = fromMS(created), math.NaN()
		if dist.Valid {
			c.Distance = dist.Float64
		}
		fn(c)
		return nil
	}, q, args...)
}

// DecisionsByID returns the account's decisions with the ids, in no
// particular order; ids it does not have are left out.
func (s *Store) DecisionsByID(ctx context.Context, accountID string, ids []string) ([]store.Decision, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return queryAll(ctx, s.q(ctx), scanDecision, "SELECT "+decisionColumns+" FROM decisions d WHERE d.account_id = ? AND d.id IN (SELECT value FROM json_each(?))",
		accountID, jsonList(ids))
}

// cosineDistanceSQL is the cosine distance of col to the query vector parameter,
// NULL where col is NULL.
func cosineDistanceSQL(col string) string {
	return "CASE WHEN " + col + " IS NULL THEN NULL ELSE vec_distance_cosine(" + col + ", ?) END"
}
