// Package store is the contract between memoryrelay's domain and its
// storage: the rows the domain stores and reads (Memory, Agent, Filter,
// BatchItem, …), the errors every implementation returns for the same
// reasons, and the rules an implementation keeps. It holds no engine: the
// SQLite implementation is package store/sqlite, and another (PostgreSQL)
// is a sibling package that needs nothing outside itself changed.
//
// The rules, which package store/storetest checks of an implementation:
//
//   - Every method that reads or writes an account's data takes the
//     account and keeps to it: an id of another account finds nothing
//     (ErrNotFound), whatever it names.
//   - Every method is atomic by itself: its writes commit together or not
//     at all, and a read that makes several queries (a count and a page)
//     sees one snapshot. A read-modify-write takes its change as a
//     callback run inside its transaction (UpdateMemory's apply).
//   - InTx(ctx, fn) is the transaction boundary for several methods: the
//     ctx that fn receives carries the transaction; every method called
//     with it joins it (its writes commit with fn's, its reads see them),
//     each in a savepoint of its own, so that a method that fails undoes
//     its own writes alone; fn's error rolls back everything.
//   - Vectors cross the seam as []float32; how they are stored is the
//     implementation's business.
//   - Errors are classified, never bare driver errors for a known cause:
//     ErrNotFound and its kin for rows, ErrForeignKey for a write naming
//     a row that does not exist (an unknown account), ErrClosed after
//     Close, and the failure classes (ErrBusy, ErrFull, ErrReadOnly,
//     ErrIO, ErrDamaged, ErrStatementTimeout) that [Unavailable] reports.
//   - Times are stored to the millisecond, in UTC.
package store
