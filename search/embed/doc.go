// Package embed defines the Embedder, which turns texts into vectors, and
// provides the built-in one: [Hashing], offline and deterministic.
//
// An [Embedder] returns one L2-normalised vector per text, with a fixed
// [Embedder.Dimension] and a [Embedder.Model] id that the database records
// next to every vector: vectors from different models are never compared.
// A program plugs in its own model by implementing Embedder; two optional
// interfaces let an embedder say more about itself: [ProviderNamer] (what
// kind of embedder it is, shown by health reports) and [Lexical] (whether
// its vectors measure wording rather than meaning, which picks the default
// fusion of hybrid search). A wrapper should forward both.
//
// Besides [Hashing], two embedders come in sub-packages: openai, a client
// of OpenAI-compatible /embeddings servers (OpenAI, Ollama, llama.cpp,
// vLLM, LM Studio), the only code that reaches the network, and only at
// the base URL the host configures; and model2vec, static model2vec models
// (tokenizer.json + model.safetensors) loaded from a directory, pure Go and
// offline once the files are there. Nothing defaults to a remote service.
//
// # The Hashing embedder
//
// [Hashing] is the built-in default: offline, deterministic, fast (tens of
// thousands of short texts per second per core) and safe for concurrent
// use. It is a bag of features hashed into a vector ("feature hashing"):
//
//   - each distinct term of lexical.Terms with weight 1 + ln(tf), so
//     repeating a word adds less and less;
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
// words. Because it measures wording, it implements [Lexical].
//
// # Compatibility
//
// lexical.Terms and the features of Hashing are part of the stored data:
// the vector table holds hashed features. A change to either is a new
// model id (the "v1" in "memoryrelay-hash-v1-384") and requires
// re-embedding.
package embed
