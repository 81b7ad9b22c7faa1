package memoryrelay

import (
	"context"

	"github.com/memoryrelay/memoryrelay/memory"
)

// accountUsage is the memory.Usage of an account (usage.go holds the
// code).
type accountUsage struct{ *account }

// errNoKey is Quota's error on an account handle that acts for no key.
var errNoKey = memory.Invalid("key", "the account handle acts for no key (Relay.Account): use Relay.AccountFor for a key's quota")

func (a accountUsage) Quota(ctx context.Context) (memory.Quota, error) {
	return call(ctx, a.account, func() (memory.Quota, error) {
		if a.key == nil {
			return memory.Quota{}, errNoKey
		}
		return a.r.quota(ctx, *a.key)
	})
}
