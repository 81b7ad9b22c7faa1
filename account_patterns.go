package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountPatterns is the memory.Patterns of an account (patterns.go holds
// the code).
type accountPatterns struct{ *account }

func (a accountPatterns) Create(ctx context.Context, in memory.NewPattern) (memory.Pattern, error) {
	return call(ctx, a.account, func() (memory.Pattern, error) { return a.r.createPattern(ctx, a.id, in) })
}

func (a accountPatterns) Get(ctx context.Context, id string) (memory.Pattern, error) {
	return call(ctx, a.account, func() (memory.Pattern, error) { return a.r.getPattern(ctx, a.id, id) })
}

func (a accountPatterns) Search(ctx context.Context, p memory.PatternSearchParams) ([]memory.PatternHit, error) {
	return call(ctx, a.account, func() ([]memory.PatternHit, error) { return a.r.searchPatterns(ctx, a.id, p) })
}

func (a accountPatterns) Adopt(ctx context.Context, id, project string) (memory.Pattern, error) {
	return call(ctx, a.account, func() (memory.Pattern, error) { return a.r.adoptPattern(ctx, a.id, id, project) })
}

func (a accountPatterns) Suggest(ctx context.Context, project string, limit int) ([]memory.Pattern, error) {
	return call(ctx, a.account, func() ([]memory.Pattern, error) { return a.r.suggestPatterns(ctx, a.id, project, limit) })
}
