package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountSessions is the memory.Sessions of an account (sessions.go holds
// the code).
type accountSessions struct{ *account }

func (a accountSessions) Create(ctx context.Context, in memory.NewSession) (memory.Session, error) {
	return call(ctx, a.account, func() (memory.Session, error) { return a.r.createSession(ctx, a.id, in) })
}

func (a accountSessions) GetOrCreate(ctx context.Context, externalID string, in memory.NewSession) (memory.Session, bool, error) {
	return call2(ctx, a.account, func() (memory.Session, bool, error) { return a.r.getOrCreateSession(ctx, a.id, externalID, in) })
}

func (a accountSessions) Get(ctx context.Context, id string) (memory.Session, error) {
	return call(ctx, a.account, func() (memory.Session, error) { return a.r.getSession(ctx, a.id, id) })
}

func (a accountSessions) GetWithMemories(ctx context.Context, id string) (memory.Session, []memory.Memory, error) {
	return call2(ctx, a.account, func() (memory.Session, []memory.Memory, error) { return a.r.sessionWithMemories(ctx, a.id, id) })
}

func (a accountSessions) End(ctx context.Context, id string, summary *string) (memory.Session, error) {
	return call(ctx, a.account, func() (memory.Session, error) { return a.r.endSession(ctx, a.id, id, summary) })
}

func (a accountSessions) List(ctx context.Context, p memory.SessionListParams) (memory.Page[memory.Session], error) {
	return call(ctx, a.account, func() (memory.Page[memory.Session], error) { return a.r.listSessions(ctx, a.id, p) })
}
