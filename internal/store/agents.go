package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// Agent is a named owner of memories within an account.
type Agent struct {
	ID           string
	AccountID    string
	Name         string
	Description  *string
	Config       []byte // JSON object; nil means {}
	Metadata     []byte // JSON object; nil means {}
	MemoryCount  int
	SessionCount int
	ProjectCount int        // distinct projects of its memories and sessions
	LastActiveAt *time.Time // newest memory's updated_at
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const agentColumns = `a.id, a.account_id, a.name, a.description, a.config, a.metadata, a.created_at, a.updated_at,
	(SELECT count(*) FROM memories m WHERE m.agent_id = a.id),
	(SELECT max(m.updated_at) FROM memories m WHERE m.agent_id = a.id),
	(SELECT count(*) FROM sessions s WHERE s.account_id = a.account_id AND s.agent_id = a.id),
	(SELECT count(*) FROM (
		SELECT m.project FROM memories m WHERE m.agent_id = a.id AND m.project IS NOT NULL
		UNION
		SELECT s.project FROM sessions s WHERE s.account_id = a.account_id AND s.agent_id = a.id AND s.project IS NOT NULL))`

func scanAgent(r rowScanner) (Agent, error) {
	var a Agent
	var desc sql.NullString
	var cfg, meta string
	var created, updated int64
	var last sql.NullInt64
	if err := r.Scan(&a.ID, &a.AccountID, &a.Name, &desc, &cfg, &meta, &created, &updated, &a.MemoryCount, &last, &a.SessionCount, &a.ProjectCount); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Agent{}, ErrNotFound
		}
		return Agent{}, err
	}
	a.Description = fromNullString(desc)
	if cfg != "{}" {
		a.Config = []byte(cfg)
	}
	if meta != "{}" {
		a.Metadata = []byte(meta)
	}
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	a.LastActiveAt = fromNullMS(last)
	return a, nil
}

// resolveAgent finds the account's agent named by ref: a UUID is looked up
// as an id (then as a name), anything else as an exact name. With create
// set, a missing agent is created (a UUID ref becomes its id and its name).
// It returns the agent's id.
func resolveAgent(ctx context.Context, q queryer, accountID, ref string, create bool, now time.Time) (string, error) {
	var id string
	var err error
	if u, ok := uuid.Canonical(ref); ok {
		err = q.QueryRowContext(ctx, "SELECT id FROM agents WHERE account_id = ? AND id = ?", accountID, u).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return id, err
		}
		// Else the account's agent named after the UUID: the one made for
		// a UUID that another account's agent holds (see below).
		err = q.QueryRowContext(ctx, "SELECT id FROM agents WHERE account_id = ? AND name IN (?, ?) LIMIT 1", accountID, ref, u).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) || !create {
			return id, notFound(err)
		}
		// A UUID taken by another account's agent cannot be reused here:
		// give ours a fresh id, named after the UUID.
		newID := u
		var taken int
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM agents WHERE id = ?", u).Scan(&taken); err != nil {
			return "", err
		}
		if taken > 0 {
			newID = uuid.New()
		}
		return insertAgent(ctx, q, accountID, newID, ref, now)
	}
	err = q.QueryRowContext(ctx, "SELECT id FROM agents WHERE account_id = ? AND name = ?", accountID, ref).Scan(&id)
	if err == nil || !errors.Is(err, sql.ErrNoRows) || !create {
		return id, notFound(err)
	}
	return insertAgent(ctx, q, accountID, uuid.New(), ref, now)
}

func insertAgent(ctx context.Context, q queryer, accountID, id, name string, now time.Time) (string, error) {
	_, err := q.ExecContext(ctx, "INSERT INTO agents(id, account_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
		id, accountID, name, ms(now), ms(now))
	return id, err
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// ResolveAgent returns the id of the account's agent named by ref (UUID or
// name), or ErrNotFound.
func (s *Store) ResolveAgent(ctx context.Context, accountID, ref string) (string, error) {
	return resolveAgent(ctx, s.db.R, accountID, ref, false, time.Time{})
}

// ListAgents returns a page of the account's agents, newest first, and
// the total count.
func (s *Store) ListAgents(ctx context.Context, accountID string, limit, offset int) ([]Agent, int, error) {
	var out []Agent
	var total int
	err := s.read(ctx, func(q queryer) error {
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM agents WHERE account_id = ?", accountID).Scan(&total); err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, "SELECT "+agentColumns+" FROM agents a WHERE a.account_id = ? ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?", accountID, limit, offset)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAgent(rows)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
