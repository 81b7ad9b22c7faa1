// Command inprocess uses memoryrelay as a Go library, with no HTTP at all:
// open a database, store a few memories for an agent, and search them.
//
//	go run ./examples/inprocess
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

func main() {
	dir, err := os.MkdirTemp("", "memoryrelay-inprocess")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), filepath.Join(dir, "memory.db"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inprocess:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dbPath string, out io.Writer) error {
	relay, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: dbPath})
	if err != nil {
		return err
	}
	defer relay.Close()

	info, err := relay.CreateAccount(ctx, "example")
	if err != nil {
		return err
	}
	// The account's API: package memory's interfaces, the same the Go
	// client of a remote server implements.
	var acct memory.Account = relay.Account(info.ID)
	for _, text := range []string{
		"The user prefers TypeScript over JavaScript for new projects.",
		"Deployments run every Friday at 5pm from the release branch.",
		"The user's dog is called Biscuit.",
	} {
		if _, err := acct.Memories().Create(ctx, memory.NewMemory{AgentID: "assistant", Content: text}); err != nil {
			return err
		}
	}
	hits, err := acct.Memories().Search(ctx, memory.SearchParams{
		Query:   "Which programming language does the user prefer?",
		AgentID: ptr("assistant"),
		Limit:   2,
	})
	if err != nil {
		return err
	}
	for _, h := range hits {
		fmt.Fprintf(out, "%.2f  %s\n", h.Score, h.Memory.Content)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
