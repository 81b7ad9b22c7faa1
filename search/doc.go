// Package search defines what a search of memories is: its modes, its
// scores and the fusion policy that turns a memory's semantic and lexical
// scores into one hybrid score.
//
// A search scores memories in one of three modes: [ModeSemantic] by the
// cosine similarity of their vectors with the query's ([SemanticScore]),
// [ModeKeyword] by the terms they share with it (lexical.Score, a
// normalised BM25), and [ModeHybrid], the default, by a [Fusion] of the
// two. Every score lies in [0,1] and the scores are calibrated alike
// (API.md §7), so a host can apply one threshold to any of them.
//
// # Fusion
//
// [Fusion] is an explicit policy, chosen by the program
// (memoryrelay.Options.Fusion) or, by default ([FusionAuto]), by the
// embedder through the optional interface embed.Lexical:
// [FusionLexicalFirst] for an embedder whose vectors measure wording (the
// built-in hashing embedder), [FusionBlend] for one whose vectors carry
// meaning. Nothing looks at an embedder's concrete type, so a wrapper
// (cache, counter, rate limiter) keeps the policy of what it wraps by
// forwarding embed.Lexical, and a program can always override it.
//
// # The packages of search
//
//   - embed: the [embed.Embedder] interface a program implements, its
//     optional interfaces, and the built-in offline hashing embedder;
//   - embed/openai: a client of OpenAI-compatible /embeddings servers,
//     the only code here that reaches the network;
//   - embed/model2vec: static model2vec models, loaded from their files,
//     with their WordPiece tokenizer;
//   - vector: vector checks and similarity, and the in-process
//     nearest-neighbour index;
//   - lexical: the terms of a text and BM25 scoring, independent of any
//     database.
//
// The SQLite side (the FTS4 MATCH expression, matchinfo decoding and
// sqlite-vec's vector BLOB format) belongs to the storage package.
package search
