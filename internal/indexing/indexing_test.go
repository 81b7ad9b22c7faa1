package indexing_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/indexing"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// badAt is an embedder whose vector for the text "bad" is not usable.
type badAt struct{ embed.Embedder }

func (b badAt) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	vs, err := b.Embedder.Embed(ctx, texts)
	for i, t := range texts {
		if t == "bad" {
			vs[i][0] = float32(math.NaN())
		}
	}
	return vs, err
}

// TestIndexer: a text is indexed by its encoded vector and its terms; in a
// batch, an unusable vector fails its text only.
func TestIndexer(t *testing.T) {
	ctx := context.Background()
	x := indexing.Indexer{Embedder: badAt{embed.NewHashing(0)}}
	idx, err := x.Index(ctx, "Green tea, please")
	if err != nil || len(idx.Vector) == 0 || idx.Terms == "" {
		t.Fatalf("Index: %+v %v", idx, err)
	}
	if _, err := x.Index(ctx, "bad"); !errors.Is(err, vector.ErrInvalid) {
		t.Errorf("Index of an unusable vector: %v", err)
	}
	vecs, errs, err := x.Batch(ctx, []string{"one", "bad", "three"})
	if err != nil || errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], vector.ErrInvalid) || vecs[1] != nil || vecs[2] == nil {
		t.Fatalf("Batch: %v %v", errs, err)
	}
}
