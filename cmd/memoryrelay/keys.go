package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

const keysAbout = `
Manage an account's API keys on the database file directly (no server needed;
a running server sees a revocation within its key cache's 30 seconds).

  keys create -name NAME -scopes read,write [-expires 720h] [-rate-limit N] [-metadata JSON]
  keys list
  keys revoke ID
  keys rotate [-grace 1h] ID

Each acts on the account -account names (an id or a name; default "default",
the account serve creates). create and rotate print the new key alone on
standard output, once: it is stored hashed and cannot be shown again.`

func keysCmd(ctx context.Context, args []string, sys *system) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlags(sys, "keys", "keys create|list|revoke|rotate [flags]", keysAbout)
		if _, err := parse(fs, args); err != nil {
			return err
		}
		fs.Usage()
		return usagef("keys needs a subcommand: create, list, revoke or rotate")
	}
	switch args[0] {
	case "create":
		return keysCreate(ctx, args[1:], sys)
	case "list":
		return keysList(ctx, args[1:], sys)
	case "revoke":
		return keysRevoke(ctx, args[1:], sys)
	case "rotate":
		return keysRotate(ctx, args[1:], sys)
	}
	return usagef("unknown keys subcommand %q: create, list, revoke or rotate", args[0])
}

// accountFlag adds -account to fs.
func accountFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("account", envOr(getenv, "MEMORYRELAY_ACCOUNT", "default"), "the account: its id or its name (env MEMORYRELAY_ACCOUNT)")
}

// resolveAccount finds the account ref names: an id first, then a name.
func resolveAccount(ctx context.Context, relay *memoryrelay.Relay, ref string) (memoryrelay.AccountInfo, error) {
	a, err := relay.LookupAccount(ctx, ref)
	if errors.Is(err, memoryrelay.ErrNotFound) {
		a, err = relay.AccountByName(ctx, ref)
	}
	if errors.Is(err, memoryrelay.ErrNotFound) {
		return a, fmt.Errorf("no account with the id or name %q (memoryrelay accounts create NAME makes one)", ref)
	}
	return a, err
}

