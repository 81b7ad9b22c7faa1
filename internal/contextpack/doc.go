// Package contextpack packs ranked memories into the budget of an agent's
// context window: it estimates tokens, packs whole memories into a token
// budget dropping near-duplicates ([Rules.Pack]), and joins texts into a
// character budget cut at a word boundary ([Join]).
//
// It ranks nothing: its callers pass candidates best first, as a search
// ranked them, and get back which to keep.
package contextpack
