package memoryrelay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

func ptr[T any](v T) *T { return &v }

// populate stores one of everything an export holds in a new account of
// r, with the edge cases of each: unicode and nesting in metadata, an
// archived memory, an ended session, a superseded decision, an adopted
// pattern, related projects, entity links.
func populate(t testing.TB, r *memoryrelay.Relay, name string) string {
	t.Helper()
	ctx := context.Background()
	info, err := r.CreateAccount(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	a := r.Account(info.ID)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = a.Agents().Create(ctx, memory.NewAgent{ID: "helper", Name: "Helper ✓", Description: ptr("answers"), Metadata: json.RawMessage(`{"tone":"warm","nested":{"a":[1,2.5,"x"]}}`)})
	must(err)
	_, err = a.Projects().Create(ctx, memory.NewProject{Slug: "web", Name: "Web app", Stack: json.RawMessage(`{"lang":"go"}`), RepoURL: ptr("https://example.com/web")})
	must(err)
	_, _, err = a.Projects().Relate(ctx, "web", memory.NewProjectRelationship{Target: "api", Type: "depends_on", Metadata: json.RawMessage(`{"since":2024}`)})
	must(err)
	sess, err := a.Sessions().Create(ctx, memory.NewSession{AgentID: "helper", Title: ptr("Kickoff"), Project: ptr("web")})
	must(err)
	var ids []string
	for i, c := range []memory.NewMemory{
		{Content: "The user prefers TypeScript over JavaScript for new projects.", AgentID: "helper", UserID: ptr("u-1"), Importance: ptr(0.9), Project: ptr("web"), SessionID: &sess.ID,
			Metadata: json.RawMessage(`{"source":"chat","emoji":"😀","deep":{"k":[true,null]}}`), MemoryType: ptr("preference")},
		{Content: "Déjà vu: the deploy runs on Fridays 機械学習", AgentID: "assistant", Visibility: "confidential", Tier: "cold", Scope: "session"},
		{Content: "An old memory to archive", AgentID: "assistant"},
	} {
		res, err := a.Memories().Create(ctx, c)
		must(err)
		ids = append(ids, res.Memory.ID)
		_ = i
	}
	_, err = a.Memories().Update(ctx, ids[2], memory.MemoryPatch{Tier: ptr("cold")})
	must(err)
	_, err = a.Sessions().End(ctx, sess.ID, ptr("We chose TypeScript."))
	must(err)
	ent, err := a.Entities().Create(ctx, memory.NewEntity{Name: "TypeScript", Type: ptr("technology"), AgentID: "helper"})
	must(err)
	_, _, err = a.Entities().Link(ctx, memory.NewEntityLink{EntityID: ent.ID, MemoryID: ids[0], Relationship: ptr("about")})
	must(err)
	d, err := a.Decisions().Create(ctx, memory.NewDecision{Title: "Use TypeScript", Rationale: "Types catch mistakes.", Project: ptr("web"), Tags: []string{"lang", "ts"}, AgentID: "helper", SessionID: &sess.ID})
	must(err)
	_, err = a.Decisions().Supersede(ctx, d.ID, memory.SupersedeParams{Title: "Use TypeScript 5", Rationale: "Newer compiler."})
	must(err)
	p, err := a.Patterns().Create(ctx, memory.NewPattern{Title: "Table tests", Description: "Write tests as tables.", Category: ptr("testing"), ExampleCode: ptr("for _, c := range cases {}"), Tags: []string{"go"}, SourceProject: ptr("web")})
	must(err)
	_, err = a.Patterns().Adopt(ctx, p.ID, "api")
	must(err)
	return info.ID
}

func export(t testing.TB, path string, emb embed.Embedder, p memoryrelay.ExportParams) ([]byte, memoryrelay.ExportStats) {
	t.Helper()
	var b bytes.Buffer
	st, err := memoryrelay.Export(context.Background(), memoryrelay.Options{Path: path, Embedder: emb}, &b, p)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), st
}

