package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// richAccount stores memories, an entity and its links, a session, a
// decision and a pattern in a new account.
func richAccount(t *testing.T, path, name string) string {
	t.Helper()
	r := openDB(t, path, nil)
	defer r.Close()
	ctx := context.Background()
	acct := fill(t, r, name, 12)
	a := r.Account(acct)
	page, err := a.Memories().List(ctx, memory.ListParams{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	ent, err := a.Entities().Create(ctx, memory.NewEntity{Name: "Backups", Metadata: json.RawMessage(`{"note":"ünïcødé"}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Data {
		if _, _, err := a.Entities().Link(ctx, memory.NewEntityLink{EntityID: ent.ID, MemoryID: m.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Sessions().Create(ctx, memory.NewSession{AgentID: "bot"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Decisions().Create(ctx, memory.NewDecision{Title: "Nightly backups", Rationale: "Restores need them.", Tags: []string{"ops"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Patterns().Create(ctx, memory.NewPattern{Title: "Copy then rename", Description: "Write aside, rename into place."}); err != nil {
		t.Fatal(err)
	}
	return acct
}

// TestExportImportCLI: export → import → export through the command gives
// the same file byte for byte; a second import of it, or of a file cut
// short, fails saying nothing was imported and changes nothing; an
// existing -o is refused; -account picks accounts by name.
func TestExportImportCLI(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	richAccount(t, src, "acme")
	richAccount(t, src, "globex")
	first := filepath.Join(dir, "first.jsonl")
	_, errs := mustCLI(t, map[string]string{"MEMORYRELAY_DB": src}, "export", "-o", first)
	if !strings.Contains(errs, "Exported 2 account(s): 2 account, 2 agent, 2 decision, 2 entity, 4 entity_link, 24 memory, 2 pattern, 2 session") ||
		!strings.Contains(errs, "export: 100%") {
		t.Fatalf("export said %q", errs)
	}
	dst := filepath.Join(dir, "dst.db")
	out, _ := mustCLI(t, map[string]string{"MEMORYRELAY_DB": dst}, "import", first)
	if !strings.Contains(out, "Imported 2 account(s) into "+dst) || !strings.Contains(out, "24 memory") {
		t.Fatalf("import said %q", out)
	}
	second := filepath.Join(dir, "second.jsonl")
	mustCLI(t, map[string]string{"MEMORYRELAY_DB": dst}, "export", "-o", second)
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Fatalf("export → import → export differs (%d and %d bytes)", len(a), len(b))
	}
	// The same to standard output.
	if stdout, _ := mustCLI(t, map[string]string{"MEMORYRELAY_DB": dst}, "export"); stdout != string(a) {
		t.Fatal("export to standard output differs from -o")
	}
	if out, _ := mustCLI(t, map[string]string{"MEMORYRELAY_DB": dst}, "doctor"); !strings.Contains(out, "ok    search tables  24 memories") || !strings.Contains(out, "built from 24 vectors") {
		t.Fatalf("doctor of the imported database:\n%s", out)
	}

	fresh := filepath.Join(dir, "fresh.db")
	for _, c := range []struct {
		name, db, file, stderr string
	}{
		{"again", dst, first, "already in the database"},
		{"cut short", fresh, writeFile(t, dir, "cut.jsonl", a[:len(a)/2]), "malformed export"},
		{"not an export", fresh, writeFile(t, dir, "x.csv", []byte("a,b\n")), "not the header of an export"},
	} {
		_, stderr, code := cli(t, map[string]string{"MEMORYRELAY_DB": c.db}, "import", c.file)
		if code != 1 || !strings.Contains(stderr, c.stderr) || !strings.Contains(stderr, "nothing was imported") {
			t.Errorf("%s: exit %d, %q", c.name, code, stderr)
		}
	}
	if list, _ := mustCLI(t, map[string]string{"MEMORYRELAY_DB": fresh}, "accounts", "list"); strings.Count(list, "\n") != 1 {
		t.Fatalf("a failed import left accounts:\n%s", list)
	}
	third := filepath.Join(dir, "third.jsonl")
	mustCLI(t, map[string]string{"MEMORYRELAY_DB": dst}, "export", "-o", third)
	if c, _ := os.ReadFile(third); !bytes.Equal(a, c) {
		t.Fatal("a failed import changed the database")
	}
	if _, stderr, code := cli(t, map[string]string{"MEMORYRELAY_DB": dst}, "export", "-o", third); code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("export over a file: %d %q", code, stderr)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*partial")); len(m) != 0 {
		t.Fatalf("partial files left: %v", m)
	}
	one, _ := mustCLI(t, map[string]string{"MEMORYRELAY_DB": src}, "export", "-account", "globex")
	if !strings.Contains(one, `"name":"globex"`) || strings.Contains(one, `"name":"acme"`) || strings.Count(one, `{"type":"memory"`) != 12 {
		t.Fatalf("-account globex:\n%.300s", one)
	}
	if _, stderr, code := cli(t, map[string]string{"MEMORYRELAY_DB": src}, "export", "-account", "initech"); code != 1 || !strings.Contains(stderr, `no account with the id or name "initech"`) {
		t.Fatalf("-account unknown: %d %q", code, stderr)
	}
	list, _ := mustCLI(t, map[string]string{"MEMORYRELAY_DB": dst}, "accounts", "list")
	if strings.Count(list, "\n") != 3 || !strings.Contains(list, "acme") || !strings.Contains(list, "globex") {
		t.Fatalf("accounts list:\n%s", list)
	}
	if js, _ := mustCLI(t, map[string]string{"MEMORYRELAY_DB": dst}, "accounts", "list", "-json"); strings.Count(js, `"name":`) != 2 {
		t.Fatalf("accounts list -json:\n%s", js)
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportEmbedderCLI: an export of another embedder is refused with
// both named, imported as it is with its -embedder, or re-embedded into a
// new database with -reembed.
func TestImportEmbedderCLI(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	r := openDB(t, src, embed.NewHashing(96))
	acct := fill(t, r, "acme", 7)
	r.Close()
	file := filepath.Join(dir, "x.jsonl")
	mustCLI(t, map[string]string{"MEMORYRELAY_DB": src, "MEMORYRELAY_EMBEDDER": "hash:96"}, "export", "-o", file)

	_, stderr, code := cli(t, map[string]string{"MEMORYRELAY_DB": filepath.Join(dir, "a.db")}, "import", file)
	if code != 1 || !strings.Contains(stderr, "memoryrelay-hash-v1-96/96") || !strings.Contains(stderr, "memoryrelay-hash-v1-384/384") || !strings.Contains(stderr, "-reembed") {
		t.Fatalf("another embedder: %d %q", code, stderr)
	}
	mustCLI(t, map[string]string{"MEMORYRELAY_DB": filepath.Join(dir, "b.db"), "MEMORYRELAY_EMBEDDER": "hash:96"}, "import", file)
	out, errs := mustCLI(t, map[string]string{"MEMORYRELAY_DB": filepath.Join(dir, "c.db")}, "import", "-reembed", file)
	if !strings.Contains(out, "Re-embedded 7 texts from memoryrelay-hash-v1-96/96 to memoryrelay-hash-v1-384/384") || !strings.Contains(errs, "reembed memories: 7 texts") {
		t.Fatalf("-reembed: %q %q", out, errs)
	}
	c := openDB(t, filepath.Join(dir, "c.db"), nil)
	hits, err := c.Account(acct).Memories().Search(context.Background(), memory.SearchParams{Query: "memory number 3", Mode: memory.ModeSemantic})
	if err != nil || len(hits) == 0 {
		t.Fatalf("search after -reembed: %v %v", hits, err)
	}
}
