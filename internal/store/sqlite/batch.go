package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// dedupSlack absorbs float32 rounding in the cosine of two equal vectors,
// so that a threshold of 1.0 matches identical text.
const dedupSlack = 1e-6

// InsertMemories stores the items, in order, in one write transaction.
// Each item stands alone: an item whose session does not exist gets
// ErrSessionNotFound in its outcome, having created nothing (its
// references are checked before any write), and the others are stored.
// Any other error aborts the whole batch and is returned; nothing is
// stored then.
func (s *Store) InsertMemories(ctx context.Context, items []store.BatchItem) ([]store.BatchOutcome, error) {
	out := make([]store.BatchOutcome, len(items))
	err := s.write(ctx, func(tx *sql.Tx) error {
		agents := map[string]agentRow{} // account + ref → agent, within this transaction
		for i := range items {
			o, err := s.insertItem(ctx, tx, &items[i], agents)
			if errors.Is(err, store.ErrSessionNotFound) {
				o.Err, err = err, nil
			}
			if err != nil {
				return err
			}
			out[i] = o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertItem stores one item inside tx. It returns ErrSessionNotFound
// before writing anything; any other error leaves tx to be rolled back.
// agents caches agent references resolved in tx.
func (s *Store) insertItem(ctx context.Context, tx *sql.Tx, it *store.BatchItem, agents map[string]agentRow) (store.BatchOutcome, error) {
	m := it.Memory
	if m.SessionID != nil {
		if err := checkSession(ctx, tx, m.AccountID, *m.SessionID); err != nil {
			return store.BatchOutcome{}, err
		}
	}
	key := m.AccountID + "\x00" + m.AgentRef
	agent, ok := agents[key]
	if !ok {
		var err error
		if agent, err = findAgent(ctx, tx, m.AccountID, m.AgentRef, true, m.CreatedAt); err != nil {
			return store.BatchOutcome{}, err
		}
		agents[key] = agent
	}
	m.AgentID = agent.id
	if it.Dedup {
		id, score, ok, err := nearestInAgent(ctx, tx, m.AccountID, agent.key, it.Index.Vector)
		if err != nil {
			return store.BatchOutcome{}, err
		}
		if ok && score >= it.DedupThreshold-dedupSlack {
			return store.BatchOutcome{DuplicateID: id, Score: score}, nil
		}
	}
	if err := resolveRefs(ctx, tx, m); err != nil {
		return store.BatchOutcome{}, err
	}
	if err := insertMemoryRow(ctx, tx, m, agent.key); err != nil {
		return store.BatchOutcome{}, err
	}
	if err := writeIndex(ctx, tx, m.Seq, s.encode(it.Index.Vector), it.Index.Terms, false); err != nil {
		return store.BatchOutcome{}, err
	}
	return store.BatchOutcome{}, linkExtracted(ctx, tx, m.AccountID, m.ID, it.Extracted, m.CreatedAt)
}

// nearestInAgent returns the agent's (agentKey, its row key) memory whose embedding is closest to
// vec and its cosine similarity, computed
// exactly over every memory of the agent; ok is false when the agent has
// none.
func nearestInAgent(ctx context.Context, q queryer, accountID, agentKey string, vec []float32) (id string, score float64, ok bool, err error) {
	var d float64
	err = queryRow(ctx, q, `SELECT m.id, `+cosineDistance("v.embedding")+` AS d
		FROM memories m JOIN memory_vectors v ON v.seq = m.seq
		WHERE m.account_id = ? AND m.agent_id = ? ORDER BY d, m.seq LIMIT 1`, append(queryArgs(vec), accountID, agentKey)...).Scan(&id, &d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	return id, 1 - d, true, nil
}
