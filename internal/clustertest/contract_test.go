package clustertest

import (
	"context"
	"os"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/memory/memorytest"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func TestMain(m *testing.M) {
	if os.Getenv(nodeEnv) != "" { // a node process of TestJobsLeasedAcrossNodes or TestCrashAcrossNodes
		os.Exit(runNode())
	}
	os.Exit(pgtest.Main(m))
}

// TestContract runs the API's conformance suite (memory/memorytest)
// against Relays on PostgreSQL: the walk against one node, and the
// isolation of accounts with the account under test on one node and the
// other account on another.
func TestContract(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := openNode(t, memoryrelay.Options{PostgresURL: url})
	b := openNode(t, memoryrelay.Options{PostgresURL: url})
	newAccount := func(t *testing.T, r *memoryrelay.Relay) (memory.Account, keys.Key) {
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
	t.Run("OneNode", func(t *testing.T) {
		memorytest.Run(t, func(t *testing.T) memorytest.Env {
			acct, k := newAccount(t, a)
			other, _ := newAccount(t, a)
			return memorytest.Env{Account: acct, Other: other, KeyID: k.ID}
		})
	})
	t.Run("OtherOnAnotherNode", func(t *testing.T) {
		memorytest.Run(t, func(t *testing.T) memorytest.Env {
			acct, k := newAccount(t, a)
			other, _ := newAccount(t, b)
			return memorytest.Env{Account: acct, Other: other, KeyID: k.ID}
		})
	})
}
