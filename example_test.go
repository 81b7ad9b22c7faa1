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

	acct, _ := r.CreateAccount(ctx, "acme")
	r.CreateMemory(ctx, acct.ID, memoryrelay.NewMemory{AgentID: "assistant", Content: "The user prefers TypeScript over JavaScript."})
	r.CreateMemory(ctx, acct.ID, memoryrelay.NewMemory{AgentID: "assistant", Content: "Deployments run on Fridays."})

	hits, _ := r.SearchMemories(ctx, acct.ID, memoryrelay.SearchParams{Query: "does the user prefer TypeScript?", Limit: 1})
	for _, h := range hits {
		fmt.Println(h.Memory.Content)
	}
	// Output: The user prefers TypeScript over JavaScript.
}

func ExampleRelay_Authorize() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "memoryrelay-example")
	defer os.RemoveAll(dir)
	r, _ := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	defer r.Close()

	acct, _ := r.CreateAccount(ctx, "acme")
	_, tok, _ := r.CreateKey(ctx, acct.ID, memoryrelay.NewKey{Name: "dashboard", Scopes: scopes.NewSet(scopes.Read)})

	a, err := r.Authorize(ctx, tok.Reveal(), scopes.Read)
	fmt.Println(a.Key.Name, err, a.Decision.Remaining)
	_, err = r.Authorize(ctx, tok.Reveal(), scopes.Write)
	fmt.Println(err)
	// Output:
	// dashboard <nil> 99
	// Insufficient scope. Required: write
}

// ExampleRelay_CreateKey creates a key and shows the error for a field the
// key store refuses: the same rules, field and message whether the key is
// made here, with Relay.Keys() or over HTTP (400 validation_error).
func ExampleRelay_CreateKey() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "memoryrelay-example")
	defer os.RemoveAll(dir)
	r, _ := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	defer r.Close()
	acct, _ := r.CreateAccount(ctx, "acme")

	k, tok, err := r.CreateKey(ctx, acct.ID, memoryrelay.NewKey{
		Name:     "ci-bot",
		Scopes:   scopes.NewSet(scopes.Read, scopes.Write),
		Metadata: json.RawMessage(`{"team": "platform"}`),
	})
	fmt.Println(k.Name, k.Scopes, string(k.Metadata), tok.Prefix() == k.Prefix, err)

	yesterday := time.Now().Add(-24 * time.Hour)
	_, _, err = r.CreateKey(ctx, acct.ID, memoryrelay.NewKey{Name: "late", Scopes: scopes.NewSet(scopes.Read), ExpiresAt: &yesterday})
	var verr *memoryrelay.ValidationError
	if errors.As(err, &verr) {
		fmt.Println(verr.Field+":", verr.Message)
	}
	_, _, err = r.Keys().Create(ctx, acct.ID, keys.CreateParams{Name: "late", Scopes: scopes.NewSet(scopes.Read), ExpiresAt: &yesterday})
	fmt.Println(errors.Is(err, keys.ErrInvalid), err)
	// Output:
	// ci-bot read,write {"team":"platform"} true <nil>
	// expires_at: expires_at must be in the future
	// true keys: expires_at must be in the future
}
