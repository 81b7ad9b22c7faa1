package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// sessionColumns reads a Session; s.agent_id is the agent's row key, and
// the agent's id is read from its row.
const sessionColumns = `s.id, s.account_id, (SELECT ag.public_id FROM agents ag WHERE ag.id = s.agent_id), s.agent_ref, s.external_id, s.project, s.status, s.title, s.summary,
	s.metadata, s.started_at, s.ended_at, s.created_at, s.updated_at,
	(SELECT count(*) FROM memories m WHERE m.session_id = s.id AND m.account_id = s.account_id)`

func scanSession(r rowScanner) (store.Session, error) {
	var x store.Session
	var meta string
	var started, created, updated int64
	var ended *int64
	err := r.Scan(&x.ID, &x.AccountID, &x.AgentID, &x.AgentRef, &x.ExternalID, &x.Project, &x.Status, &x.Title, &x.Summary,
		&meta, &started, &ended, &created, &updated, &x.MemoryCount)
	if err != nil {
		return store.Session{}, err
	}
	x.Metadata = fromJSONObject(meta)
	x.StartedAt, x.CreatedAt, x.UpdatedAt = fromMS(started), fromMS(created), fromMS(updated)
	x.EndedAt = fromNullMS(ended)
	return x, nil
}

func getSession(ctx context.Context, q querier, accountID, id string, lock bool) (store.Session, error) {
	query := "SELECT " + sessionColumns + " FROM sessions s WHERE s.account_id = $1 AND s.id = $2"
	if lock {
		query += " FOR UPDATE"
	}
	return queryOne(ctx, q, scanSession, query, accountID, id)
}

// insertSession resolves x's agent (creating it if unknown) and project
// (creating it for a valid slug), then inserts x unless another session of
// the account has its external id. It reports whether x was inserted.
func insertSession(ctx context.Context, q querier, x *store.Session) (bool, error) {
	agent, err := findAgent(ctx, q, x.AccountID, x.AgentRef, true, x.CreatedAt)
	if err != nil {
		return false, err
	}
	x.AgentID = agent.id
	if x.Project != nil {
		if _, err := ensureProject(ctx, q, x.AccountID, *x.Project, x.CreatedAt); err != nil {
			return false, err
		}
	}
	n, err := affected(q.Exec(ctx, `INSERT INTO sessions(id, account_id, agent_id, agent_ref, external_id, project, status, title, summary,
		metadata, started_at, ended_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (account_id, external_id) WHERE external_id IS NOT NULL DO NOTHING`,
		x.ID, x.AccountID, agent.key, x.AgentRef, x.ExternalID, x.Project, x.Status, x.Title, x.Summary,
		jsonOrEmpty(x.Metadata), ms(x.StartedAt), nullMS(x.EndedAt), ms(x.CreatedAt), ms(x.UpdatedAt)))
	return n == 1, err
}

// errExternalTaken is InsertSession's error for an external id the
// account's sessions already have.
var errExternalTaken = errors.New("store: session external id taken")

// InsertSession stores x, creating its agent (x.AgentRef) and project when
// unknown. x.ID, x.AccountID, x.Status and the timestamps must be set;
// x.AgentID is filled in.
func (s *Store) InsertSession(ctx context.Context, x *store.Session) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		ok, err := insertSession(ctx, tx, x)
		if err == nil && !ok {
			err = errExternalTaken
		}
		return err
	})
}

// GetOrCreateSession returns the account's session with x.ExternalID, or
// stores x (as [Store.InsertSession] does) when there is none. Concurrent
// calls with one external id, on any nodes, all return the same session;
// created is true for exactly one of them (the unique index on the
// external id decides). The agent and project are resolved only when x is
// stored.
func (s *Store) GetOrCreateSession(ctx context.Context, x store.Session) (out store.Session, created bool, err error) {
	if x.ExternalID == nil {
		return store.Session{}, false, errors.New("store: get-or-create without external id")
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		const q = "SELECT " + sessionColumns + " FROM sessions s WHERE s.account_id = $1 AND s.external_id = $2"
		out, err = queryOne(ctx, tx, scanSession, q, x.AccountID, *x.ExternalID)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if created, err = insertSession(ctx, tx, &x); err != nil {
			return err
		}
		out, err = queryOne(ctx, tx, scanSession, q, x.AccountID, *x.ExternalID)
		return err
	})
	if err != nil {
		return store.Session{}, false, err
	}
	return out, created, nil
}

