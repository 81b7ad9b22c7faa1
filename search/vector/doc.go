// Package vector holds the vectors of semantic search: their checks and
// similarity, and [Index], an in-process nearest-neighbour index over them.
//
// [Check] guards every vector before it is stored or searched for (wrong
// length: [*DimensionError], matching [ErrDimensionMismatch]; empty, all
// zeros, NaN or ±Inf: [ErrInvalid]). [Dot] is the similarity of two
// normalised vectors, which is what embedders return; [Cosine] also works
// for vectors that are not normalised; [Normalize] scales a vector to unit
// length.
//
// # The index
//
// [Index] is an accelerator over vectors whose store of record lies
// elsewhere (SQLite, for memoryrelay): 1-bit codes scanned by Hamming
// distance, re-ranked by int8 codes, and the best candidates rescored from
// exact float32 vectors fetched by id. Rows live in partitions (one per
// account), and a filter callback restricts a search. Package search/index
// keeps one in step with a database.
package vector
