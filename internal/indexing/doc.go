// Package indexing turns text into what the store indexes it by: the
// embedder's vector, checked (the store owns its stored format), and the
// full-text terms. Memories, decisions and patterns are indexed, and
// queries embedded, through it alone.
package indexing
