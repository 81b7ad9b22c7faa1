package store

import (
	"context"
	"database/sql"
	"errors"
)

// BatchItem is one memory of [Store.InsertMemories].
type BatchItem struct {
	// Memory is the memory to store: ID, AccountID, AgentRef and the
	// timestamps must be set; Seq, AgentID and ProjectID are filled in
	// when it is stored.
	Memory *Memory
	// Index holds the memory's embedding and terms.
	Index Indexed
	// Dedup, when set, stores nothing if a memory of the same agent
	// (one of the batch's earlier items included) has a cosine similarity
	// of at least DedupThreshold with Index.Vector.
	Dedup          bool
	DedupThreshold float64
}

// BatchOutcome is what became of one [BatchItem].
type BatchOutcome struct {
	// DuplicateID is the id of the existing memory a Dedup item matched;
	// nothing was stored for the item. Empty otherwise.
	DuplicateID string
	// Score is the cosine similarity with the duplicate, when there is one.
	Score float64
	// Err is the item's own failure (ErrSessionNotFound); the other items
	// are unaffected. Nil when the item was stored or is a duplicate.
	Err error
}

// dedupSlack absorbs float32 rounding in the cosine of two equal vectors,
// so that a threshold of 1.0 matches identical text.
const dedupSlack = 1e-6

// InsertMemories stores the items, in order, in one write transaction.
// Each item stands alone: an item whose session does not exist gets
// ErrSessionNotFound in its outcome, having created nothing (its
// references are checked before any write), and the others are stored.
// Any other error aborts the whole batch and is returned; nothing is
// stored then.
func (s *Store) InsertMemories(ctx context.Context, items []BatchItem) ([]BatchOutcome, error) {
	out := make([]BatchOutcome, len(items))
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		agents := map[string]agentRow{} // account + ref → agent, within this transaction
		for i := range items {
			o, err := insertItem(ctx, tx, &items[i], agents)
			if errors.Is(err, ErrSessionNotFound) {
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
func insertItem(ctx context.Context, tx *sql.Tx, it *BatchItem, agents map[string]agentRow) (BatchOutcome, error) {
	m := it.Memory
	if m.SessionID != nil {
		if err := checkSession(ctx, tx, m.AccountID, *m.SessionID); err != nil {
			return BatchOutcome{}, err
		}
	}
	key := m.AccountID + "\x00" + m.AgentRef
	agent, ok := agents[key]
	if !ok {
		var err error
		if agent, err = findAgent(ctx, tx, m.AccountID, m.AgentRef, true, m.CreatedAt); err != nil {
			return BatchOutcome{}, err
		}
		agents[key] = agent
	}
	m.AgentID = agent.id
	if it.Dedup {
		id, score, ok, err := nearestInAgent(ctx, tx, m.AccountID, agent.key, it.Index.Vector)
		if err != nil {
			return BatchOutcome{}, err
		}
		if ok && score >= it.DedupThreshold-dedupSlack {
			return BatchOutcome{DuplicateID: id, Score: score}, nil
		}
	}
	if err := resolveRefs(ctx, tx, m); err != nil {
		return BatchOutcome{}, err
	}
	if err := insertMemoryRow(ctx, tx, m, agent.key); err != nil {
		return BatchOutcome{}, err
	}
	return BatchOutcome{}, writeIndex(ctx, tx, m.Seq, it.Index, false)
}

// nearestInAgent returns the agent's (agentKey, its row key) memory whose embedding is closest to
// vec (sqlite-vec float32 BLOB) and its cosine similarity, computed
// exactly over every memory of the agent; ok is false when the agent has
// none.
func nearestInAgent(ctx context.Context, q queryer, accountID, agentKey string, vec []byte) (id string, score float64, ok bool, err error) {
	var d float64
	err = q.QueryRowContext(ctx, `SELECT m.id, vec_distance_cosine(v.embedding, ?) AS d
		FROM memories m JOIN memory_vectors v ON v.seq = m.seq
		WHERE m.account_id = ? AND m.agent_id = ? ORDER BY d, m.seq LIMIT 1`, vec, accountID, agentKey).Scan(&id, &d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	return id, 1 - d, true, nil
}
