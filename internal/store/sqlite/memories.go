package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

const memoryColumns = `m.seq, m.id, m.account_id, ` + agentIDOfMemory + `, m.agent_ref, m.user_id, m.content, m.metadata, m.memory_type,
	m.visibility, m.importance, m.tier, m.scope, m.session_id, m.project, m.project_id, m.archived_at, m.created_at, m.updated_at,
	m.extraction_status, m.extraction_method, m.extraction_model`

// migrationExtraction adds entity extraction (API.md §10.6): a memory's
// extraction status, method and model, the confidence of an entity link,
// and the index that matches an extracted entity by type and name.
const migrationExtraction = `
ALTER TABLE memories ADD COLUMN extraction_status TEXT;
ALTER TABLE memories ADD COLUMN extraction_method TEXT;
ALTER TABLE memories ADD COLUMN extraction_model TEXT;
ALTER TABLE entity_links ADD COLUMN confidence REAL NOT NULL DEFAULT 1.0;
CREATE INDEX entities_account_type_name ON entities(account_id, type, name COLLATE NOCASE);
`

// agentIDOfMemory is the id of memory m's agent (m.agent_id is its row key).
const agentIDOfMemory = "(SELECT ag.public_id FROM agents ag WHERE ag.id = m.agent_id)"

func scanMemory(r rowScanner) (store.Memory, error) {
	var m store.Memory
	var user, mtype, session, project, projectID, xs, xm, xmodel sql.NullString
	var meta string
	var archived sql.NullInt64
	var created, updated int64
	if err := r.Scan(&m.Seq, &m.ID, &m.AccountID, &m.AgentID, &m.AgentRef, &user, &m.Content, &meta, &mtype,
		&m.Visibility, &m.Importance, &m.Tier, &m.Scope, &session, &project, &projectID, &archived, &created, &updated,
		&xs, &xm, &xmodel); err != nil {
		return store.Memory{}, err
	}
	m.ExtractionStatus, m.ExtractionMethod, m.ExtractionModel = fromNullString(xs), fromNullString(xm), fromNullString(xmodel)
	m.UserID, m.MemoryType = fromNullString(user), fromNullString(mtype)
	m.SessionID, m.Project, m.ProjectID = fromNullString(session), fromNullString(project), fromNullString(projectID)
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
	return s.insertMemory(ctx, m, s.encode(idx.Vector), idx.Terms)
}

// insertMemory is InsertMemory with the embedding as stored (blob).
func (s *Store) insertMemory(ctx context.Context, m *store.Memory, blob []byte, terms string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
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
		return writeIndex(ctx, tx, m.Seq, blob, terms, false)
	})
}

