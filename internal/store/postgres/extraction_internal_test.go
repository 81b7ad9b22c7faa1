package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/store"
)

func TestExtractionKeys(t *testing.T) {
	ctx := context.Background()
	st := openInternal(t, pgtest.NewDatabase(t))
	now := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	a, _ := st.CreateAccount(ctx, "a", now)
	b, _ := st.CreateAccount(ctx, "b", now)
	mk := func(id, acct string, active bool, at time.Time) store.ExtractionKey {
		return store.ExtractionKey{ID: id, AccountID: acct, Provider: "openai", Model: "gpt-4o-mini", Sealed: []byte{1, 2, 3},
			Masked: "sk-…abcd", Active: active, CreatedAt: at, UpdatedAt: at}
	}
	for _, k := range []store.ExtractionKey{mk("k1", a.ID, true, now), mk("k2", a.ID, true, now.Add(time.Second)), mk("kb", b.ID, true, now)} {
		if err := st.CreateExtractionKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	ks, err := st.ExtractionKeys(ctx, a.ID)
	if err != nil || len(ks) != 2 || ks[0].ID != "k2" || !ks[0].Active || ks[1].Active || string(ks[0].Sealed) != "\x01\x02\x03" {
		t.Fatalf("keys %+v, %v: want k2 active (created active), k1 not", ks, err)
	}
	if act, err := st.ActiveExtractionKey(ctx, a.ID); err != nil || act.ID != "k2" {
		t.Fatalf("active %+v, %v", act, err)
	}
	k, err := st.ActivateExtractionKey(ctx, a.ID, "k1", now.Add(time.Minute))
	if err != nil || !k.Active || !k.UpdatedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("activate %+v, %v", k, err)
	}
	if act, _ := st.ActiveExtractionKey(ctx, a.ID); act.ID != "k1" {
		t.Fatalf("active after activate: %s", act.ID)
	}
	if act, _ := st.ActiveExtractionKey(ctx, b.ID); act.ID != "kb" {
		t.Fatal("another account's active key changed")
	}
	if _, err := st.ActivateExtractionKey(ctx, a.ID, "kb", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("activate another account's key: %v", err)
	}
	if err := st.DeleteExtractionKey(ctx, a.ID, "kb"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete another account's key: %v", err)
	}
	if _, err := st.ExtractionKey(ctx, a.ID, "kb"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if err := st.TouchExtractionKey(ctx, a.ID, "k1", now.Add(time.Hour), true); err != nil {
		t.Fatal(err)
	}
	if k, _ := st.ExtractionKey(ctx, a.ID, "k1"); k.LastUsedAt == nil || !k.LastValidatedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("touch: %+v", k)
	}
	if err := st.TouchExtractionKey(ctx, a.ID, "k1", now, false); err != nil { // older: kept
		t.Fatal(err)
	}
	if k, _ := st.ExtractionKey(ctx, a.ID, "k1"); !k.LastUsedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("an older touch moved last_used_at back: %v", k.LastUsedAt)
	}
	if n, err := st.DeactivateExtractionKeys(ctx, a.ID, now); err != nil || n != 1 {
		t.Fatalf("deactivate all: %d, %v", n, err)
	}
	if _, err := st.ActiveExtractionKey(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("active after deactivate-all: %v", err)
	}
	if n, _ := st.DeactivateExtractionKeys(ctx, a.ID, now); n != 0 {
		t.Fatal("deactivating again counted keys")
	}
	if err := st.DeleteExtractionKey(ctx, a.ID, "k1"); err != nil {
		t.Fatal(err)
	}
	if ks, _ := st.ExtractionKeys(ctx, a.ID); len(ks) != 1 {
		t.Fatalf("%d keys after delete", len(ks))
	}
}

// TestActivateExtractionKeyAcrossNodes: nodes activating different keys
// of one account at once all succeed (they take turns), and one key is
// active in the end.
func TestActivateExtractionKeyAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	nodes := []*Store{openInternal(t, url), openInternal(t, url), openInternal(t, url)}
	now := time.Now()
	a, _ := nodes[0].CreateAccount(ctx, "a", now)
	for i := range 6 {
		if err := nodes[0].CreateExtractionKey(ctx, store.ExtractionKey{ID: fmt.Sprintf("k%d", i), AccountID: a.ID, Provider: "openai", Model: "m",
			Sealed: []byte{1}, Masked: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := nodes[i%3].ActivateExtractionKey(ctx, a.ID, fmt.Sprintf("k%d", i%6), time.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ks, _ := nodes[1].ExtractionKeys(ctx, a.ID)
	active := 0
	for _, k := range ks {
		if k.Active {
			active++
		}
	}
	if active != 1 {
		t.Fatalf("%d keys active; want 1", active)
	}
}
