package memoryrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "memoryrelay-example")
	defer os.RemoveAll(dir)

	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	info, _ := r.CreateAccount(ctx, "acme")
	mem := r.Account(info.ID).Memories()
	mem.Create(ctx, memory.NewMemory{AgentID: "assistant", Content: "The user prefers TypeScript over JavaScript."})
	mem.Create(ctx, memory.NewMemory{AgentID: "assistant", Content: "Deployments run on Fridays."})

	hits, _ := mem.Search(ctx, memory.SearchParams{Query: "does the user prefer TypeScript?", Limit: 1})
	for _, h := range hits {
		fmt.Println(h.Memory.Content)
	}
	// Output: The user prefers TypeScript over JavaScript.
}

// remember is written against memory.Account alone: it runs on an account
// of the library in process (Relay.Account, as below) and, unchanged, on
// the Go client of a remote server.
func remember(ctx context.Context, acct memory.Account, facts ...string) ([]memory.Hit, error) {
	for _, f := range facts {
		if _, err := acct.Memories().Create(ctx, memory.NewMemory{AgentID: "assistant", Content: f}); err != nil {
			return nil, err
		}
	}
	return acct.Memories().Search(ctx, memory.SearchParams{Query: "Which language does the user prefer?", Limit: 1})
}

// ExampleRelay_Account uses an account of the library through the
// interfaces of package memory. Swapping relay.Account(id) for a remote
// account is the only change a program needs to move to a server.
func ExampleRelay_Account() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "memoryrelay-example")
	defer os.RemoveAll(dir)
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer relay.Close()
	info, _ := relay.CreateAccount(ctx, "acme")

	var acct memory.Account = relay.Account(info.ID)
	hits, err := remember(ctx, acct, "The user prefers TypeScript.", "The user's dog is called Biscuit.")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(hits[0].Memory.Content, hits[0].Memory.AgentID)

	// Errors are package memory's: an unknown id is not found, bad input
	// names the Go field.
	_, err = acct.Memories().Get(ctx, "4b0e2b0c-6b5e-4a7e-9a59-6c8f6f1d7c2e")
	fmt.Println(errors.Is(err, memory.ErrNotFound), err)
	_, err = acct.Memories().Create(ctx, memory.NewMemory{Content: " "})
	var verr *memory.ValidationError
	if errors.As(err, &verr) {
		fmt.Println(verr.Field()+":", verr.Problems[0].Message)
	}
	// An account that does not exist is not found either.
	_, err = relay.Account("no-such-account").Memories().List(ctx, memory.ListParams{})
	fmt.Println(err)
	// Output:
	// The user prefers TypeScript. assistant
	// true memory not found
	// Content: Content must be 1-51200 characters and not blank
	// account not found
}

func ExampleRelay_Authorize() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "memoryrelay-example")
	defer os.RemoveAll(dir)
	r, _ := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	defer r.Close()

	info, _ := r.CreateAccount(ctx, "acme")
	_, tok, _ := r.Account(info.ID).Keys().Create(ctx, memory.NewKey{Name: "dashboard", Scopes: scopes.NewSet(scopes.Read)})

	a, err := r.Authorize(ctx, tok.Reveal(), scopes.Read)
	fmt.Println(a.Key.Name, err, a.Decision.Remaining)
	_, err = r.Authorize(ctx, tok.Reveal(), scopes.Write)
	fmt.Println(err)

	// The key's account, acting for the key: its quota is the key's.
	q, _ := r.AccountFor(a.Key).Usage().Quota(ctx)
	fmt.Println(q.Used, q.Limit)
	// Output:
	// dashboard <nil> 99
	// Insufficient scope. Required: write
	// 2 144000
}

// Example_keys creates a key and shows the error for a field the key store
// refuses, which names the Go field (over HTTP the field and message speak
// the wire's names: 400 validation_error, expires_at).
func Example_keys() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "memoryrelay-example")
	defer os.RemoveAll(dir)
	r, _ := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	defer r.Close()
	info, _ := r.CreateAccount(ctx, "acme")
	ks := r.Account(info.ID).Keys()

	k, tok, err := ks.Create(ctx, memory.NewKey{
		Name:     "ci-bot",
		Scopes:   scopes.NewSet(scopes.Read, scopes.Write),
		Metadata: json.RawMessage(`{"team": "platform"}`),
	})
	fmt.Println(k.Name, k.Scopes, string(k.Metadata), tok.Prefix() == k.Prefix, err)

	yesterday := time.Now().Add(-24 * time.Hour)
	_, _, err = ks.Create(ctx, memory.NewKey{Name: "late", Scopes: scopes.NewSet(scopes.Read), ExpiresAt: &yesterday})
	var verr *memory.ValidationError
	if errors.As(err, &verr) {
		fmt.Println(verr.Field()+":", verr.Problems[0].Message)
	}
	fmt.Println(errors.Is(err, memory.ErrInvalid), errors.Is(err, keys.ErrInvalid))

	// An unknown key matches both not-found sentinels.
	_, err = ks.Get(ctx, "4b0e2b0c-6b5e-4a7e-9a59-6c8f6f1d7c2e")
	fmt.Println(errors.Is(err, memory.ErrNotFound), errors.Is(err, keys.ErrNotFound))
	// Output:
	// ci-bot read,write {"team":"platform"} true <nil>
	// ExpiresAt: ExpiresAt must be in the future
	// true true
	// true true
}

// ExampleRelay_ImportKey gives an account a key made elsewhere (here a
// generated one; a server reads it from its environment), as a bootstrap
// does: the key then authorizes as any other.
func ExampleRelay_ImportKey() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "memoryrelay-example")
	defer os.RemoveAll(dir)
	r, _ := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	defer r.Close()
	info, _ := r.CreateAccount(ctx, "default")

	tok, _ := keys.Generate("live") // or keys.Parse(os.Getenv("MEMORYRELAY_BOOTSTRAP_KEY"))
	k, err := r.ImportKey(ctx, info.ID, tok, memory.NewKey{Name: "bootstrap admin", Scopes: scopes.NewSet(scopes.Admin)})
	fmt.Println(k.Name, err)
	a, err := r.Authorize(ctx, tok.Reveal(), scopes.Admin)
	fmt.Println(a.Key.ID == k.ID, err)
	// Output:
	// bootstrap admin <nil>
	// true <nil>
}
