package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

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
		SELECT s.project FROM sessions s WHERE s.account_id = a.account_id AND s.agent_id = a.id AND s.project IS NOT NULL))`

func scanAgent(r rowScanner) (store.Agent, error) {
	var a store.Agent
	var desc sql.NullString
	var cfg, meta string
	var created, updated int64
	var last sql.NullInt64
	if err := r.Scan(&a.ID, &a.AccountID, &a.Name, &desc, &cfg, &meta, &created, &updated, &a.MemoryCount, &last, &a.SessionCount, &a.ProjectCount); err != nil {
		return store.Agent{}, err
	}
	a.Description = fromNullString(desc)
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
// set it becomes a new agent whose id and name are ref.
func findAgent(ctx context.Context, q queryer, accountID, ref string, create bool, now time.Time) (agentRow, error) {
	refs := []string{ref}
	if u, ok := uuid.Canonical(ref); ok && u != ref {
		refs = append(refs, u)
	}
	for _, r := range refs {
		for _, col := range []string{"public_id", "name"} {
			a, err := queryOne(ctx, q, scanAgentRow, "SELECT id, public_id FROM agents WHERE account_id = ? AND "+col+" = ?", accountID, r)
			if !errors.Is(err, store.ErrNotFound) {
				return a, err
			}
		}
	}
	if !create {
		return agentRow{}, store.ErrNotFound
	}
	a := agentRow{key: uuid.New(), id: ref}
	return a, insertAgent(ctx, q, accountID, a, ref, nil, nil, now)
}

func scanAgentRow(r rowScanner) (agentRow, error) {
	var a agentRow
	err := r.Scan(&a.key, &a.id)
	return a, err
}

// resolveAgent is findAgent's row key.
func resolveAgent(ctx context.Context, q queryer, accountID, ref string, create bool, now time.Time) (string, error) {
	a, err := findAgent(ctx, q, accountID, ref, create, now)
	return a.key, err
}

func insertAgent(ctx context.Context, q queryer, accountID string, a agentRow, name string, description *string, metadata []byte, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO agents(id, public_id, account_id, name, description, metadata, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.key, a.id, accountID, name, nullString(description), jsonOrEmpty(metadata), ms(now), ms(now))
	return err
}

// ResolveAgent returns the id of the account's agent named by ref (its id
// or its name, §5.5), or ErrNotFound.
func (s *Store) ResolveAgent(ctx context.Context, accountID, ref string) (string, error) {
	a, err := findAgent(ctx, s.q(ctx), accountID, ref, false, time.Time{})
	return a.id, err
}

// ListAgents returns a page of the account's agents, newest first
// (created_at, then id, descending), and the total count. after, when not
// nil, starts the page after that position (its ID an agent's id) instead
// of at offset.
func (s *Store) ListAgents(ctx context.Context, accountID string, limit, offset int, after *store.Position) ([]store.Agent, int, error) {
	var out []store.Agent
	var total int
	err := s.read(ctx, func(q queryer) error {
		var err error
		l := listQuery{columns: agentColumns, from: "agents a", cond: "a.account_id = ?", at: "a.created_at", id: "a.public_id"}
		out, total, err = queryPage(ctx, q, scanAgent, l, []any{accountID}, limit, offset, after)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
