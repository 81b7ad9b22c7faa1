package memoryrelay_test

import (
	"context"
	"errors"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/search/embed"
)

// failingAfter embeds with inner but fails every call after the first n.
type failingAfter struct {
	embed.Embedder
	n int
}

func (f *failingAfter) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if f.n == 0 {
		return nil, errors.New("model went away")
	}
	f.n--
	return f.Embedder.Embed(ctx, texts)
}

func TestReembedResumable(t *testing.T) {
	ctx := context.Background()
	oldEmb, newEmb := embed.NewHashing(64), embed.NewHashing(128)
	r, path := open(t, memoryrelay.Options{Embedder: oldEmb})
	acct := account(t, r)
	for i := 0; i < 25; i++ {
		if _, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: "memory about topic " + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Account(acct).Decisions().Create(ctx, memory.NewDecision{Title: "Use Go", Rationale: "fast builds"}); err != nil {
		t.Fatal(err)
	}
	r.Close()

	// Interrupted after two batches of 10: Open refuses the half-done state.
	_, err := memoryrelay.Reembed(ctx, memoryrelay.Options{Path: path, Embedder: &failingAfter{newEmb, 2}}, 10, nil)
	if err == nil {
		t.Fatal("the failing embedder did not stop Reembed")
	}
	for _, emb := range []embed.Embedder{oldEmb, newEmb} {
		if _, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Embedder: emb}); !errors.Is(err, memoryrelay.ErrReembedding) {
			t.Fatalf("Open during re-embedding with %s: %v", emb.Model(), err)
		}
	}
	// Another target is refused while this one is unfinished.
	if _, err := memoryrelay.Reembed(ctx, memoryrelay.Options{Path: path, Embedder: embed.NewHashing(32)}, 10, nil); !errors.Is(err, memoryrelay.ErrReembedding) {
		t.Fatalf("second target: %v", err)
	}
	// Resumed: only the rest is done.
	p, err := memoryrelay.Reembed(ctx, memoryrelay.Options{Path: path, Embedder: newEmb}, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Done != 25-20+1 {
		t.Errorf("resumed run re-embedded %d rows, want 6 (5 memories + 1 decision)", p.Done)
	}
	db := rawDB(t, path)
	if n := count(t, db, "SELECT count(*) FROM memory_vectors WHERE length(embedding) != 128+8"); n != 0 { // int8, the default
		t.Errorf("%d memories still have old vectors", n)
	}
	if n := count(t, db, "SELECT count(*) FROM decisions WHERE length(embedding) != 128*4"); n != 0 {
		t.Errorf("%d decisions still have old vectors", n)
	}
	db.Close()

	// Now the new embedder opens it and the old one is refused.
	if _, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Embedder: oldEmb}); !errors.Is(err, memoryrelay.ErrEmbedderMismatch) {
		t.Fatalf("old embedder after re-embedding: %v", err)
	}
	r2, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Embedder: newEmb})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	hits, err := r2.Account(acct).Memories().Search(ctx, memory.SearchParams{Query: "memory about topic c", Mode: "semantic"})
	if err != nil || len(hits) == 0 || hits[0].Memory.Content != "memory about topic c" {
		t.Fatalf("semantic search after re-embedding: %+v %v", hits, err)
	}
	// Nothing to do the second time.
	if p, err := memoryrelay.Reembed(ctx, memoryrelay.Options{Path: path, Embedder: newEmb}, 10, nil); err != nil || p.Done != 0 {
		t.Fatalf("no-op Reembed: %+v %v", p, err)
	}
}
