package memoryrelay_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

func TestSetImportance(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	m, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "important?", Tier: "cold"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		importance float64
		tier       *string
		want       string
	}{
		{0.9, nil, "hot"},
		{0.8, nil, "hot"},
		{0.79, nil, "warm"},
		{0.95, pointerTo("cold"), "cold"},
		{0, nil, "warm"},
		{1, pointerTo("warm"), "warm"},
	} {
		got, err := r.Account(acct).Memories().SetImportance(ctx, m.Memory.ID, c.importance, c.tier)
		if err != nil || got.Importance != c.importance || got.Tier != c.want || got.UpdatedAt.Before(got.CreatedAt) {
			t.Errorf("%v %v: %v %v %v", c.importance, c.tier, got.Importance, got.Tier, err)
		}
	}
	for _, c := range []struct {
		id         string
		importance float64
		tier       *string
		is         error
		field      string
	}{
		{m.Memory.ID, 1.5, nil, memoryrelay.ErrInvalid, "Importance"},
		{m.Memory.ID, -0.1, nil, memoryrelay.ErrInvalid, "Importance"},
		{m.Memory.ID, math.NaN(), nil, memoryrelay.ErrInvalid, "Importance"},
		{m.Memory.ID, 0.5, pointerTo("lukewarm"), memoryrelay.ErrInvalid, "Tier"},
		{"not-a-uuid", 0.5, nil, memoryrelay.ErrNotFound, ""},
		{"00000000-0000-4000-8000-000000000000", 0.5, nil, memoryrelay.ErrNotFound, ""},
	} {
		_, err := r.Account(acct).Memories().SetImportance(ctx, c.id, c.importance, c.tier)
		var verr *memory.ValidationError
		if !errors.Is(err, c.is) || (c.field != "" && (!errors.As(err, &verr) || verr.Field() != c.field)) {
			t.Errorf("%s %v %v: %v", c.id, c.importance, c.tier, err)
		}
	}
}

func TestEmbedLimits(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	mem := r.Account(account(t, r)).Memories()
	e, err := mem.Embed(ctx, "hello", memory.EmbedPrefixDocument)
	if err != nil {
		t.Fatal(err)
	}
	if e.Dimension != r.Embedder().Dimension() || len(e.Vector) != e.Dimension || e.Model != r.Embedder().Model() {
		t.Errorf("%d-dimensional %q vector of length %d", e.Dimension, e.Model, len(e.Vector))
	}
	for _, c := range []struct{ text, prefix, field string }{
		{"", "", "text"},
		{"\t", "", "text"},
		{"ok", "query", "prefix"},
	} {
		var verr *memory.ValidationError
		if _, err := mem.Embed(ctx, c.text, c.prefix); !errors.As(err, &verr) || verr.Field() != c.field {
			t.Errorf("Embed(%q, %q): %v, want a validation error on %s", c.text, c.prefix, err, c.field)
		}
	}
}
