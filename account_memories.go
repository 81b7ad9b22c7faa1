package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountMemories is the memory.Memories of an account (memories.go,
// memories_batch.go and memories_async.go hold the code).
type accountMemories struct{ *account }

func (a accountMemories) Create(ctx context.Context, in memory.NewMemory) (memory.CreateResult, error) {
	return call(ctx, a.account, func() (memory.CreateResult, error) { return a.r.createMemory(ctx, a.id, in) })
}

func (a accountMemories) CreateBatch(ctx context.Context, p memory.BatchParams) (memory.BatchResult, error) {
	return call(ctx, a.account, func() (memory.BatchResult, error) { return a.r.createMemories(ctx, a.id, p) })
}

func (a accountMemories) CreateAsync(ctx context.Context, in memory.NewMemory, o memory.AsyncOptions) (memory.Job, error) {
	return call(ctx, a.account, func() (memory.Job, error) { return a.r.createMemoryAsync(ctx, a.id, in, o) })
}

func (a accountMemories) Job(ctx context.Context, id string) (memory.Job, error) {
	return call(ctx, a.account, func() (memory.Job, error) { return a.r.memoryStatus(ctx, a.id, id) })
}

func (a accountMemories) Get(ctx context.Context, id string) (memory.Memory, error) {
	return call(ctx, a.account, func() (memory.Memory, error) { return a.r.getMemory(ctx, a.id, id) })
}

func (a accountMemories) List(ctx context.Context, p memory.ListParams) (memory.Page[memory.Memory], error) {
	return call(ctx, a.account, func() (memory.Page[memory.Memory], error) { return a.r.listMemories(ctx, a.id, p) })
}

func (a accountMemories) Update(ctx context.Context, id string, p memory.MemoryPatch) (memory.Memory, error) {
	return call(ctx, a.account, func() (memory.Memory, error) { return a.r.updateMemory(ctx, a.id, id, p) })
}

func (a accountMemories) SetImportance(ctx context.Context, id string, importance float64, tier *string) (memory.Memory, error) {
	return call(ctx, a.account, func() (memory.Memory, error) { return a.r.setImportance(ctx, a.id, id, importance, tier) })
}

func (a accountMemories) Delete(ctx context.Context, id string) error {
	return call0(ctx, a.account, func() error { return a.r.deleteMemory(ctx, a.id, id) })
}

func (a accountMemories) DeleteUser(ctx context.Context, userID string) (int, error) {
	return call(ctx, a.account, func() (int, error) { return a.r.deleteUserMemories(ctx, a.id, userID) })
}

func (a accountMemories) Search(ctx context.Context, p memory.SearchParams) ([]memory.Hit, error) {
	return call(ctx, a.account, func() ([]memory.Hit, error) {
		hits, err := a.r.searchMemories(ctx, a.id, p)
		return convertAll(hits, hitOf), err
	})
}

func (a accountMemories) Embed(ctx context.Context, text, prefix string) (memory.Embedding, error) {
	return call(ctx, a.account, func() (memory.Embedding, error) { return a.r.embedText(ctx, text, prefix) })
}
