package memories

import (
	"context"

	"github.com/memoryrelay/memoryrelay/extract"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
)

// extraction is the outcome of extracting a memory's entities (API.md
// §10.6): what to write on the memory, and what to link to it.
type extraction struct {
	status, method, model *string
	entities              []store.ExtractedEntity
}

// wantsExtraction says whether a create of in extracts its entities: as
// in.AutoExtractEntities says, else the server's default; never without
// an extractor.
func (s *Service) wantsExtraction(in memory.NewMemory) bool {
	if s.c.Extract == nil {
		return false
	}
	if in.AutoExtractEntities != nil {
		return *in.AutoExtractEntities
	}
	return s.c.ExtractByDefault
}

func ptr(s string) *string { return &s }

// extract runs the account's extractor on content. A failure fails only
// the extraction: the memory is stored, its status failed.
func (s *Service) extract(ctx context.Context, accountID, content string) extraction {
	res, err := s.c.Extract(ctx, accountID, content)
	if err != nil {
		if ctx.Err() == nil {
			s.c.Logger.Warn("memoryrelay: entity extraction failed; the memory is stored without its entities", "account_id", accountID, "err", err)
		}
		x := extraction{status: ptr(memory.ExtractionFailed)}
		if res.Method != "" {
			x.method = ptr(res.Method)
		}
		if res.Model != "" {
			x.model = ptr(res.Model)
		}
		return x
	}
	x := extraction{status: ptr(memory.ExtractionCompleted), method: ptr(res.Method), model: ptr(res.Model)}
	for _, e := range extract.Check(res.Entities) {
		x.entities = append(x.entities, store.ExtractedEntity{Type: memory.StoredEntityType(e.Type), Name: e.Name, Confidence: e.Confidence})
	}
	return x
}

// apply writes the extraction's fields on m.
func (x extraction) apply(m *store.Memory) {
	m.ExtractionStatus, m.ExtractionMethod, m.ExtractionModel = x.status, x.method, x.model
}

// link links the extraction's entities to the stored memory m, in ctx's
// transaction, and returns m as stored (its entities listed).
func (s *Service) link(ctx context.Context, m store.Memory, x *extraction) (store.Memory, error) {
	if x == nil || len(x.entities) == 0 {
		return m, nil
	}
	if err := s.c.Store.LinkExtracted(ctx, m.AccountID, m.ID, x.entities, m.CreatedAt); err != nil {
		return m, err
	}
	return s.c.Store.GetMemory(ctx, m.AccountID, m.ID)
}
