package memoryrelay_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestKeyGraceUntil: a rotated key reports when its old secret stops
// working, on Rotate, Get and List; a key never rotated reports none.
func TestKeyGraceUntil(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)
	r, _ := open(t, memoryrelay.Options{Path: filepath.Join(t.TempDir(), "grace.db"), Now: func() time.Time { return now }})
	acct := account(t, r)
	a := r.Account(acct)
	rotated, _, err := r.Account(acct).Keys().Create(ctx, memory.NewKey{Name: "rotated", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := r.Account(acct).Keys().Create(ctx, memory.NewKey{Name: "plain", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		t.Fatal(err)
	}
	want := now.Add(time.Hour)
	k, _, err := a.Keys().Rotate(ctx, rotated.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if k.GraceUntil == nil || !k.GraceUntil.Equal(want) {
		t.Errorf("Rotate: GraceUntil %v, want %v", k.GraceUntil, want)
	}
	if k, err := a.Keys().Get(ctx, rotated.ID); err != nil || k.GraceUntil == nil || !k.GraceUntil.Equal(want) {
		t.Errorf("Get: GraceUntil %v (%v), want %v", k.GraceUntil, err, want)
	}
	// A second rotation without grace ends the first one's too.
	if k, _, err := a.Keys().Rotate(ctx, rotated.ID, 0); err != nil || k.GraceUntil == nil || !k.GraceUntil.Equal(now) {
		t.Errorf("second Rotate: GraceUntil %v (%v), want %v", k.GraceUntil, err, now)
	}
	page, err := a.Keys().List(ctx, memory.PageParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range page.Data {
		switch k.ID {
		case rotated.ID:
			if k.GraceUntil == nil || !k.GraceUntil.Equal(now) {
				t.Errorf("List: rotated key's GraceUntil %v, want %v", k.GraceUntil, now)
			}
		case plain.ID:
			if k.GraceUntil != nil {
				t.Errorf("List: key never rotated has GraceUntil %v", k.GraceUntil)
			}
		}
	}
}
