package client_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/client"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/memory/memorytest"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestConformance runs the shared suite of the account-scoped API against
// the client: one server (httpapi over a relay, behind httptest) for the
// whole run, and for each Env two new accounts, each reached by a client
// with an admin key of its own. The rate limit lets the suite's few
// hundred calls per key through at once.
func TestConformance(t *testing.T) {
	r, err := memoryrelay.Open(t.Context(), memoryrelay.Options{
		Path: filepath.Join(t.TempDir(), "relay.db"), RateLimit: 1_000_000,
		// With the server's secret, the suite walks the extraction keys
		// too (the in-process run walks the server without it).
		ServerSecret: []byte("conformance-server-secret-0123456789"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	h, err := httpapi.New(r, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	// newAccount makes an account and an admin key of it, and returns the
	// account as a client with that key sees it.
	newAccount := func(t *testing.T) (memory.Account, keys.Key) {
		t.Helper()
		info, err := r.CreateAccount(t.Context(), "suite")
		if err != nil {
			t.Fatal(err)
		}
		k, tok, err := r.Account(info.ID).Keys().Create(t.Context(), memory.NewKey{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.New(client.Options{BaseURL: srv.URL, APIKey: tok.Reveal(), MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		return c.Account(), k
	}
	memorytest.Run(t, func(t *testing.T) memorytest.Env {
		a, k := newAccount(t)
		b, _ := newAccount(t)
		return memorytest.Env{Account: a, Other: b, KeyID: k.ID}
	})
}
