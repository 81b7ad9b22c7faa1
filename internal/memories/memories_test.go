package memories_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/internal/memories"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// fakeStore records the writes; a method it does not override panics
// (the embedded nil interface), so a test fails if the rules reach one.
type fakeStore struct {
	memories.Store
	inserted []store.Memory
	updates  int
}

func (f *fakeStore) InsertMemory(_ context.Context, m *store.Memory, idx store.Indexed) error {
	if len(idx.Vector) == 0 || idx.Terms == "" {
		return errors.New("not indexed")
	}
	f.inserted = append(f.inserted, *m)
	return nil
}

func (f *fakeStore) UpdateMemory(_ context.Context, _, _ string, _ func(*store.Memory) error, _ *store.Indexed) (store.Memory, error) {
	f.updates++
	return store.Memory{}, nil
}

// gate admits every account and leaves errors as they are.
type gate struct{}

func (gate) Admit(context.Context, string) error { return nil }
func (gate) Classify(err error) error            { return err }

func newService(st memories.Store) *memories.Service {
	now := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	return memories.New(memories.Config{Store: st, Gate: gate{}, Now: func() time.Time { return now },
		Index: indexing.Indexer{Embedder: embed.NewHashing(0)}})
}

// TestCreateDefaults: the rules of a new memory, without a database: the
// defaults of the contract (agent "default", private, importance 0.5,
// long-term, tier from the importance), the clock's instant, and one
// indexed insert.
func TestCreateDefaults(t *testing.T) {
	st := &fakeStore{}
	acct := newService(st).For("acct")
	high := 0.9
	res, err := acct.Create(context.Background(), memory.NewMemory{Content: "Likes green tea", Importance: &high})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Memory
	if len(st.inserted) != 1 || st.inserted[0].AccountID != "acct" || st.inserted[0].AgentRef != memory.DefaultAgent {
		t.Fatalf("inserted %+v", st.inserted)
	}
	if m.Visibility != "private" || m.Scope != "long-term" || m.Tier != "hot" || m.Importance != 0.9 || m.CreatedAt.IsZero() {
		t.Errorf("memory %+v", m)
	}
}

// TestInvalidInputReachesNoStore: a create or an update with problems is
// refused with all of them before the store is asked anything (the fake
// panics on any read).
func TestInvalidInputReachesNoStore(t *testing.T) {
	st := &fakeStore{}
	acct := newService(st).For("acct")
	ctx := context.Background()
	bad, typ := -1.0, "rumour"
	_, err := acct.Create(ctx, memory.NewMemory{Content: "", MemoryType: &typ, Importance: &bad})
	var verr *memory.ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 3 || len(st.inserted) != 0 {
		t.Fatalf("create: %v, %d inserted", err, len(st.inserted))
	}
	_, err = acct.Update(ctx, "0b5ef3e6-3bc4-4c57-9b8a-4d6a2c9f0e11", memory.MemoryPatch{MemoryType: &typ, Importance: &bad})
	if !errors.As(err, &verr) || len(verr.Problems) != 2 || st.updates != 0 {
		t.Fatalf("update: %v, %d updates", err, st.updates)
	}
	_, err = acct.CreateBatch(ctx, memory.BatchParams{})
	if !errors.As(err, &verr) || verr.Field() != "Memories" {
		t.Fatalf("empty batch: %v", err)
	}
}
