package memoryrelay_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// TestInputLimitsForGoCallers: the limits on what a request may hold
// (memory.MaxMetadataFilterKeys, MaxTagFilter, MaxExcludeIDs, MaxOffset,
// MaxJSONDepth) hold for Go
// callers too, not only behind the HTTP handler: each is accepted at its
// value and a *ValidationError one past it.
func TestInputLimitsForGoCallers(t *testing.T) {
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	ctx := context.Background()
	check := func(what string, atMax, past error) {
		t.Helper()
		if atMax != nil {
			t.Errorf("%s at the maximum: %v", what, atMax)
		}
		var verr *memory.ValidationError
		if !errors.As(past, &verr) || !errors.Is(past, memoryrelay.ErrInvalid) {
			t.Errorf("%s one past the maximum: %v, want a *ValidationError", what, past)
		}
	}

	_, err1 := r.Account(acct).Memories().List(ctx, memory.ListParams{Offset: memory.MaxOffset})
	_, err2 := r.Account(acct).Memories().List(ctx, memory.ListParams{Offset: memory.MaxOffset + 1})
	check("memory list offset", err1, err2)
	_, err1 = r.Account(acct).Agents().List(ctx, memory.PageParams{Limit: 0, Offset: memory.MaxOffset})
	_, err2 = r.Account(acct).Agents().List(ctx, memory.PageParams{Limit: 0, Offset: memory.MaxOffset + 1})
	check("agent list offset", err1, err2)
	_, err1 = r.Account(acct).Keys().List(ctx, memory.PageParams{Limit: 0, Offset: memory.MaxOffset})
	_, err2 = r.Account(acct).Keys().List(ctx, memory.PageParams{Limit: 0, Offset: memory.MaxOffset + 1})
	check("key list offset", err1, err2)

	filter := func(n int) map[string]json.RawMessage {
		f := map[string]json.RawMessage{}
		for i := range n {
			f["k"+strconv.Itoa(i)] = json.RawMessage("1")
		}
		return f
	}
	_, err1 = r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "x", MetadataFilter: filter(memory.MaxMetadataFilterKeys)})
	_, err2 = r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "x", MetadataFilter: filter(memory.MaxMetadataFilterKeys + 1)})
	check("metadata_filter keys", err1, err2)
	deepValue := json.RawMessage(strings.Repeat("[", memory.MaxJSONDepth-1) + strings.Repeat("]", memory.MaxJSONDepth-1))
	_, err1 = r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "x", MetadataFilter: map[string]json.RawMessage{"k": deepValue}})
	_, err2 = r.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "x", MetadataFilter: map[string]json.RawMessage{"k": append(append(json.RawMessage("["), deepValue...), ']')}})
	check("metadata_filter depth", err1, err2)

	tags := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "t"+strconv.Itoa(i), "t"+strconv.Itoa(i)) // repeats count once
		}
		return out
	}
	_, err1 = r.Account(acct).Decisions().List(ctx, memory.DecisionListParams{Tags: tags(memory.MaxTagFilter)})
	_, err2 = r.Account(acct).Decisions().List(ctx, memory.DecisionListParams{Tags: tags(memory.MaxTagFilter + 1)})
	check("decision tag filter", err1, err2)

	ids := make([]string, memory.MaxExcludeIDs+1)
	_, err1 = r.Account(acct).Contexts().Build(ctx, memory.BuildContextParams{Query: "x", ExcludeIDs: ids[:memory.MaxExcludeIDs]})
	_, err2 = r.Account(acct).Contexts().Build(ctx, memory.BuildContextParams{Query: "x", ExcludeIDs: ids})
	check("exclude ids", err1, err2)

	nest := func(levels int) json.RawMessage {
		return json.RawMessage(strings.Repeat(`{"a":`, levels-1) + "{}" + strings.Repeat("}", levels-1))
	}
	_, err1 = r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "m", Metadata: nest(memory.MaxJSONDepth)})
	_, err2 = r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "m", Metadata: nest(memory.MaxJSONDepth + 1)})
	check("memory metadata depth", err1, err2)
	_, err1 = r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: "p1", Name: "P", Stack: nest(memory.MaxJSONDepth)})
	_, err2 = r.Account(acct).Projects().Create(ctx, memory.NewProject{Slug: "p2", Name: "P", Stack: nest(memory.MaxJSONDepth + 1)})
	check("project stack depth", err1, err2)
}
