package search_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay/search"
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
func encodeMatchinfo(mi search.Matchinfo) []byte {
	words := []uint32{uint32(len(mi.Phrases)), 1, uint32(mi.Rows), uint32(mi.AvgLength), uint32(mi.Length)}
	for _, ph := range mi.Phrases {
		words = append(words, uint32(ph.Hits), uint32(ph.AllHits), uint32(ph.Docs))
	}
	return matchinfoBlob(words...)
}

func TestParseMatchinfo(t *testing.T) {
	tests := []struct {
		name string
		blob []byte
		want search.Matchinfo // compared when wantErr is false
		err  bool
	}{
		{"two phrases", matchinfoBlob(2, 1, 20, 7, 8, 1, 5, 5, 0, 3, 2),
			search.Matchinfo{Rows: 20, AvgLength: 7, Length: 8,
				Phrases: []search.PhraseStats{{Hits: 1, AllHits: 5, Docs: 5}, {Hits: 0, AllHits: 3, Docs: 2}}}, false},
		{"no phrases", matchinfoBlob(0, 1, 3, 4, 5),
			search.Matchinfo{Rows: 3, AvgLength: 4, Length: 5, Phrases: []search.PhraseStats{}}, false},
		{"max uint32", matchinfoBlob(1, 1, math.MaxUint32, 1, 1, 1, 1, 1),
			search.Matchinfo{Rows: min(math.MaxUint32, math.MaxInt), AvgLength: 1, Length: 1,
				Phrases: []search.PhraseStats{{Hits: 1, AllHits: 1, Docs: 1}}}, false},
		{"nil", nil, search.Matchinfo{}, true},
		{"too short", matchinfoBlob(0, 1, 3, 4), search.Matchinfo{}, true},
		{"not a multiple of 4", append(matchinfoBlob(0, 1, 3, 4, 5), 0), search.Matchinfo{}, true},
		{"two columns", matchinfoBlob(0, 2, 3, 4, 4, 5, 5), search.Matchinfo{}, true},
		{"zero columns", matchinfoBlob(0, 0, 3), search.Matchinfo{}, true},
		{"p too large", matchinfoBlob(2, 1, 20, 7, 8, 1, 5, 5), search.Matchinfo{}, true},
		{"p too small", matchinfoBlob(0, 1, 20, 7, 8, 1, 5, 5), search.Matchinfo{}, true},
		{"trailing word", matchinfoBlob(1, 1, 20, 7, 8, 1, 5, 5, 9), search.Matchinfo{}, true},
		{"huge p", matchinfoBlob(math.MaxUint32, 1, 20, 7, 8, 1, 5, 5), search.Matchinfo{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := search.ParseMatchinfo(tt.blob)
			if tt.err {
				if !errors.Is(err, search.ErrMatchinfo) {
					t.Fatalf("ParseMatchinfo = %+v, %v; want ErrMatchinfo", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMatchinfo: %v", err)
			}
			if got.Rows != tt.want.Rows || got.AvgLength != tt.want.AvgLength || got.Length != tt.want.Length ||
				!slices.Equal(got.Phrases, tt.want.Phrases) {
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
		mi, err := search.ParseMatchinfo(blob)
		if err != nil {
			if !errors.Is(err, search.ErrMatchinfo) {
				t.Fatalf("error %v does not match ErrMatchinfo", err)
			}
			return
		}
		if got := encodeMatchinfo(mi); !slices.Equal(got, blob) {
			t.Fatalf("round trip: %x, want %x", got, blob)
		}
		for _, k := range []struct{ k1, b float64 }{{search.DefaultK1, search.DefaultB}, {search.DefaultK1, 0}, {2, 1}} {
			if s := search.BM25(mi, k.k1, k.b); math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
				t.Fatalf("BM25(%+v, %v, %v) = %v", mi, k.k1, k.b, s)
			}
		}
		if s := search.LexicalScore(mi); !(s >= 0 && s <= 1) {
			t.Fatalf("LexicalScore(%+v) = %v, want in [0,1]", mi, s)
		}
	})
}

func TestBM25(t *testing.T) {
	// One row of 10 tokens in a table of 100 rows averaging 5 tokens; the
	// query's first term occurs twice here and in 9 rows in all, the
	// second not here.
	mi := search.Matchinfo{Rows: 100, AvgLength: 5, Length: 10,
		Phrases: []search.PhraseStats{{Hits: 2, AllHits: 12, Docs: 9}, {Hits: 0, AllHits: 3, Docs: 3}}}
	idf := math.Log(1 + (100-9+0.5)/(9+0.5))
	tests := []struct {
		name  string
		k1, b float64
		want  float64
	}{
		{"defaults", 1.2, 0.75, idf * 2 * 2.2 / (2 + 1.2*(1-0.75+0.75*10.0/5))},
		{"b=0", 1.2, 0, idf * 2 * 2.2 / (2 + 1.2)},
		{"b=1", 2, 1, idf * 2 * 3 / (2 + 2*2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := search.BM25(mi, tt.k1, tt.b); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("BM25 = %v, want %v", got, tt.want)
			}
		})
	}
	// Robust to counts no real table has.
	odd := search.Matchinfo{Rows: 0, AvgLength: 0, Length: -3, Phrases: []search.PhraseStats{{Hits: 5, Docs: 9}, {Hits: -1}}}
	if got := search.BM25(odd, 1.2, 0.75); math.IsNaN(got) || got <= 0 {
		t.Errorf("BM25 of inconsistent counts = %v, want a positive number", got)
	}
}

// phrases builds query phrase stats: hits[i] in this row, docs[i] rows in all.
func phrases(hits, docs []int) []search.PhraseStats {
	ps := make([]search.PhraseStats, len(hits))
	for i := range hits {
		ps[i] = search.PhraseStats{Hits: hits[i], AllHits: max(docs[i], hits[i]), Docs: docs[i]}
	}
	return ps
}

// TestLexicalScoreCalibration checks LexicalScore against API.md §7 with
// hand-built matchinfo for a table of 1,000 memories averaging 10 terms.
// The query has 8 terms (a sentence of about a dozen words); docs are how
// many memories contain each term.
func TestLexicalScoreCalibration(t *testing.T) {
	docs := []int{3, 12, 40, 7, 150, 25, 2, 60}
	all := []int{1, 1, 1, 1, 1, 1, 1, 1}
	changed := func(i, newDocs int) []int { d := slices.Clone(docs); d[i] = newDocs; return d }
	without := func(i int) []int { h := slices.Clone(all); h[i] = 0; return h }
	const N, avg = 1000, 10
	tests := []struct {
		name     string
		length   int
		hits     []int
		docs     []int
		min, max float64
	}{
		{"verbatim", 8, all, docs, 0.999, 1},
		{"one word changed to an unseen word", 8, without(2), changed(2, 0), 0.8, 0.9},
		{"one word changed, common word missing", 8, without(4), docs, 0.9, 0.95},
		{"rarest word changed to an unseen word", 8, without(6), changed(6, 0), 0.75, 0.85},
		{"one word missing from the row", 7, without(5), docs, 0.8, 0.9},
		{"one extra word in the row", 9, all, docs, 0.97, 0.99},
		{"query contained in a row 1.75 times as long", 14, all, docs, 0.85, 0.9},
		{"query contained in a row twice as long", 16, all, docs, 0.85, 0.9},
		{"half the terms", 8, []int{1, 1, 1, 1, 0, 0, 0, 0}, docs, 0.45, 0.7},
		{"a quarter of the terms", 8, []int{0, 0, 1, 0, 1, 0, 0, 0}, docs, 0.1, 0.3},
		{"no term", 8, make([]int, 8), docs, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mi := search.Matchinfo{Rows: N, AvgLength: avg, Length: tt.length, Phrases: phrases(tt.hits, tt.docs)}
			s := search.LexicalScore(mi)
			t.Logf("score %.3f", s)
			if s < tt.min || s > tt.max {
				t.Errorf("LexicalScore = %.3f, want in [%v, %v]", s, tt.min, tt.max)
			}
		})
	}
}

func TestLexicalScoreShortQueries(t *testing.T) {
	tests := []struct {
		name     string
		mi       search.Matchinfo
		min, max float64
	}{
		{"one word, verbatim", search.Matchinfo{Rows: 50, AvgLength: 10, Length: 1,
			Phrases: phrases([]int{1}, []int{3})}, 1, 1},
		{"one word in a 15-term row", search.Matchinfo{Rows: 50, AvgLength: 10, Length: 15,
			Phrases: phrases([]int{1}, []int{3})}, 0.55, 0.6},
		{"one word in a 60-term row", search.Matchinfo{Rows: 50, AvgLength: 10, Length: 60,
			Phrases: phrases([]int{1}, []int{3})}, 0.4, 0.45},
		{"one word repeated in a 4-term row", search.Matchinfo{Rows: 50, AvgLength: 10, Length: 4,
			Phrases: phrases([]int{4}, []int{3})}, 0.7, 0.9},
		{"two words, both in a 7-term row", search.Matchinfo{Rows: 50, AvgLength: 10, Length: 7,
			Phrases: phrases([]int{1, 1}, []int{3, 10})}, 0.7, 0.8},
		{"two words, one in a 7-term row", search.Matchinfo{Rows: 50, AvgLength: 10, Length: 7,
			Phrases: phrases([]int{1, 0}, []int{3, 10})}, 0.3, 0.6},
		{"no phrases", search.Matchinfo{Rows: 50, AvgLength: 10, Length: 7}, 0, 0},
		{"empty table", search.Matchinfo{}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := search.LexicalScore(tt.mi)
			t.Logf("score %.3f", s)
			if s < tt.min || s > tt.max {
				t.Errorf("LexicalScore = %.3f, want in [%v, %v]", s, tt.min, tt.max)
			}
		})
	}
}

