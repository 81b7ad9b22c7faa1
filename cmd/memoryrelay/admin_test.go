package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// openDB opens the database at path as a program would, to check what a
// command did.
func openDB(t testing.TB, path string, emb embed.Embedder) *memoryrelay.Relay {
	t.Helper()
	r, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: path, Embedder: emb, Workers: -1, KeyCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestKeysAndAccounts: accounts and keys made, listed, rotated and revoked
// on the file with no server; each key is printed once, alone on standard
// output, and nowhere else; the results are what the library sees.
func TestKeysAndAccounts(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "k.db")
	env := map[string]string{"MEMORYRELAY_DB": db}
	idOut, _ := mustCLI(t, env, "accounts", "create", "acme")
	acctID := strings.TrimSpace(idOut)
	// A second account with another name, to see that -account chooses.
	mustCLI(t, env, "accounts", "create", "other")

	admin, errs := mustCLI(t, env, "keys", "create", "-account", "acme", "-name", "admin", "-scopes", "admin")
	admin = strings.TrimSpace(admin)
	if _, err := keys.Parse(admin); err != nil || strings.Contains(errs, admin) || !strings.Contains(errs, "shown only this once") {
		t.Fatalf("create printed %q, stderr %q", admin, errs)
	}
	out, _ := mustCLI(t, env, "keys", "create", "-account", acctID, "-name", "ci", "-scopes", "read,write",
		"-expires", "720h", "-rate-limit", "50", "-metadata", `{"team":"ops"}`, "-json")
	var ci keyJSON
	if err := json.Unmarshal([]byte(out), &ci); err != nil {
		t.Fatalf("-json: %v: %q", err, out)
	}
	if ci.Name != "ci" || ci.Account != acctID || strings.Join(ci.Scopes, ",") != "read,write" || ci.RateLimit != 50 ||
		string(ci.Metadata) != `{"team":"ops"}` || ci.ExpiresAt == nil || ci.ExpiresAt.Before(time.Now().Add(719*time.Hour)) || ci.Key[:12] != ci.Prefix {
		t.Fatalf("created %+v", ci)
	}

	r := openDB(t, db, nil)
	a, err := r.Authorize(ctx, admin, scopes.Admin)
	if err != nil || a.Key.AccountID != acctID {
		t.Fatalf("admin key: %+v %v", a.Key, err)
	}
	if _, err := r.Authorize(ctx, ci.Key, scopes.Write); err != nil {
		t.Fatalf("ci key: %v", err)
	}
	if _, err := r.Authorize(ctx, ci.Key, scopes.Delete); err == nil {
		t.Fatal("ci key has delete")
	}

	list, _ := mustCLI(t, env, "keys", "list", "-account", "acme")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(list, ci.Prefix+"…") || !strings.Contains(list, "read,write") {
		t.Fatalf("list:\n%s", list)
	}
	if strings.Contains(list, admin) || strings.Contains(list, ci.Key) {
		t.Fatal("list shows a key")
	}
	jsonList, _ := mustCLI(t, env, "keys", "list", "-account", "acme", "-json")
	if n := strings.Count(jsonList, "\n"); n != 2 || strings.Contains(jsonList, `"key"`) {
		t.Fatalf("list -json:\n%s", jsonList)
	}
	if other, _ := mustCLI(t, env, "keys", "list", "-account", "other"); strings.Count(other, "\n") != 1 {
		t.Fatalf("the other account lists keys:\n%s", other)
	}

	// Rotate with no grace: the new secret works at once, the old not.
	rotated, errs := mustCLI(t, env, "keys", "rotate", "-account", "acme", ci.ID)
	rotated = strings.TrimSpace(rotated)
	if _, err := keys.Parse(rotated); err != nil || rotated == ci.Key || strings.Contains(errs, rotated) {
		t.Fatalf("rotate printed %q, stderr %q", rotated, errs)
	}
	if _, err := r.Authorize(ctx, rotated, scopes.Read); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if _, err := r.Authorize(ctx, ci.Key, scopes.Read); !errors.Is(err, keys.ErrRevoked) && !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("old secret after a rotation without grace: %v", err)
	}
	// With grace, the old one keeps working.
	graced, _ := mustCLI(t, env, "keys", "rotate", "-grace", "1h", ci.ID, "-account", "acme")
	if _, err := r.Authorize(ctx, rotated, scopes.Read); err != nil {
		t.Fatalf("old secret within its grace: %v", err)
	}
	if _, err := r.Authorize(ctx, strings.TrimSpace(graced), scopes.Read); err != nil {
		t.Fatalf("new secret: %v", err)
	}

	revoked, _ := mustCLI(t, env, "keys", "revoke", "-account", "acme", ci.ID)
	if !strings.Contains(revoked, "Revoked key "+ci.ID) {
		t.Fatalf("revoke: %q", revoked)
	}
	if _, err := r.Authorize(ctx, strings.TrimSpace(graced), scopes.Read); !errors.Is(err, keys.ErrRevoked) {
		t.Fatalf("after revoke: %v", err)
	}
	if list, _ := mustCLI(t, env, "keys", "list", "-account", "acme"); !strings.Contains(list, "revoked") {
		t.Fatalf("list after revoke:\n%s", list)
	}

	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"keys", "revoke", "-account", "acme", a.Key.ID}, "last admin key"},
		{[]string{"keys", "revoke", "-account", "other", a.Key.ID}, "has no key with that id"},
		{[]string{"keys", "rotate", "-account", "acme", "-grace", "48h", a.Key.ID}, "invalid key: -grace must be between 0 and 24h0m0s"},
		{[]string{"keys", "create", "-account", "nobody", "-name", "x", "-scopes", "read"}, `no account with the id or name "nobody"`},
		{[]string{"keys", "create", "-account", "acme", "-name", strings.Repeat("n", 256), "-scopes", "read"}, "invalid key: -name must be 1-255 characters"},
		{[]string{"keys", "create", "-account", "acme", "-name", "m", "-scopes", "read", "-metadata", "[1]"}, "invalid key: -metadata must be a JSON object"},
		{[]string{"accounts", "create", "  "}, "name"},
	} {
		stdout, stderr, code := cli(t, env, c.args...)
		if code != 1 || !strings.Contains(stderr, c.stderr) || keyRE.MatchString(stdout) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want %q)", c.args, code, stdout, stderr, c.stderr)
		}
	}
}

