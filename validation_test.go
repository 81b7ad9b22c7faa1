package memoryrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestValidationReportsEveryProblem: an input that breaks several rules is
// one *memory.ValidationError listing every problem, one per field, named
// by the Go field, in the order of the input's checks; its first problem
// (the HTTP message) is the one a single-problem input of that field
// would report, and nothing is written.
func TestValidationReportsEveryProblem(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := r.Account(account(t, r))
	bad := 1.5
	long := strings.Repeat("x", memory.MaxDecisionTitle+1)
	slug := "Not A Slug"
	for _, c := range []struct {
		name   string
		call   func() error
		fields []string
		first  string
	}{
		{"memory", func() error {
			tier := "lukewarm"
			_, err := acct.Memories().Create(ctx, memory.NewMemory{Content: " ", Metadata: json.RawMessage(`[1]`),
				Importance: &bad, Tier: tier, Scope: "forever", SessionID: &slug})
			return err
		}, []string{"Content", "Metadata", "Importance", "Tier", "Scope", "SessionID"},
			"Content must be 1-51200 characters and not blank"},
		{"memory update", func() error {
			cr, err := acct.Memories().Create(ctx, memory.NewMemory{Content: "kept as it is"})
			if err != nil {
				return err
			}
			empty, vis := "", "public"
			_, err = acct.Memories().Update(ctx, cr.Memory.ID, memory.MemoryPatch{Content: &empty, Visibility: &vis, Importance: &bad})
			if got, _ := acct.Memories().Get(ctx, cr.Memory.ID); got.Content != "kept as it is" || got.Visibility != "private" {
				t.Errorf("a refused update changed the memory: %+v", got)
			}
			return err
		}, []string{"Content", "Visibility", "Importance"}, "Content must be 1-51200 characters and not blank"},
		{"search", func() error {
			_, err := acct.Memories().Search(ctx, memory.SearchParams{Query: "", Limit: -1, Threshold: 2, Mode: "fuzzy", Scope: "x"})
			return err
		}, []string{"Query", "Limit", "Threshold", "Mode", "Scope"}, "Query is required"},
		{"decision", func() error {
			_, err := acct.Decisions().Create(ctx, memory.NewDecision{Title: long, Rationale: "", Tags: make([]string, memory.MaxTags+1), Status: "maybe"})
			return err
		}, []string{"Title", "Rationale", "Tags", "Status"}, "Title must be 1-500 characters and not blank"},
		{"pattern", func() error {
			_, err := acct.Patterns().Create(ctx, memory.NewPattern{Title: "", Description: "", Scope: "project"})
			return err
		}, []string{"Title", "Description", "SourceProject"}, "Title must be 1-500 characters and not blank"},
		{"project", func() error {
			_, err := acct.Projects().Create(ctx, memory.NewProject{Slug: slug, Name: "", Stack: json.RawMessage(`"go"`)})
			return err
		}, []string{"Slug", "Name", "Stack"}, "Slug must match ^[a-z0-9][a-z0-9-]*$ and be at most 100 characters"},
		{"entity", func() error {
			typ := ""
			_, err := acct.Entities().Create(ctx, memory.NewEntity{Name: "", Type: &typ, AgentID: " "})
			return err
		}, []string{"Name", "Type", "AgentID"}, "Name must be 1-255 characters and not blank"},
		{"session", func() error {
			_, _, err := acct.Sessions().GetOrCreate(ctx, "", memory.NewSession{AgentID: " ", Metadata: json.RawMessage(`1`)})
			return err
		}, []string{"externalID", "AgentID", "Metadata"}, "externalID must be 1-500 characters"},
		{"agent", func() error {
			desc := strings.Repeat("d", memory.MaxAgentDescription+1)
			_, _, err := acct.Agents().Create(ctx, memory.NewAgent{ID: " ", Name: " ", Description: &desc})
			return err
		}, []string{"ID", "Name", "Description"}, "ID must be 1-255 bytes and not blank"},
		{"list", func() error {
			_, err := acct.Sessions().List(ctx, memory.SessionListParams{Limit: -1, Offset: -1, Status: "paused"})
			return err
		}, []string{"Limit", "Offset", "Status"}, "Limit must be between 1 and 100"},
		{"context", func() error {
			_, err := acct.Contexts().Build(ctx, memory.BuildContextParams{Query: "", MaxMemories: -1, ExcludeIDs: make([]string, memory.MaxExcludeIDs+1)})
			return err
		}, []string{"MaxMemories", "ExcludeIDs", "Query"}, "MaxMemories must be between 1 and 100"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var verr *memory.ValidationError
			if !errors.As(err, &verr) || !errors.Is(err, memoryrelay.ErrInvalid) {
				t.Fatalf("%v is no *memory.ValidationError", err)
			}
			var got []string
			for _, p := range verr.Problems {
				got = append(got, p.Field)
			}
			if !slices.Equal(got, c.fields) {
				t.Errorf("problems %q, want %q", got, c.fields)
			}
			if verr.Problems[0].Message != c.first {
				t.Errorf("first problem %q, want %q", verr.Problems[0].Message, c.first)
			}
		})
	}
	if page, err := acct.Memories().List(ctx, memory.ListParams{}); err != nil || page.Total != 1 {
		t.Errorf("memories stored: %d, %v; want only the one updated", page.Total, err)
	}
}
