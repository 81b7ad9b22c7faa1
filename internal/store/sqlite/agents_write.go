package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// CreateAgent stores a new agent, idempotently (API contract §5.5 #21).
// With an id: the account's agent with exactly that id, if there is one,
// is returned unchanged (created false); else a new agent with the id and
// name (the id when name is empty) is stored, unless another agent of the
// account has that name (ErrNameTaken). With only a name: the account's
// agent with that name is returned unchanged, else a new agent with a
// fresh UUID id is stored. description and metadata are used only for a
// new agent.
func (s *Store) CreateAgent(ctx context.Context, accountID, id, name string, description *string, metadata []byte, now time.Time) (a store.Agent, created bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		row := agentRow{key: uuid.New(), id: id}
		if id != "" {
			a, err = getAgent(ctx, tx, "a.account_id = ? AND a.public_id = ?", accountID, id)
			if err == nil || !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if name == "" {
				name = id
			}
			if taken, err := exists(ctx, tx, "SELECT 1 FROM agents WHERE account_id = ? AND name = ?", accountID, name); err != nil || taken {
				return cmp.Or(err, store.ErrNameTaken)
			}
		} else {
			a, err = getAgent(ctx, tx, "a.account_id = ? AND a.name = ?", accountID, name)
			if err == nil || !errors.Is(err, store.ErrNotFound) {
				return err
			}
			row.id = row.key
		}
		if err := insertAgent(ctx, tx, accountID, row, name, description, metadata, now); err != nil {
			return err
		}
		created = true
		a, err = getAgent(ctx, tx, "a.id = ?", row.key)
		return err
	})
	return a, created, err
}

func getAgent(ctx context.Context, q queryer, cond string, args ...any) (store.Agent, error) {
	return queryOne(ctx, q, scanAgent, "SELECT "+agentColumns+" FROM agents a WHERE "+cond, args...)
}

// GetAgent returns the account's agent named by ref (its id or its exact
// name, §5.5), or ErrNotFound.
func (s *Store) GetAgent(ctx context.Context, accountID, ref string) (store.Agent, error) {
	var a store.Agent
	err := s.read(ctx, func(q queryer) error {
		row, err := findAgent(ctx, q, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		a, err = getAgent(ctx, q, "a.id = ?", row.key)
		return err
	})
	return a, err
}

// UpdateAgent reads the account's agent named by ref, lets apply change
// its name, description, metadata and updated_at, and writes it back in one
// transaction. A name another agent of the account has is ErrNameTaken;
// apply's error aborts the update and is returned as is.
func (s *Store) UpdateAgent(ctx context.Context, accountID, ref string, apply func(*store.Agent) error) (store.Agent, error) {
	var out store.Agent
	err := s.write(ctx, func(tx *sql.Tx) error {
		row, err := findAgent(ctx, tx, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		a, err := getAgent(ctx, tx, "a.id = ?", row.key)
		if err != nil {
			return err
		}
		before := a.Name
		if err := apply(&a); err != nil {
			return err
		}
		if a.Name != before {
			if taken, err := exists(ctx, tx, "SELECT 1 FROM agents WHERE account_id = ? AND name = ? AND id <> ?", accountID, a.Name, row.key); err != nil || taken {
				return cmp.Or(err, store.ErrNameTaken)
			}
		}
		// Only the row: what references the agent holds its row key,
		// so a new name changes no lookup by id and no stored object.
		_, err = tx.ExecContext(ctx, "UPDATE agents SET name = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ?",
			a.Name, nullString(a.Description), jsonOrEmpty(a.Metadata), ms(a.UpdatedAt), row.key)
		if err != nil {
			return err
		}
		out, err = getAgent(ctx, tx, "a.id = ?", row.key)
		return err
	})
	return out, err
}

// AgentMemoryIDs returns the ids of the memories of the account's agent
// named by ref, in write order: what DeleteAgent would take with it.
// ErrNotFound when there is no such agent.
func (s *Store) AgentMemoryIDs(ctx context.Context, accountID, ref string) ([]string, error) {
	key, err := resolveAgent(ctx, s.q(ctx), accountID, ref, false, time.Time{})
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, s.q(ctx), scanValue[string], "SELECT id FROM memories WHERE agent_id = ? ORDER BY seq", key)
}

// DeleteAgent removes the account's agent named by ref together with its
// memories (and their index entries), sessions and entities. It returns
// the agent's id and how many memories went with it.
func (s *Store) DeleteAgent(ctx context.Context, accountID, ref string) (id string, memories int, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		row, err := findAgent(ctx, tx, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		id = row.id
		if memories, err = queryValue[int](ctx, tx, "SELECT count(*) FROM memories WHERE agent_id = ?", row.key); err != nil {
			return err
		}
		name, err := queryValue[string](ctx, tx, "SELECT name FROM agents WHERE id = ?", row.key)
		if err != nil {
			return err
		}
		// Jobs not yet run would bring the agent back.
		if err := deletePendingJobsForAgent(ctx, tx, accountID, row.id, name); err != nil {
			return err
		}
		// Foreign keys cascade to memories (whose index rows, links and
		// jobs follow), sessions and entities.
		_, err = tx.ExecContext(ctx, "DELETE FROM agents WHERE account_id = ? AND id = ?", accountID, row.key)
		return err
	})
	if err != nil {
		return "", 0, err
	}
	return id, memories, nil
}

// AgentStats returns the statistics of the account's agent named by ref,
// or ErrNotFound.
func (s *Store) AgentStats(ctx context.Context, accountID, ref string) (store.AgentStats, error) {
	id, err := resolveAgent(ctx, s.q(ctx), accountID, ref, false, time.Time{})
	if err != nil {
		return store.AgentStats{}, err
	}
	var st store.AgentStats
	var last sql.NullInt64
	err = queryRow(ctx, s.q(ctx), `SELECT
		(SELECT count(*) FROM memories WHERE agent_id = ?1),
		(SELECT max(updated_at) FROM memories WHERE agent_id = ?1),
		(SELECT count(*) FROM entities WHERE account_id = ?2 AND agent_id = ?1)`, id, accountID).Scan(&st.MemoryCount, &last, &st.EntityCount)
	if err != nil {
		return store.AgentStats{}, err
	}
	st.LastUpdated = fromNullMS(last)
	return st, nil
}
