// Package lexical is the wording side of search: it splits texts into
// normalised terms and scores a text that shares terms with a query by
// BM25, normalised to [0,1]. It is independent of any database.
//
// [Terms] (and [AppendTerms], and [Buffer] for loops) turns a text into
// lowercased, accent-folded, stemmed terms without stopwords, with Han,
// Hiragana and Katakana split into character pairs. The same terms are
// stored by the full-text index, matched against a query's, and hashed by
// the built-in embedder.
//
// [Score] maps the [Stats] of a matching row (its length, the table's size
// and average length, and each query term's counts) to a score in [0,1]
// calibrated like the cosine of the semantic side (API.md §7): 1 for the
// query's own words, about 0.8 to 0.9 with one word of a dozen changed, 0
// when no term is shared. [BM25] gives the raw Okapi BM25 for ranking.
// A storage engine supplies the Stats: with SQLite's FTS4 they come from
// matchinfo(tbl, 'pcnalx').
//
// # Compatibility
//
// The output of [Terms] is part of the stored data: the full-text index
// holds it and the hashing embedder's model id names it. A change to it is
// a new model id and requires re-embedding and re-indexing.
package lexical
