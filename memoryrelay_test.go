package memoryrelay_test

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

func open(t testing.TB, opts memoryrelay.Options) (*memoryrelay.Relay, string) {
	t.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(t.TempDir(), "relay.db")
	}
	r, err := memoryrelay.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, opts.Path
}

func account(t testing.TB, r *memoryrelay.Relay) string {
	t.Helper()
	a, err := r.CreateAccount(context.Background(), "acct")
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// rawDB opens the relay's file directly, for checks below the API.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t testing.TB, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenConfiguresSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	for i := 0; i < 2; i++ { // the second Open finds the schema migrated
		r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
	db := rawDB(t, path)
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q (%v)", mode, err)
	}
	if v := count(t, db, "PRAGMA user_version"); v < 2 {
		t.Errorf("user_version %d", v)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts memoryrelay.Options
	}{
		{"not a database", memoryrelay.Options{Path: junk}},
		{"bad synchronous", memoryrelay.Options{Path: filepath.Join(dir, "a.db"), Synchronous: "SOMETIMES"}},
		{"negative rate", memoryrelay.Options{Path: filepath.Join(dir, "b.db"), RateLimit: -1}},
		{"missing directory", memoryrelay.Options{Path: filepath.Join(dir, "no", "such", "dir.db")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := memoryrelay.Open(ctx, c.opts)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestEmbedderMismatch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Embedder: embed.NewHashing(64)})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	_, err = memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Embedder: embed.NewHashing(128)})
	if !errors.Is(err, memoryrelay.ErrEmbedderMismatch) {
		t.Fatalf("got %v, want ErrEmbedderMismatch", err)
	}
	r, err = memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Embedder: embed.NewHashing(64)})
	if err != nil {
		t.Fatalf("same embedder: %v", err)
	}
	r.Close()
}

// fakeEmbedder is an Embedder whose Embed is a function field.
type fakeEmbedder struct {
	dim   int
	embed func(texts []string) ([][]float32, error)
}

func (f fakeEmbedder) Model() string  { return "fake" }
func (f fakeEmbedder) Dimension() int { return f.dim }
func (f fakeEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	return f.embed(texts)
}

func TestEmbedderFailureStoresNothing(t *testing.T) {
	unit := func(n int) []float32 { v := make([]float32, n); v[0] = 1; return v }
	for _, c := range []struct {
		name  string
		embed func([]string) ([][]float32, error)
		is    error
	}{
		{"error", func([]string) ([][]float32, error) { return nil, errors.New("model server down") }, nil},
		{"wrong dimension", func([]string) ([][]float32, error) { return [][]float32{unit(3)}, nil }, vector.ErrDimensionMismatch},
		{"NaN", func([]string) ([][]float32, error) {
			v := unit(4)
			v[1] = float32(math.NaN())
			return [][]float32{v}, nil
		}, vector.ErrInvalid},
		{"Inf", func([]string) ([][]float32, error) {
			v := unit(4)
			v[2] = float32(math.Inf(1))
			return [][]float32{v}, nil
		}, vector.ErrInvalid},
		{"no vectors", func([]string) ([][]float32, error) { return nil, nil }, vector.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, path := open(t, memoryrelay.Options{Embedder: fakeEmbedder{dim: 4, embed: c.embed}})
			acct := account(t, r)
			_, err := r.Account(acct).Memories().Create(context.Background(), memory.NewMemory{Content: "hello", AgentID: "new-agent"})
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("got %v, want %v", err, c.is)
			}
			db := rawDB(t, path)
			for _, table := range []string{"memories", "memory_vectors", "memory_fts", "agents"} {
				if n := count(t, db, "SELECT count(*) FROM "+table); n != 0 {
					t.Errorf("%s has %d rows after a failed create", table, n)
				}
			}
		})
	}
}

func TestAgentReferences(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	const id = "6f1c2f4e-8a47-4c1e-9d8e-3b0f6f4a2b11"
	for _, ref := range []string{id, strings.ToUpper(id), "named agent", ""} {
		if _, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "m " + ref, AgentID: ref}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := r.Account(acct).Agents().List(ctx, memory.PageParams{Limit: 0, Offset: 0})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, a := range page.Data {
		names[a.Name] = a.ID
	}
	if len(names) != 3 || names[id] != id || names["named agent"] == "" || names["default"] == "" {
		t.Fatalf("agents %v", names)
	}
	// A filter by UUID or by name finds the same agent; the memory keeps the
	// reference as supplied.
	for _, ref := range []string{id, strings.ToUpper(id)} {
		p, err := r.Account(acct).Memories().List(ctx, memory.ListParams{AgentID: &ref})
		if err != nil || p.Total != 2 {
			t.Fatalf("filter %q: %d %v", ref, p.Total, err)
		}
	}
}

