package memoryrelay_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/memory/memorytest"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestConformance runs the shared suite of the account-scoped API against
// the library in process: handles that act for an admin key
// (Relay.AccountFor), and handles that act for none (Relay.Account).
func TestConformance(t *testing.T) {
	r, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: filepath.Join(t.TempDir(), "relay.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	newAccount := func(t *testing.T) (memory.Account, keys.Key) {
		t.Helper()
		ctx := context.Background()
		info, err := r.CreateAccount(ctx, "suite")
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := r.Account(info.ID).Keys().Create(ctx, memory.NewKey{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
		if err != nil {
			t.Fatal(err)
		}
		return r.AccountFor(k), k
	}
	t.Run("AccountFor", func(t *testing.T) {
		memorytest.Run(t, func(t *testing.T) memorytest.Env {
			a, k := newAccount(t)
			b, _ := newAccount(t)
			return memorytest.Env{Account: a, Other: b, KeyID: k.ID}
		})
	})
	t.Run("Account", func(t *testing.T) {
		memorytest.Run(t, func(t *testing.T) memorytest.Env {
			ctx := context.Background()
			a, err := r.CreateAccount(ctx, "suite")
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.CreateAccount(ctx, "suite")
			if err != nil {
				t.Fatal(err)
			}
			return memorytest.Env{Account: r.Account(a.ID), Other: r.Account(b.ID)}
		})
	})
}
