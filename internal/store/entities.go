package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// EntityRef is an entity linked to a memory, as a memory lists it.
type EntityRef struct {
	Type       string
	Value      string // the entity's name
	Confidence float64
}

// Entity is a named thing (person, place, concept, …) that memories can be
// linked to. Field meanings follow the API contract §4.5.
type Entity struct {
	ID        string
	AccountID string
	AgentID   *string // the agent's id (§5.5), when an agent was given
	AgentRef  *string // the agent reference as supplied at creation
	Name      string
	Type      string
	Metadata  []byte // JSON object, verbatim; nil means {}
	// MemoryCount is the number of memories linked to the entity and
	// RelationshipCount the number of its links; filled by reads.
	MemoryCount       int
	RelationshipCount int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// EntityLink links an entity to a memory.
type EntityLink struct {
	EntityID     string
	MemoryID     string
	Relationship string
	CreatedAt    time.Time
}

// Neighbor is an entity reached from another over shared memories.
type Neighbor struct {
	ID           string
	Name         string
	Type         string
	Relationship string // the neighbour's link to the memory it was reached by
	Depth        int    // 1 for entities sharing a memory with the start
}

// EntityFilter selects entities of one account. Nil fields filter nothing.
type EntityFilter struct {
	AccountID string
	AgentRef  *string // agent id or name; an unknown agent matches nothing
	Type      *string
}

// Errors of LinkEntity, both matching ErrNotFound, that say which side of
// the link is missing.
var (
	ErrEntityNotFound = fmt.Errorf("store: entity: %w", ErrNotFound)
	ErrMemoryNotFound = fmt.Errorf("store: memory: %w", ErrNotFound)
)

// entityColumns reads an Entity; e.agent_id is the agent's row key, and
// the agent's id is read from its row.
const entityColumns = `e.id, e.account_id, (SELECT ag.public_id FROM agents ag WHERE ag.id = e.agent_id), e.agent_ref, e.name, e.type, e.metadata, e.created_at, e.updated_at,
	(SELECT count(*) FROM entity_links l WHERE l.entity_id = e.id)`

func scanEntity(r rowScanner) (Entity, error) {
	var e Entity
	var agentID, agentRef sql.NullString
	var meta string
	var created, updated int64
	var links int
	if err := r.Scan(&e.ID, &e.AccountID, &agentID, &agentRef, &e.Name, &e.Type, &meta, &created, &updated, &links); err != nil {
		return Entity{}, notFound(err)
	}
	e.AgentID, e.AgentRef = fromNullString(agentID), fromNullString(agentRef)
	if meta != "{}" {
		e.Metadata = []byte(meta)
	}
	e.MemoryCount, e.RelationshipCount = links, links
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return e, nil
}

// InsertEntity stores e, creating its agent (e.AgentRef, when set) if the
// account has none by that reference. e.ID, e.AccountID and the timestamps
// must be set; e.AgentID is filled in.
func (s *Store) InsertEntity(ctx context.Context, e *Entity) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		e.AgentID = nil
		var key *string
		if e.AgentRef != nil {
			agent, err := findAgent(ctx, tx, e.AccountID, *e.AgentRef, true, e.CreatedAt)
			if err != nil {
				return err
			}
			e.AgentID, key = &agent.id, &agent.key
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO entities(id, account_id, agent_id, agent_ref, name, type, metadata, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, e.AccountID, nullString(key), nullString(e.AgentRef), e.Name, e.Type, jsonOrEmpty(e.Metadata), ms(e.CreatedAt), ms(e.UpdatedAt))
		return err
	})
}

// GetEntity returns the account's entity with the id, or ErrNotFound.
func (s *Store) GetEntity(ctx context.Context, accountID, id string) (Entity, error) {
	return scanEntity(s.db.R.QueryRowContext(ctx, "SELECT "+entityColumns+" FROM entities e WHERE e.account_id = ? AND e.id = ?", accountID, id))
}

