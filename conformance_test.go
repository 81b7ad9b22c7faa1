package memoryrelay_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/memory/memorytest"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// knownGaps are the suite's subtests the library does not pass yet, with
// why: each is a difference between package memory's documentation (which
// the suite follows) and what the library does over HTTP today, which
// must not change without a decision (issue 9 item 9).
var knownGaps = map[string]string{
	// API.md §10.1 (the hosted service) serves a v2 memory at once; the
	// library follows §5.3 (404 until the job is ready) and creates the
	// memory, and its agent, when the job runs.
	"Memories/Async":     "CreateAsync: the memory is readable only once its job is ready (API.md §5.3, not §10.1)",
	"Agents/AutoCreated": "CreateAsync: the agent is created when the job runs",
	// API.md #29 lists a session's memories oldest first, as the library
	// does; package memory now says so too, the suite still wants newest
	// first.
	"Sessions/WithMemories": "GetWithMemories lists oldest first (API.md #29)",
	// API.md §10.5: each tag at most 100 characters; an empty tag is
	// accepted over HTTP today, package memory says 1–100.
	"Decisions/Invalid": "an empty tag is accepted",
}

// skipKnownGaps skips t when it is one of knownGaps.
func skipKnownGaps(t *testing.T) {
	for name, why := range knownGaps {
		if strings.HasSuffix(t.Name(), "/"+name) {
			t.Skip("known gap: " + why)
		}
	}
}

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
			skipKnownGaps(t)
			a, k := newAccount(t)
			b, _ := newAccount(t)
			return memorytest.Env{Account: a, Other: b, KeyID: k.ID}
		})
	})
	t.Run("Account", func(t *testing.T) {
		memorytest.Run(t, func(t *testing.T) memorytest.Env {
			skipKnownGaps(t)
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