// TestExportImportRoundTrip: an export imported into a new database and
// exported again is the same, byte for byte; the imported database serves
// the same rows, its searches work (the full-text rows rebuilt, the
// vectors as they were), and its search index builds.
func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	src, srcPath := open(t, memoryrelay.Options{})
	acct := populate(t, src, "acme")
	populate(t, src, "other")
	first, st := export(t, srcPath, nil, memoryrelay.ExportParams{})
	if len(st.Accounts) != 2 || st.Counts["memory"] != 6 || st.Counts["entity_link"] != 2 || st.Counts["decision"] != 4 ||
		st.Counts["pattern_adoption"] != 2 || st.Counts["project_relationship"] != 2 || st.Counts["agent"] != 4 {
		t.Fatalf("stats %+v", st)
	}

	var all int64
	for _, n := range st.Counts {
		all += n
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	var progress []int64
	in, err := memoryrelay.Import(ctx, memoryrelay.Options{Path: dst}, bytes.NewReader(first), memoryrelay.ImportParams{Progress: func(done, total int64) {
		if total != all {
			t.Errorf("total %d, want %d", total, all)
		}
		progress = append(progress, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if in.Counts["memory"] != 6 || int64(len(progress)) != all || progress[all-1] != all {
		t.Fatalf("import %+v, progress %v", in, progress)
	}
	second, _ := export(t, dst, nil, memoryrelay.ExportParams{})
	if !bytes.Equal(first, second) {
		t.Fatalf("the second export differs from the first:\n%s\n---\n%s", first, second)
	}

	// The imported database, as a program sees it.
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: dst})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.WaitSearchIndex(ctx); err != nil {
		t.Fatal(err)
	}
	a, b := src.Account(acct), r.Account(acct)
	want, err := a.Memories().List(ctx, memory.ListParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Memories().List(ctx, memory.ListParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		t.Fatalf("memories differ:\n%s\n%s", wj, gj)
	}
	for _, mode := range []string{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		hits, err := b.Memories().Search(ctx, memory.SearchParams{Query: "Which language does the user prefer?", Mode: mode})
		if err != nil || len(hits) == 0 || !strings.Contains(hits[0].Memory.Content, "TypeScript") {
			t.Fatalf("%s search in the imported database: %v %v", mode, hits, err)
		}
	}
	if hits, err := b.Memories().Search(ctx, memory.SearchParams{Query: "机械 機械学習", Mode: memory.ModeKeyword, IncludeConfidential: true}); err != nil || len(hits) != 1 {
		t.Fatalf("CJK full text in the imported database: %v %v", hits, err)
	}
	st2, err := r.Stats(ctx)
	if err != nil || st2.IndexVectors != 6 {
		t.Fatalf("index of the imported database: %+v %v", st2, err)
	}
	list, err := r.Accounts(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "acme" || list[1].Name != "other" {
		t.Fatalf("Accounts: %+v %v", list, err)
	}
}

// TestImportAllOrNothing: a second import of the same export, and a file
// cut short, fail and leave the database exactly as it was.
func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	src, srcPath := open(t, memoryrelay.Options{})
	populate(t, src, "acme")
	data, _ := export(t, srcPath, nil, memoryrelay.ExportParams{})

	dst := filepath.Join(t.TempDir(), "dst.db")
	if _, err := memoryrelay.Import(ctx, memoryrelay.Options{Path: dst}, bytes.NewReader(data), memoryrelay.ImportParams{}); err != nil {
		t.Fatal(err)
	}
	before, _ := export(t, dst, nil, memoryrelay.ExportParams{})
	_, err := memoryrelay.Import(ctx, memoryrelay.Options{Path: dst}, bytes.NewReader(data), memoryrelay.ImportParams{})
	if !errors.Is(err, memoryrelay.ErrImportExists) || !strings.Contains(err.Error(), "account ") {
		t.Fatalf("a second import: %v", err)
	}
	if after, _ := export(t, dst, nil, memoryrelay.ExportParams{}); !bytes.Equal(before, after) {
		t.Fatal("a failed import changed the database")
	}

	// Cut after the memories: the records read are rolled back.
	cut := data[:bytes.Index(data, []byte(`{"type":"entity"`))]
	fresh := filepath.Join(t.TempDir(), "cut.db")
	_, err = memoryrelay.Import(ctx, memoryrelay.Options{Path: fresh}, bytes.NewReader(cut), memoryrelay.ImportParams{})
	if !errors.Is(err, memoryrelay.ErrExportFormat) || !strings.Contains(err.Error(), "the header announces 1 entity records, the file holds 0") {
		t.Fatalf("a file cut short: %v", err)
	}
	if out, st := export(t, fresh, nil, memoryrelay.ExportParams{}); len(st.Accounts) != 0 || bytes.Count(out, []byte("\n")) != 1 {
		t.Fatalf("a failed import left rows: %s", out)
	}
	// Cut inside a line.
	_, err = memoryrelay.Import(ctx, memoryrelay.Options{Path: fresh}, bytes.NewReader(data[:len(data)-5]), memoryrelay.ImportParams{})
	if !errors.Is(err, memoryrelay.ErrExportFormat) || !strings.Contains(err.Error(), "no newline") {
		t.Fatalf("a file cut mid-line: %v", err)
	}
	// Not an export at all.
	_, err = memoryrelay.Import(ctx, memoryrelay.Options{Path: fresh}, strings.NewReader("id,content\n1,hello\n"), memoryrelay.ImportParams{})
	if !errors.Is(err, memoryrelay.ErrExportFormat) {
		t.Fatalf("a CSV file: %v", err)
	}
}

// TestExportOneAccount: an export of one account holds its rows only, and
// imports beside another account's.
func TestExportOneAccount(t *testing.T) {
	ctx := context.Background()
	src, srcPath := open(t, memoryrelay.Options{})
	acme := populate(t, src, "acme")
	other := populate(t, src, "other")
	data, st := export(t, srcPath, nil, memoryrelay.ExportParams{Accounts: []string{acme}})
	if len(st.Accounts) != 1 || st.Counts["memory"] != 3 || bytes.Contains(data, []byte(other)) {
		t.Fatalf("one account: %+v", st)
	}
	if _, err := memoryrelay.Export(ctx, memoryrelay.Options{Path: srcPath}, &bytes.Buffer{}, memoryrelay.ExportParams{Accounts: []string{"00000000-0000-4000-8000-000000000000"}}); !errors.Is(err, memoryrelay.ErrNotFound) {
		t.Fatalf("an unknown account: %v", err)
	}
	// Into a database that has another account already.
	dst, dstPath := open(t, memoryrelay.Options{})
	populate(t, dst, "resident")
	dst.Close()
	if _, err := memoryrelay.Import(ctx, memoryrelay.Options{Path: dstPath}, bytes.NewReader(data), memoryrelay.ImportParams{}); err != nil {
		t.Fatal(err)
	}
	if _, st := export(t, dstPath, nil, memoryrelay.ExportParams{}); len(st.Accounts) != 2 || st.Counts["memory"] != 6 {
		t.Fatalf("after the import: %+v", st)
	}
}

// TestImportEmbedders: vectors of another embedder are refused, naming
// both, unless re-embedding into an empty database, which then serves
// searches with the new embedder.
func TestImportEmbedders(t *testing.T) {
	ctx := context.Background()
	src, srcPath := open(t, memoryrelay.Options{Embedder: embed.NewHashing(64)})
	acct := populate(t, src, "acme")
	data, st := export(t, srcPath, nil, memoryrelay.ExportParams{})
	if st.Embedder != "memoryrelay-hash-v1-64/64" {
		t.Fatalf("embedder %q", st.Embedder)
	}
	dst := filepath.Join(t.TempDir(), "e.db")
	_, err := memoryrelay.Import(ctx, memoryrelay.Options{Path: dst}, bytes.NewReader(data), memoryrelay.ImportParams{})
	if !errors.Is(err, memoryrelay.ErrExportEmbedder) || !strings.Contains(err.Error(), "memoryrelay-hash-v1-64/64") || !strings.Contains(err.Error(), "memoryrelay-hash-v1-384/384") {
		t.Fatalf("another embedder: %v", err)
	}
	// With the export's embedder: kept as they are.
	same := filepath.Join(t.TempDir(), "same.db")
	if _, err := memoryrelay.Import(ctx, memoryrelay.Options{Path: same, Embedder: embed.NewHashing(64)}, bytes.NewReader(data), memoryrelay.ImportParams{}); err != nil {
		t.Fatal(err)
	}
	// Re-embedded into an empty database.
	var batches int
	in, err := memoryrelay.Import(ctx, memoryrelay.Options{Path: dst}, bytes.NewReader(data), memoryrelay.ImportParams{Reembed: true, ReembedProgress: func(memoryrelay.ReembedProgress) { batches++ }})
	if err != nil {
		t.Fatal(err)
	}
	if in.Reembedded != 3+2+1 || batches == 0 {
		t.Fatalf("re-embedded %d texts in %d batches", in.Reembedded, batches)
	}
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: dst})
	if err != nil {
		t.Fatalf("open with the new embedder: %v", err)
	}
	defer r.Close()
	hits, err := r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "Which language does the user prefer?", Mode: memory.ModeSemantic})
	if err != nil || len(hits) == 0 || !strings.Contains(hits[0].Memory.Content, "TypeScript") {
		t.Fatalf("semantic search after re-embedding: %v %v", hits, err)
	}
	// Into a database of a third embedder that has data: refused.
	r.Close()
	third, thirdPath := open(t, memoryrelay.Options{Embedder: embed.NewHashing(32)})
	populate(t, third, "resident")
	third.Close()
	_, err = memoryrelay.Import(ctx, memoryrelay.Options{Path: thirdPath, Embedder: embed.NewHashing(32)}, bytes.NewReader(data), memoryrelay.ImportParams{Reembed: true})
	if !errors.Is(err, memoryrelay.ErrExportEmbedder) || !strings.Contains(err.Error(), "new database") {
		t.Fatalf("into a database of another embedder with data: %v", err)
	}
	// A vector of the wrong length in the file.
	bad := bytes.Replace(data, []byte(`"memoryrelay-hash-v1-64/64"`), []byte(`"memoryrelay-hash-v1-64/65"`), 1)
	_, err = memoryrelay.Import(ctx, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "v.db"), Embedder: fakeDim{embed.NewHashing(64)}}, bytes.NewReader(bad), memoryrelay.ImportParams{})
	if !errors.Is(err, memoryrelay.ErrExportFormat) || !strings.Contains(err.Error(), "vector has 64 dimensions, the export's embedder 65") {
		t.Fatalf("a vector of another dimension: %v", err)
	}
}

// fakeDim is the hashing embedder claiming dimension 65, to match a
// doctored header.
type fakeDim struct{ embed.Embedder }

func (fakeDim) Model() string  { return "memoryrelay-hash-v1-64" }
func (fakeDim) Dimension() int { return 65 }

func TestAccountsList(t *testing.T) {
	r, _ := open(t, memoryrelay.Options{})
	for i := range 3 {
		if _, err := r.CreateAccount(context.Background(), fmt.Sprintf("acct-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := r.Accounts(context.Background())
	if err != nil || len(list) != 3 || list[0].Name != "acct-0" || list[2].Name != "acct-2" {
		t.Fatalf("%+v %v", list, err)
	}
	r.Close()
	if _, err := r.Accounts(context.Background()); !errors.Is(err, memoryrelay.ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}
