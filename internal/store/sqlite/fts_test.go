package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// matchinfoBlob encodes p, c, n, a, l and the x triples as SQLite does.
func matchinfoBlob(words ...uint32) []byte {
	b := make([]byte, 0, 4*len(words))
	for _, w := range words {
		b = binary.NativeEndian.AppendUint32(b, w)
	}
	return b
}

// encodeMatchinfo is the inverse of ParseMatchinfo.
func encodeMatchinfo(mi lexical.Stats) []byte {
	words := []uint32{uint32(len(mi.Terms)), 1, uint32(mi.Rows), uint32(mi.AvgLength), uint32(mi.Length)}
	for _, ph := range mi.Terms {
		words = append(words, uint32(ph.Hits), uint32(ph.AllHits), uint32(ph.Docs))
	}
	return matchinfoBlob(words...)
}

func TestParseMatchinfo(t *testing.T) {
	tests := []struct {
		name string
		blob []byte
		want lexical.Stats // compared when wantErr is false
		err  bool
	}{
		{"two phrases", matchinfoBlob(2, 1, 20, 7, 8, 1, 5, 5, 0, 3, 2),
			lexical.Stats{Rows: 20, AvgLength: 7, Length: 8,
				Terms: []lexical.TermStats{{Hits: 1, AllHits: 5, Docs: 5}, {Hits: 0, AllHits: 3, Docs: 2}}}, false},
		{"no phrases", matchinfoBlob(0, 1, 3, 4, 5),
			lexical.Stats{Rows: 3, AvgLength: 4, Length: 5, Terms: []lexical.TermStats{}}, false},
		{"max uint32", matchinfoBlob(1, 1, math.MaxUint32, 1, 1, 1, 1, 1),
			lexical.Stats{Rows: min(math.MaxUint32, math.MaxInt), AvgLength: 1, Length: 1,
				Terms: []lexical.TermStats{{Hits: 1, AllHits: 1, Docs: 1}}}, false},
		{"nil", nil, lexical.Stats{}, true},
		{"too short", matchinfoBlob(0, 1, 3, 4), lexical.Stats{}, true},
		{"not a multiple of 4", append(matchinfoBlob(0, 1, 3, 4, 5), 0), lexical.Stats{}, true},
		{"two columns", matchinfoBlob(0, 2, 3, 4, 4, 5, 5), lexical.Stats{}, true},
		{"zero columns", matchinfoBlob(0, 0, 3), lexical.Stats{}, true},
		{"p too large", matchinfoBlob(2, 1, 20, 7, 8, 1, 5, 5), lexical.Stats{}, true},
		{"p too small", matchinfoBlob(0, 1, 20, 7, 8, 1, 5, 5), lexical.Stats{}, true},
		{"trailing word", matchinfoBlob(1, 1, 20, 7, 8, 1, 5, 5, 9), lexical.Stats{}, true},
		{"huge p", matchinfoBlob(math.MaxUint32, 1, 20, 7, 8, 1, 5, 5), lexical.Stats{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sqlite.ParseMatchinfo(tt.blob)
			if tt.err {
				if !errors.Is(err, sqlite.ErrMatchinfo) {
					t.Fatalf("ParseMatchinfo = %+v, %v; want ErrMatchinfo", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMatchinfo: %v", err)
			}
			if got.Rows != tt.want.Rows || got.AvgLength != tt.want.AvgLength || got.Length != tt.want.Length ||
				!slices.Equal(got.Terms, tt.want.Terms) {
				t.Errorf("ParseMatchinfo = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseMatchinfo(f *testing.F) {
	f.Add(matchinfoBlob(2, 1, 20, 7, 8, 1, 5, 5, 0, 3, 2))
	f.Add(matchinfoBlob(0, 1, 0, 0, 0))
	f.Add(matchinfoBlob(1, 1, 0, 0, 0, 7, 0, 9))
	f.Add(matchinfoBlob(1, 1, math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32, 0, math.MaxUint32))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, blob []byte) {
		mi, err := sqlite.ParseMatchinfo(blob)
		if err != nil {
			if !errors.Is(err, sqlite.ErrMatchinfo) {
				t.Fatalf("error %v does not match ErrMatchinfo", err)
			}
			return
		}
		if got := encodeMatchinfo(mi); !slices.Equal(got, blob) {
			t.Fatalf("round trip: %x, want %x", got, blob)
		}
		for _, k := range []struct{ k1, b float64 }{{lexical.DefaultK1, lexical.DefaultB}, {lexical.DefaultK1, 0}, {2, 1}} {
			if s := lexical.BM25(mi, k.k1, k.b); math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
				t.Fatalf("BM25(%+v, %v, %v) = %v", mi, k.k1, k.b, s)
			}
		}
		if s := lexical.Score(mi); !(s >= 0 && s <= 1) {
			t.Fatalf("LexicalScore(%+v) = %v, want in [0,1]", mi, s)
		}
	})
}

// ftsCorpus is a small table of memories.
var ftsCorpus = []string{
	"The user prefers TypeScript over JavaScript for all new frontend projects at work.",
	"The deployment runs every Friday at 5pm.",
	"My daughter's birthday is on March 3rd and she loves chocolate cake.",
	"The API rate limit is 100 requests per minute per key.",
	"Meeting notes: discussed the quarterly roadmap and hiring plans for the platform team.",
	"The user's favourite colour is green and they dislike spam emails.",
	"Use PostgreSQL for analytics workloads and SQLite for embedded storage.",
	"The staging database is reset every Monday morning before the standup.",
	"Alice is the tech lead for the payments service and reviews all billing changes.",
	"Never deploy on Fridays unless the change is a critical security fix.",
	"The user works in the Europe/Berlin timezone and prefers meetings after 10am.",
	"Our main repository uses Go modules and requires Go 1.22 or newer.",
	"The mobile app is written in Kotlin for Android and Swift for iOS.",
	"Customer support tickets are triaged by the on-call engineer each morning.",
	"Bob prefers tabs over spaces and uses Vim as his editor.",
	"The user is allergic to peanuts and prefers vegetarian restaurants.",
	"The project uses GitHub Actions for CI and deploys to Kubernetes.",
	"Logs are retained for thirty days in the observability stack.",
	"The new frontend projects use TypeScript with React and Vite.",
	"The user project deadline for the frontend migration is the end of June.",
}

// ftsSearch runs query against a one-column FTS4 table holding the terms of
// each text and returns each matching row's score, by row index.
func ftsSearch(t testing.TB, db *sql.DB, query string) map[int]float64 {
	t.Helper()
	expr := sqlite.MatchExpr(lexical.Terms(query))
	scores := make(map[int]float64)
	if expr == "" {
		return scores
	}
	rows, err := db.QueryContext(context.Background(),
		`SELECT rowid, matchinfo(memories_fts, '`+sqlite.MatchinfoFormat+`') FROM memories_fts WHERE memories_fts MATCH ?`, expr)
	if err != nil {
		t.Fatalf("MATCH %s: %v", expr, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var blob []byte
		if err := rows.Scan(&id, &blob); err != nil {
			t.Fatal(err)
		}
		mi, err := sqlite.ParseMatchinfo(blob)
		if err != nil {
			t.Fatalf("ParseMatchinfo(real blob %x): %v", blob, err)
		}
		if mi.Rows != len(ftsCorpus) || len(mi.Terms) != strings.Count(expr, " OR ")+1 {
			t.Fatalf("matchinfo %+v does not fit table of %d rows and query %s", mi, len(ftsCorpus), expr)
		}
		if want := len(lexical.Terms(ftsCorpus[id-1])); mi.Length != want {
			t.Errorf("matchinfo length %d, want %d terms", mi.Length, want)
		}
		scores[id-1] = lexical.Score(mi)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return scores
}

func openFTS(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "fts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE VIRTUAL TABLE memories_fts USING fts4(terms)`); err != nil {
		t.Fatal(err)
	}
	for i, text := range ftsCorpus {
		if _, err := db.ExecContext(ctx, `INSERT INTO memories_fts(rowid, terms) VALUES (?, ?)`,
			i+1, strings.Join(lexical.Terms(text), " ")); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestLexicalFTS4 checks the calibration end to end on a real FTS4 table.
func TestLexicalFTS4(t *testing.T) {
	db := openFTS(t)
	tests := []struct {
		name     string
		query    string
		row      int // the row whose score is checked; -1: no row may match
		min, max float64
	}{
		{"verbatim", ftsCorpus[0], 0, 0.999, 1},
		{"case and punctuation", "the USER prefers typescript over javascript -- for all new frontend projects, at work", 0, 0.999, 1},
		{"word forms", "The users preferred TypeScript over JavaScript for all new frontend project at work", 0, 0.999, 1},
		{"one word changed", "The user prefers TypeScript over JavaScript for all new backend projects at work.", 0, 0.8, 0.9},
		{"one word changed 2", "Never deploy on Fridays unless the change is a critical performance fix.", 9, 0.8, 0.9},
		{"one word dropped from the query", "The user prefers TypeScript over JavaScript for all frontend projects at work.", 0, 0.9, 1},
		{"one word dropped from the memory", "The staging database is reset every Monday morning before the weekly standup.", 7, 0.8, 0.9},
		{"one keyword", "TypeScript", 0, 0.5, 0.75},
		{"question", "What programming language does the user prefer?", 0, 0.2, 0.5},
		{"unrelated", "Where did we park the car yesterday?", -1, 0, 0},
		{"stopwords only", "What is it, and where was that?", -1, 0, 0},
		{"FTS syntax is inert", `"user" OR NEAR(frontend*, -x) AND NOT ^typescript:`, 0, 0.3, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scores := ftsSearch(t, db, tt.query)
			if tt.row < 0 {
				if len(scores) != 0 {
					t.Errorf("query %q matched %v, want nothing", tt.query, scores)
				}
				return
			}
			s, ok := scores[tt.row]
			if !ok {
				t.Fatalf("query %q did not match row %d", tt.query, tt.row)
			}
			t.Logf("score %.3f", s)
			if s < tt.min || s > tt.max {
				t.Errorf("score %.3f, want in [%v, %v]", s, tt.min, tt.max)
			}
			for i, other := range scores {
				if i != tt.row && other >= 0.9 {
					t.Errorf("row %d %q also scores %.3f: only near-identical text may exceed 0.9", i, ftsCorpus[i], other)
				}
			}
		})
	}
}

func ExampleParseMatchinfo() {
	// What SQLite returns as matchinfo(memories_fts, 'pcnalx') for the row
	// "user prefer typescript javascript new project" and the query
	// "what does the user prefer?" ("user" OR "prefer"):
	var blob []byte
	for _, w := range []uint32{
		2,       // p: 2 phrases
		1,       // c: 1 column
		20,      // n: 20 rows in the table
		7,       // a: 7 terms per row on average
		6,       // l: 6 terms in this row
		1, 5, 5, // "user": once in this row, 5 times in all, in 5 rows
		1, 4, 4, // "prefer": once in this row, 4 times in all, in 4 rows
	} {
		blob = binary.NativeEndian.AppendUint32(blob, w)
	}
	mi, err := sqlite.ParseMatchinfo(blob)
	if err != nil {
		panic(err)
	}
	fmt.Printf("BM25 %.2f, score %.2f\n", lexical.BM25(mi, lexical.DefaultK1, lexical.DefaultB), lexical.Score(mi))
	// Output:
	// BM25 3.06, score 0.80
}

func TestMatchExpr(t *testing.T) {
	many := make([]string, 0, 80)
	for i := range 80 {
		// Lengths 1, 2, ..., 8 repeating, all distinct.
		many = append(many, fmt.Sprintf("%c%s", 'a'+rune(i/8), strings.Repeat("x", i%8)))
	}
	var want64 []string
	for _, term := range many {
		if len(term) > 2 { // the 60 terms of 3..8 letters, then 4 of the 10 of 2 letters
			want64 = append(want64, `"`+term+`"`)
		}
	}
	for _, term := range many {
		if len(term) == 2 && len(want64) < 64 {
			want64 = append(want64, `"`+term+`"`)
		}
	}
	slices.SortFunc(want64, func(a, b string) int {
		return slices.Index(many, strings.Trim(a, `"`)) - slices.Index(many, strings.Trim(b, `"`))
	})

	tests := []struct {
		name  string
		terms []string
		want  string
	}{
		{"nil", nil, ""},
		{"one", []string{"typescript"}, `"typescript"`},
		{"or-joined in order", []string{"user", "prefer", "typescript"}, `"user" OR "prefer" OR "typescript"`},
		{"duplicates once", []string{"go", "rust", "go", "go"}, `"go" OR "rust"`},
		{"keywords quoted", []string{"OR", "near", "NOT"}, `"OR" OR "near" OR "NOT"`},
		{"unsafe terms skipped", []string{`a"b`, "x*", "-y", "(z)", "two words", "", "ok"}, `"ok"`},
		{"nothing usable", []string{`"`, "*", " "}, ""},
		{"invalid UTF-8 skipped", []string{"ab\xff", "ü"}, `"ü"`},
		{"too long skipped", []string{strings.Repeat("a", 65), "b"}, `"b"`},
		{"unicode", []string{"我喜", "москва"}, `"我喜" OR "москва"`},
		{"capped at 64, longest kept", many, strings.Join(want64, " OR ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sqlite.MatchExpr(tt.terms); got != tt.want {
				t.Errorf("MatchExpr(%q) =\n%s\nwant\n%s", tt.terms, got, tt.want)
			}
		})
	}
}

// matchExprRE is the only shape MatchExpr may produce.
var matchExprRE = regexp.MustCompile(`^("[\p{L}\p{N}]+"( OR "[\p{L}\p{N}]+")*)?$`)

func FuzzMatchExpr(f *testing.F) {
	f.Add("user prefer typescript", "x")
	f.Add(`a"b OR c* (d) -e`, "NEAR")
	f.Add("\xff \x00 ok", "")
	f.Fuzz(func(t *testing.T, text, extra string) {
		// Both real terms and arbitrary strings.
		terms := append(lexical.Terms(text), strings.Fields(text)...)
		terms = append(terms, extra)
		expr := sqlite.MatchExpr(terms)
		if !matchExprRE.MatchString(expr) {
			t.Fatalf("MatchExpr(%q) = %q: unsafe", terms, expr)
		}
		if expr == "" {
			return
		}
		parts := strings.Split(expr, " OR ")
		if len(parts) > sqlite.MaxMatchTerms {
			t.Fatalf("MatchExpr(%q) has %d terms, want <= %d", terms, len(parts), sqlite.MaxMatchTerms)
		}
		seen := make(map[string]bool)
		for _, p := range parts {
			if seen[p] {
				t.Fatalf("MatchExpr(%q) repeats %s", terms, p)
			}
			seen[p] = true
			if !slices.Contains(terms, strings.Trim(p, `"`)) {
				t.Fatalf("MatchExpr(%q) invents %s", terms, p)
			}
		}
		if got := sqlite.MatchExpr(lexical.Terms(text)); !matchExprRE.MatchString(got) {
			t.Fatalf("MatchExpr(Terms(%q)) = %q: unsafe", text, got)
		}
	})
}

func ExampleMatchExpr() {
	q := lexical.Terms(`What does the user prefer: "TypeScript" OR JavaScript?`)
	fmt.Println(sqlite.MatchExpr(q))
	fmt.Printf("%q\n", sqlite.MatchExpr(lexical.Terms("is it?")))
	// Output:
	// "user" OR "prefer" OR "typescript" OR "javascript"
	// ""
}
