package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
	"github.com/memoryrelay/memoryrelay/search/index"
)

// VectorFeed is the store's change feed of memory vectors, which an
// index.Index follows (it implements index.Feed): the rows of
// vector_changes, which triggers append in commit order for every change
// to a memory's vector, account, visibility, archival or filtered
// attributes, and its deletion (schema.go); and PRAGMA data_version, read
// on a connection of the feed's own (the number is per connection),
// outside the reader pool, which it holds until Close.
type VectorFeed struct {
	st   *Store
	conn *sqlitedb.OwnReader
}

var _ index.Feed = (*VectorFeed)(nil)

// OpenVectorFeed opens the change feed, with its connection: a
// *VectorFeed.
func (s *Store) OpenVectorFeed(ctx context.Context) (index.Feed, error) {
	conn, err := s.db.OpenOwnReader(ctx)
	if err != nil {
		return nil, err
	}
	return &VectorFeed{st: s, conn: conn}, nil
}

// Close releases the feed's connection, after any query in progress on
// it has finished.
func (f *VectorFeed) Close() error { return f.conn.Close() }

// Version returns PRAGMA data_version of the feed's connection, which
// changes whenever another connection (this store's writer included)
// commits.
func (f *VectorFeed) Version(ctx context.Context) (int64, error) {
	var n int64
	err := f.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&n)
	return n, err
}

// Bounds returns the smallest id left in vector_changes (0 when it is
// empty) and the highest id ever handed out: ids are AUTOINCREMENT, so
// sqlite_sequence keeps it when the rows are pruned.
func (f *VectorFeed) Bounds(ctx context.Context) (oldest, newest int64, err error) {
	err = f.conn.QueryRowContext(ctx, `SELECT coalesce((SELECT min(id) FROM vector_changes), 0),
		max(coalesce((SELECT max(id) FROM vector_changes), 0),
			coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes'), 0))`).Scan(&oldest, &newest)
	return oldest, newest, err
}

// Changes returns the rows of vector_changes after id after, in id order,
// at most limit.
func (f *VectorFeed) Changes(ctx context.Context, after int64, limit int) ([]index.Change, error) {
	return queryAll(ctx, f.conn, func(r rowScanner) (index.Change, error) {
		var c index.Change
		err := r.Scan(&c.Pos, &c.ID)
		return c, err
	}, "SELECT id, seq FROM vector_changes WHERE id > ? ORDER BY id LIMIT ?", after, limit)
}

// feedRows selects what the index keeps of a memory with a vector: its
// vector, its content (for the lexical index) and its attributes.
const feedRows = `SELECT v.seq, m.account_id, m.visibility = 'confidential' OR m.archived_at IS NOT NULL, v.embedding, m.content,
	m.agent_id, m.user_id, m.session_id, m.project, m.tier, m.scope, m.importance
	FROM memory_vectors v JOIN memories m ON m.seq = v.seq`

// maxFeedRows is how many seqs one statement of Rows asks for.
const maxFeedRows = 1000

// Rows calls fn with the row of each of seqs that has a vector.
func (f *VectorFeed) Rows(ctx context.Context, seqs []int64, fn func(*index.Row) error) error {
	for len(seqs) > 0 {
		n := min(len(seqs), maxFeedRows)
		in, args := inList(seqs[:n])
		seqs = seqs[n:]
		if err := f.each(ctx, fn, feedRows+" WHERE v.seq IN "+in, args...); err != nil {
			return err
		}
	}
	return nil
}

// Scan calls fn with the row of every memory that has a vector. It runs
// without the statement timeout: reading every vector is long by nature
// (seconds at a million).
func (f *VectorFeed) Scan(ctx context.Context, fn func(*index.Row) error) error {
	return f.each(sqlitedb.WithoutStatementTimeout(ctx), fn, feedRows)
}

// each runs a feedRows query on the feed's connection and calls fn with
// each row. One Row and its buffers serve every row (a million at a
// rebuild): raw column bytes spare a copy per row.
func (f *VectorFeed) each(ctx context.Context, fn func(*index.Row) error, query string, args ...any) error {
	rows, err := f.conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		row                                        index.Row
		acct, blob                                 sql.RawBytes
		agent, user, session, project, tier, scope sql.NullString
		buf                                        []float32
	)
	attr := func(s *sql.NullString) *string {
		if !s.Valid {
			return nil
		}
		return &s.String
	}
	for rows.Next() {
		if err := rows.Scan(&row.ID, &acct, &row.Hidden, &blob, &row.Text,
			&agent, &user, &session, &project, &tier, &scope, &row.Attrs.Importance); err != nil {
			return err
		}
		row.Account = acct
		row.Vector = nil
		if v, err := DecodeVectorInto(buf, blob); err == nil {
			buf, row.Vector = v, v
		}
		row.Attrs.Agent, row.Attrs.User, row.Attrs.Session = attr(&agent), attr(&user), attr(&session)
		row.Attrs.Project, row.Attrs.Tier, row.Attrs.Scope = attr(&project), attr(&tier), attr(&scope)
		if err := fn(&row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// Prune deletes the rows of vector_changes up to id through.
func (f *VectorFeed) Prune(ctx context.Context, through int64) error {
	_, err := f.st.db.W.ExecContext(ctx, "DELETE FROM vector_changes WHERE id <= ?", through)
	return err
}

var _ index.SnapshotFeed = (*VectorFeed)(nil)

// metaSnapshotToken is the meta key of the token of the last snapshot of
// the in-process index written beside the database (index.SnapshotFeed).
// It is not exported with the data (dumps carry only the embedder), so a
// database filled from a dump never matches another's snapshot.
const metaSnapshotToken = "index_snapshot_token"

// SnapshotToken returns the token of the last index snapshot written, ""
// if none.
func (f *VectorFeed) SnapshotToken(ctx context.Context) (string, error) {
	var tok string
	err := f.conn.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", metaSnapshotToken).Scan(&tok)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return tok, err
}

// SetSnapshotToken records the token of the index snapshot just written.
func (f *VectorFeed) SetSnapshotToken(ctx context.Context, token string) error {
	_, err := f.st.db.W.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		metaSnapshotToken, token)
	return err
}

// IndexSnapshotPath is where the in-process index's snapshot lives: the
// database's path with "-index" appended (beside its -wal and -shm), or
// "" for a database without a file of its own.
func (s *Store) IndexSnapshotPath() string {
	if s.path == "" || strings.HasPrefix(s.path, ":memory:") || strings.HasPrefix(s.path, "file:") {
		return ""
	}
	return s.path + "-index"
}
