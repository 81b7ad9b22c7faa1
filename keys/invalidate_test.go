package keys_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestInvalidation: two Stores over one database, as two processes. B
// serves a key from its cache after A revokes or rotates it, until B is
// told: Options.OnInvalidate on A names the key, Forget on B drops it.
func TestInvalidation(t *testing.T) {
	ctx := context.Background()
	read := scopes.NewSet(scopes.Read)
	type nodes struct {
		db   *stDB
		a, b *keys.Store
		told func() []string
	}
	setup := func(t *testing.T) nodes {
		db := stOpenDB(t)
		var mu sync.Mutex
		var ids []string
		a := stNewStore(t, db.st.Keys(), keys.Options{CacheTTL: 24 * time.Hour, OnInvalidate: func(ctx context.Context, id string) {
			mu.Lock()
			defer mu.Unlock()
			ids = append(ids, id)
		}})
		b := stNewStore(t, stOpenSQLite(t, db.path).Keys(), keys.Options{CacheTTL: 24 * time.Hour})
		return nodes{db: db, a: a, b: b, told: func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(ids)
		}}
	}

	t.Run("revoke", func(t *testing.T) {
		n := setup(t)
		k, raw := stCreate(t, n.a, n.db.acct, keys.CreateParams{Name: "k", Scopes: read})
		stVerify(t, n.b, raw) // cached on B for a day
		if _, err := n.a.Revoke(ctx, n.db.acct, k.ID); err != nil {
			t.Fatal(err)
		}
		if got := n.told(); !slices.Equal(got, []string{k.ID}) {
			t.Fatalf("OnInvalidate told %v; want [%s]", got, k.ID)
		}
		stVerify(t, n.b, raw) // not told yet: still served from B's cache
		n.b.Forget(k.ID)
		_, err := n.b.Verify(ctx, raw)
		stWantErr(t, "B after Forget", err, keys.ErrRevoked)
	})

	t.Run("rotate", func(t *testing.T) {
		n := setup(t)
		k, raw := stCreate(t, n.a, n.db.acct, keys.CreateParams{Name: "k", Scopes: read})
		stVerify(t, n.b, raw)
		_, tok, err := n.a.Rotate(ctx, n.db.acct, k.ID, 0) // no grace: the old secret stops now
		if err != nil {
			t.Fatal(err)
		}
		if got := n.told(); !slices.Equal(got, []string{k.ID}) {
			t.Fatalf("OnInvalidate told %v; want [%s]", got, k.ID)
		}
		n.b.Forget(k.ID)
		_, err = n.b.Verify(ctx, raw)
		stWantErr(t, "B: the old secret after Forget", err, keys.ErrRevoked)
		stVerify(t, n.b, tok.Reveal())
	})

	t.Run("refused revoke tells nothing", func(t *testing.T) {
		n := setup(t)
		other := n.db.newAccount(t, "other")
		k, _ := stCreate(t, n.a, other, keys.CreateParams{Name: "k", Scopes: read})
		_, err := n.a.Revoke(ctx, n.db.acct, k.ID) // another account's key
		stWantErr(t, "Revoke of another account's key", err, keys.ErrNotFound)
		if got := n.told(); len(got) != 0 {
			t.Fatalf("OnInvalidate told %v after a refused revoke", got)
		}
	})

	t.Run("forget all", func(t *testing.T) {
		n := setup(t)
		k1, raw1 := stCreate(t, n.a, n.db.acct, keys.CreateParams{Name: "k1", Scopes: read})
		k2, raw2 := stCreate(t, n.a, n.db.acct, keys.CreateParams{Name: "k2", Scopes: read})
		stVerify(t, n.b, raw1)
		stVerify(t, n.b, raw2)
		for _, id := range []string{k1.ID, k2.ID} {
			if _, err := n.a.Revoke(ctx, n.db.acct, id); err != nil {
				t.Fatal(err)
			}
		}
		n.b.ForgetAll()
		for _, raw := range []string{raw1, raw2} {
			_, err := n.b.Verify(ctx, raw)
			stWantErr(t, "B after ForgetAll", err, keys.ErrRevoked)
		}
	})
}
