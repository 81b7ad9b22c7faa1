package postgres

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
)

// agentColumns reads an Agent: its id is a.public_id, the id the API
// shows; a.id is the row key that other tables reference.
const agentColumns = `a.public_id, a.account_id, a.name, a.description, a.config, a.metadata, a.created_at, a.updated_at,
	(SELECT count(*) FROM memories m WHERE m.agent_id = a.id),
	(SELECT max(m.updated_at) FROM memories m WHERE m.agent_id = a.id),
	(SELECT count(*) FROM sessions s WHERE s.account_id = a.account_id AND s.agent_id = a.id),
	(SELECT count(*) FROM (
		SELECT m.project FROM memories m WHERE m.agent_id = a.id AND m.project IS NOT NULL
		UNION
		SELECT s.project FROM sessions s WHERE s.account_id = a.account_id AND s.agent_id = a.id AND s.project IS NOT NULL) p)`

func scanAgent(r rowScanner) (store.Agent, error) {
	var a store.Agent
	var cfg, meta string
	var created, updated int64
	var last *int64
	if err := r.Scan(&a.ID, &a.AccountID, &a.Name, &a.Description, &cfg, &meta, &created, &updated, &a.MemoryCount, &last, &a.SessionCount, &a.ProjectCount); err != nil {
		return store.Agent{}, err
	}
	a.Config, a.Metadata = fromJSONObject(cfg), fromJSONObject(meta)
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	a.LastActiveAt = fromNullMS(last)
	return a, nil
}

// agentRow is an agent as resolution finds it: key is its row key (what
// memories, sessions, entities and decisions reference) and id its id.
type agentRow struct{ key, id string }

// findAgent resolves ref within the account (API contract §5.5): an exact
// id first, then an exact, case-sensitive name. A UUID written otherwise
// than in lower case is then tried in lower case too, id then name, as
// server-made ids are stored. An unknown ref is ErrNotFound; with create
// set it becomes a new agent whose id and name are ref. Another node
// creating the same agent at once is no error: the insert yields to it
// (ON CONFLICT) and the agent it made is found again.
func findAgent(ctx context.Context, q querier, accountID, ref string, create bool, now time.Time) (agentRow, error) {
	a, err := lookupAgent(ctx, q, accountID, ref)
	if !create || !errors.Is(err, store.ErrNotFound) {
		return a, err
	}
	a = agentRow{key: uuid.New(), id: ref}
	n, err := insertAgent(ctx, q, accountID, a, ref, nil, nil, now)
	if err != nil || n == 1 {
		return a, err
	}
	return lookupAgent(ctx, q, accountID, ref)
}

func lookupAgent(ctx context.Context, q querier, accountID, ref string) (agentRow, error) {
	refs := []string{ref}
	if u, ok := uuid.Canonical(ref); ok && u != ref {
		refs = append(refs, u)
	}
	for _, r := range refs {
		for _, col := range []string{"public_id", "name"} {
			a, err := queryOne(ctx, q, scanAgentRow, "SELECT id, public_id FROM agents WHERE account_id = $1 AND "+col+" = $2", accountID, r)
			if !errors.Is(err, store.ErrNotFound) {
				return a, err
			}
		}
	}
	return agentRow{}, store.ErrNotFound
}

func scanAgentRow(r rowScanner) (agentRow, error) {
	var a agentRow
	err := r.Scan(&a.key, &a.id)
	return a, err
}

// resolveAgent is findAgent's row key.
func resolveAgent(ctx context.Context, q querier, accountID, ref string, create bool, now time.Time) (string, error) {
	a, err := findAgent(ctx, q, accountID, ref, create, now)
	return a.key, err
}

