package memoryrelay

import (
	"context"
	"errors"

	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// metaBootstrap prefixes the meta key that records that an account was
// bootstrapped (Relay.Bootstrap).
const metaBootstrap = "bootstrap:"

// Bootstrapped is what [Relay.Bootstrap] did.
type Bootstrapped struct {
	Account AccountInfo
	// Created is set for the one call that gave the account its admin
	// key; Key is that key.
	Created bool
	Key     keys.Key
	// Token is the new key's secret, to show once, when Created and no
	// token was given.
	Token keys.Token
}

// Bootstrap gives a new database its first account and admin key, once,
// however many nodes start at once: the account named account is made if
// there is none, and, the first time any node bootstraps it and while it
// has no key, it gets an admin key named "bootstrap admin" — given, when
// not nil (a key made elsewhere, from configuration), else a new one,
// whose token the result carries. Every other call, on this node or
// another, concurrent or later, finds the same account and creates
// nothing (Created false). The claim, the account and the key commit in
// one transaction, so a node that fails half-way leaves the claim to the
// next.
func (r *Relay) Bootstrap(ctx context.Context, account string, given *keys.Token) (Bootstrapped, error) {
	if r.closed.Load() {
		return Bootstrapped{}, ErrClosed
	}
	nonce := uuid.New()
	var out Bootstrapped
	err := r.store.InTx(ctx, func(ctx context.Context) error {
		// The claim first: of the nodes inserting it at once, one wins
		// and the others wait for its transaction, then see its value.
		won, err := r.store.SetMetaIfAbsent(ctx, metaBootstrap+account, nonce)
		if err != nil {
			return r.classify(err)
		}
		a, err := r.AccountByName(ctx, account)
		if errors.Is(err, ErrNotFound) && won == nonce {
			a, err = r.CreateAccount(ctx, account)
		}
		if err != nil {
			return err
		}
		out.Account = a
		if won != nonce {
			return nil // bootstrapped already, by another call
		}
		ks := r.Account(a.ID).Keys()
		if page, err := ks.List(ctx, memory.PageParams{Limit: 1}); err != nil || page.Total > 0 {
			return err // a database that had keys before it had the claim
		}
		params := memory.NewKey{Name: "bootstrap admin", Scopes: scopes.NewSet(scopes.Admin)}
		if given != nil {
			out.Key, err = r.ImportKey(ctx, a.ID, *given, params)
		} else {
			out.Key, out.Token, err = ks.Create(ctx, params)
		}
		out.Created = err == nil
		return err
	})
	if err != nil {
		return Bootstrapped{}, r.classify(err)
	}
	return out, nil
}
