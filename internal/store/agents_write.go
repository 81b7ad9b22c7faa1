package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// ErrNameTaken is returned when an agent would take a name another agent
// of the account already has.
var ErrNameTaken = errors.New("store: name taken")

// AgentStats summarises an agent's memories and entities.
type AgentStats struct {
	MemoryCount int
	EntityCount int
	LastUpdated *time.Time // newest memory's updated_at; nil without memories
}

// CreateAgent stores a new agent unless the account has one named name
// already, in which case it returns that agent unchanged and created is
// false. id is the id the new agent should have: when it is empty or taken
// (in any account) a fresh one is made. An empty name with an id means the
// account's agent with that id if there is one, else a new agent named
// after the id. description and metadata are used only for a new agent.
func (s *Store) CreateAgent(ctx context.Context, accountID, id, name string, description *string, metadata []byte, now time.Time) (a Agent, created bool, err error) {
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if name == "" {
			a, err = getAgent(ctx, tx, "a.account_id = ? AND a.id = ?", accountID, id)
			if err == nil || !errors.Is(err, ErrNotFound) {
				return err
			}
			name = id
		}
		a, err = getAgent(ctx, tx, "a.account_id = ? AND a.name = ?", accountID, name)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return err
		}
		if id != "" {
			var taken int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM agents WHERE id = ?", id).Scan(&taken); err != nil {
				return err
			}
			if taken > 0 {
				id = ""
			}
		}
		if id == "" {
			id = uuid.New()
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO agents(id, account_id, name, description, metadata, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, accountID, name, nullString(description), jsonOrEmpty(metadata), ms(now), ms(now))
		if err != nil {
			return err
		}
		created = true
		a, err = getAgent(ctx, tx, "a.account_id = ? AND a.id = ?", accountID, id)
		return err
	})
	return a, created, err
}

// agentWhere is the condition selecting the account's agent named by ref:
// an id when ref is a UUID (else the agent named after it, as
// resolveAgent makes for a UUID another account holds), else a name.
func agentWhere(accountID, ref string) (string, []any) {
	if u, ok := uuid.Canonical(ref); ok {
		return `a.account_id = ? AND a.id = coalesce(
			(SELECT x.id FROM agents x WHERE x.account_id = ? AND x.id = ?),
			(SELECT x.id FROM agents x WHERE x.account_id = ? AND x.name IN (?, ?) LIMIT 1))`,
			[]any{accountID, accountID, u, accountID, ref, u}
	}
	return "a.account_id = ? AND a.name = ?", []any{accountID, ref}
}

func getAgent(ctx context.Context, q queryer, cond string, args ...any) (Agent, error) {
	return scanAgent(q.QueryRowContext(ctx, "SELECT "+agentColumns+" FROM agents a WHERE "+cond, args...))
}

// GetAgent returns the account's agent named by ref (UUID or exact name),
// or ErrNotFound.
func (s *Store) GetAgent(ctx context.Context, accountID, ref string) (Agent, error) {
	cond, args := agentWhere(accountID, ref)
	return getAgent(ctx, s.db.R, cond, args...)
}

// UpdateAgent reads the account's agent named by ref, lets apply change
// its name, description, metadata and updated_at, and writes it back in one
// transaction. A name another agent of the account has is ErrNameTaken;
// apply's error aborts the update and is returned as is.
func (s *Store) UpdateAgent(ctx context.Context, accountID, ref string, apply func(*Agent) error) (Agent, error) {
	var out Agent
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		cond, args := agentWhere(accountID, ref)
		a, err := getAgent(ctx, tx, cond, args...)
		if err != nil {
			return err
		}
		before := a.Name
		if err := apply(&a); err != nil {
			return err
		}
		if a.Name != before {
			var taken int
			err := tx.QueryRowContext(ctx, "SELECT count(*) FROM agents WHERE account_id = ? AND name = ? AND id <> ?", accountID, a.Name, a.ID).Scan(&taken)
			if err != nil {
				return err
			}
			if taken > 0 {
				return ErrNameTaken
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE agents SET name = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ?",
			a.Name, nullString(a.Description), jsonOrEmpty(a.Metadata), ms(a.UpdatedAt), a.ID)
		if err != nil {
			return err
		}
		out, err = getAgent(ctx, tx, "a.id = ?", a.ID)
		return err
	})
	return out, err
}

// DeleteAgent removes the account's agent named by ref together with its
// memories (and their index entries), sessions and entities. It returns
// the agent's id and how many memories went with it.
func (s *Store) DeleteAgent(ctx context.Context, accountID, ref string) (id string, memories int, err error) {
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		id, err = resolveAgent(ctx, tx, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memories WHERE agent_id = ?", id).Scan(&memories); err != nil {
			return err
		}
		var name string
		if err := tx.QueryRowContext(ctx, "SELECT name FROM agents WHERE id = ?", id).Scan(&name); err != nil {
			return err
		}
		// Jobs not yet run would bring the agent back.
		if err := deletePendingJobsForAgent(ctx, tx, accountID, id, name); err != nil {
			return err
		}
		// Foreign keys cascade to memories (whose index rows, links and
		// jobs follow), sessions and entities.
		_, err = tx.ExecContext(ctx, "DELETE FROM agents WHERE account_id = ? AND id = ?", accountID, id)
		return err
	})
	if err != nil {
		return "", 0, err
	}
	return id, memories, nil
}

// AgentStats returns the statistics of the account's agent named by ref,
// or ErrNotFound.
func (s *Store) AgentStats(ctx context.Context, accountID, ref string) (AgentStats, error) {
	id, err := resolveAgent(ctx, s.db.R, accountID, ref, false, time.Time{})
	if err != nil {
		return AgentStats{}, err
	}
	var st AgentStats
	var last sql.NullInt64
	err = s.db.R.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM memories WHERE agent_id = ?1),
		(SELECT max(updated_at) FROM memories WHERE agent_id = ?1),
		(SELECT count(*) FROM entities WHERE account_id = ?2 AND agent_id = ?1)`, id, accountID).Scan(&st.MemoryCount, &last, &st.EntityCount)
	if err != nil {
		return AgentStats{}, err
	}
	st.LastUpdated = fromNullMS(last)
	return st, nil
}