func TestAuthorizeOrder(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, _ := open(t, memoryrelay.Options{RateLimit: 2, Now: func() time.Time { return now }})
	acct := account(t, r)
	_, tok, err := r.Account(acct).Keys().Create(ctx, memory.NewKey{Name: "ro", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		t.Fatal(err)
	}
	// A scope failure still takes a token and carries the decision.
	a, err := r.Authorize(ctx, tok.Reveal(), scopes.Write)
	var missing *scopes.MissingError
	if !errors.As(err, &missing) || a.Decision.Remaining != 1 {
		t.Fatalf("got %v remaining %d", err, a.Decision.Remaining)
	}
	if _, err := r.Authorize(ctx, tok.Reveal(), scopes.Read); err != nil {
		t.Fatal(err)
	}
	a, err = r.Authorize(ctx, tok.Reveal(), scopes.Read)
	var limited *limiter.LimitedError
	if !errors.As(err, &limited) || a.Decision.RetryAfterSeconds() != 30 {
		t.Fatalf("got %v, retry after %d", err, a.Decision.RetryAfterSeconds())
	}
	if _, err := r.Authorize(ctx, "mem_live_junk"); !errors.Is(err, keys.ErrMalformed) {
		t.Fatalf("junk: %v", err)
	}
}

func TestSearchQuality(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	texts := []string{
		"The user prefers TypeScript over JavaScript for new projects.",
		"Deployments run every Friday at 5pm from the release branch.",
		"The user's dog is called Biscuit and loves long walks on the beach.",
		"Our PostgreSQL database is backed up nightly to cold storage.",
		"Meeting notes: the design review moved to Thursday morning.",
	}
	ids := map[string]string{}
	for i, text := range texts {
		user := "alice"
		if i%2 == 1 {
			user = "bob"
		}
		m, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: text, AgentID: "assistant", UserID: &user})
		if err != nil {
			t.Fatal(err)
		}
		ids[text] = m.Memory.ID
	}
	cases := []struct {
		query string
		want  string // expected top hit
		min   float64
	}{
		{"The user prefers TypeScript over JavaScript for new projects", texts[0], 0.8},
		{"the user prefers typescript over javascript for projects", texts[0], 0.65},
		{"deployments run every friday at 5pm", texts[1], 0.65},
		{"what is the name of the user's dog?", texts[2], 0},
		{"when is the postgres database backed up", texts[3], 0},
	}
	for _, c := range cases {
		hits, err := r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: c.query})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Memory.ID != ids[c.want] || hits[0].Score < c.min {
			t.Errorf("%q: top %+v", c.query, hits)
			continue
		}
		for _, h := range hits {
			if h.Score < 0 || h.Score > 1 {
				t.Errorf("%q: score %v out of [0,1]", c.query, h.Score)
			}
		}
	}
	// Unrelated text scores below 0.3 in every mode.
	for _, mode := range []string{"hybrid", "semantic", "keyword"} {
		hits, err := r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "quantum chromodynamics lattice gauge theory", Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.Score >= 0.3 {
				t.Errorf("%s: unrelated query scored %.3f on %q", mode, h.Score, h.Memory.Content)
			}
		}
	}
	// Filters apply inside the search: bob's memories only.
	bob := "bob"
	hits, err := r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "the user", UserID: &bob, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if *h.Memory.UserID != "bob" {
			t.Errorf("user filter leaked %q", h.Memory.Content)
		}
	}
	// A query of 51,200 characters works; one more is rejected.
	long := strings.Repeat("typescript ", memory.MaxContentChars/11) + strings.Repeat("x", memory.MaxContentChars%11)
	if _, err := r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: long}); err != nil {
		t.Errorf("max query: %v", err)
	}
	if _, err := r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: long + "y"}); !errors.Is(err, memoryrelay.ErrInvalid) {
		t.Errorf("over-long query: %v", err)
	}
}
