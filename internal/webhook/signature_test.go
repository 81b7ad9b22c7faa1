package webhook_test

import (
	"slices"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/webhook"
)

func TestMask(t *testing.T) {
	m, ok := webhook.MaskOf([]string{"memory.deleted", "memory.created", "memory.created"})
	if !ok || !m.Has("memory.created") || !m.Has("memory.deleted") || m.Has("memory.updated") ||
		!slices.Equal(m.Types(), []string{"memory.created", "memory.deleted"}) {
		t.Fatalf("MaskOf = %b", m)
	}
	if _, ok := webhook.MaskOf([]string{"memory.created", "memory.exploded"}); ok {
		t.Fatal("an unknown type accepted")
	}
	var all webhook.Mask
	for _, typ := range webhook.EventTypes {
		if !all.Has(typ) {
			t.Errorf("the zero Mask lacks %s", typ)
		}
	}
	if all.Types() != nil || webhook.Bit("x") != 0 {
		t.Error("zero Mask types or unknown bit")
	}
}
