package memoryrelay

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// Limits and defaults of batch create and deduplication (API contract
// §5.2 #2 and #8).
const (
	MaxBatch              = 1000 // memories per batch
	DefaultDedupThreshold = 0.95
	MinDedupThreshold     = 0.5
)

// Statuses of a batch item.
const (
	BatchSuccess = "success" // stored
	BatchFailed  = "failed"  // not stored; see BatchItemResult.Err
	BatchSkipped = "skipped" // a duplicate of an existing memory; not stored
)

// CreateResult is the outcome of [Relay.AddMemory].
type CreateResult struct {
	// Memory is the new memory, or the existing one when IsDuplicate.
	Memory Memory
	// IsDuplicate reports that in.Deduplicate found an existing memory of
	// the same agent scoring at least the threshold: nothing was stored.
	IsDuplicate bool
}

// AddMemory is [Relay.CreateMemory] that also reports deduplication. With
// in.Deduplicate set, the new content is embedded and compared (exact
// cosine similarity of the embeddings) with every memory of the same
// agent; if one scores at least in.DedupThreshold (default 0.95) nothing is
// stored and that memory is returned with IsDuplicate set. The check and
// the insert run in one write transaction, so two concurrent identical
// creates store one memory.
func (r *Relay) AddMemory(ctx context.Context, accountID string, in NewMemory) (CreateResult, error) {
	if in.Deduplicate {
		return r.createDedup(ctx, accountID, in)
	}
	m, err := r.CreateMemory(ctx, accountID, in)
	return CreateResult{Memory: m}, err
}

func (r *Relay) createDedup(ctx context.Context, accountID string, in NewMemory) (CreateResult, error) {
	m, err := r.newMemory(accountID, in)
	if err != nil {
		return CreateResult{}, err
	}
	threshold, _ := dedupThreshold(in) // checked by newMemory
	idx, err := r.index(ctx, m.Content)
	if err != nil {
		return CreateResult{}, err
	}
	out, err := r.store.InsertMemories(ctx, []store.BatchItem{{Memory: &m, Index: idx, Dedup: true, DedupThreshold: threshold}})
	if err != nil {
		return CreateResult{}, storeErr(err, "Memory")
	}
	if out[0].Err != nil {
		return CreateResult{}, storeErr(out[0].Err, "Memory")
	}
	if id := out[0].DuplicateID; id != "" {
		dup, err := r.store.GetMemory(ctx, accountID, id)
		if err != nil {
			return CreateResult{}, fmt.Errorf("memoryrelay: read duplicate: %w", err)
		}
		return CreateResult{Memory: dup, IsDuplicate: true}, nil
	}
	m.Entities = []EntityRef{}
	return CreateResult{Memory: m}, nil
}

// dedupThreshold returns in's deduplication threshold, checking its range
// whether or not deduplication is asked for.
func dedupThreshold(in NewMemory) (float64, error) {
	if in.DedupThreshold == nil {
		return DefaultDedupThreshold, nil
	}
	if v := *in.DedupThreshold; math.IsNaN(v) || v < MinDedupThreshold || v > 1 {
		return 0, invalid("dedup_threshold", "dedup_threshold must be between %v and 1", MinDedupThreshold)
	}
	return *in.DedupThreshold, nil
}

// BatchParams is the input of [Relay.CreateMemories].
type BatchParams struct {
	// Memories are the memories to store: 1–1000 items, each validated
	// as by CreateMemory, Deduplicate included.
	Memories []NewMemory
	// AgentID is the agent of items without their own; default "default".
	AgentID string
}

// BatchItemResult is the outcome of one item of a batch.
type BatchItemResult struct {
	Status string // BatchSuccess, BatchFailed or BatchSkipped
	// MemoryID is the new memory's id, or for a skipped item the existing
	// duplicate's; "" when the item failed.
	MemoryID string
	// Err says why the item failed: a *ValidationError for bad input (a
	// missing session included), anything else for an internal failure.
	Err error
}