// fill stores n memories in the account named name.
func fill(t testing.TB, r *memoryrelay.Relay, name string, n int) string {
	t.Helper()
	ctx := context.Background()
	a, err := r.CreateAccount(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := r.Account(a.ID).Memories().Create(ctx, memory.NewMemory{AgentID: "bot", Content: fmt.Sprintf("%s memory number %d about backups and restores", name, i)}); err != nil {
			t.Fatal(err)
		}
	}
	return a.ID
}

func countMemories(t testing.TB, r *memoryrelay.Relay, acct string) int {
	t.Helper()
	p, err := r.Account(acct).Memories().List(context.Background(), memory.ListParams{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

// TestBackupAndRestore: a backup taken while the database is open holds
// what was written before it and nothing after; restored by the steps
// backup -h documents, the database is the backup; an existing PATH is
// refused.
func TestBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "live.db")
	env := map[string]string{"MEMORYRELAY_DB": db}
	r := openDB(t, db, nil)
	acct := fill(t, r, "acme", 40)

	copyPath := filepath.Join(dir, "backup.db")
	out, errs := mustCLI(t, env, "backup", copyPath) // r stays open: an online backup
	if !strings.Contains(out, "Backed up "+db+" to "+copyPath) || !strings.Contains(out, "checked whole") {
		t.Fatalf("backup said %q", out)
	}
	// Not a terminal: plain lines, the last one complete.
	if !strings.Contains(errs, "backup: 100%") || strings.Contains(errs, "\r") {
		t.Fatalf("progress %q", errs)
	}
	// Written after the backup: must not be in it.
	if _, err := r.Account(acct).Memories().Create(context.Background(), memory.NewMemory{AgentID: "bot", Content: "after the backup"}); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := cli(t, env, "backup", copyPath); code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("backup over an existing file: %d %q", code, stderr)
	}
	r.Close() // "stop the server"

	// The documented restore: set the file, its -wal and -shm aside, copy
	// the backup in, check it, start.
	for _, side := range []string{"", "-wal"} {
		if err := os.Rename(db+side, db+side+".damaged"); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	os.Remove(db + "-shm")
	copyFile(t, copyPath, db)
	if out, _ := mustCLI(t, env, "doctor"); !strings.Contains(out, "ok    integrity") {
		t.Fatalf("doctor after restore: %s", out)
	}
	restored := openDB(t, db, nil)
	if n := countMemories(t, restored, acct); n != 40 {
		t.Fatalf("restored %d memories, want the 40 of the backup", n)
	}
	hits, err := restored.Account(acct).Memories().Search(context.Background(), memory.SearchParams{Query: "memory number 7 backups"})
	if err != nil || len(hits) == 0 {
		t.Fatalf("search in the restored database: %v %v", hits, err)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReembed: reembed moves the database to another embedder with a
// progress line; afterwards commands need -embedder, and doctor with it
// finds the index built from every vector.
func TestReembed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	env := map[string]string{"MEMORYRELAY_DB": db}
	r := openDB(t, db, nil)
	fill(t, r, "acme", 25)
	r.Close()

	out, errs := mustCLI(t, env, "reembed", "-to", "hash:128", "-batch", "10")
	if !strings.Contains(out, "now uses memoryrelay-hash-v1-128/128") || !strings.Contains(out, "25 texts re-embedded") {
		t.Fatalf("reembed said %q", out)
	}
	if !strings.Contains(errs, "reembed memories: 25 texts") {
		t.Fatalf("progress %q", errs)
	}
	if out, _ := mustCLI(t, env, "reembed", "-to", "hash:128"); !strings.Contains(out, "already uses") {
		t.Fatalf("second run: %q", out)
	}
	if _, stderr, code := cli(t, env, "keys", "list"); code != 1 || !strings.Contains(stderr, "another embedder") {
		t.Fatalf("keys list with the old embedder: %d %q", code, stderr)
	}
	env["MEMORYRELAY_EMBEDDER"] = "hash:128"
	out, _ = mustCLI(t, env, "doctor")
	if !strings.Contains(out, "built from 25 vectors") || !strings.Contains(out, "embedder memoryrelay-hash-v1-128/128") {
		t.Fatalf("doctor: %s", out)
	}
}

// TestDoctor: a healthy database passes every check; a damaged one, or
// one opened with the wrong embedder, fails with exit status 1 and says
// what to do.
func TestDoctor(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "d.db")
	r := openDB(t, db, nil)
	ctx := context.Background()
	a, _ := r.CreateAccount(ctx, "big")
	for i := range 300 {
		if _, err := r.Account(a.ID).Memories().Create(ctx, memory.NewMemory{AgentID: "bot", Content: fmt.Sprintf("memory %d with some text to fill pages %s", i, strings.Repeat("x", 300))}); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	out, _ := mustCLI(t, map[string]string{"MEMORYRELAY_DB": db}, "doctor")
	for _, want := range []string{"ok    integrity", "ok    database", "ok    embeddings", "ok    search index   built from 300 vectors", "ok    size"} {
		if !strings.Contains(out, want) {
			t.Errorf("healthy: %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("healthy database failed: %s", out)
	}

	out, _, code := cli(t, map[string]string{"MEMORYRELAY_DB": db, "MEMORYRELAY_EMBEDDER": "hash:64"}, "doctor")
	if code != 1 || !strings.Contains(out, "FAIL  embedder") || !strings.Contains(out, "-embedder") {
		t.Errorf("wrong embedder: %d %s", code, out)
	}

	// 8 KiB overwritten mid-file, as a bad disk would: past Open's own
	// size bound, doctor still checks every page.
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	at := len(data) / 2 / page * page
	for i := at; i < at+8<<10; i++ {
		data[i] = byte(i * 7)
	}
	bad := filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = cli(t, map[string]string{"MEMORYRELAY_DB": bad}, "doctor")
	if code != 1 || !strings.Contains(out, "FAIL  integrity") || !strings.Contains(out, "restore it from a backup") || !strings.Contains(out, "1 check(s) failed") {
		t.Errorf("damaged: %d %s", code, out)
	}
}
