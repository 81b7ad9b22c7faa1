package search

// Modes of a search: what a memory's score is.
const (
	// ModeHybrid, the default, scores a memory by the fusion of its
	// semantic and its lexical score (see [Fusion]).
	ModeHybrid = "hybrid"
	// ModeSemantic scores a memory by the cosine similarity of its vector
	// with the query's (see [SemanticScore]).
	ModeSemantic = "semantic"
	// ModeKeyword scores a memory by the terms it shares with the query
	// (lexical.Score: BM25, normalised to [0,1]).
	ModeKeyword = "keyword"
)
