package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/client"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// remember is written against memory.Account alone: it runs the same on
// the library in process and, as here, on a remote server.
func remember(ctx context.Context, acct memory.Account) error {
	for _, c := range []string{"The user prefers TypeScript over JavaScript.", "Deployments run on Fridays."} {
		if _, err := acct.Memories().Create(ctx, memory.NewMemory{AgentID: "assistant", Content: c}); err != nil {
			return err
		}
	}
	hits, err := acct.Memories().Search(ctx, memory.SearchParams{Query: "does the user prefer TypeScript?", Limit: 1})
	if err != nil {
		return err
	}
	for _, h := range hits {
		fmt.Println(h.Memory.Content)
	}
	return nil
}

func Example() {
	ctx := context.Background()
	url, key, stop := exampleServer(ctx)
	defer stop()

	c, err := client.New(client.Options{APIKey: key, BaseURL: url})
	if err != nil {
		fmt.Println(err)
		return
	}
	var acct memory.Account = c.Account() // embedded: relay.Account(accountID)
	if err := remember(ctx, acct); err != nil {
		fmt.Println(err)
	}
	// Output: The user prefers TypeScript over JavaScript.
}

// Errors of the server match the errors of package memory, as they do in
// process, and keep the answer's details in a *client.Error.
func Example_errors() {
	ctx := context.Background()
	url, key, stop := exampleServer(ctx)
	defer stop()
	c, _ := client.New(client.Options{APIKey: key, BaseURL: url})
	acct := c.Account()

	_, err := acct.Memories().Get(ctx, "00000000-0000-4000-8000-000000000000")
	var nf *memory.NotFoundError
	var apiErr *client.Error
	fmt.Println(errors.Is(err, memory.ErrNotFound), errors.As(err, &nf), nf.Kind)
	fmt.Println(errors.As(err, &apiErr), apiErr.StatusCode, apiErr.Message)

	_, err = acct.Memories().Create(ctx, memory.NewMemory{Content: "  "})
	var verr *memory.ValidationError
	fmt.Println(errors.Is(err, memory.ErrInvalid), errors.As(err, &verr), verr.Field())
	// Output:
	// true true memory
	// true 404 Memory not found
	// true true Content
}

// exampleServer serves memoryrelay's API on a temporary database and
// returns its URL, an admin key and a function that stops it.
func exampleServer(ctx context.Context) (url, key string, stop func()) {
	dir, _ := os.MkdirTemp("", "client-example")
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: filepath.Join(dir, "memory.db")})
	if err != nil {
		panic(err)
	}
	acct, _ := relay.CreateAccount(ctx, "acme")
	_, tok, _ := relay.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "admin", Scopes: scopes.NewSet(scopes.Admin)})
	h, _ := httpapi.New(relay, httpapi.Options{})
	srv := httptest.NewServer(h)
	return srv.URL, tok.Reveal(), func() {
		srv.Close()
		relay.Close()
		os.RemoveAll(dir)
	}
}
