package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// sessionColumns reads a Session; s.agent_id is the agent's row key, and
// the agent's id is read from its row.
const sessionColumns = `s.id, s.account_id, (SELECT ag.public_id FROM agents ag WHERE ag.id = s.agent_id), s.agent_ref, s.external_id, s.project, s.status, s.title, s.summary,
	s.metadata, s.started_at, s.ended_at, s.created_at, s.updated_at,
	(SELECT count(*) FROM memories m WHERE m.session_id = s.id AND m.account_id = s.account_id)`

func scanSession(r rowScanner) (store.Session, error) {
	var x store.Session
	var ext, project, title, summary sql.NullString
	var meta string
	var started, created, updated int64
	var ended sql.NullInt64
	err := r.Scan(&x.ID, &x.AccountID, &x.AgentID, &x.AgentRef, &ext, &project, &x.Status, &title, &summary,
		&meta, &started, &ended, &created, &updated, &x.MemoryCount)
	if err != nil {
		return store.Session{}, err
	}
	x.ExternalID, x.Project = fromNullString(ext), fromNullString(project)
	x.Title, x.Summary = fromNullString(title), fromNullString(summary)
	x.Metadata = fromJSONObject(meta)
	x.StartedAt, x.CreatedAt, x.UpdatedAt = fromMS(started), fromMS(created), fromMS(updated)
	x.EndedAt = fromNullMS(ended)
	return x, nil
}

func getSession(ctx context.Context, q queryer, accountID, id string) (store.Session, error) {
	return queryOne(ctx, q, scanSession, "SELECT "+sessionColumns+" FROM sessions s WHERE s.account_id = ? AND s.id = ?", accountID, id)
}

// insertSession resolves x's agent (creating it if unknown) and project
// (creating it for a valid slug), then inserts x unless another session of
// the account has its external id. It reports whether x was inserted.
func insertSession(ctx context.Context, tx *sql.Tx, x *store.Session) (bool, error) {
	agent, err := findAgent(ctx, tx, x.AccountID, x.AgentRef, true, x.CreatedAt)
	if err != nil {
		return false, err
	}
	x.AgentID = agent.id
	if x.Project != nil {
		if _, err := ensureProject(ctx, tx, x.AccountID, *x.Project, x.CreatedAt); err != nil {
			return false, err
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO sessions(id, account_id, agent_id, agent_ref, external_id, project, status, title, summary,
		metadata, started_at, ended_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(account_id, external_id) WHERE external_id IS NOT NULL DO NOTHING`,
		x.ID, x.AccountID, agent.key, x.AgentRef, nullString(x.ExternalID), nullString(x.Project), x.Status, nullString(x.Title), nullString(x.Summary),
		jsonOrEmpty(x.Metadata), ms(x.StartedAt), nullMS(x.EndedAt), ms(x.CreatedAt), ms(x.UpdatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertSession stores x, creating its agent (x.AgentRef) and project when
// unknown. x.ID, x.AccountID, x.Status and the timestamps must be set;
// x.AgentID is filled in.
func (s *Store) InsertSession(ctx context.Context, x *store.Session) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		ok, err := insertSession(ctx, tx, x)
		if err == nil && !ok {
			err = errors.New("store: session external id taken")
		}
		return err
	})
}

// GetOrCreateSession returns the account's session with x.ExternalID, or
// stores x (as [Store.InsertSession] does) when there is none. The check
// and the insert run in one write transaction, so concurrent calls with one
// external id all return the same session; created is true for exactly one
// of them. The agent and project are resolved only when x is stored.
func (s *Store) GetOrCreateSession(ctx context.Context, x store.Session) (out store.Session, created bool, err error) {
	if x.ExternalID == nil {
		return store.Session{}, false, errors.New("store: get-or-create without external id")
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		const q = "SELECT " + sessionColumns + " FROM sessions s WHERE s.account_id = ? AND s.external_id = ?"
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
		x, err := getSession(ctx, s.q(ctx), accountID, id)
		return x, nil, err
	}
	var x store.Session
	var out []store.Memory
	err := s.read(ctx, func(q queryer) error {
		var err error
		if x, err = getSession(ctx, q, accountID, id); err != nil {
			return err
		}
		out, err = queryAll(ctx, q, scanMemory, "SELECT "+memoryColumns+` FROM memories m WHERE m.id IN (
			SELECT n.id FROM memories n WHERE n.account_id = ? AND n.session_id = ? ORDER BY n.created_at DESC, n.id DESC LIMIT ?)
			ORDER BY m.created_at, m.id`, accountID, id, memories)
		if err != nil {
			return err
		}
		if out == nil {
			out = []store.Memory{}
		}
		return fillEntities(ctx, q, out)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		x, err := getSession(ctx, tx, accountID, id)
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
		_, err = tx.ExecContext(ctx, "UPDATE sessions SET status = ?, ended_at = ?, summary = ?, updated_at = ? WHERE id = ?",
			x.Status, nullMS(x.EndedAt), nullString(x.Summary), ms(at), x.ID)
		if err != nil {
			return err
		}
		out, err = getSession(ctx, tx, accountID, id)
		return err
	})
	return out, err
}

// ListSessions returns a page of the sessions matching f, newest first
// (started_at, then id, descending), and the total that match. after,
// when not nil, starts the page after that position (its CreatedAt a
// started_at) instead of at offset.
func (s *Store) ListSessions(ctx context.Context, f store.SessionFilter, limit, offset int, after *store.Position) ([]store.Session, int, error) {
	var b strings.Builder
	b.WriteString("s.account_id = ?")
	args := []any{f.AccountID}
	if f.AgentRef != nil {
		id, err := resolveAgent(ctx, s.q(ctx), f.AccountID, *f.AgentRef, false, time.Time{})
		if errors.Is(err, store.ErrNotFound) {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		b.WriteString(" AND s.agent_id = ?")
		args = append(args, id)
	}
	if f.Project != nil {
		b.WriteString(" AND s.project = ?")
		args = append(args, *f.Project)
	}
	if f.Status != nil {
		b.WriteString(" AND s.status = ?")
		args = append(args, *f.Status)
	}
	cond := b.String()
	var out []store.Session
	var total int
	err := s.read(ctx, func(q queryer) error {
		var err error
		l := listQuery{columns: sessionColumns, from: "sessions s", cond: cond, at: "s.started_at", id: "s.id"}
		out, total, err = queryPage(ctx, q, scanSession, l, args, limit, offset, after)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
