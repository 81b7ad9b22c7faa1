package memories

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/apierr"
	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/memory"
)

// createDedup creates a memory unless one of the same agent is a
// duplicate: the new content is embedded and compared (exact cosine
// similarity of the embeddings) with every memory of the same agent; if
// one scores at least in.DedupThreshold (default 0.95) nothing is stored
// and that memory is returned with IsDuplicate set. The check and the
// insert run in one write transaction, so two concurrent identical creates
// store one memory.
func (s *Service) createDedup(ctx context.Context, accountID string, in memory.NewMemory) (memory.CreateResult, error) {
	m, err := s.newMemoryIn(ctx, accountID, in)
	if err != nil {
		return memory.CreateResult{}, err
	}
	idx, err := s.c.Index.Index(ctx, m.Content)
	if err != nil {
		return memory.CreateResult{}, err
	}
	item := store.BatchItem{Memory: &m, Index: idx, Dedup: true, DedupThreshold: threshold(in)}
	if s.wantsExtraction(in) {
		x := s.extract(ctx, accountID, m.Content)
		x.apply(&m)
		item.Extracted = x.entities
	}
	var out []store.BatchOutcome
	err = s.inTx(ctx, func(ctx context.Context, publish func(string, store.Memory) error) error {
		var err error
		if out, err = s.c.Store.InsertMemories(ctx, []store.BatchItem{item}); err != nil {
			return err
		}
		if out[0].Err != nil || out[0].DuplicateID != "" {
			return nil
		}
		if len(item.Extracted) > 0 {
			if m, err = s.c.Store.GetMemory(ctx, accountID, m.ID); err != nil {
				return err
			}
		}
		return publish(memory.EventMemoryCreated, m)
	})
	if err != nil {
		return memory.CreateResult{}, apierr.FromStore(err, apierr.Memory)
	}
	if out[0].Err != nil {
		return memory.CreateResult{}, apierr.FromStore(out[0].Err, apierr.Memory)
	}
	if id := out[0].DuplicateID; id != "" {
		dup, err := s.c.Store.GetMemory(ctx, accountID, id)
		if err != nil {
			return memory.CreateResult{}, fmt.Errorf("memoryrelay: read duplicate: %w", err)
		}
		return memory.CreateResult{Memory: convert.Memory(dup), IsDuplicate: true}, nil
	}
	return memory.CreateResult{Memory: convert.Memory(m)}, nil
}

// notInvalid is err unless it is nil or a *memory.ValidationError.
func notInvalid(err error) error {
	var v *memory.ValidationError
	if err == nil || errors.As(err, &v) {
		return nil
	}
	return err
}

// dedupThreshold checks the range of in's deduplication threshold,
// whether or not deduplication is asked for.
func dedupThreshold(p *valid.Problems, in memory.NewMemory) {
	if t := in.DedupThreshold; t != nil && (math.IsNaN(*t) || *t < memory.MinDedupThreshold || *t > 1) {
		p.Add("DedupThreshold", "DedupThreshold must be between %v and 1", memory.MinDedupThreshold)
	}
}

// threshold is in's deduplication threshold, which newMemory checked.
func threshold(in memory.NewMemory) float64 {
	if in.DedupThreshold == nil {
		return memory.DefaultDedupThreshold
	}
	return *in.DedupThreshold
}

// createBatch validates, embeds and stores up to memory.MaxBatch
// memories. Items stand alone: an invalid item, or one naming a session
// the account does not have, fails without affecting the others, and a
// deduplicated item is skipped (duplicates of earlier items of the same
// batch included). Every valid item's content is embedded in one Embedder
// call and all are stored in one write transaction, so an error of the
// embedder or the database stores nothing and is returned. An empty or
// oversized batch is a *memory.ValidationError for "Memories". An item's
// error names its fields within the item ("Content"), as Create does.
func (s *Service) createBatch(ctx context.Context, accountID string, p memory.BatchParams) (memory.BatchResult, error) {
	start := time.Now()
	if len(p.Memories) == 0 || len(p.Memories) > memory.MaxBatch {
		return memory.BatchResult{}, valid.Invalid("Memories", "Memories must hold 1-%d items", memory.MaxBatch)
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
		m, err := s.newMemoryIn(ctx, accountID, in)
		if ue := notInvalid(err); ue != nil {
			return memory.BatchResult{}, ue // a failed read of projects fails the batch, as the embedder's does
		}
		if err != nil {
			res.Items[i] = memory.BatchItemResult{Status: memory.BatchFailed, Err: err}
			continue
		}
		mems[i] = m
		item := store.BatchItem{Memory: &mems[i], Dedup: in.Deduplicate, DedupThreshold: threshold(in)}
		if s.wantsExtraction(in) {
			x := s.extract(ctx, accountID, m.Content)
			x.apply(&mems[i])
			item.Extracted = x.entities
		}
		items = append(items, item)
		at = append(at, i)
		texts = append(texts, m.Content)
	}
	if len(items) > 0 {
		t0 := time.Now()
		vecs, errs, err := s.c.Index.Batch(ctx, texts)
		res.Timing.Embedding = time.Since(t0)
		if err != nil {
			return memory.BatchResult{}, err
		}
		// An unusable vector fails its item only.
		kept := items[:0]
		keptAt := at[:0]
		for k, v := range vecs {
			if errs[k] != nil {
				res.Items[at[k]] = memory.BatchItemResult{Status: memory.BatchFailed, Err: errs[k]}
				continue
			}
			items[k].Index = indexing.Of(texts[k], v)
			kept = append(kept, items[k])
			keptAt = append(keptAt, at[k])
		}
		items, at = kept, keptAt
	}
	if len(items) > 0 {
		t0 := time.Now()
		var out []store.BatchOutcome
		err := s.inTx(ctx, func(ctx context.Context, publish func(string, store.Memory) error) error {
			var err error
			if out, err = s.c.Store.InsertMemories(ctx, items); err != nil {
				return err
			}
			for k, o := range out {
				if o.Err == nil && o.DuplicateID == "" {
					m := *items[k].Memory
					if len(items[k].Extracted) > 0 && s.c.Events != nil {
						if m, err = s.c.Store.GetMemory(ctx, accountID, m.ID); err != nil {
							return err
						}
					}
					if err := publish(memory.EventMemoryCreated, m); err != nil {
						return err
					}
				}
			}
			return nil
		})
		res.Timing.Database = time.Since(t0)
		if err != nil {
			return memory.BatchResult{}, fmt.Errorf("memoryrelay: store batch: %w", err)
		}
		for k, o := range out {
			switch {
			case o.Err != nil:
				res.Items[at[k]] = memory.BatchItemResult{Status: memory.BatchFailed, Err: apierr.FromStore(o.Err, apierr.Memory)}
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
