package indexing

import (
	"context"
	"fmt"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/search/embed"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// Indexer indexes text with an embedder. It is safe for concurrent use if
// its embedder is.
type Indexer struct {
	Embedder embed.Embedder
}

// Embed returns the checked vector of one text.
func (x Indexer) Embed(ctx context.Context, text string) ([]float32, error) {
	vecs, err := x.Embedder.Embed(ctx, []string{text})
	if err != nil {
		return nil, fmt.Errorf("memoryrelay: embed: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("memoryrelay: embed: %w: got %d vectors for 1 text", vector.ErrInvalid, len(vecs))
	}
	if err := vector.Check(vecs[0], x.Embedder.Dimension()); err != nil {
		return nil, fmt.Errorf("memoryrelay: embed: %w", err)
	}
	return vecs[0], nil
}

// Index embeds text and derives its full-text terms.
func (x Indexer) Index(ctx context.Context, text string) (store.Indexed, error) {
	v, err := x.Embed(ctx, text)
	if err != nil {
		return store.Indexed{}, err
	}
	return Of(text, v), nil
}

// Batch embeds texts in one call of the embedder. It fails as a whole
// when the call does (or returns another number of vectors); a vector that
// is not usable fails its text only: errs[i] says why, and vecs[i] is then
// nil.
func (x Indexer) Batch(ctx context.Context, texts []string) (vecs [][]float32, errs []error, err error) {
	vecs, err = x.Embedder.Embed(ctx, texts)
	if err != nil {
		return nil, nil, fmt.Errorf("memoryrelay: embed: %w", err)
	}
	if len(vecs) != len(texts) {
		return nil, nil, fmt.Errorf("memoryrelay: embed: %w: got %d vectors for %d texts", vector.ErrInvalid, len(vecs), len(texts))
	}
	errs = make([]error, len(texts))
	for i, v := range vecs {
		if err := vector.Check(v, x.Embedder.Dimension()); err != nil {
			errs[i], vecs[i] = fmt.Errorf("memoryrelay: embed: %w", err), nil
		}
	}
	return vecs, errs, nil
}

// Of is the index entries of text with its vector v.
func Of(text string, v []float32) store.Indexed {
	return store.Indexed{Vector: v, Terms: strings.Join(lexical.Terms(text), " ")}
}
