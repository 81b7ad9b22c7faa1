package memoryrelay

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// batchMemoryStore is the storage of batch writes of memories.
type batchMemoryStore interface {
	InsertMemories(ctx context.Context, items []store.BatchItem) ([]store.BatchOutcome, error)
}

// Limits and defaults of batch create and deduplication (API contract
// §5.2 #2 and #8).
const (
	MaxBatch              = 1000 // memories per batch
	DefaultDedupThreshold = 0.95
	MinDedupThreshold     = 0.5
)

// createDedup creates a memory unless one of the same agent is a
// duplicate: the new content is embedded and compared (exact cosine
// similarity of the embeddings) with every memory of the same agent; if one
// scores at least in.DedupThreshold (default 0.95) nothing is stored and
// that memory is returned with IsDuplicate set. The check and the insert
// run in one write transaction, so two concurrent identical creates store
// one memory.
func (r *Relay) createDedup(ctx context.Context, accountID string, in memory.NewMemory) (memory.CreateResult, error) {
	m, err := r.newMemory(accountID, in)
	if err != nil {
		return memory.CreateResult{}, err
	}
	threshold, _ := dedupThreshold(in) // checked by newMemory
	idx, err := r.index(ctx, m.Content)
	if err != nil {
		return memory.CreateResult{}, err
	}
	out, err := r.store.InsertMemories(ctx, []store.BatchItem{{Memory: &m, Index: idx, Dedup: true, DedupThreshold: threshold}})
	if err != nil {
		return memory.CreateResult{}, storeErr(err, kindMemory)
	}
	if out[0].Err != nil {
		return memory.CreateResult{}, storeErr(out[0].Err, kindMemory)
	}
	if id := out[0].DuplicateID; id != "" {
		dup, err := r.store.GetMemory(ctx, accountID, id)
		if err != nil {
			return memory.CreateResult{}, fmt.Errorf("memoryrelay: read duplicate: %w", err)
		}
		return memory.CreateResult{Memory: memoryOf(dup), IsDuplicate: true}, nil
	}
	return memory.CreateResult{Memory: memoryOf(m)}, nil
}

// dedupThreshold returns in's deduplication threshold, checking its range
// whether or not deduplication is asked for.
func dedupThreshold(in memory.NewMemory) (float64, error) {
	if in.DedupThreshold == nil {
		return DefaultDedupThreshold, nil
	}
	if v := *in.DedupThreshold; math.IsNaN(v) || v < MinDedupThreshold || v > 1 {
		return 0, invalid("DedupThreshold", "DedupThreshold must be between %v and 1", MinDedupThreshold)
	}
	return *in.DedupThreshold, nil
}

// createMemories validates, embeds and stores up to 1000 memories. Items
// stand alone: an invalid item, or one naming a session the account does
// not have, fails without affecting the others, and a deduplicated item
// is skipped (duplicates of earlier items of the same batch included).
// Every valid item's content is embedded in one Embedder call and all are
// stored in one write transaction, so an error of the embedder or the
// database stores nothing and is returned. An empty or oversized batch is
// a *memory.ValidationError for "Memories". An item's error names its
// field within the item ("Content"), as Create does.
func (r *Relay) createMemories(ctx context.Context, accountID string, p memory.BatchParams) (memory.BatchResult, error) {
	start := time.Now()
	if len(p.Memories) == 0 || len(p.Memories) > MaxBatch {
		return memory.BatchResult{}, invalid("Memories", "Memories must hold 1-%d items", MaxBatch)
	}
	res := memory.BatchResult{Items: make([]memory.BatchItemResult, len(p.Memories))}
	items := make([]store.BatchItem, 0, len(p.Memories))
	at := make([]int, 0, len(p.Memories)) // items[k] is input at[k]
	mems := make([]store.Memory, len(p.Memories))
	texts := make([]string, 0, len(p.Memories))
	for i, in := range p.Memories {
		if in.AgentID == "" {
			in.AgentID = p.AgentID
		}
		m, err := r.newMemory(accountID, in)
		if err != nil {
			res.Items[i] = memory.BatchItemResult{Status: memory.BatchFailed, Err: err}
			continue
		}
		threshold, _ := dedupThreshold(in)
		mems[i] = m
		items = append(items, store.BatchItem{Memory: &mems[i], Dedup: in.Deduplicate, DedupThreshold: threshold})
		at = append(at, i)
		texts = append(texts, m.Content)
	}
	if len(items) > 0 {
		t0 := time.Now()
		vecs, err := r.embed.Embed(ctx, texts)
		res.Timing.Embedding = time.Since(t0)
		if err != nil {
			return memory.BatchResult{}, fmt.Errorf("memoryrelay: embed: %w", err)
		}
		if len(vecs) != len(texts) {
			return memory.BatchResult{}, fmt.Errorf("memoryrelay: embed: %w: got %d vectors for %d texts", vector.ErrInvalid, len(vecs), len(texts))
		}
		// An unusable vector fails its item only.
		kept := items[:0]
		keptAt := at[:0]
		for k, v := range vecs {
			if err := vector.Check(v, r.embed.Dimension()); err != nil {
				res.Items[at[k]] = memory.BatchItemResult{Status: memory.BatchFailed, Err: fmt.Errorf("memoryrelay: embed: %w", err)}
				continue
			}
			items[k].Index = store.Indexed{Vector: v, Terms: strings.Join(lexical.Terms(texts[k]), " ")}
			kept = append(kept, items[k])
			keptAt = append(keptAt, at[k])
		}
		items, at = kept, keptAt
	}
	if len(items) > 0 {
		t0 := time.Now()
		out, err := r.store.InsertMemories(ctx, items)
		res.Timing.Database = time.Since(t0)
		if err != nil {
			return memory.BatchResult{}, fmt.Errorf("memoryrelay: store batch: %w", err)
		}
		for k, o := range out {
			switch {
			case o.Err != nil:
				res.Items[at[k]] = memory.BatchItemResult{Status: memory.BatchFailed, Err: storeErr(o.Err, kindMemory)}
			case o.DuplicateID != "":
				res.Items[at[k]] = memory.BatchItemResult{Status: memory.BatchSkipped, MemoryID: o.DuplicateID}
			default:
				res.Items[at[k]] = memory.BatchItemResult{Status: memory.BatchSuccess, MemoryID: items[k].Memory.ID}
			}
		}
	}
	for _, it := range res.Items {
		switch it.Status {
		case memory.BatchSuccess:
			res.Succeeded++
		case memory.BatchSkipped:
			res.Skipped++
		default:
			res.Failed++
		}
	}
	res.Timing.Total = time.Since(start)
	return res, nil
}
