package search_test

import (
	"fmt"
	"testing"

	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

var calibCorpus = []string{
	"The user prefers TypeScript over JavaScript for new projects.",
	"The user's favorite color is dark green.",
	"The user has a golden retriever named Biscuit who loves long walks.",
	"Deployments run every Friday at 5pm from the release branch.",
	"The user is allergic to peanuts and shellfish.",
	"The user lives in Lisbon and works remotely for a Berlin startup.",
	"The user's sister Ana is a nurse in Porto.",
	"The user runs a half marathon every spring.",
	"The team uses PostgreSQL 15 in production and SQLite for tests.",
	"The user wants code reviews to focus on naming and tests.",
	"The user started learning the cello in March 2023.",
	"The user drinks oat milk flat whites, never sugar.",
	"The user's birthday is on the 14th of July.",
	"The staging server is staging.example.com behind the VPN.",
	"The user prefers dark mode in every editor.",
	"The user's manager is called Priya.",
	"The user reads science fiction, mostly Ursula K. Le Guin.",
	"The user is vegetarian since 2019.",
	"The user plays chess online in the evenings.",
	"Standup is at 9:30 every weekday on Zoom.",
}

// scoreCase is a query against calibCorpus and what its scores must say.
type scoreCase struct {
	query string
	// best is the memory that must rank first, or "" when none may score
	// 0.3 or more.
	best     string
	min, max float64 // the range of best's score
}

// scoreCases are the committed paraphrase cases of API.md §7's scale: a
// memory that states what a question asks, in the question's content
// words, scores 0.5 or more and below 0.9; a near-verbatim duplicate 0.9
// or more; every memory that only shares a common word ("user") with the
// query below 0.3; a question that shares no content word with its
// answer finds nothing above 0.3 (with the built-in embedder a score
// measures shared wording, and says so).
var scoreCases = []scoreCase{
	{"What is the user's favorite color?", "The user's favorite color is dark green.", 0.5, 0.9},
	{"When are deployments?", "Deployments run every Friday at 5pm from the release branch.", 0.5, 0.9},
	{"What is the user allergic to?", "The user is allergic to peanuts and shellfish.", 0.5, 0.9},
	{"Where does the user live?", "The user lives in Lisbon and works remotely for a Berlin startup.", 0.5, 0.9},
	{"What does the user's sister do?", "The user's sister Ana is a nurse in Porto.", 0.5, 0.9},
	{"Which database is used in production?", "The team uses PostgreSQL 15 in production and SQLite for tests.", 0.5, 0.9},
	{"When did the user start learning the cello?", "The user started learning the cello in March 2023.", 0.5, 0.9},
	{"When is the user's birthday?", "The user's birthday is on the 14th of July.", 0.5, 0.9},
	{"Who is the user's manager?", "The user's manager is called Priya.", 0.5, 0.9},
	{"When is standup?", "Standup is at 9:30 every weekday on Zoom.", 0.5, 0.9},
	{"the user's favorite color is dark green", "The user's favorite color is dark green.", 0.9, 1},
	{"The user prefers TypeScript over JavaScript for new projects", "The user prefers TypeScript over JavaScript for new projects.", 0.9, 1},
	{"User is allergic to peanuts, and shellfish!", "The user is allergic to peanuts and shellfish.", 0.9, 1},
	{"weather forecast for tomorrow", "", 0, 0},
	{"How does the user take their coffee?", "", 0, 0}, // oat milk flat whites: no shared content word
	{"What does the user eat?", "", 0, 0},              // vegetarian: no shared content word
}

// TestScoreMeaning runs scoreCases through hybrid search (the default
// mode, the hashing embedder's default fusion) and keyword search, with
// the lexical index and with the store's every-match path.
func TestScoreMeaning(t *testing.T) {
	h := embed.NewHashing(0)
	texts := map[int64]string{}
	for i, s := range calibCorpus {
		texts[int64(i+1)] = s
	}
	s := newMemStore(t, h, texts)
	indexed := newEngine(t, s, search.Options{Embedder: h})
	indexed.SetLexical(newLexIndex(s))
	plain := newEngine(t, s, search.Options{Embedder: h})
	for _, c := range scoreCases {
		for _, mode := range []string{search.ModeHybrid, search.ModeKeyword} {
			for name, e := range map[string]*search.Engine[string]{"indexed": indexed, "plain": plain} {
				rs := run(t, e, search.Query{Text: c.query, Mode: mode, Limit: len(calibCorpus)})
				what := fmt.Sprintf("%s %s %q", name, mode, c.query)
				rest := rs
				if c.best != "" {
					if len(rs) == 0 || rs[0].Memory != c.best || rs[0].Score < c.min || rs[0].Score >= c.max && c.max < 1 {
						t.Errorf("%s: first %v, want %q scoring in [%v, %v)", what, rs[:min(1, len(rs))], c.best, c.min, c.max)
						continue
					}
					rest = rs[1:]
				}
				for _, r := range rest {
					if r.Score >= 0.3 {
						t.Errorf("%s: %q scores %.3f, want below 0.3", what, r.Memory, r.Score)
					}
				}
			}
		}
	}
}
