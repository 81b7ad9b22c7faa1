package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountAgents is the memory.Agents of an account (agents.go holds the
// code).
type accountAgents struct{ *account }

func (a accountAgents) Create(ctx context.Context, in memory.NewAgent) (memory.Agent, bool, error) {
	return call2(ctx, a.account, func() (memory.Agent, bool, error) { return a.r.createAgent(ctx, a.id, in) })
}

func (a accountAgents) Get(ctx context.Context, ref string) (memory.Agent, error) {
	return call(ctx, a.account, func() (memory.Agent, error) { return a.r.getAgent(ctx, a.id, ref) })
}

func (a accountAgents) List(ctx context.Context, p memory.PageParams) (memory.Page[memory.Agent], error) {
	return call(ctx, a.account, func() (memory.Page[memory.Agent], error) { return a.r.listAgents(ctx, a.id, p) })
}

func (a accountAgents) Update(ctx context.Context, ref string, p memory.AgentPatch) (memory.Agent, error) {
	return call(ctx, a.account, func() (memory.Agent, error) { return a.r.updateAgent(ctx, a.id, ref, p) })
}

func (a accountAgents) Delete(ctx context.Context, ref string) (memory.AgentDeletion, error) {
	return call(ctx, a.account, func() (memory.AgentDeletion, error) { return a.r.deleteAgent(ctx, a.id, ref) })
}

func (a accountAgents) Stats(ctx context.Context, ref string) (memory.AgentStats, error) {
	return call(ctx, a.account, func() (memory.AgentStats, error) { return a.r.agentStats(ctx, a.id, ref) })
}