// GetSession returns the account's session with the id, or ErrNotFound.
// With memories > 0 it also returns the session's newest memories, at most
// that many, oldest first, read in the same snapshot.
func (s *Store) GetSession(ctx context.Context, accountID, id string, memories int) (store.Session, []store.Memory, error) {
	if memories <= 0 {
		var x store.Session
		err := s.do(ctx, func(q querier) error {
			var err error
			x, err = getSession(ctx, q, accountID, id, false)
			return err
		})
		return x, nil, err
	}
	var x store.Session
	var out []store.Memory
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		if x, err = getSession(ctx, tx, accountID, id, false); err != nil {
			return err
		}
		out, err = queryAll(ctx, tx, scanMemory, "SELECT "+memoryColumns+` FROM memories m WHERE m.id IN (
			SELECT n.id FROM memories n WHERE n.account_id = $1 AND n.session_id = $2 ORDER BY n.created_at DESC, n.id DESC LIMIT $3)
			ORDER BY m.created_at, m.id`, accountID, id, memories)
		if err != nil {
			return err
		}
		if out == nil {
			out = []store.Memory{}
		}
		return fillEntities(ctx, tx, out)
	})
	if err != nil {
		return store.Session{}, nil, err
	}
	return x, out, nil
}

// EndSession marks the account's session ended at now, unless it is ended
// already; a non-nil summary replaces the stored one either way.
// updated_at moves to now (at least one millisecond past its old value)
// whenever something changes.
func (s *Store) EndSession(ctx context.Context, accountID, id string, summary *string, now time.Time) (store.Session, error) {
	var out store.Session
	err := s.write(ctx, func(tx pgx.Tx) error {
		x, err := getSession(ctx, tx, accountID, id, true)
		if err != nil {
			return err
		}
		changed := false
		if x.Status != store.SessionEnded {
			x.Status, x.EndedAt, changed = store.SessionEnded, &now, true
		}
		if summary != nil && !sameString(x.Summary, summary) {
			x.Summary, changed = summary, true
		}
		if !changed {
			out = x
			return nil
		}
		at := now
		if !at.After(x.UpdatedAt) {
			at = x.UpdatedAt.Add(time.Millisecond)
		}
		_, err = tx.Exec(ctx, "UPDATE sessions SET status = $1, ended_at = $2, summary = $3, updated_at = $4 WHERE id = $5",
			x.Status, nullMS(x.EndedAt), x.Summary, ms(at), x.ID)
		if err != nil {
			return err
		}
		out, err = getSession(ctx, tx, accountID, id, false)
		return err
	})
	return out, err
}

// ListSessions returns a page of the sessions matching f, newest first
// (started_at, then id, descending), and the total that match. after,
// when not nil, starts the page after that position (its CreatedAt a
// started_at) instead of at offset.
func (s *Store) ListSessions(ctx context.Context, f store.SessionFilter, limit, offset int, after *store.Position) ([]store.Session, int, error) {
	var out []store.Session
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		var p params
		cond := "s.account_id = " + p.add(f.AccountID)
		if f.AgentRef != nil {
			id, err := resolveAgent(ctx, tx, f.AccountID, *f.AgentRef, false, time.Time{})
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			cond += " AND s.agent_id = " + p.add(id)
		}
		if f.Project != nil {
			cond += " AND s.project = " + p.add(*f.Project)
		}
		if f.Status != nil {
			cond += " AND s.status = " + p.add(*f.Status)
		}
		l := listQuery{columns: sessionColumns, from: "sessions s", cond: cond, at: "s.started_at", id: "s.id"}
		var err error
		out, total, err = queryPage(ctx, tx, scanSession, l, p, limit, offset, after)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// SessionExists reports whether the account has the session.
func (s *Store) SessionExists(ctx context.Context, accountID, sessionID string) (bool, error) {
	var ok bool
	err := s.do(ctx, func(q querier) error {
		err := checkSession(ctx, q, accountID, sessionID)
		if errors.Is(err, store.ErrSessionNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	return ok, err
}