// TestLexicalScoreLength checks how a row's length weighs: fully against a
// row that holds all of the query (it is not the query), hardly against a
// row that holds part of it, so that a row up to ten times the query's
// length holding more of the query still beats a short row holding less.
func TestLexicalScoreLength(t *testing.T) {
	docs := []int{3, 12, 40, 7}
	score := func(length int, hits ...int) float64 {
		t.Helper()
		return search.LexicalScore(search.Matchinfo{Rows: 1000, AvgLength: 10, Length: length, Phrases: phrases(hits, docs)})
	}
	// All of the query: the longer row scores clearly less.
	if short, long := score(4, 1, 1, 1, 1), score(40, 1, 1, 1, 1); long > 0.7*short {
		t.Errorf("whole query: 4-term row %.3f, 40-term row %.3f; want the long row below 0.7 of the short one", short, long)
	}
	// Half of the query (its two rarest terms): length costs little.
	short, long := score(4, 1, 1, 0, 0), score(40, 1, 1, 0, 0)
	if long < 0.85*short || long > short {
		t.Errorf("half the query: 4-term row %.3f, 40-term row %.3f; want the long row within 15%% below the short one", short, long)
	}
	// More of the query beats less of it.
	for _, length := range []int{4, 10, 40} {
		if more, less := score(length, 1, 1, 1, 0), score(4, 1, 1, 0, 0); more <= less {
			t.Errorf("three terms in a %d-term row %.3f <= two terms in a 4-term row %.3f", length, more, less)
		}
	}
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
	expr := search.MatchExpr(search.Terms(query))
	scores := make(map[int]float64)
	if expr == "" {
		return scores
	}
	rows, err := db.QueryContext(context.Background(),
		`SELECT rowid, matchinfo(memories_fts, '`+search.MatchinfoFormat+`') FROM memories_fts WHERE memories_fts MATCH ?`, expr)
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
		mi, err := search.ParseMatchinfo(blob)
		if err != nil {
			t.Fatalf("ParseMatchinfo(real blob %x): %v", blob, err)
		}
		if mi.Rows != len(ftsCorpus) || len(mi.Phrases) != strings.Count(expr, " OR ")+1 {
			t.Fatalf("matchinfo %+v does not fit table of %d rows and query %s", mi, len(ftsCorpus), expr)
		}
		if want := len(search.Terms(ftsCorpus[id-1])); mi.Length != want {
			t.Errorf("matchinfo length %d, want %d terms", mi.Length, want)
		}
		scores[id-1] = search.LexicalScore(mi)
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
			i+1, strings.Join(search.Terms(text), " ")); err != nil {
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

func ExampleLexicalScore() {
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
	mi, err := search.ParseMatchinfo(blob)
	if err != nil {
		panic(err)
	}
	fmt.Printf("BM25 %.2f, score %.2f\n", search.BM25(mi, search.DefaultK1, search.DefaultB), search.LexicalScore(mi))
	// Output:
	// BM25 3.06, score 0.80
}
