package memoryrelay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
	_, tok, _ := r.Keys().Create(ctx, acct.ID, keys.CreateParams{Name: "dashboard", Scopes: scopes.NewSet(scopes.Read)})

	a, err := r.Authorize(ctx, tok.Reveal(), scopes.Read)
	fmt.Println(a.Key.Name, err, a.Decision.Remaining)
	_, err = r.Authorize(ctx, tok.Reveal(), scopes.Write)
	fmt.Println(err)
	// Output:
	// dashboard <nil> 99
	// Insufficient scope. Required: write
}
