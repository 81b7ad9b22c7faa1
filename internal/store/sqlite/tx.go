package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
)

// The transaction boundary. Every method of the Store is atomic by
// itself: its writes run in one transaction (BEGIN IMMEDIATE on the one
// writer connection), its reads on the reader pool or in one read
// transaction. InTx makes several methods commit together: their ctx
// carries the transaction, every write of theirs runs inside it (each in
// a savepoint of its own, so that a method that fails undoes its own
// writes alone, as it would outside), and every read of theirs runs on it
// too, so that it sees the writes made before it.

// txKey is the context key of the transaction of [Store.InTx].
type txKey struct{}

// txState is a transaction of InTx, as its ctx carries it.
type txState struct {
	s   *Store // the store it belongs to: another store's ctx is ignored
	tx  *sql.Tx
	sps int // savepoints made so far, for their names
}

// InTx runs fn in one write transaction and commits it when fn returns
// nil; fn's error, a panic, or ctx ending rolls back everything fn wrote.
// Every method called with fn's ctx joins the transaction: its writes
// commit with fn's and its reads see them. An InTx inside another joins
// the outer one, in a savepoint that its failure rolls back. fn must call
// the store from one goroutine at a time, and must not keep its ctx once
// it returns (the transaction is over then: calls fail with
// sql.ErrTxDone). Other writers wait meanwhile (SQLite has one writer), so
// fn should do no slow work (embedding, network) inside.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if t := s.txOf(ctx); t != nil {
		return t.savepoint(ctx, func(*sql.Tx) error { return fn(ctx) })
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		return fn(context.WithValue(ctx, txKey{}, &txState{s: s, tx: tx}))
	})
}

// txOf returns the transaction of InTx that ctx carries for s, or nil.
func (s *Store) txOf(ctx context.Context) *txState {
	if t, ok := ctx.Value(txKey{}).(*txState); ok && t.s == s {
		return t
	}
	return nil
}

// q is where a read made with ctx runs: InTx's transaction, or the
// reader pool.
func (s *Store) q(ctx context.Context) queryer {
	if t := s.txOf(ctx); t != nil {
		return t.tx
	}
	return pool{s.db.R}
}

// write runs fn in a write transaction and commits it when fn returns
// nil (sqlitedb.DB.Write); inside InTx, in a savepoint of InTx's
// transaction instead.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	if t := s.txOf(ctx); t != nil {
		return t.savepoint(ctx, fn)
	}
	return s.db.Write(ctx, fn)
}

// read runs fn in one read transaction, so that its queries (a count and
// a page, say) see the same snapshot; inside InTx, on InTx's transaction.
func (s *Store) read(ctx context.Context, fn func(q queryer) error) error {
	if t := s.txOf(ctx); t != nil {
		return fn(t.tx)
	}
	tx, err := pool{s.db.R}.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// savepoint runs fn inside a savepoint of t's transaction: fn's error
// rolls back what fn wrote and nothing before it.
func (t *txState) savepoint(ctx context.Context, fn func(*sql.Tx) error) error {
	t.sps++
	name := "sp" + strconv.Itoa(t.sps)
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(t.tx); err != nil {
		// Undo fn's writes even when ctx has ended (database/sql then
		// rolls the whole transaction back anyway).
		uctx := context.WithoutCancel(ctx)
		if _, rerr := t.tx.ExecContext(uctx, "ROLLBACK TO "+name); rerr != nil {
			return errors.Join(err, rerr)
		}
		if _, rerr := t.tx.ExecContext(uctx, "RELEASE "+name); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := t.tx.ExecContext(ctx, "RELEASE "+name)
	return err
}
