package memorytest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/memory"
)

var modes = []string{memory.ModeHybrid, memory.ModeSemantic, memory.ModeKeyword}

func testSearch(t *testing.T, open Opener) {
	t.Run("OwnWords", func(t *testing.T) { searchOwnWords(t, open(t)) })
	t.Run("Unrelated", func(t *testing.T) { searchUnrelated(t, open(t)) })
	t.Run("Threshold", func(t *testing.T) { searchThreshold(t, open(t)) })
	t.Run("Filters", func(t *testing.T) { searchFilters(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { searchInvalid(t, open(t)) })
}

// distinct are memories that share no meaningful word.
var distinct = []string{
	"The quarterly budget review happens in March",
	"Grandma's apple pie recipe uses cinnamon",
	"The cat sleeps on the warm windowsill",
	"Kubernetes clusters autoscale on CPU load",
}

// checkHits checks what every result list must be: scores in [0,1], best
// first, each at least the threshold.
func checkHits(t *testing.T, what string, hits []memory.Hit, threshold float64) {
	t.Helper()
	for i, h := range hits {
		if h.Score < 0 || h.Score > 1 {
			t.Errorf("%s: hit %d has score %v, outside [0,1]", what, i, h.Score)
		}
		if h.Score < threshold {
			t.Errorf("%s: hit %d has score %v below the threshold %v", what, i, h.Score, threshold)
		}
		if i > 0 && h.Score > hits[i-1].Score {
			t.Errorf("%s: hit %d scores %v, more than hit %d (%v): not best first", what, i, h.Score, i-1, hits[i-1].Score)
		}
	}
}

func searchOwnWords(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	var ms []memory.Memory
	for _, s := range distinct {
		ms = append(ms, create(t, e.Account, memory.NewMemory{Content: s}))
	}
	for _, mode := range append([]string{""}, modes...) {
		for _, m := range ms {
			what := "mode " + mode + ", " + m.Content
			hits, err := mem.Search(ctx, memory.SearchParams{Query: m.Content, Mode: mode})
			if err != nil {
				t.Errorf("%s: %v", what, err)
				continue
			}
			checkHits(t, what, hits, 0)
			if len(hits) == 0 || hits[0].Memory.ID != m.ID {
				t.Errorf("%s: the memory is not the best hit of its own words (%d hits)", what, len(hits))
				continue
			}
			if hits[0].Score < 0.8 {
				t.Errorf("%s: a verbatim match scores %v, want ≥ 0.8 (API.md §7)", what, hits[0].Score)
			}
			wantEqual(t, what+": the hit's memory", hits[0].Memory, m)
		}
	}
}

func searchUnrelated(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	for _, s := range distinct {
		create(t, e.Account, memory.NewMemory{Content: s})
	}
	for _, mode := range modes {
		hits := try(mem.Search(ctx, memory.SearchParams{Query: "zxqv plorf wibblequark", Mode: mode})).must(t)
		checkHits(t, mode, hits, 0)
		for _, h := range hits {
			if h.Score >= 0.3 {
				t.Errorf("%s: a query with no word in common scores %v against %q, want < 0.3 (API.md §7)", mode, h.Score, h.Memory.Content)
			}
		}
		if hits := try(mem.Search(ctx, memory.SearchParams{Query: "zxqv plorf wibblequark", Mode: mode, Threshold: 0.3})).must(t); len(hits) != 0 {
			t.Errorf("%s: threshold 0.3 keeps %d hits of an unrelated query", mode, len(hits))
		}
	}
}

func searchThreshold(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	var ms []memory.Memory
	for _, s := range distinct {
		ms = append(ms, create(t, e.Account, memory.NewMemory{Content: s}))
	}
	for _, mode := range modes {
		all := try(mem.Search(ctx, memory.SearchParams{Query: ms[0].Content, Mode: mode})).must(t)
		for _, th := range []float64{0.3, 0.5, 0.8} {
			hits := try(mem.Search(ctx, memory.SearchParams{Query: ms[0].Content, Mode: mode, Threshold: th})).must(t)
			checkHits(t, mode, hits, th)
			if !hasHit(hits, ms[0].ID) {
				t.Errorf("%s, threshold %v: the verbatim match is gone", mode, th)
			}
			// The threshold only removes: the hits are those of no
			// threshold that score at least it, in the same order.
			var want []string
			for _, h := range all {
				if h.Score >= th {
					want = append(want, h.Memory.ID)
				}
			}
			wantEqual(t, mode+": the hits above the threshold", hitIDs(hits), want)
		}
	}
}

func hitIDs(hits []memory.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Memory.ID
	}
	return out
}

func searchFilters(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	try2(e.Account.Agents().Create(ctx, memory.NewAgent{ID: "f-a", Name: "Agent A"})).must(t)
	s1 := try(e.Account.Sessions().Create(ctx, memory.NewSession{AgentID: "f-b"})).must(t)
	f1 := create(t, e.Account, memory.NewMemory{Content: "lighthouse keeper logs the storm", AgentID: "f-a", UserID: ptr("u1"),
		Importance: ptr(0.9), Project: ptr("proj-x"), Metadata: json.RawMessage(`{"color":"red","n":1,"namespace":"ns1"}`)})
	f2 := create(t, e.Account, memory.NewMemory{Content: "lighthouse lamp needs a new bulb", AgentID: "f-b", UserID: ptr("u2"),
		Importance: ptr(0.2), Tier: "cold", Scope: "session", SessionID: &s1.ID, Metadata: json.RawMessage(`{"color":"blue","n":2}`)})
	f3 := create(t, e.Account, memory.NewMemory{Content: "lighthouse door code is secret", AgentID: "f-a", Visibility: "confidential"})
	f4 := create(t, e.Account, memory.NewMemory{Content: "lighthouse tours run on Sundays", AgentID: "f-b", Importance: ptr(0.6),
		Project: ptr("proj-y"), Metadata: json.RawMessage(`{"namespace":"ns2","color":"red"}`)})
	red := map[string]json.RawMessage{"color": json.RawMessage(`"red"`)}
	for _, tc := range []struct {
		name string
		p    memory.SearchParams
		want []memory.Memory
	}{
		{"none (confidential left out)", memory.SearchParams{}, []memory.Memory{f1, f2, f4}},
		{"IncludeConfidential", memory.SearchParams{IncludeConfidential: true}, []memory.Memory{f1, f2, f3, f4}},
		{"agent by id", memory.SearchParams{AgentID: ptr("f-a")}, []memory.Memory{f1}},
		{"agent by id, confidential too", memory.SearchParams{AgentID: ptr("f-a"), IncludeConfidential: true}, []memory.Memory{f1, f3}},
		{"agent by name", memory.SearchParams{AgentID: ptr("Agent A")}, []memory.Memory{f1}},
		{"unknown agent", memory.SearchParams{AgentID: ptr("nobody")}, nil},
		{"user", memory.SearchParams{UserID: ptr("u1")}, []memory.Memory{f1}},
		{"tier", memory.SearchParams{Tier: ptr("cold")}, []memory.Memory{f2}},
		{"min importance", memory.SearchParams{MinImportance: ptr(0.5)}, []memory.Memory{f1, f4}},
		{"project", memory.SearchParams{Project: ptr("proj-x")}, []memory.Memory{f1}},
		{"unknown project", memory.SearchParams{Project: ptr("no-such-project")}, nil},
		{"scope session", memory.SearchParams{Scope: "session"}, []memory.Memory{f2}},
		{"scope long-term", memory.SearchParams{Scope: "long-term"}, []memory.Memory{f1, f4}},
		{"session", memory.SearchParams{SessionID: &s1.ID}, []memory.Memory{f2}},
		{"unknown session", memory.SearchParams{SessionID: ptr(unknownID)}, nil},
		{"malformed session (no error)", memory.SearchParams{SessionID: ptr(malformedID)}, nil},
		{"namespace", memory.SearchParams{Namespace: ptr("ns1")}, []memory.Memory{f1}},
		{"metadata one key", memory.SearchParams{MetadataFilter: red}, []memory.Memory{f1, f4}},
		{"metadata two keys", memory.SearchParams{MetadataFilter: map[string]json.RawMessage{"color": json.RawMessage(`"red"`), "n": json.RawMessage(`1`)}}, []memory.Memory{f1}},
		{"metadata a number", memory.SearchParams{MetadataFilter: map[string]json.RawMessage{"n": json.RawMessage(`2`)}}, []memory.Memory{f2}},
		{"metadata no match", memory.SearchParams{MetadataFilter: map[string]json.RawMessage{"color": json.RawMessage(`"green"`)}}, nil},
		{"two filters", memory.SearchParams{AgentID: ptr("f-b"), MetadataFilter: red}, []memory.Memory{f4}},
	} {
		for _, mode := range modes {
			p := tc.p
			p.Query, p.Mode, p.Limit = "lighthouse", mode, 50
			hits, err := mem.Search(ctx, p)
			if err != nil {
				t.Errorf("%s, %s: %v", tc.name, mode, err)
				continue
			}
			checkHits(t, tc.name, hits, 0)
			got := hitIDs(hits)
			slices.Sort(got)
			want := memoryIDs(tc.want)
			slices.Sort(want)
			wantEqual(t, tc.name+", "+mode+": the memories found", got, want)
		}
	}
}

func searchInvalid(t *testing.T, e Env) {
	ctx, mem := t.Context(), e.Account.Memories()
	create(t, e.Account, memory.NewMemory{Content: "something to search"})
	for _, tc := range []struct {
		name  string
		p     memory.SearchParams
		field string
	}{
		{"no query", memory.SearchParams{}, "Query"},
		{"query over 51,200 code points", memory.SearchParams{Query: strings.Repeat("é", 51_201)}, "Query"},
		{"unknown mode", memory.SearchParams{Query: "x", Mode: "fuzzy"}, "Mode"},
		{"threshold above 1", memory.SearchParams{Query: "x", Threshold: 1.5}, "Threshold"},
		{"threshold below 0", memory.SearchParams{Query: "x", Threshold: -0.1}, "Threshold"},
		{"min importance above 1", memory.SearchParams{Query: "x", MinImportance: ptr(1.5)}, "MinImportance"},
		{"unknown scope", memory.SearchParams{Query: "x", Scope: "global"}, "Scope"},
		{"limit below 0", memory.SearchParams{Query: "x", Limit: -1}, "Limit"},
	} {
		_, err := mem.Search(ctx, tc.p)
		wantInvalid(t, tc.name, err, tc.field)
	}
}
