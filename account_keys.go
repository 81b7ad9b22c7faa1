package memoryrelay

import (
	"context"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// accountKeys is the memory.Keys of an account (keys.go holds the
// code). An unknown key is a *memory.NotFoundError of kind "key" that
// also matches keys.ErrNotFound.
type accountKeys struct{ *account }

func (a accountKeys) Create(ctx context.Context, in memory.NewKey) (keys.Key, keys.Token, error) {
	return call2(ctx, a.account, func() (keys.Key, keys.Token, error) { return a.r.createKey(ctx, a.id, in) })
}

func (a accountKeys) List(ctx context.Context, p memory.PageParams) (memory.Page[keys.Key], error) {
	return call(ctx, a.account, func() (memory.Page[keys.Key], error) { return a.r.listKeys(ctx, a.id, p) })
}

func (a accountKeys) Get(ctx context.Context, id string) (keys.Key, error) {
	return call(ctx, a.account, func() (keys.Key, error) { return a.r.getKey(ctx, a.id, id) })
}

func (a accountKeys) Revoke(ctx context.Context, id string) (keys.Key, error) {
	return call(ctx, a.account, func() (keys.Key, error) { return a.r.revokeKey(ctx, a.id, id) })
}

func (a accountKeys) Rotate(ctx context.Context, id string, grace time.Duration) (keys.Key, keys.Token, error) {
	return call2(ctx, a.account, func() (keys.Key, keys.Token, error) { return a.r.rotateKey(ctx, a.id, id, grace) })
}
