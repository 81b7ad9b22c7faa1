package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountDecisions is the memory.Decisions of an account (decisions.go
// holds the code).
type accountDecisions struct{ *account }

func (a accountDecisions) Create(ctx context.Context, in memory.NewDecision) (memory.Decision, error) {
	return call(ctx, a.account, func() (memory.Decision, error) { return a.r.createDecision(ctx, a.id, in) })
}

func (a accountDecisions) Get(ctx context.Context, id string) (memory.Decision, error) {
	return call(ctx, a.account, func() (memory.Decision, error) { return a.r.getDecision(ctx, a.id, id) })
}

func (a accountDecisions) List(ctx context.Context, p memory.DecisionListParams) (memory.Page[memory.Decision], error) {
	return call(ctx, a.account, func() (memory.Page[memory.Decision], error) { return a.r.listDecisions(ctx, a.id, p) })
}

func (a accountDecisions) Supersede(ctx context.Context, id string, p memory.SupersedeParams) (memory.Decision, error) {
	return call(ctx, a.account, func() (memory.Decision, error) { return a.r.supersedeDecision(ctx, a.id, id, p) })
}

func (a accountDecisions) Check(ctx context.Context, p memory.DecisionCheckParams) ([]memory.DecisionHit, error) {
	return call(ctx, a.account, func() ([]memory.DecisionHit, error) { return a.r.checkDecisions(ctx, a.id, p) })
}
