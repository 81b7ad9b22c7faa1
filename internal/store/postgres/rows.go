package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/memoryrelay/memoryrelay/internal/store"
)

// The row plumbing every file shares: where a statement runs (the pool,
// or InTx's transaction), the transactions of one method, running a
// statement and scanning its rows.

// querier runs statements: the pool or a transaction (pgx.Tx).
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// rowScanner is what a scan function reads one row from: a pgx.Row or
// the current row of pgx.Rows.
type rowScanner interface{ Scan(...any) error }

// txKey is the context key of the transaction of [Store.InTx].
type txKey struct{}

// txState is a transaction of InTx, as its ctx carries it.
type txState struct {
	s  *Store // the store it belongs to: another store's ctx is ignored
	tx pgx.Tx
}

// InTx runs fn in one READ COMMITTED transaction and commits it when fn
// returns nil; fn's error, a panic, or ctx ending rolls back everything
// fn wrote. Every method called with fn's ctx joins the transaction, in a
// savepoint of its own: its writes commit with fn's, its reads see them,
// and a method that fails undoes its own writes alone. An InTx inside
// another joins the outer one, in a savepoint. fn must call the store
// from one goroutine at a time and must not keep its ctx once it returns
// (calls then fail: the transaction is over). Other nodes' writers are
// not held up, except by the row locks fn takes and, at commit, the
// change feed's lock (see the package doc).
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if t := s.txOf(ctx); t != nil {
		return s.err(ctx, pgx.BeginFunc(ctx, t.tx, func(sp pgx.Tx) error {
			return fn(context.WithValue(ctx, txKey{}, &txState{s: s, tx: sp}))
		}))
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(context.WithValue(ctx, txKey{}, &txState{s: s, tx: tx}))
	})
	if err == nil {
		s.writes.Add(1)
	}
	return s.err(ctx, err)
}

// txOf returns the transaction of InTx that ctx carries for s, or nil.
func (s *Store) txOf(ctx context.Context) *txState {
	if t, ok := ctx.Value(txKey{}).(*txState); ok && t.s == s {
		return t
	}
	return nil
}

// q is where a single statement made with ctx runs: InTx's transaction,
// or the pool.
func (s *Store) q(ctx context.Context) querier {
	if t := s.txOf(ctx); t != nil {
		return t.tx
	}
	return s.pool
}

// do runs fn, a single statement or a few that need no snapshot of their
// own, on s.q(ctx), and classifies its error.
func (s *Store) do(ctx context.Context, fn func(q querier) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.err(ctx, fn(s.q(ctx)))
}

// read runs fn in one read-only REPEATABLE READ transaction, so that its
// queries (a count and a page) see one snapshot; inside InTx, in a
// savepoint of InTx's transaction (which reads its own writes).
func (s *Store) read(ctx context.Context, fn func(pgx.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if t := s.txOf(ctx); t != nil {
		return s.err(ctx, pgx.BeginFunc(ctx, t.tx, fn))
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
	return s.err(ctx, err)
}

// write runs fn in a READ COMMITTED transaction, committing if it returns
// nil; inside InTx, in a savepoint of InTx's transaction instead.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if t := s.txOf(ctx); t != nil {
		return s.err(ctx, pgx.BeginFunc(ctx, t.tx, fn))
	}
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err == nil {
		s.writes.Add(1)
	}
	return s.err(ctx, err)
}

// queryAll runs query on q and returns scan's value of each row, in
// order; nil when there is none.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := queryEach(ctx, q, func(r rowScanner) error {
		v, err := scan(r)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errStop, returned by a queryEach callback, ends the iteration early
// without error.
var errStop = errors.New("postgres: stop iteration")

// queryEach runs query on q and calls fn on each row, in order. fn's
// error ends the iteration and is returned; errStop ends it early without
// error. The rows are closed when it returns.
func queryEach(ctx context.Context, q querier, fn func(rowScanner) error, query string, args ...any) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			if errors.Is(err, errStop) {
				rows.Close()
				return nil
			}
			return err
		}
	}
	return rows.Err()
}

// queryOne runs query, which yields at most one row, and scans that row;
// no row is ErrNotFound.
func queryOne[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, query, args...))
	if err != nil {
		var zero T
		return zero, notFound(err)
	}
	return v, nil
}

// queryValue runs query, which yields at most one row of one column, and
// returns that value; no row is ErrNotFound.
func queryValue[T any](ctx context.Context, q querier, query string, args ...any) (T, error) {
	return queryOne(ctx, q, scanValue[T], query, args...)
}

// scanValue scans a row of one column.
func scanValue[T any](r rowScanner) (T, error) {
	var v T
	err := r.Scan(&v)
	return v, err
}

// exists reports whether query yields a row.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRow(ctx, query, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// params collects the arguments of a statement built piece by piece:
// add returns the placeholder of the value it appends.
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// listQuery is a list of rows ordered newest first: by the column at,
// then by the column id, both descending (API.md §1.6).
type listQuery struct {
	columns string // what a row selects, as scan reads it
	from    string // the table, with its alias: "agents a"
	cond    string // the WHERE condition of the list's rows, over args
	at, id  string // the columns of its order
}

// queryPage returns a page of l, whose condition takes args, and the
// total of l: limit rows scanned by scan, starting after the position
// after when it is not nil (offset is then ignored), else at offset. Both
// statements run on q, the count first: q should be a read transaction.
func queryPage[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), l listQuery, args params, limit, offset int, after *store.Position) ([]T, int, error) {
	total, err := queryValue[int](ctx, q, "SELECT count(*) FROM "+l.from+" WHERE "+l.cond, args...)
	if err != nil {
		return nil, 0, err
	}
	p := append(params(nil), args...)
	query := "SELECT " + l.columns + " FROM " + l.from + " WHERE " + l.cond
	if after != nil {
		at, id := p.add(after.CreatedAt), p.add(after.ID)
		query += " AND (" + l.at + " < " + at + " OR (" + l.at + " = " + at + " AND " + l.id + " < " + id + "))"
		offset = 0
	}
	query += " ORDER BY " + l.at + " DESC, " + l.id + " DESC LIMIT " + p.add(limit) + " OFFSET " + p.add(offset)
	out, err := queryAll(ctx, q, scan, query, p...)
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// uniqueViolation reports whether err is a unique violation of the
// constraint named (any unique constraint when constraint is "").
func uniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

// affected returns the number of rows a statement changed.
func affected(tag pgconn.CommandTag, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// ms converts a time to epoch milliseconds, the unit of every stored instant.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts epoch milliseconds back to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func fromNullMS(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

// jsonOrEmpty stores nil JSON as an empty object.
func jsonOrEmpty(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// fromJSONObject reads a stored JSON object; the empty object reads as nil.
func fromJSONObject(s string) []byte {
	if s == "{}" {
		return nil
	}
	return []byte(s)
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
