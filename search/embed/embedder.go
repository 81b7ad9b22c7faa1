package embed

import "context"

// Embedder turns texts into vectors for semantic search. It is the
// interface a program implements to plug in its own model.
//
// Implementations must be safe for concurrent use. Vectors are compared by
// cosine similarity, and the database stores Model and Dimension with each
// vector: texts embedded by different models, or by one model at different
// dimensions, are not comparable, so a new model id means re-embedding.
// Every vector is checked with [vector.Check] before it is stored.
type Embedder interface {
	// Embed returns one vector per text, in order, each of length
	// Dimension() and L2-normalised. It returns an error if ctx is done.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model returns a stable model id, recorded in the database, for
	// example "memoryrelay-hash-v1-384". It must change whenever the
	// vectors of the same text change.
	Model() string
	// Dimension returns the length of every vector Embed returns.
	Dimension() int
}

// Providers: the kinds of embedder, as [ProviderOf] names them (health
// reports show it as embedding_info.provider).
const (
	ProviderBuiltin   = "builtin"           // [Hashing]
	ProviderOpenAI    = "openai-compatible" // package openai's Client
	ProviderModel2Vec = "model2vec"         // package model2vec's Model
	ProviderCustom    = "custom"            // an embedder that does not say
)

// ProviderNamer is an optional interface of an [Embedder]: Provider names
// the kind of embedder, for example "openai-compatible". The built-in
// embedders implement it. An embedder that wraps another (to cache,
// count or limit calls) should implement it by returning the wrapped
// embedder's [ProviderOf], so that wrapping does not hide what is in use.
type ProviderNamer interface {
	Provider() string
}

// ProviderOf returns what e's Provider method returns when e implements
// [ProviderNamer] with a non-empty name, and [ProviderCustom] otherwise.
func ProviderOf(e Embedder) string {
	if p, ok := e.(ProviderNamer); ok {
		if name := p.Provider(); name != "" {
			return name
		}
	}
	return ProviderCustom
}

// Lexical is an optional interface of an [Embedder]: Lexical reports
// whether the embedder's vectors measure the wording two texts share
// (their words, word forms and word order) rather than what they mean.
// [Hashing] implements it and returns true.
//
// Package search uses it to choose how a hybrid search fuses the semantic
// and the lexical score of a memory when the program does not choose (see
// search.Fusion and search.FusionAuto): the vectors of a lexical embedder repeat, less well, what
// the lexical score already measures, so the lexical score ranks, and the
// vectors only add memories that share no term with the query. For any
// other embedder the two scores are blended.
//
// An embedder that wraps another (to cache, count or limit calls) should
// implement it by returning [IsLexical] of the wrapped embedder, as it
// forwards [ProviderNamer]:
//
//	type counting struct{ embed.Embedder }
//
//	func (c counting) Lexical() bool    { return embed.IsLexical(c.Embedder) }
//	func (c counting) Provider() string { return embed.ProviderOf(c.Embedder) }
//
// Embedding the [Embedder] interface value in a struct promotes only Embed,
// Model and Dimension, so a wrapper that does not forward Lexical is taken
// for an embedder of meaning: wrapping the built-in embedder that way
// changes how hybrid search ranks (to search.FusionBlend), unless the
// program sets the fusion itself.
type Lexical interface {
	Lexical() bool
}

// IsLexical reports whether e implements [Lexical] and its Lexical method
// returns true.
func IsLexical(e Embedder) bool {
	l, ok := e.(Lexical)
	return ok && l.Lexical()
}
