package keys_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// ExampleStore creates a key in a SQLite database, verifies it, revokes it
// and verifies it again.
func ExampleStore() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "memoryrelay-keys-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "keys.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	acct, err := db.CreateAccount(ctx, "acme", time.Now())
	if err != nil {
		log.Fatal(err)
	}

	ks, err := keys.NewStore(db.Keys(), keys.Options{}) // env "live", 30s cache
	if err != nil {
		log.Fatal(err)
	}
	defer ks.Close(ctx) // writes pending last-use times

	created, tok, err := ks.Create(ctx, acct.ID, keys.CreateParams{
		Name:   "ci-bot",
		Scopes: scopes.NewSet(scopes.Read, scopes.Write),
	})
	if err != nil {
		log.Fatal(err)
	}
	// tok.Reveal() is the raw key: show it to its owner once. Only its
	// SHA-256 is stored.

	k, err := ks.Verify(ctx, tok.Reveal())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.Name, k.Scopes, k.ID == created.ID, k.Prefix == tok.Reveal()[:12])

	if _, err := ks.Revoke(ctx, acct.ID, k.ID); err != nil {
		log.Fatal(err)
	}
	_, err = ks.Verify(ctx, tok.Reveal())
	fmt.Println(errors.Is(err, keys.ErrRevoked))

	_, err = ks.Verify(ctx, "mem_live_not-a-real-key")
	fmt.Println(errors.Is(err, keys.ErrMalformed))
	// Output:
	// ci-bot read,write true true
	// true
	// true
}

// ExampleStore_Create shows a field the store refuses: every way of making
// a key (this one, the memoryrelay facade, its HTTP API) goes through the
// same checks, and a refusal names the field.
func ExampleStore_Create() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "memoryrelay-keys-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "keys.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	acct, err := db.CreateAccount(ctx, "acme", time.Now())
	if err != nil {
		log.Fatal(err)
	}
	ks, err := keys.NewStore(db.Keys(), keys.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer ks.Close(ctx)

	for _, p := range []keys.CreateParams{
		{Name: "ci-bot", Scopes: scopes.NewSet(scopes.Read), Metadata: []byte(`{"team": "platform"}`)},
		{Name: "ci-bot", Scopes: scopes.NewSet(scopes.Read), Metadata: []byte(`team=platform`)},
		{Name: "ci-bot"},
	} {
		k, _, err := ks.Create(ctx, acct.ID, p)
		var ierr *keys.InvalidError
		if errors.As(err, &ierr) {
			fmt.Printf("refused: %s: %s\n", ierr.Field, ierr.Message)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("created %s with metadata %s\n", k.Name, k.Metadata)
	}
	// Output:
	// created ci-bot with metadata {"team":"platform"}
	// refused: Metadata: Metadata must be a JSON object
	// refused: Scopes: Scopes must be a non-empty list of read, write, delete, admin
}