// BatchTiming is where the time of a batch went, measured.
type BatchTiming struct {
	Total     time.Duration // the whole call
	Embedding time.Duration // the one embedder call
	Database  time.Duration // the one write transaction
}

// BatchResult is the outcome of [Relay.CreateMemories].
type BatchResult struct {
	Items                      []BatchItemResult // one per input item, in order
	Succeeded, Failed, Skipped int
	Timing                     BatchTiming
}

// CreateMemories validates, embeds and stores up to 1000 memories. Items
// stand alone: an invalid item, or one naming a session the account does
// not have, fails without affecting the others, and a deduplicated item
// is skipped (duplicates of earlier items of the same batch included).
// Every valid item's content is embedded in one Embedder call and all are
// stored in one write transaction, so an error of the embedder or the
// database stores nothing and is returned. An empty or oversized batch is
// a *ValidationError for "memories".
func (r *Relay) CreateMemories(ctx context.Context, accountID string, p BatchParams) (BatchResult, error) {
	start := time.Now()
	if len(p.Memories) == 0 || len(p.Memories) > MaxBatch {
		return BatchResult{}, invalid("memories", "memories must hold 1-%d items", MaxBatch)
	}
	res := BatchResult{Items: make([]BatchItemResult, len(p.Memories))}
	items := make([]store.BatchItem, 0, len(p.Memories))
	at := make([]int, 0, len(p.Memories)) // items[k] is input at[k]
	mems := make([]Memory, len(p.Memories))
	texts := make([]string, 0, len(p.Memories))
	for i, in := range p.Memories {
		if in.AgentID == "" {
			in.AgentID = p.AgentID
		}
		m, err := r.newMemory(accountID, in)
		if err != nil {
			res.Items[i] = BatchItemResult{Status: BatchFailed, Err: err}
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
			return BatchResult{}, fmt.Errorf("memoryrelay: embed: %w", err)
		}
		if len(vecs) != len(texts) {
			return BatchResult{}, fmt.Errorf("memoryrelay: embed: %w: got %d vectors for %d texts", vector.ErrInvalid, len(vecs), len(texts))
		}
		// An unusable vector fails its item only.
		kept := items[:0]
		keptAt := at[:0]
		for k, v := range vecs {
			if err := vector.Check(v, r.embed.Dimension()); err != nil {
				res.Items[at[k]] = BatchItemResult{Status: BatchFailed, Err: fmt.Errorf("memoryrelay: embed: %w", err)}
				continue
			}
			items[k].Index = store.Indexed{Vector: store.EncodeVector(v), Terms: strings.Join(lexical.Terms(texts[k]), " ")}
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
			return BatchResult{}, fmt.Errorf("memoryrelay: store batch: %w", err)
		}
		for k, o := range out {
			switch {
			case o.Err != nil:
				res.Items[at[k]] = BatchItemResult{Status: BatchFailed, Err: storeErr(o.Err, "Memory")}
			case o.DuplicateID != "":
				res.Items[at[k]] = BatchItemResult{Status: BatchSkipped, MemoryID: o.DuplicateID}
			default:
				res.Items[at[k]] = BatchItemResult{Status: BatchSuccess, MemoryID: items[k].Memory.ID}
			}
		}
	}
	for _, it := range res.Items {
		switch it.Status {
		case BatchSuccess:
			res.Succeeded++
		case BatchSkipped:
			res.Skipped++
		default:
			res.Failed++
		}
	}
	res.Timing.Total = time.Since(start)
	return res, nil
}

// SetImportance sets the account's memory's importance ([0,1]) and tier;
// a nil tier is recomputed from the importance (hot at 0.8 and above,
// else warm). It returns the updated memory.
func (r *Relay) SetImportance(ctx context.Context, accountID, id string, importance float64, tier *string) (Memory, error) {
	if _, ok := uuid.Canonical(id); !ok {
		return Memory{}, &NotFoundError{Kind: "Memory"}
	}
	return r.UpdateMemory(ctx, accountID, id, MemoryPatch{Importance: &importance, Tier: tier})
}
