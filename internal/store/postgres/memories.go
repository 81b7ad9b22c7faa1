package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

const memoryColumns = `m.seq, m.id, m.account_id, ` + agentIDOfMemory + `, m.agent_ref, m.user_id, m.content, m.metadata, m.memory_type,
	m.visibility, m.importance, m.tier, m.scope, m.session_id, m.project, m.project_id, m.archived_at, m.created_at, m.updated_at,
	m.extraction_status, m.extraction_method, m.extraction_model`

// agentIDOfMemory is the id of memory m's agent (m.agent_id is its row key).
const agentIDOfMemory = "(SELECT ag.public_id FROM agents ag WHERE ag.id = m.agent_id)"

func scanMemory(r rowScanner) (store.Memory, error) {
	var m store.Memory
	var meta string
	var archived *int64
	var created, updated int64
	if err := r.Scan(&m.Seq, &m.ID, &m.AccountID, &m.AgentID, &m.AgentRef, &m.UserID, &m.Content, &meta, &m.MemoryType,
		&m.Visibility, &m.Importance, &m.Tier, &m.Scope, &m.SessionID, &m.Project, &m.ProjectID, &archived, &created, &updated,
		&m.ExtractionStatus, &m.ExtractionMethod, &m.ExtractionModel); err != nil {
		return store.Memory{}, err
	}
	m.Metadata = fromJSONObject(meta)
	m.ArchivedAt = fromNullMS(archived)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return m, nil
}

// InsertMemory stores m with its index entries in one transaction,
// creating its agent (m.AgentRef) when the account has none by that
// reference. m.ID, m.AccountID and the timestamps must be set; m.Seq and
// m.AgentID are filled in.
func (s *Store) InsertMemory(ctx context.Context, m *store.Memory, idx store.Indexed) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		agent, err := findAgent(ctx, tx, m.AccountID, m.AgentRef, true, m.CreatedAt)
		if err != nil {
			return err
		}
		m.AgentID = agent.id
		if err := resolveRefs(ctx, tx, m); err != nil {
			return err
		}
		if err := insertMemoryRow(ctx, tx, m, agent.key); err != nil {
			return err
		}
		return writeIndex(ctx, tx, m.Seq, encodeVector(idx.Vector), idx.Terms)
	})
}

// InsertPendingMemory stores m without its index entries (no vector, no
// terms): readable and listed at once, found by no search until a v2 job
// indexes it (jobQueue.Complete). Its references are resolved as
// InsertMemory does; m.Seq and m.AgentID are filled in (API.md §10.1).
func (s *Store) InsertPendingMemory(ctx context.Context, m *store.Memory) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		agent, err := findAgent(ctx, tx, m.AccountID, m.AgentRef, true, m.CreatedAt)
		if err != nil {
			return err
		}
		m.AgentID = agent.id
		if err := resolveRefs(ctx, tx, m); err != nil {
			return err
		}
		return insertMemoryRow(ctx, tx, m, agent.key)
	})
}

// UserMemoryIDs returns the ids of the account's memories whose user_id
// is userID, oldest first.
func (s *Store) UserMemoryIDs(ctx context.Context, accountID, userID string) ([]string, error) {
	var out []string
	err := s.do(ctx, func(q querier) error {
		var err error
		out, err = queryAll(ctx, q, scanValue[string], "SELECT id FROM memories WHERE account_id = $1 AND user_id = $2 ORDER BY seq", accountID, userID)
		return err
	})
	return out, err
}

// insertMemoryRow inserts m's row (references already resolved; agentKey
// is its agent's row key) and sets m.Seq.
func insertMemoryRow(ctx context.Context, q querier, m *store.Memory, agentKey string) error {
	return q.QueryRow(ctx, `INSERT INTO memories(id, account_id, agent_id, agent_ref, user_id, content, metadata, memory_type,
		visibility, importance, tier, scope, session_id, project, project_id, archived_at, created_at, updated_at,
		extraction_status, extraction_method, extraction_model)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING seq`,
		m.ID, m.AccountID, agentKey, m.AgentRef, m.UserID, m.Content, jsonOrEmpty(m.Metadata), m.MemoryType,
		m.Visibility, m.Importance, m.Tier, m.Scope, m.SessionID, m.Project, m.ProjectID, nullMS(m.ArchivedAt),
		ms(m.CreatedAt), ms(m.UpdatedAt), m.ExtractionStatus, m.ExtractionMethod, m.ExtractionModel).Scan(&m.Seq)
}

// writeIndex writes (or replaces) the search tables' entries of the
// memory seq: its embedding as stored (blob) and its terms.
func writeIndex(ctx context.Context, q querier, seq int64, blob []byte, terms string) error {
	if _, err := q.Exec(ctx, `INSERT INTO memory_vectors(seq, embedding) VALUES ($1, $2)
		ON CONFLICT (seq) DO UPDATE SET embedding = excluded.embedding`, seq, blob); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `INSERT INTO memory_terms(seq, terms) VALUES ($1, $2)
		ON CONFLICT (seq) DO UPDATE SET terms = excluded.terms`, seq, terms)
	return err
}

// GetMemory returns the account's memory with the id, or ErrNotFound.
func (s *Store) GetMemory(ctx context.Context, accountID, id string) (store.Memory, error) {
	var m store.Memory
	err := s.do(ctx, func(q querier) error {
		var err error
		m, err = getMemory(ctx, q, accountID, id, false)
		return err
	})
	return m, err
}

