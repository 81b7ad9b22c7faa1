package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
)

const accountsAbout = `
Manage accounts on the database file directly (no server needed).

  accounts create NAME    create an account; prints its id
  accounts list           list the accounts: id, name, created

Every key and every stored object belongs to one account; keys create
-account NAME makes its keys.`

func accountsCmd(ctx context.Context, args []string, sys *system) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlags(sys, "accounts", "accounts create|list [flags]", accountsAbout)
		if _, err := parse(fs, args); err != nil {
			return err
		}
		fs.Usage()
		return usagef("accounts needs a subcommand: create or list")
	}
	switch args[0] {
	case "create":
		return accountsCreate(ctx, args[1:], sys)
	case "list":
		return accountsList(ctx, args[1:], sys)
	}
	return usagef("unknown accounts subcommand %q: create or list", args[0])
}

func accountsList(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "accounts list", "accounts list [flags]", "List the accounts, oldest first: id, name and when each was created.")
	db := addDBFlags(fs, sys.getenv)
	asJSON := fs.Bool("json", false, "print one JSON object per account, one a line")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("accounts list takes no arguments, got %q", rest)
	}
	relay, err := db.openAdmin(ctx, false)
	if err != nil {
		return err
	}
	defer relay.Close()
	list, err := relay.Accounts(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		for _, a := range list {
			if err := printJSON(sys, map[string]any{"id": a.ID, "name": a.Name, "created_at": a.CreatedAt}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(sys.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.ID, a.Name, stamp(&a.CreatedAt))
	}
	return tw.Flush()
}

func accountsCreate(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "accounts create", "accounts create [flags] NAME",
		"Create an account named NAME (1-255 characters; names need not be unique) and print its id. The database file is created if missing.")
	db := addDBFlags(fs, sys.getenv)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("accounts create takes one name")
	}
	relay, err := db.openAdmin(ctx, true)
	if err != nil {
		return err
	}
	defer relay.Close()
	a, err := relay.CreateAccount(ctx, rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(sys.stdout, a.ID)
	fmt.Fprintf(sys.stderr, "Created account %q (%s). Make its first key with: memoryrelay keys create -account %s -name admin -scopes admin\n", a.Name, a.ID, a.ID)
	return nil
}