// InsertPendingMemory stores m without its index entries (no vector, no
// terms): readable and listed at once, found by no search until a v2 job
// indexes it (jobQueue.Complete). Its references are resolved as
// InsertMemory does; m.Seq and m.AgentID are filled in (API.md §10.1).
func (s *Store) InsertPendingMemory(ctx context.Context, m *store.Memory) error {
	return s.write(ctx, func(tx *sql.Tx) error {
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

// insertMemoryRow inserts m's row (references already resolved; agentKey
// is its agent's row key) and sets m.Seq.
func insertMemoryRow(ctx context.Context, tx *sql.Tx, m *store.Memory, agentKey string) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO memories(id, account_id, agent_id, agent_ref, user_id, content, metadata, memory_type,
		visibility, importance, tier, scope, session_id, project, project_id, archived_at, created_at, updated_at,
		extraction_status, extraction_method, extraction_model)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.AccountID, agentKey, m.AgentRef, nullString(m.UserID), m.Content, jsonOrEmpty(m.Metadata), nullString(m.MemoryType),
		m.Visibility, m.Importance, m.Tier, m.Scope, nullString(m.SessionID), nullString(m.Project), nullString(m.ProjectID), nullMS(m.ArchivedAt),
		ms(m.CreatedAt), ms(m.UpdatedAt), nullString(m.ExtractionStatus), nullString(m.ExtractionMethod), nullString(m.ExtractionModel))
	if err != nil {
		return err
	}
	m.Seq, err = res.LastInsertId()
	return err
}

// writeIndex writes the search tables' entries of the memory seq: its
// embedding as stored (blob) and its terms; replace replaces those it has.
func writeIndex(ctx context.Context, tx *sql.Tx, seq int64, blob []byte, terms string, replace bool) error {
	if replace {
		if _, err := tx.ExecContext(ctx, "DELETE FROM memory_fts WHERE docid = ?", seq); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO memory_vectors(seq, embedding) VALUES (?, ?)", seq, blob); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO memory_fts(docid, terms) VALUES (?, ?)", seq, terms)
	return err
}

// GetMemory returns the account's memory with the id, or ErrNotFound.
func (s *Store) GetMemory(ctx context.Context, accountID, id string) (store.Memory, error) {
	return getMemory(ctx, s.q(ctx), accountID, id)
}

func getMemory(ctx context.Context, q queryer, accountID, id string) (store.Memory, error) {
	m, err := queryOne(ctx, q, scanMemory, "SELECT "+memoryColumns+" FROM memories m WHERE m.account_id = ? AND m.id = ?", accountID, id)
	if err != nil {
		return store.Memory{}, err
	}
	ms := []store.Memory{m}
	err = fillEntities(ctx, q, ms)
	return ms[0], err
}

// UpdateMemory reads the account's memory, lets apply change it, and writes
// it back in one transaction; idx, when not nil, replaces its index
// entries. apply's error aborts the update and is returned as is.
func (s *Store) UpdateMemory(ctx context.Context, accountID, id string, apply func(*store.Memory) error, idx *store.Indexed) (store.Memory, error) {
	var out store.Memory
	err := s.write(ctx, func(tx *sql.Tx) error {
		m, err := getMemory(ctx, tx, accountID, id)
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
		_, err = tx.ExecContext(ctx, `UPDATE memories SET user_id = ?, content = ?, metadata = ?, memory_type = ?, visibility = ?,
			importance = ?, tier = ?, scope = ?, session_id = ?, project = ?, project_id = ?, archived_at = ?, updated_at = ?,
			extraction_status = ?, extraction_method = ?, extraction_model = ? WHERE seq = ?`,
			nullString(m.UserID), m.Content, jsonOrEmpty(m.Metadata), nullString(m.MemoryType), m.Visibility,
			m.Importance, m.Tier, m.Scope, nullString(m.SessionID), nullString(m.Project), nullString(m.ProjectID), nullMS(m.ArchivedAt), ms(m.UpdatedAt),
			nullString(m.ExtractionStatus), nullString(m.ExtractionMethod), nullString(m.ExtractionModel), m.Seq)
		if err != nil {
			return err
		}
		if idx != nil {
			if err := writeIndex(ctx, tx, m.Seq, s.encode(idx.Vector), idx.Terms, true); err != nil {
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
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM memories WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// where renders f as a SQL condition over alias m. ok is false when the
// filter can match nothing (an unknown agent).
func (s *Store) where(ctx context.Context, f store.Filter, forSearch bool) (cond string, args []any, ok bool, err error) {
	var b strings.Builder
	b.WriteString("m.account_id = ?")
	args = append(args, f.AccountID)
	if f.AgentRef != nil {
		id, err := resolveAgent(ctx, s.q(ctx), f.AccountID, *f.AgentRef, false, time.Time{})
		if errors.Is(err, store.ErrNotFound) {
			return "", nil, false, nil
		}
		if err != nil {
			return "", nil, false, err
		}
		b.WriteString(" AND m.agent_id = ?")
		args = append(args, id)
	}
	add := func(clause string, v any) {
		b.WriteString(clause)
		args = append(args, v)
	}
	if f.UserID != nil {
		add(" AND m.user_id = ?", *f.UserID)
	}
	if f.Scope != "" && f.Scope != "all" {
		add(" AND m.scope = ?", f.Scope)
	}
	if f.SessionID != nil {
		add(" AND m.session_id = ?", *f.SessionID)
	}
	if f.Tier != nil {
		add(" AND m.tier = ?", *f.Tier)
	}
	if f.MinImportance != nil {
		add(" AND m.importance >= ?", *f.MinImportance)
	}
	if f.Project != nil {
		add(" AND m.project = ?", *f.Project)
	}
	if f.Namespace != nil {
		add(" AND json_extract(m.metadata, '$.namespace') IS ?", *f.Namespace)
	}
	for k, v := range f.Metadata {
		b.WriteString(` AND EXISTS (SELECT 1 FROM json_each(m.metadata) je WHERE je.key = ? AND je.type = json_type(?)
			AND CASE WHEN je.type IN ('object', 'array') THEN json(je.value) = json(?) ELSE je.atom IS json_extract(?, '$') END)`)
		args = append(args, k, string(v), string(v), string(v))
	}
	if forSearch {
		if !f.IncludeConfidential {
			b.WriteString(" AND m.visibility <> 'confidential'")
		}
		if !f.IncludeArchived {
			b.WriteString(" AND m.archived_at IS NULL")
		}
	}
	return b.String(), args, true, nil
}

// ListMemories returns a page of memories matching f, newest first, and
// the total that match. after, when not nil, starts the page after that
// (created_at, id) position instead of at offset.
func (s *Store) ListMemories(ctx context.Context, f store.Filter, limit, offset int, after *store.Position) ([]store.Memory, int, error) {
	cond, args, ok, err := s.where(ctx, f, false)
	if err != nil || !ok {
		return nil, 0, err
	}
	var total int
	var out []store.Memory
	err = s.read(ctx, func(rq queryer) error {
		var err error
		l := listQuery{columns: memoryColumns, from: "memories m", cond: cond, at: "m.created_at", id: "m.id"}
		if out, total, err = queryPage(ctx, rq, scanMemory, l, args, limit, offset, after); err != nil {
			return err
		}
		return fillEntities(ctx, rq, out)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
