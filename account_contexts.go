package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountContexts is the memory.Contexts of an account (contexts.go holds
// the code).
type accountContexts struct{ *account }

func (a accountContexts) Text(ctx context.Context, p memory.TextContextParams) (memory.TextContext, error) {
	return call(ctx, a.account, func() (memory.TextContext, error) { return a.r.textContext(ctx, a.id, p) })
}

func (a accountContexts) Build(ctx context.Context, p memory.BuildContextParams) (memory.BuiltContext, error) {
	return call(ctx, a.account, func() (memory.BuiltContext, error) { return a.r.buildContext(ctx, a.id, p) })
}
