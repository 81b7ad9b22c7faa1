package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/memoryrelay/memoryrelay/search/index"
)

// changesChannel is the channel the feed's trigger notifies at each
// commit that logs a change.
const changesChannel = "memoryrelay_changes"

// Feed is the store's change feed (it implements index.Feed): the rows
// of memory_changes, in commit order (see the schema), and a version that
// changes when a change is committed by any node.
//
// The version costs no round trip while nothing changed: a connection of
// the feed's own LISTENs to memoryrelay_changes, and Version asks the
// database (the newest position) only after a notification, after a
// write by this Store, or while that connection is down (when every call
// asks). A change committed by another node is therefore seen by the
// first Version after its notification arrives; one committed by this
// Store, by the first Version after the write returns.
type Feed struct {
	st *Store

	notes   atomic.Int64 // notifications received, and reconnections
	healthy atomic.Bool  // the listener is connected and LISTENing

	mu        sync.Mutex // serialises Version's cache
	seenNotes int64
	seenWrite int64
	version   int64
	known     bool

	cancel context.CancelFunc
	done   chan struct{}
}

var _ index.Feed = (*Feed)(nil)

// OpenFeed opens the change feed and starts its listener, which Close
// stops.
func (s *Store) OpenFeed(ctx context.Context) (*Feed, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	f := &Feed{st: s, done: make(chan struct{})}
	lctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go f.listen(lctx)
	return f, nil
}

// Close stops the listener and closes its connection.
func (f *Feed) Close() error {
	f.cancel()
	<-f.done
	return nil
}

// listen keeps a connection LISTENing, counting notifications, and
// reconnects (counting a reconnection as a notification: some may have
// been missed) until ctx ends.
func (f *Feed) listen(ctx context.Context) {
	defer close(f.done)
	backoff := 10 * time.Millisecond
	for ctx.Err() == nil {
		if f.session(ctx) {
			backoff = 10 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// session runs one listening connection until it fails; it reports
// whether it got as far as listening.
func (f *Feed) session(ctx context.Context) bool {
	f.healthy.Store(false)
	conn, err := pgx.ConnectConfig(ctx, f.st.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return false
	}
	f.notes.Add(1)
	f.healthy.Store(true)
	defer f.healthy.Store(false)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true
		}
		f.notes.Add(1)
	}
}

// Version returns the newest position committed (0 when no change was
// ever logged; pruning does not lower it), asking the database only when
// something may have changed since the previous call.
func (f *Feed) Version(ctx context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	healthy := f.healthy.Load() // before reading the counters: a drop after this is seen next call
	notes, writes := f.notes.Load(), f.st.writes.Load()
	if f.known && healthy && notes == f.seenNotes && writes == f.seenWrite {
		return f.version, nil
	}
	var v int64
	if err := f.st.queryRow(ctx, "SELECT greatest(coalesce(max(id), 0), (SELECT pruned FROM feed_state)) FROM memory_changes").Scan(&v); err != nil {
		f.known = false
		return 0, err
	}
	f.version, f.known, f.seenNotes, f.seenWrite = v, healthy, notes, writes
	return v, nil
}

// Bounds returns the smallest position left (0 when none) and the newest
// ever assigned: the newest row's, or the newest that Prune deleted
// (feed_state), whichever is greater.
func (f *Feed) Bounds(ctx context.Context) (oldest, newest int64, err error) {
	err = f.st.queryRow(ctx, `SELECT coalesce(min(id), 0), greatest(coalesce(max(id), 0), (SELECT pruned FROM feed_state))
		FROM memory_changes`).Scan(&oldest, &newest)
	return oldest, newest, err
}

// Changes returns the changes after position after, in order, at most
// limit.
func (f *Feed) Changes(ctx context.Context, after int64, limit int) ([]index.Change, error) {
	if f.st.closed.Load() {
		return nil, ErrClosed
	}
	rows, err := f.st.pool.Query(ctx, "SELECT id, seq FROM memory_changes WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, f.st.err(ctx, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index.Change, error) {
		var c index.Change
		err := r.Scan(&c.Pos, &c.ID)
		return c, err
	})
	return out, f.st.err(ctx, err)
}

// feedRows selects what the index keeps of a memory with a vector: its
// vector, its content (for the lexical index) and its attributes.
const feedRows = `SELECT v.seq, m.account_id, m.visibility = 'confidential' OR m.archived_at IS NOT NULL, v.embedding, m.content,
	m.agent_id, m.user_id, m.session_id, m.project, m.tier, m.scope, m.importance
	FROM memory_vectors v JOIN memories m ON m.seq = v.seq`

// Rows calls fn with the row of each memory of ids that has a vector.
func (f *Feed) Rows(ctx context.Context, ids []int64, fn func(*index.Row) error) error {
	return f.each(ctx, fn, feedRows+" WHERE v.seq = ANY($1::bigint[])", ids)
}

// Scan calls fn with the row of every memory that has a vector, streaming
// them.
func (f *Feed) Scan(ctx context.Context, fn func(*index.Row) error) error {
	return f.each(ctx, fn, feedRows)
}

// each runs a feedRows query and calls fn with each row. One Row and its
// buffers serve every row.
func (f *Feed) each(ctx context.Context, fn func(*index.Row) error, query string, args ...any) error {
	if f.st.closed.Load() {
		return ErrClosed
	}
	rows, err := f.st.pool.Query(ctx, query, args...)
	if err != nil {
		return f.st.err(ctx, err)
	}
	defer rows.Close()
	var (
		row                                        index.Row
		acct                                       string
		blob                                       []byte
		agent, user, session, project, tier, scope *string
		buf                                        []float32
	)
	for rows.Next() {
		if err := rows.Scan(&row.ID, &acct, &row.Hidden, &blob, &row.Text,
			&agent, &user, &session, &project, &tier, &scope, &row.Attrs.Importance); err != nil {
			return f.st.err(ctx, err)
		}
		row.Account = append(row.Account[:0], acct...)
		row.Vector = nil
		if v, err := decodeVectorInto(buf, blob); err == nil {
			buf, row.Vector = v, v
		}
		row.Attrs.Agent, row.Attrs.User, row.Attrs.Session = agent, user, session
		row.Attrs.Project, row.Attrs.Tier, row.Attrs.Scope = project, tier, scope
		if err := fn(&row); err != nil {
			return err
		}
	}
	return f.st.err(ctx, rows.Err())
}

// Prune deletes the changes up to position through and records the
// newest position it deleted, so that Bounds still knows the newest
// position when the feed is empty. Every node prunes only what lies far
// behind its own position (see index.Index); a node that falls further
// behind than that finds a gap and rebuilds.
func (f *Feed) Prune(ctx context.Context, through int64) error {
	return f.st.exec(ctx, `WITH d AS (DELETE FROM memory_changes WHERE id <= $1 RETURNING id)
		UPDATE feed_state SET pruned = greatest(pruned, (SELECT coalesce(max(id), 0) FROM d))`, through)
}
