// Package index keeps in-process indexes of the memories a store holds,
// their vectors and their texts, in step with the store's change feed,
// and answers the filtered searches of package search from them.
//
// An [Index] wraps a [vector.Index] (compact codes, exact rescoring) and a
// [lexical.Index] (an inverted index answering top-k by lexical score)
// with what a database of record needs: it catches up with every write
// committed before a search begins, by this process or another
// ([Feed.Version], [Feed.Changes]); it rebuilds both aside, while searches
// go on, when it fell behind what the feed keeps; and it holds each
// memory's filterable attributes in memory, so that common filters read
// nothing from the store per query. Its [Index.Search] implements
// search.Index and its [Index.SearchText] and [Index.ScoreText]
// search.Lexical: a program builds one in the background and hands it to
// search.Engine.SetIndex and SetLexical.
//
// With [Options].SnapshotPath, [OpenWith] starts from a snapshot of both
// indexes written by an earlier Close ([Index.SaveSnapshot]) and catches
// up with the feed from its position, instead of reading every row; a
// snapshot that does not fit the store (see snapshot.go) is ignored.
//
// The storage implements [Feed] and [Store]; for SQLite they are the
// change log that triggers fill, PRAGMA data_version, and queries on the
// reader pool. Nothing here knows SQL.
package index
