// Package search ranks memories against a query: its [Engine] generates
// the candidates (lexical and vector), applies the filters, fuses and
// ranks, in one call per search, over storage interfaces defined here.
//
// # The engine
//
// [Engine.Search] takes a [Query] (text, mode, limit, threshold, [Filter])
// and returns the best memories with their scores. It reads the storage
// only through [Store]: [Text] (term counts and the lexical candidates of
// a filter, with their BM25 statistics), [Vectors] (an exact scan and the
// stored vectors) and [Rows] (the memories of the hits). In-process
// indexes replace the scans once set: an [Index] of the vectors
// ([Engine.SetIndex]), such as package search/index's, and a [Lexical]
// index of the texts ([Engine.SetLexical]), which answers the top few by
// lexical score (package lexical's Index, by MaxScore with block bounds)
// where Text returns every match. Nothing here knows SQL: the SQLite
// store of memoryrelay implements these interfaces, and so can any other.
//
// # Scores and modes
//
// A search scores memories in one of three modes: [ModeSemantic] by the
// cosine similarity of their vectors with the query's ([SemanticScore]),
// [ModeKeyword] by the terms they share with it (lexical.Score, a
// normalised BM25), and [ModeHybrid], the default, by a [Fusion] of the
// two. Every score lies in [0,1] and the scores are calibrated alike
// (API.md §7), so a host can apply one threshold to any of them. Ties go
// to the other signal in hybrid search, then to the newer memory.
//
// # Fusion
//
// [Fusion] is an explicit policy, chosen by the program ([Options.Fusion],
// memoryrelay.Options.Fusion) or, by default ([FusionAuto]), by the
// embedder through the optional interface embed.Lexical:
// [FusionLexicalFirst] for an embedder whose vectors measure wording (the
// built-in hashing embedder): the lexical score of a memory that shares a
// term with the query, half the cosine of one that shares none;
// [FusionBlend] for one whose vectors carry meaning: 0.7 of the stronger
// score plus 0.3 of the weaker. Nothing looks at an embedder's concrete
// type, so a wrapper (cache, counter, rate limiter) keeps the policy of
// what it wraps by forwarding embed.Lexical, and a program can always
// override it. Why lexical-first, with the measurements: [FusionLexicalFirst].
//
// # The packages of search
//
//   - index: the in-process vector index kept in step with a store's
//     change feed, an [Index] for the engine;
//   - embed: the [embed.Embedder] interface a program implements, its
//     optional interfaces, and the built-in offline hashing embedder;
//   - embed/openai: a client of OpenAI-compatible /embeddings servers,
//     the only code here that reaches the network;
//   - embed/model2vec: static model2vec models, loaded from their files,
//     with their WordPiece tokenizer;
//   - vector: vector checks and similarity, and the nearest-neighbour
//     index of compact codes;
//   - lexical: the terms of a text, BM25 scoring, and an in-memory
//     inverted index answering top-k queries, independent of any
//     database.
//
// The SQLite side (the FTS4 MATCH expression, matchinfo decoding,
// sqlite-vec's vector BLOB format, the change log) belongs to the storage
// package.
package search
