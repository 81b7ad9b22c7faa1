package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
)

// The query plumbing every file of the store shares: running a statement
// and scanning its rows is written here once.

// rowScanner is what a scan function reads one row from: a *sql.Row or
// the current row of *sql.Rows.
type rowScanner interface{ Scan(...any) error }

// queryer runs statements: the reader pool (as a [pool]), a read
// transaction or a write transaction. A single row is read with queryRow
// (or queryOne), which *sql.Row's errors cannot escape.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// pool is a pool of connections as a queryer whose errors match
// store.ErrClosed once the database is closed (sqlitedb.Closed).
type pool struct{ db *sql.DB }

func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := p.db.QueryContext(ctx, query, args...)
	return rows, sqlitedb.Closed(err)
}

func (p pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := p.db.ExecContext(ctx, query, args...)
	return res, sqlitedb.Closed(err)
}

func (p pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	return tx, sqlitedb.Closed(err)
}

// row is the result of queryRow: what *sql.Row is, for any queryer.
type row struct {
	rows *sql.Rows
	err  error
}

// queryRow runs query, which yields at most one row, for Scan to read:
// no row is sql.ErrNoRows, as with QueryRowContext.
func queryRow(ctx context.Context, q queryer, query string, args ...any) row {
	rows, err := q.QueryContext(ctx, query, args...)
	return row{rows: rows, err: err}
}

// Scan reads the row into dest and closes it.
func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

// queryAll runs query on q and returns scan's value of each row, in
// order; nil when there is none. The rows are closed when it returns, so
// that q (a transaction holds one connection) may run the next statement.
func queryAll[T any](ctx context.Context, q queryer, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
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

// queryEach runs query on q and calls fn on each row, in order, one row
// held at a time. fn's error ends the iteration and is returned; errStop
// ends it early without error. The rows are closed when it returns.
func queryEach(ctx context.Context, q queryer, fn func(rowScanner) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			if errors.Is(err, errStop) {
				return rows.Close()
			}
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// errStop, returned by a queryEach callback, ends the iteration early
// without error.
var errStop = errors.New("store: stop iteration")

// queryOne runs query, which yields at most one row, and scans that row;
// no row is ErrNotFound.
func queryOne[T any](ctx context.Context, q queryer, scan func(rowScanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(queryRow(ctx, q, query, args...))
	if err != nil {
		var zero T
		return zero, notFound(err)
	}
	return v, nil
}

// queryValue runs query, which yields at most one row of one column, and
// returns that value; no row is ErrNotFound.
func queryValue[T any](ctx context.Context, q queryer, query string, args ...any) (T, error) {
	return queryOne(ctx, q, scanValue[T], query, args...)
}

// scanValue scans a row of one column.
func scanValue[T any](r rowScanner) (T, error) {
	var v T
	err := r.Scan(&v)
	return v, err
}

// exists reports whether query yields a row.
func exists(ctx context.Context, q queryer, query string, args ...any) (bool, error) {
	var one int
	err := queryRow(ctx, q, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// listQuery is a list of rows ordered newest first: by the column at, then by
// the column id, both descending (API.md §1.6).
type listQuery struct {
	columns string // what a row selects, as scan reads it
	from    string // the table, with its alias: "agents a"
	cond    string // the WHERE condition of the list's rows
	at, id  string // the columns of its order
}

// queryPage returns a page of l, whose condition takes args, and the
// total of l: limit rows scanned by scan, starting after the position
// after when it is not nil (offset is then ignored), else at offset. Both
// statements run on q, the count first.
func queryPage[T any](ctx context.Context, q queryer, scan func(rowScanner) (T, error), l listQuery, args []any, limit, offset int, after *store.Position) ([]T, int, error) {
	total, err := queryValue[int](ctx, q, "SELECT count(*) FROM "+l.from+" WHERE "+l.cond, args...)
	if err != nil {
		return nil, 0, err
	}
	query := "SELECT " + l.columns + " FROM " + l.from + " WHERE " + l.cond
	args = args[:len(args):len(args)]
	if after != nil {
		query += " AND (" + l.at + " < ? OR (" + l.at + " = ? AND " + l.id + " < ?))"
		args = append(args, after.CreatedAt, after.CreatedAt, after.ID)
		offset = 0
	}
	query += " ORDER BY " + l.at + " DESC, " + l.id + " DESC LIMIT ? OFFSET ?"
	out, err := queryAll(ctx, q, scan, query, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// notFound turns sql.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// inList returns "(?, ?, …)" with one placeholder per value, and the
// values as arguments. vs must not be empty.
func inList[T any](vs []T) (string, []any) {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return "(?" + strings.Repeat(", ?", len(vs)-1) + ")", args
}

// fromJSONObject returns a stored JSON object column as a field's value:
// nil for the empty object.
func fromJSONObject(s string) []byte {
	if s == "{}" {
		return nil
	}
	return []byte(s)
}