// keyJSON is a key as -json prints it: the fields of GET /v1/keys.
type keyJSON struct {
	ID         string          `json:"id"`
	Account    string          `json:"account_id"`
	Name       string          `json:"name"`
	Prefix     string          `json:"prefix"`
	Scopes     []string        `json:"scopes"`
	RateLimit  int             `json:"rate_limit,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	ExpiresAt  *time.Time      `json:"expires_at"`
	LastUsedAt *time.Time      `json:"last_used_at"`
	RevokedAt  *time.Time      `json:"revoked_at"`
	Key        string          `json:"key,omitempty"` // create and rotate only
}

func toKeyJSON(k keys.Key) keyJSON {
	return keyJSON{ID: k.ID, Account: k.AccountID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes.Strings(), RateLimit: k.RateLimit,
		Metadata: k.Metadata, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

const keysCreateAbout = `
Create an API key for the account and print it, alone on standard output
(with -json, as a JSON object with the key in "key"). It is shown only this
once.`

func keysCreate(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "keys create", "keys create -name NAME -scopes LIST [flags]", keysCreateAbout)
	db := addDBFlags(fs, sys.getenv)
	acct := accountFlag(fs, sys.getenv)
	name := fs.String("name", "", "the key's name, 1-255 characters (required)")
	scopeList := fs.String("scopes", "", "its scopes: a comma-separated list of read, write, delete, admin (required)")
	expires := fs.String("expires", "", "when it expires: a duration from now (720h) or an RFC 3339 time; default never")
	rate := fs.Int("rate-limit", 0, "its requests per minute; 0: the server's default")
	metadata := fs.String("metadata", "", "a JSON object stored with it")
	asJSON := fs.Bool("json", false, "print the key as a JSON object")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("keys create takes no arguments, got %q", rest)
	}
	if *name == "" {
		return usagef("keys create needs -name")
	}
	set, err := scopes.ParseList(*scopeList)
	if err != nil || *scopeList == "" {
		return usagef("-scopes must be a comma-separated list of read, write, delete, admin, not %q", *scopeList)
	}
	p := memory.NewKey{Name: *name, Scopes: set, RateLimit: *rate}
	if *expires != "" {
		t, err := parseExpiry(*expires, time.Now())
		if err != nil {
			return err
		}
		p.ExpiresAt = &t
	}
	if *metadata != "" {
		p.Metadata = json.RawMessage(*metadata)
	}
	relay, err := db.openAdmin(ctx, false)
	if err != nil {
		return err
	}
	defer relay.Close()
	a, err := resolveAccount(ctx, relay, *acct)
	if err != nil {
		return err
	}
	k, tok, err := relay.Account(a.ID).Keys().Create(ctx, p)
	if err != nil {
		return keyError(err)
	}
	if *asJSON {
		out := toKeyJSON(k)
		out.Key = tok.Reveal()
		return printJSON(sys, out)
	}
	fmt.Fprintln(sys.stdout, tok.Reveal())
	fmt.Fprintf(sys.stderr, "Created key %s %q (%s) for account %q (%s). It is shown only this once.\n",
		k.ID, k.Name, strings.Join(k.Scopes.Strings(), ","), a.Name, a.ID)
	return nil
}

// parseExpiry reads a duration from now or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if t := now.Add(d); d > 0 && t.After(now) {
			return t, nil
		}
		return time.Time{}, usagef("-expires must be in the future, not %s", s)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("-expires must be a duration (720h) or an RFC 3339 time (2027-01-02T15:04:05Z), not %q", s)
	}
	return t, nil
}

// keyError words the key store's refusals for the command line.
func keyError(err error) error {
	var inv *keys.InvalidError
	switch {
	case errors.As(err, &inv):
		flags := map[string]string{"Name": "-name", "Scopes": "-scopes", "ExpiresAt": "-expires", "RateLimit": "-rate-limit", "Metadata": "-metadata", "grace": "-grace"}
		msg := inv.Message
		if f, ok := flags[inv.Field]; ok {
			msg = f + strings.TrimPrefix(msg, inv.Field)
		}
		return fmt.Errorf("invalid key: %s", msg)
	case errors.Is(err, keys.ErrLastAdmin):
		return errors.New("refused: this is the account's last admin key (create another admin key first)")
	case errors.Is(err, keys.ErrNotFound), errors.Is(err, memory.ErrNotFound):
		return errors.New("the account has no key with that id (memoryrelay keys list shows its keys)")
	case errors.Is(err, keys.ErrRevoked):
		return errors.New("refused: the key is revoked")
	}
	return err
}

const keysListAbout = `
List the account's keys, newest first: id, name, display prefix, scopes,
state, and when each was created, last used and expires. The keys themselves
are never shown: only their hashes are stored.`

func keysList(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "keys list", "keys list [flags]", keysListAbout)
	db := addDBFlags(fs, sys.getenv)
	acct := accountFlag(fs, sys.getenv)
	asJSON := fs.Bool("json", false, "print one JSON object per key, one a line")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("keys list takes no arguments, got %q", rest)
	}
	relay, err := db.openAdmin(ctx, false)
	if err != nil {
		return err
	}
	defer relay.Close()
	a, err := resolveAccount(ctx, relay, *acct)
	if err != nil {
		return err
	}
	var all []keys.Key
	for p := (memory.PageParams{Limit: 100}); ; {
		page, err := relay.Account(a.ID).Keys().List(ctx, p)
		if err != nil {
			return err
		}
		all = append(all, page.Data...)
		if !page.HasMore || page.NextCursor == nil {
			break
		}
		p.Cursor = *page.NextCursor
	}
	if *asJSON {
		for _, k := range all {
			if err := printJSON(sys, toKeyJSON(k)); err != nil {
				return err
			}
		}
		return nil
	}
	now := time.Now()
	tw := tabwriter.NewWriter(sys.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tSTATE\tCREATED\tLAST USED\tEXPIRES")
	for _, k := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, strings.Join(k.Scopes.Strings(), ","),
			keyState(k, now), stamp(&k.CreatedAt), stamp(k.LastUsedAt), stamp(k.ExpiresAt))
	}
	return tw.Flush()
}

func keyState(k keys.Key, now time.Time) string {
	switch {
	case k.RevokedAt != nil && !k.RevokedAt.After(now):
		return "revoked"
	case k.RevokedAt != nil:
		return "revoked from " + stamp(k.RevokedAt)
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return "expired"
	}
	return "active"
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func printJSON(sys *system, v any) error {
	enc := json.NewEncoder(sys.stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func keysRevoke(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "keys revoke", "keys revoke [flags] ID", "Revoke the account's key with the id, at once. The account's last admin key cannot be revoked.")
	db := addDBFlags(fs, sys.getenv)
	acct := accountFlag(fs, sys.getenv)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("keys revoke takes one key id")
	}
	relay, err := db.openAdmin(ctx, false)
	if err != nil {
		return err
	}
	defer relay.Close()
	a, err := resolveAccount(ctx, relay, *acct)
	if err != nil {
		return err
	}
	k, err := relay.Account(a.ID).Keys().Revoke(ctx, rest[0])
	if err != nil {
		return keyError(err)
	}
	fmt.Fprintf(sys.stdout, "Revoked key %s %q (%s…).\n", k.ID, k.Name, k.Prefix)
	return nil
}

func keysRotate(ctx context.Context, args []string, sys *system) error {
	fs := newFlags(sys, "keys rotate", "keys rotate [flags] ID",
		"Give the account's key with the id a new secret, printed alone on standard output, once; its id, name, scopes and expiry stay. The old secret keeps working for -grace.")
	db := addDBFlags(fs, sys.getenv)
	acct := accountFlag(fs, sys.getenv)
	grace := fs.Duration("grace", 0, "how long the old secret keeps working, up to 24h")
	asJSON := fs.Bool("json", false, "print the key as a JSON object")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("keys rotate takes one key id")
	}
	relay, err := db.openAdmin(ctx, false)
	if err != nil {
		return err
	}
	defer relay.Close()
	a, err := resolveAccount(ctx, relay, *acct)
	if err != nil {
		return err
	}
	k, tok, err := relay.Account(a.ID).Keys().Rotate(ctx, rest[0], *grace)
	if err != nil {
		return keyError(err)
	}
	if *asJSON {
		out := toKeyJSON(k)
		out.Key = tok.Reveal()
		return printJSON(sys, out)
	}
	fmt.Fprintln(sys.stdout, tok.Reveal())
	fmt.Fprintf(sys.stderr, "Rotated key %s %q; the old secret works for %s more. The new one is shown only this once.\n", k.ID, k.Name, *grace)
	return nil
}