// getMemory reads the account's memory with its entities; lock takes the
// row's lock for an update.
func getMemory(ctx context.Context, q querier, accountID, id string, lock bool) (store.Memory, error) {
	query := "SELECT " + memoryColumns + " FROM memories m WHERE m.account_id = $1 AND m.id = $2"
	if lock {
		query += " FOR UPDATE"
	}
	m, err := queryOne(ctx, q, scanMemory, query, accountID, id)
	if err != nil {
		return store.Memory{}, err
	}
	ms := []store.Memory{m}
	err = fillEntities(ctx, q, ms)
	return ms[0], err
}

// UpdateMemory reads the account's memory (locking its row), lets apply
// change it, and writes it back in one transaction; idx, when not nil,
// replaces its index entries. apply's error aborts the update and is
// returned as is.
func (s *Store) UpdateMemory(ctx context.Context, accountID, id string, apply func(*store.Memory) error, idx *store.Indexed) (store.Memory, error) {
	var out store.Memory
	err := s.write(ctx, func(tx pgx.Tx) error {
		m, err := getMemory(ctx, tx, accountID, id, true)
		if err != nil {
			return err
		}
		before := m
		if err := apply(&m); err != nil {
			return err
		}
		if !sameString(before.Project, m.Project) || !sameString(before.SessionID, m.SessionID) {
			if err := resolveRefs(ctx, tx, &m); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE memories SET user_id = $1, content = $2, metadata = $3, memory_type = $4, visibility = $5,
			importance = $6, tier = $7, scope = $8, session_id = $9, project = $10, project_id = $11, archived_at = $12, updated_at = $13,
			extraction_status = $14, extraction_method = $15, extraction_model = $16 WHERE seq = $17`,
			m.UserID, m.Content, jsonOrEmpty(m.Metadata), m.MemoryType, m.Visibility,
			m.Importance, m.Tier, m.Scope, m.SessionID, m.Project, m.ProjectID, nullMS(m.ArchivedAt), ms(m.UpdatedAt),
			m.ExtractionStatus, m.ExtractionMethod, m.ExtractionModel, m.Seq)
		if err != nil {
			return err
		}
		if idx != nil {
			if err := writeIndex(ctx, tx, m.Seq, encodeVector(idx.Vector), idx.Terms); err != nil {
				return err
			}
		}
		out = m
		return nil
	})
	return out, err
}

// DeleteMemory removes the account's memory and its index entries.
func (s *Store) DeleteMemory(ctx context.Context, accountID, id string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		n, err := affected(tx.Exec(ctx, "DELETE FROM memories WHERE account_id = $1 AND id = $2", accountID, id))
		if err == nil && n == 0 {
			return store.ErrNotFound
		}
		return err
	})
}

// DeleteUserMemories removes every memory of the account with the user id,
// with their index rows, entity links and jobs (triggers and foreign keys),
// and returns how many there were.
func (s *Store) DeleteUserMemories(ctx context.Context, accountID, userID string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		n, err = affected(tx.Exec(ctx, "DELETE FROM memories WHERE account_id = $1 AND user_id = $2", accountID, userID))
		return err
	})
	return int(n), err
}

// where renders f as a SQL condition over alias m, its arguments appended
// to p. ok is false when the filter can match nothing (an unknown agent).
//
// Metadata values are compared as jsonb: equal JSON values match whatever
// their spelling (key order, spaces, 1.0 and 1), and a string never
// matches a number.
func where(ctx context.Context, q querier, f store.Filter, forSearch bool, p *params) (cond string, ok bool, err error) {
	var b strings.Builder
	b.WriteString("m.account_id = " + p.add(f.AccountID))
	if f.AgentRef != nil {
		id, err := resolveAgent(ctx, q, f.AccountID, *f.AgentRef, false, time.Time{})
		if errors.Is(err, store.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		b.WriteString(" AND m.agent_id = " + p.add(id))
	}
	add := func(clause string, v any) { b.WriteString(clause + p.add(v)) }
	if f.UserID != nil {
		add(" AND m.user_id = ", *f.UserID)
	}
	if f.Scope != "" && f.Scope != "all" {
		add(" AND m.scope = ", f.Scope)
	}
	if f.SessionID != nil {
		add(" AND m.session_id = ", *f.SessionID)
	}
	if f.Tier != nil {
		add(" AND m.tier = ", *f.Tier)
	}
	if f.MinImportance != nil {
		add(" AND m.importance >= ", *f.MinImportance)
	}
	if f.Project != nil {
		add(" AND m.project = ", *f.Project)
	}
	if f.Namespace != nil {
		b.WriteString(" AND m.metadata::jsonb -> 'namespace' = to_jsonb(" + p.add(*f.Namespace) + "::text)")
	}
	for k, v := range f.Metadata {
		b.WriteString(" AND m.metadata::jsonb -> " + p.add(k) + "::text = " + p.add(string(v)) + "::jsonb")
	}
	if forSearch {
		if !f.IncludeConfidential {
			b.WriteString(" AND m.visibility <> 'confidential'")
		}
		if !f.IncludeArchived {
			b.WriteString(" AND m.archived_at IS NULL")
		}
	}
	return b.String(), true, nil
}

// ListMemories returns a page of memories matching f, newest first, and
// the total that match. after, when not nil, starts the page after that
// (created_at, id) position instead of at offset.
func (s *Store) ListMemories(ctx context.Context, f store.Filter, limit, offset int, after *store.Position) ([]store.Memory, int, error) {
	var total int
	var out []store.Memory
	err := s.read(ctx, func(tx pgx.Tx) error {
		var p params
		cond, ok, err := where(ctx, tx, f, false, &p)
		if err != nil || !ok {
			return err
		}
		l := listQuery{columns: memoryColumns, from: "memories m", cond: cond, at: "m.created_at", id: "m.id"}
		if out, total, err = queryPage(ctx, tx, scanMemory, l, p, limit, offset, after); err != nil {
			return err
		}
		return fillEntities(ctx, tx, out)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
