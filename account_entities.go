package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountEntities is the memory.Entities of an account (entities.go holds
// the code).
type accountEntities struct{ *account }

func (a accountEntities) Create(ctx context.Context, in memory.NewEntity) (memory.Entity, error) {
	return call(ctx, a.account, func() (memory.Entity, error) { return a.r.createEntity(ctx, a.id, in) })
}

func (a accountEntities) Get(ctx context.Context, id string) (memory.Entity, error) {
	return call(ctx, a.account, func() (memory.Entity, error) { return a.r.getEntity(ctx, a.id, id) })
}

func (a accountEntities) List(ctx context.Context, p memory.EntityListParams) (memory.Page[memory.Entity], error) {
	return call(ctx, a.account, func() (memory.Page[memory.Entity], error) { return a.r.listEntities(ctx, a.id, p) })
}

func (a accountEntities) Delete(ctx context.Context, id string) error {
	return call0(ctx, a.account, func() error { return a.r.deleteEntity(ctx, a.id, id) })
}

func (a accountEntities) Link(ctx context.Context, in memory.NewEntityLink) (memory.EntityLink, bool, error) {
	return call2(ctx, a.account, func() (memory.EntityLink, bool, error) { return a.r.linkEntity(ctx, a.id, in) })
}

func (a accountEntities) Neighborhood(ctx context.Context, id string, p memory.NeighborhoodParams) (memory.Neighborhood, error) {
	return call(ctx, a.account, func() (memory.Neighborhood, error) { return a.r.entityNeighborhood(ctx, a.id, id, p) })
}