// insertAgent inserts the agent unless another of the account has its id
// or name, and returns how many rows it inserted (0 or 1).
func insertAgent(ctx context.Context, q querier, accountID string, a agentRow, name string, description *string, metadata []byte, now time.Time) (int64, error) {
	return affected(q.Exec(ctx, `INSERT INTO agents(id, public_id, account_id, name, description, metadata, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		a.key, a.id, accountID, name, description, jsonOrEmpty(metadata), ms(now), ms(now)))
}

// ResolveAgent returns the id of the account's agent named by ref (its id
// or its name, §5.5), or ErrNotFound.
func (s *Store) ResolveAgent(ctx context.Context, accountID, ref string) (string, error) {
	var id string
	err := s.do(ctx, func(q querier) error {
		a, err := findAgent(ctx, q, accountID, ref, false, time.Time{})
		id = a.id
		return err
	})
	return id, err
}

// ListAgents returns a page of the account's agents, newest first
// (created_at, then id, descending), and the total count. after, when not
// nil, starts the page after that position (its ID an agent's id) instead
// of at offset.
func (s *Store) ListAgents(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Agent, int, error) {
	var out []store.Agent
	var total int
	err := s.read(ctx, func(tx pgx.Tx) error {
		var err error
		l := listQuery{columns: agentColumns, from: "agents a", cond: "a.account_id = $1", at: "a.created_at", id: "a.public_id"}
		out, total, err = queryPage(ctx, tx, scanAgent, l, params{accountID}, limit, offset, after)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// CreateAgent stores a new agent, idempotently (API contract §5.5 #21).
// With an id: the account's agent with exactly that id, if there is one,
// is returned unchanged (created false); else a new agent with the id and
// name (the id when name is empty) is stored, unless another agent of the
// account has that name (ErrNameTaken). With only a name: the account's
// agent with that name is returned unchanged, else a new agent with a
// fresh UUID id is stored. description and metadata are used only for a
// new agent. Nodes creating one agent at once all return it, and one of
// them created it.
func (s *Store) CreateAgent(ctx context.Context, accountID, id, name string, description *string, metadata []byte, now time.Time) (a store.Agent, created bool, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		row := agentRow{key: uuid.New(), id: id}
		cond, arg := "a.account_id = $1 AND a.public_id = $2", id
		if id == "" {
			cond, arg, row.id = "a.account_id = $1 AND a.name = $2", name, row.key
		} else if name == "" {
			name = id
		}
		a, err = getAgent(ctx, tx, cond, accountID, arg)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return err
		}
		n, err := insertAgent(ctx, tx, accountID, row, name, description, metadata, now)
		if err != nil {
			return err
		}
		if n == 1 {
			created = true
			a, err = getAgent(ctx, tx, "a.id = $1", row.key)
			return err
		}
		// The id or the name is taken: by the agent asked for (made
		// meanwhile by another node), or by another.
		a, err = getAgent(ctx, tx, cond, accountID, arg)
		if errors.Is(err, store.ErrNotFound) && id != "" {
			return store.ErrNameTaken
		}
		return err
	})
	return a, created, err
}

func getAgent(ctx context.Context, q querier, cond string, args ...any) (store.Agent, error) {
	return queryOne(ctx, q, scanAgent, "SELECT "+agentColumns+" FROM agents a WHERE "+cond, args...)
}

// GetAgent returns the account's agent named by ref (its id or its exact
// name, §5.5), or ErrNotFound.
func (s *Store) GetAgent(ctx context.Context, accountID, ref string) (store.Agent, error) {
	var a store.Agent
	err := s.read(ctx, func(tx pgx.Tx) error {
		row, err := findAgent(ctx, tx, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		a, err = getAgent(ctx, tx, "a.id = $1", row.key)
		return err
	})
	return a, err
}

// UpdateAgent reads the account's agent named by ref, lets apply change
// its name, description, metadata and updated_at, and writes it back in
// one transaction (the row locked meanwhile). A name another agent of the
// account has is ErrNameTaken; apply's error aborts the update and is
// returned as is.
func (s *Store) UpdateAgent(ctx context.Context, accountID, ref string, apply func(*store.Agent) error) (store.Agent, error) {
	var out store.Agent
	err := s.write(ctx, func(tx pgx.Tx) error {
		row, err := findAgent(ctx, tx, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT 1 FROM agents WHERE id = $1 FOR UPDATE", row.key); err != nil {
			return err
		}
		a, err := getAgent(ctx, tx, "a.id = $1", row.key)
		if err != nil {
			return err
		}
		before := a.Name
		if err := apply(&a); err != nil {
			return err
		}
		if a.Name != before {
			if taken, err := exists(ctx, tx, "SELECT 1 FROM agents WHERE account_id = $1 AND name = $2 AND id <> $3", accountID, a.Name, row.key); err != nil || taken {
				return cmp.Or(err, store.ErrNameTaken)
			}
		}
		// Only the row: what references the agent holds its row key,
		// so a new name changes no lookup by id and no stored object.
		_, err = tx.Exec(ctx, "UPDATE agents SET name = $1, description = $2, metadata = $3, updated_at = $4 WHERE id = $5",
			a.Name, a.Description, jsonOrEmpty(a.Metadata), ms(a.UpdatedAt), row.key)
		if uniqueViolation(err, "agents_account_id_name_key") { // taken meanwhile by another node
			return store.ErrNameTaken
		}
		if err != nil {
			return err
		}
		out, err = getAgent(ctx, tx, "a.id = $1", row.key)
		return err
	})
	return out, err
}

// AgentMemoryIDs returns the ids of the memories of the account's agent
// named by ref, in write order: what DeleteAgent would take with it.
// ErrNotFound when there is no such agent. Called in an InTx, it locks
// the agent's row.
func (s *Store) AgentMemoryIDs(ctx context.Context, accountID, ref string) ([]string, error) {
	var out []string
	err := s.do(ctx, func(q querier) error {
		row, err := findAgent(ctx, q, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		// In DeleteAgent's transaction, the lock holds off new memories of
		// the agent (their foreign key check) until it commits, so that
		// every memory deleted is one listed here.
		if _, err := queryValue[string](ctx, q, "SELECT id FROM agents WHERE id = $1 FOR UPDATE", row.key); err != nil {
			return err
		}
		out, err = queryAll(ctx, q, scanValue[string], "SELECT id FROM memories WHERE agent_id = $1 ORDER BY seq", row.key)
		return err
	})
	return out, err
}

// DeleteAgent removes the account's agent named by ref together with its
// memories (and their index entries), sessions and entities. It returns
// the agent's id and how many memories went with it.
func (s *Store) DeleteAgent(ctx context.Context, accountID, ref string) (id string, memories int, err error) {
	err = s.write(ctx, func(tx pgx.Tx) error {
		row, err := findAgent(ctx, tx, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		id = row.id
		name, err := queryValue[string](ctx, tx, "SELECT name FROM agents WHERE id = $1 FOR UPDATE", row.key)
		if err != nil {
			return err
		}
		if memories, err = queryValue[int](ctx, tx, "SELECT count(*) FROM memories WHERE agent_id = $1", row.key); err != nil {
			return err
		}
		// Jobs not yet run would bring the agent back.
		if err := deletePendingJobsForAgent(ctx, tx, accountID, row.id, name); err != nil {
			return err
		}
		// Foreign keys cascade to memories (whose index rows, links and
		// jobs follow), sessions and entities.
		_, err = tx.Exec(ctx, "DELETE FROM agents WHERE account_id = $1 AND id = $2", accountID, row.key)
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
	var st store.AgentStats
	err := s.read(ctx, func(tx pgx.Tx) error {
		id, err := resolveAgent(ctx, tx, accountID, ref, false, time.Time{})
		if err != nil {
			return err
		}
		var last *int64
		err = tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM memories WHERE agent_id = $1),
			(SELECT max(updated_at) FROM memories WHERE agent_id = $1),
			(SELECT count(*) FROM entities WHERE account_id = $2 AND agent_id = $1)`, id, accountID).Scan(&st.MemoryCount, &last, &st.EntityCount)
		st.LastUpdated = fromNullMS(last)
		return err
	})
	if err != nil {
		return store.AgentStats{}, err
	}
	return st, nil
}
