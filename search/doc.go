// Package search finds memories by meaning and by wording: vectors from an
// [Embedder] compared by cosine similarity, and terms from [Terms] matched
// by an SQLite FTS4 table and scored by [LexicalScore]. Both kinds of score
// lie in [0,1] and are calibrated alike (API.md §7), so a host can apply one
// threshold to either, or to a blend of the two.
//
// # Embedders
//
// An [Embedder] returns one L2-normalised vector per text, with a fixed
// [Embedder.Dimension] and a [Embedder.Model] id that the database records
// next to every vector: vectors from different models are never compared.
// [CheckVector] guards every write (wrong dimension: [ErrDimensionMismatch]
// and [*DimensionError]; NaN, ±Inf, empty or all-zero: [ErrBadVector]).
// [Dot] is the similarity of two normalised vectors; [Cosine] also works for
// vectors that are not normalised.
//
// Three embedders come with the package. [Hashing], the default, is
// offline and needs no files. [LoadModel2Vec] loads a static model2vec
// model (tokenizer.json + model.safetensors) from a directory, pure Go and
// offline once the files are there. [NewOpenAI] calls an OpenAI-compatible
// /embeddings endpoint (OpenAI, Ollama, llama.cpp, vLLM, LM Studio) — the
// only code here that reaches the network, and only at the base URL the
// host configures: nothing defaults to a remote service. Errors of that
// client are [*APIError]; malformed model files are [ErrModelFormat].
//
// # Fusion
//
// [Fuse] turns a semantic and a lexical score into the hybrid score. With
// [Hashing] it is lexical first (the hashing vector measures shared wording
// without idf and lowered recall whenever it was allowed to reorder lexical
// matches, see BENCHMARKS.md); with other embedders it is [Blend].
//
// # The vector index
//
// [Index] is an in-process accelerator over the vectors stored in SQLite:
// 1-bit codes scanned by Hamming distance, re-ranked by int8 codes, and the
// best candidates rescored from exact float32 vectors fetched by id. The
// memoryrelay facade keeps one in step with the database.
//
// # The Hashing embedder
//
// [Hashing] is the built-in default: offline, deterministic, fast (tens of
// thousands of short texts per second per core) and safe for concurrent
// use. It is a bag of features hashed into a vector ("feature hashing"):
//
//   - each distinct term of [Terms] with weight 1 + ln(tf), so repeating a
//     word adds less and less;
//   - each pair of adjacent terms with weight 0.5, so local word order
//     counts a little ("user prefer" differs from "prefer user");
//   - the character 3- and 4-grams of each term, framed by word boundaries
//     ("^pr", "pre", ..., "er$"), sharing a total weight below the term's,
//     so a typo or an inflection the stemmer misses ("javascirpt",
//     "preference") still overlaps with the right word.
//
// A hash of each feature picks a coordinate and a sign (words and pairs
// are spread over four coordinates), so features of unrelated texts cancel
// out on average instead of piling up.
//
// What it captures: shared words, whatever their case, punctuation, accents
// or inflection (stemming: "prefers", "preferred" → "prefer"); typos and
// related word forms, partly, through character n-grams; short-range word
// order. Measured on sentences of a dozen words (hashing_test.go): the same
// text scores 1; changing, dropping or misspelling one word scores about
// 0.85 to 0.95; two sentences sharing half their words score about 0.5.
// Texts sharing no word other than stopwords score 0 plus noise: hashed
// features of unrelated texts collide at random, which gives their cosine a
// standard deviation of about 1/√dimension (0.05 at 384, so 99% of such
// pairs stay within ±0.15; 768 halves the variance). "What programming
// language does the user prefer?" finds "The user prefers TypeScript over
// JavaScript for new projects." (0.36, through "user" and "prefer") well
// above "The deployment runs every Friday at 5pm." (-0.03).
//
// What it cannot do: it knows no meaning. Synonyms and paraphrases that
// share no word ("car" and "automobile", "I'm leaving" and "I quit") score
// near 0, and so do translations. A query and a memory about the same thing
// in different words will not find each other; a neural embedder will. It
// tokenizes any script, but stopwords and stemming are English only; Han,
// Hiragana and Katakana are split into character pairs, and scripts written
// with combining marks (Devanagari, Thai, ...) lose them, which merges some
// words.
//
// # Full text
//
// The full-text index stores, for each memory, its [Terms] joined by
// spaces, in an FTS4 table with the default "simple" tokenizer. Terms
// contain only letters and digits, so that tokenizer gives back exactly the
// same terms. A query is turned into a MATCH expression by [MatchExpr]
// (its distinct terms, quoted, joined by OR: a row matches if it shares any
// term), and each matching row's matchinfo(tbl, 'pcnalx') blob (see
// [MatchinfoFormat]) is decoded by [ParseMatchinfo] and scored by
// [LexicalScore]:
//
//	SELECT rowid, matchinfo(memories_fts, 'pcnalx')
//	FROM memories_fts WHERE memories_fts MATCH ?
//
// [BM25] is also available for ranking by raw BM25.
//
// # Compatibility
//
// [Terms] and the features of Hashing are part of the stored data: the FTS
// table holds terms and the vector table holds hashed features. A change to
// either is a new model id (the "v1" in "memoryrelay-hash-v1-384") and
// requires re-embedding and re-indexing.
//
// # Errors
//
// Errors are matchable with [errors.Is]: [ErrDimensionMismatch] (also as
// [*DimensionError] with [errors.As]), [ErrBadVector] and [ErrMatchinfo].
package search