// ListEntities returns a page of the entities matching f, newest first,
// and the total that match.
func (s *Store) ListEntities(ctx context.Context, f EntityFilter, limit, offset int) ([]Entity, int, error) {
	cond := "e.account_id = ?"
	args := []any{f.AccountID}
	if f.AgentRef != nil {
		id, err := resolveAgent(ctx, s.db.R, f.AccountID, *f.AgentRef, false, time.Time{})
		if errors.Is(err, ErrNotFound) {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		cond += " AND e.agent_id = ?"
		args = append(args, id)
	}
	if f.Type != nil {
		cond += " AND e.type = ?"
		args = append(args, *f.Type)
	}
	var total int
	if err := s.db.R.QueryRowContext(ctx, "SELECT count(*) FROM entities e WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.R.QueryContext(ctx, "SELECT "+entityColumns+" FROM entities e WHERE "+cond+
		" ORDER BY e.created_at DESC, e.id DESC LIMIT ? OFFSET ?", append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Entity
	for rows.Next() {
		e, err := scanEntity(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// DeleteEntity removes the account's entity and its links.
func (s *Store) DeleteEntity(ctx context.Context, accountID, id string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		// The links go by ON DELETE CASCADE; deleting them first keeps
		// that true even on a connection without foreign keys.
		if _, err := tx.ExecContext(ctx, "DELETE FROM entity_links WHERE entity_id IN (SELECT id FROM entities WHERE account_id = ? AND id = ?)", accountID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM entities WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// LinkEntity links the account's entity l.EntityID to its memory
// l.MemoryID. A new link is stored as given and created is true; when the
// pair is linked already, l is set to the existing link and created is
// false. A missing entity is ErrEntityNotFound, a missing memory
// ErrMemoryNotFound (both match ErrNotFound).
func (s *Store) LinkEntity(ctx context.Context, accountID string, l *EntityLink) (created bool, err error) {
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM entities WHERE account_id = ? AND id = ?", accountID, l.EntityID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrEntityNotFound
		}
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, "SELECT 1 FROM memories WHERE account_id = ? AND id = ?", accountID, l.MemoryID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrMemoryNotFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO entity_links(entity_id, memory_id, relationship, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (entity_id, memory_id) DO NOTHING`, l.EntityID, l.MemoryID, l.Relationship, ms(l.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			created = true
			// The entity's counts changed: that is a mutation of it.
			_, err = tx.ExecContext(ctx, "UPDATE entities SET updated_at = max(updated_at + 1, ?) WHERE id = ?", ms(l.CreatedAt), l.EntityID)
			return err
		}
		var at int64
		if err := tx.QueryRowContext(ctx, "SELECT relationship, created_at FROM entity_links WHERE entity_id = ? AND memory_id = ?",
			l.EntityID, l.MemoryID).Scan(&l.Relationship, &at); err != nil {
			return err
		}
		l.CreatedAt = fromMS(at)
		return nil
	})
	return created, err
}

// Neighborhood returns the account's entity with the id and the entities
// reached from it over shared memories, breadth first: depth 1 shares a
// memory with it, depth 2 with a depth-1 entity, and so on up to depth.
// Each entity is expanded to at most fanout neighbours (those sharing the
// most memories with it first), and at most fanout neighbours are
// returned, nearest first (then by name).
//
// The walk runs inside SQLite as one recursive query whose rows are
// (entity, depth). UNION drops repeated rows, so an entity is expanded at
// most once per depth; ordering the queue by depth makes it breadth first;
// the depth cap and a row cap bound it on any graph. The row cap is exact:
// an entity occupies at most one row per depth, so the first
// fanout·depth + 1 rows hold at least fanout distinct entities whenever
// the graph has them, and every level before the last one read is
// complete, so each depth is the shortest.
func (s *Store) Neighborhood(ctx context.Context, accountID, id string, depth, fanout int) (Entity, []Neighbor, error) {
	e, err := s.GetEntity(ctx, accountID, id)
	if err != nil {
		return Entity{}, nil, err
	}
	// In the recursive step, "+f.account_id" keeps SQLite from driving the
	// join by the account index (a scan of the account's entities, each
	// re-running the fan-out subquery) instead of by the fan-out list.
	rows, err := s.db.R.QueryContext(ctx, `
WITH RECURSIVE walk(id, depth) AS (
	SELECT ?1, 0
	UNION
	SELECT f.id, w.depth + 1
	FROM walk w JOIN entities f ON f.id IN (
		SELECT b.entity_id FROM entity_links a JOIN entity_links b ON b.memory_id = a.memory_id
		WHERE a.entity_id = w.id AND b.entity_id <> w.id AND b.entity_id <> ?1
		GROUP BY b.entity_id ORDER BY count(*) DESC, b.entity_id LIMIT ?3)
	WHERE w.depth < ?2 AND +f.account_id = ?4
	ORDER BY 2
	LIMIT ?5
),
near(id, depth) AS (
	SELECT id, min(depth) FROM walk WHERE depth > 0 GROUP BY id
)
SELECT e.id, e.name, e.type, n.depth,
	(SELECT b.relationship FROM walk p JOIN entity_links a ON a.entity_id = p.id
		JOIN entity_links b ON b.memory_id = a.memory_id AND b.entity_id = n.id
		WHERE p.depth = n.depth - 1 ORDER BY b.created_at, b.memory_id LIMIT 1)
FROM near n JOIN entities e ON e.id = n.id AND e.account_id = ?4
ORDER BY n.depth, e.name, e.id
LIMIT ?3`, e.ID, depth, fanout, accountID, fanout*depth+1)
	if err != nil {
		return Entity{}, nil, err
	}
	defer rows.Close()
	out := []Neighbor{}
	for rows.Next() {
		var n Neighbor
		var rel sql.NullString
		if err := rows.Scan(&n.ID, &n.Name, &n.Type, &n.Depth, &rel); err != nil {
			return Entity{}, nil, err
		}
		n.Relationship = rel.String
		out = append(out, n)
	}
	return e, out, rows.Err()
}

// fillEntities sets the Entities of each memory from its entity links, in
// one query for all of them.
func fillEntities(ctx context.Context, q queryer, ms []Memory) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	at := make(map[string][]int, len(ms))
	for i := range ms {
		ms[i].Entities = []EntityRef{}
		ids[i] = ms[i].ID
		at[ms[i].ID] = append(at[ms[i].ID], i)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, `SELECT l.memory_id, e.type, e.name
		FROM entity_links l
		JOIN memories m ON m.id = l.memory_id
		JOIN entities e ON e.id = l.entity_id AND e.account_id = m.account_id
		WHERE l.memory_id IN (SELECT value FROM json_each(?))
		ORDER BY l.memory_id, l.created_at, e.name, e.id`, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var memID string
		var ref EntityRef
		if err := rows.Scan(&memID, &ref.Type, &ref.Value); err != nil {
			return err
		}
		ref.Confidence = 1.0
		for _, i := range at[memID] {
			ms[i].Entities = append(ms[i].Entities, ref)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}
