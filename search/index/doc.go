// Package index keeps an in-process vector index in step with the vectors
// a store holds, by following the store's change feed, and answers the
// filtered nearest-neighbour searches of package search from it.
//
// An [Index] wraps a [vector.Index] (compact codes, exact rescoring) with
// what a database of record needs: it catches up with every write
// committed before a search begins, by this process or another
// ([Feed.Version], [Feed.Changes]); it rebuilds aside, while searches go
// on, when it fell behind what the feed keeps; and it holds each memory's
// filterable attributes in memory, so that common filters read nothing
// from the store per query. Its [Index.Search] implements search.Index: a
// program builds one in the background and hands it to
// search.Engine.SetIndex.
//
// The storage implements [Feed] and [Store]; for SQLite they are the
// change log that triggers fill, PRAGMA data_version, and queries on the
// reader pool. Nothing here knows SQL.
package index
