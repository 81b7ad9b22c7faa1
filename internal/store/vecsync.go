package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/sqlitedb"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// VectorIndex keeps an in-process vector.Index in step with the committed
// vectors of the database, including writes by other connections and other
// processes: before each search it reads PRAGMA data_version on a
// connection of its own (the number changes whenever another connection
// commits), and when it has changed, applies the rows of vector_changes
// (filled by triggers, in commit order) that it has not seen. A gap in that
// log (pruned past what this process saw) makes it rebuild from scratch.
//
// It is safe for concurrent use.
//
// # Catching up and rebuilding
//
// One goroutine at a time catches up: the owner, which set busy under
// syncMu. Only the owner uses conn, reads or writes version and last,
// writes to the index (Upsert, Delete, Build), adds to an intern table and
// publishes attribute tables. A search waits for the owner to finish
// (while its context allows) and then checks for itself, so it sees every
// change committed before it began; except while the owner rebuilds
// (rebuilding): then searches do not wait, but answer from the index as it
// is, and rescore only candidates that their filter still selects in the
// database, so that an index that lags behind may miss a memory but never
// returns one the filter excludes. A rebuild reads the database and builds
// the new index and attribute table aside, holding no lock that searches
// take, and then swaps them in: the index's content under its write lock
// for an instant ([vector.Index.Build]), the attribute table by storing a
// pointer.
//
// # Locks
//
// There are four: syncMu, partMu, the intern table's mu and the
// vector.Index's own. Each is taken alone: no goroutine acquires one while
// it holds another, or runs SQL while it holds one, so there is no order
// to get wrong. Being the owner is not a lock in this sense: the owner
// takes any of the four (one at a time), and a goroutine waiting for the
// owner holds none. The attributes that filters read live in an immutable
// attrTable behind an atomic pointer, so the allow function that a search
// hands to vector.Index.Search (which calls it under the index's read
// lock) reads memory that nothing changes and takes no lock.
type VectorIndex struct {
	st   *Store
	idx  *vector.Index
	dim  int
	conn *sqlitedb.OwnReader // outside the reader pool; kept for data_version, which is per connection

	syncMu     sync.Mutex
	busy       bool          // a goroutine, the owner, is catching up
	rebuilding bool          // the owner is rebuilding the whole index
	changed    chan struct{} // closed (and replaced) when busy or rebuilding change

	// The owner's.
	version int64 // PRAGMA data_version when last caught up
	last    int64 // highest vector_changes.id applied

	attrs atomic.Pointer[attrTable]

	partMu sync.RWMutex
	parts  map[partKey]uint32

	// rebuildHook, when not nil (in tests), is called by a rebuild after
	// it has read its first row, with nothing locked.
	rebuildHook func()
}

// maxAttrSeq bounds the attribute table (28 bytes a row): memories with a
// larger seq are not filtered in memory.
const maxAttrSeq = 1 << 26

// rowAttrs are a memory's filterable attributes; 0 means NULL, and agent 0
// (never NULL in a row) means no row.
type rowAttrs struct {
	agent, user, session, project, tier, scope uint32
	importance                                 float32
}

// The attribute table is kept in chunks of attrChunkRows rows (28 KiB),
// the unit that a catch-up copies when it changes a row.
const (
	attrChunkShift = 10
	attrChunkRows  = 1 << attrChunkShift
)

type attrChunk [attrChunkRows]rowAttrs

// attrTable holds, per indexed memory (by memories.seq, which SQLite
// assigns densely), the attributes that searches filter on, so that common
// filters need no SQL per query. Strings are interned to small numbers to
// keep it compact. A table does not change once published: a catch-up
// copies the chunks it changes and publishes a new table (sharing the
// others and the intern table); a rebuild makes a new one with a new
// intern table.
type attrTable struct {
	chunks []*attrChunk // nil: no row in that chunk
	// partial is set once a row fell outside the table: filters then use
	// SQL.
	partial bool
	intern  *internTable
}

// get returns the attributes of the row seq, and false if there is none.
func (t *attrTable) get(seq int64) (rowAttrs, bool) {
	ci := seq >> attrChunkShift
	if seq < 0 || ci >= int64(len(t.chunks)) || t.chunks[ci] == nil {
		return rowAttrs{}, false
	}
	a := t.chunks[ci][seq&(attrChunkRows-1)]
	return a, a.agent != 0
}

// internTable numbers strings from 1, for the attribute tables. It only
// grows. The owner alone adds to it, so its own lookups need no lock
// (readers do not race with readers); adding and everyone else's lookups
// take mu.
type internTable struct {
	mu sync.RWMutex
	m  map[string]uint32
}

// add returns the number standing for s (0 for a NULL string), assigning
// the next one to a new string. Only the owner calls it.
func (it *internTable) add(s sql.NullString) uint32 {
	if !s.Valid {
		return 0
	}
	if n, ok := it.m[s.String]; ok {
		return n
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	n := uint32(len(it.m) + 1)
	it.m[s.String] = n
	return n
}

// lookup returns the number standing for s, or false when no row had it.
func (it *internTable) lookup(s string) (uint32, bool) {
	it.mu.RLock()
	defer it.mu.RUnlock()
	n, ok := it.m[s]
	return n, ok
}

// attrEditor makes a new attribute table: from scratch, or from a
// published one by copying only the chunks it changes.
type attrEditor struct {
	t     *attrTable
	owned map[int]bool // chunks of t already copied; nil: all are new
}

func newAttrEditor(base *attrTable) *attrEditor {
	if base == nil {
		return &attrEditor{t: &attrTable{intern: &internTable{m: map[string]uint32{}}}}
	}
	return &attrEditor{
		t:     &attrTable{chunks: slices.Clone(base.chunks), partial: base.partial, intern: base.intern},
		owned: map[int]bool{},
	}
}

// attrsOf interns a row's attribute columns.
func (e *attrEditor) attrsOf(c *attrCols) rowAttrs {
	it := e.t.intern
	return rowAttrs{
		agent: it.add(c.agent), user: it.add(c.user), session: it.add(c.session),
		project: it.add(c.project), tier: it.add(c.tier), scope: it.add(c.scope),
		importance: float32(c.importance),
	}
}

// set records the attributes of row seq; the zero rowAttrs removes it.
func (e *attrEditor) set(seq int64, a rowAttrs) {
	none := a == rowAttrs{}
	if seq < 0 || seq > maxAttrSeq {
		if !none {
			e.t.partial = true // filters fall back to SQL from now on
		}
		return
	}
	ci := int(seq >> attrChunkShift)
	if ci >= len(e.t.chunks) {
		if none {
			return
		}
		e.t.chunks = append(e.t.chunks, make([]*attrChunk, ci+1-len(e.t.chunks))...)
	}
	c := e.t.chunks[ci]
	if c == nil && none {
		return
	}
	if c == nil || (e.owned != nil && !e.owned[ci]) {
		fresh := new(attrChunk)
		if c != nil {
			*fresh = *c
		}
		c, e.t.chunks[ci] = fresh, fresh
		if e.owned != nil {
			e.owned[ci] = true
		}
	}
	c[seq&(attrChunkRows-1)] = a
}

// partKey names a partition: the visible memories of an account, or its
// hidden ones (confidential or archived), which searches skip by default.
type partKey struct {
	account string
	hidden  bool
}

// maxLogRows is how many vector_changes rows are kept behind the newest
// one; older rows are pruned by whichever process catches up past them.
const maxLogRows = 100_000

// OpenVectorIndex builds the index from the database's vectors. It keeps a
// read connection of its own, outside the reader pool, until Close.
func (s *Store) OpenVectorIndex(ctx context.Context, opts vector.IndexOptions) (*VectorIndex, error) {
	idx, err := vector.NewIndex(opts)
	if err != nil {
		return nil, err
	}
	conn, err := s.db.OpenOwnReader(ctx)
	if err != nil {
		return nil, err
	}
	v := &VectorIndex{st: s, idx: idx, dim: opts.Dim, conn: conn, parts: map[partKey]uint32{}, changed: make(chan struct{})}
	if err := v.rebuild(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return v, nil
}

// Close releases the index's connection, after any catch-up in progress
// has finished reading.
func (v *VectorIndex) Close() error { return v.conn.Close() }

// Len is the number of vectors in the index.
func (v *VectorIndex) Len() int { return v.idx.Len() }

func (v *VectorIndex) partition(k partKey) uint32 {
	v.partMu.RLock()
	p, ok := v.parts[k]
	v.partMu.RUnlock()
	if ok {
		return p
	}
	v.partMu.Lock()
	defer v.partMu.Unlock()
	if p, ok := v.parts[k]; ok {
		return p
	}
	p = uint32(len(v.parts) + 1)
	v.parts[k] = p
	return p
}

func (v *VectorIndex) existing(k partKey) (uint32, bool) {
	v.partMu.RLock()
	defer v.partMu.RUnlock()
	p, ok := v.parts[k]
	return p, ok
}

// vectorRows selects what the index needs of a memory's vector.
const vectorRows = `SELECT v.seq, m.account_id, m.visibility = 'confidential' OR m.archived_at IS NOT NULL, v.embedding,
	m.agent_id, m.user_id, m.session_id, m.project, m.tier, m.scope, m.importance
	FROM memory_vectors v JOIN memories m ON m.seq = v.seq`

// attrCols receives the attribute columns of vectorRows.
type attrCols struct {
	agent, user, session, project, tier, scope sql.NullString
	importance                                 float64
}

func (c *attrCols) dest() []any {
	return []any{&c.agent, &c.user, &c.session, &c.project, &c.tier, &c.scope, &c.importance}
}

func (v *VectorIndex) dataVersion(ctx context.Context) (int64, error) {
	var n int64
	err := v.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&n)
	return n, err
}

// logPosition is the highest vector_changes id ever handed out (ids are
// AUTOINCREMENT, so never reused), whether or not its row was pruned.
const logPosition = `SELECT max(coalesce((SELECT max(id) FROM vector_changes), 0),
	coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes'), 0))`

// rebuild loads every vector into a new index content and attribute table,
// built aside while searches go on with the current ones, and swaps them
// in. It reads the change log's position first, so that changes committed
// while it loads are applied again afterwards (applying a change twice is
// harmless). Only the owner (or OpenVectorIndex) calls it.
func (v *VectorIndex) rebuild(ctx context.Context) error {
	ver, err := v.dataVersion(ctx)
	if err != nil {
		return err
	}
	var last int64
	if err := v.conn.QueryRowContext(ctx, logPosition).Scan(&last); err != nil {
		return err
	}
	// Loading every vector is long by nature (seconds at a million) and
	// must not be cut off by the statement timeout.
	rows, err := v.conn.QueryContext(sqlitedb.WithoutStatementTimeout(ctx), vectorRows)
	if err != nil {
		return err
	}
	defer rows.Close()
	ed := newAttrEditor(nil)
	err = v.idx.BuildFrom(func(yield func(id int64, partition uint32, vec []float32) bool) error {
		// Build copies each vector, so one buffer serves every row, and
		// raw column bytes spare a copy per row (a million rows at Open).
		var (
			buf      []float32
			lastAcct []byte
			lastHid  bool
			lastPart uint32
			cols     attrCols
			n        int
		)
		for rows.Next() {
			var seq int64
			var acct, blob sql.RawBytes
			var hidden bool
			if err := rows.Scan(append([]any{&seq, &acct, &hidden, &blob}, cols.dest()...)...); err != nil {
				return err
			}
			ed.set(seq, ed.attrsOf(&cols))
			vec, err := DecodeVectorInto(buf, blob)
			if err != nil || len(vec) != v.dim {
				continue // a vector of another model: Reembed's business, not ours
			}
			buf = vec
			if lastAcct == nil || hidden != lastHid || !bytes.Equal(acct, lastAcct) {
				lastAcct, lastHid = append(lastAcct[:0], acct...), hidden
				lastPart = v.partition(partKey{string(acct), hidden})
			}
			if !yield(seq, lastPart, vec) {
				return nil
			}
			if n++; n == 1 && v.rebuildHook != nil {
				v.rebuildHook()
			}
		}
		return rows.Err() // a cancelled context, say: the index stays as it was
	})
	if err != nil {
		return fmt.Errorf("store: build vector index: %w", err)
	}
	v.attrs.Store(ed.t)
	v.version, v.last = ver, last
	return nil
}

// catchUp applies committed changes the index has not seen, after waiting
// for the goroutine catching up, if any. stale reports that a rebuild is
// in progress instead: the caller searches the index as it is, which may
// lag behind the database.
func (v *VectorIndex) catchUp(ctx context.Context) (stale bool, err error) {
	v.syncMu.Lock()
	for v.busy {
		if v.rebuilding {
			v.syncMu.Unlock()
			return true, nil
		}
		changed := v.changed
		v.syncMu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		v.syncMu.Lock()
	}
	v.busy = true
	v.syncMu.Unlock()
	defer v.setState(false, false)
	return false, v.catchUpOwned(ctx)
}

// setState sets busy and rebuilding and wakes the goroutines waiting for
// a change of them.
func (v *VectorIndex) setState(busy, rebuilding bool) {
	v.syncMu.Lock()
	defer v.syncMu.Unlock()
	v.busy, v.rebuilding = busy, rebuilding
	close(v.changed)
	v.changed = make(chan struct{})
}

// catchUpOwned is catchUp's work, done by the owner.
func (v *VectorIndex) catchUpOwned(ctx context.Context) error {
	ver, err := v.dataVersion(ctx)
	if err != nil {
		return err
	}
	if ver == v.version {
		return nil
	}
	// A gap: the oldest row left is past the next one needed, or the log
	// is empty although ids past ours were handed out.
	var first, pos sql.NullInt64
	if err := v.conn.QueryRowContext(ctx, `SELECT (SELECT min(id) FROM vector_changes),
		(SELECT seq FROM sqlite_sequence WHERE name = 'vector_changes')`).Scan(&first, &pos); err != nil {
		return err
	}
	if (first.Valid && first.Int64 > v.last+1) || (!first.Valid && pos.Valid && pos.Int64 > v.last) {
		v.setState(true, true) // searches go on meanwhile, with the index as it is
		return v.rebuild(ctx)
	}
	for {
		seen := map[int64]bool{}
		var seqs []int64
		last := v.last
		err := queryEach(ctx, v.conn, func(r rowScanner) error {
			var id, seq int64
			if err := r.Scan(&id, &seq); err != nil {
				return err
			}
			last = id
			if !seen[seq] {
				seen[seq] = true
				seqs = append(seqs, seq)
			}
			return nil
		}, "SELECT id, seq FROM vector_changes WHERE id > ? ORDER BY id LIMIT 1000", v.last)
		if err != nil {
			return err
		}
		if len(seqs) == 0 {
			break
		}
		if err := v.apply(ctx, seqs); err != nil {
			return err
		}
		v.last = last
	}
	v.version = ver
	v.prune(ctx)
	return nil
}

// apply makes the index hold exactly the committed vectors of seqs. The
// new attribute table is published before the index changes, so that a
// row enters the index with its attributes known.
func (v *VectorIndex) apply(ctx context.Context, seqs []int64) error {
	args := make([]any, len(seqs))
	for i, s := range seqs {
		args[i] = s
	}
	rows, err := v.conn.QueryContext(ctx, vectorRows+` WHERE v.seq IN (?`+strings.Repeat(", ?", len(seqs)-1)+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	type row struct {
		seq  int64
		part uint32
		vec  []float32
	}
	var got []row
	ed := newAttrEditor(v.attrs.Load())
	present := map[int64]bool{}
	for rows.Next() {
		var seq int64
		var acct string
		var hidden bool
		var blob []byte
		var cols attrCols
		if err := rows.Scan(append([]any{&seq, &acct, &hidden, &blob}, cols.dest()...)...); err != nil {
			return err
		}
		vec, err := DecodeVector(blob)
		if err != nil || len(vec) != v.dim {
			continue
		}
		ed.set(seq, ed.attrsOf(&cols))
		got = append(got, row{seq, v.partition(partKey{acct, hidden}), vec})
		present[seq] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, s := range seqs {
		if !present[s] {
			ed.set(s, rowAttrs{})
		}
	}
	v.attrs.Store(ed.t)
	for _, r := range got {
		if err := v.idx.Upsert(r.seq, r.part, r.vec); err != nil {
			return err
		}
	}
	for _, s := range seqs {
		if !present[s] {
			v.idx.Delete(s)
		}
	}
	return nil
}

// prune drops change-log rows far behind the newest. Best effort: a busy
// writer just means the log is pruned next time.
func (v *VectorIndex) prune(ctx context.Context) {
	if v.last <= maxLogRows {
		return
	}
	v.st.db.W.ExecContext(ctx, "DELETE FROM vector_changes WHERE id <= ?", v.last-maxLogRows)
}

// Search returns the k memories that f selects nearest to q by cosine,
// after catching up with committed writes, with each one's cosine
// similarity. Scores are exact: the final candidates are rescored from the
// float32 vectors in SQLite. Account-only searches (the common case) need
// no SQL beyond that; other filters are turned into an allow-list of the
// matching memories first.
//
// While the index is being rebuilt (after this process fell so far behind
// other writers that the change log was pruned past it), Search answers
// at once from the index as it was, which may miss memories written since,
// rather than wait seconds for the rebuild; what it returns still matches
// f.
func (v *VectorIndex) Search(ctx context.Context, f Filter, q []float32, k int) ([]vector.Neighbor, error) {
	stale, err := v.catchUp(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: vector index: %w", err)
	}
	var out []vector.Neighbor
	for _, hidden := range []bool{false, true} {
		if hidden && !f.IncludeConfidential && !f.IncludeArchived {
			break
		}
		ns, err := v.searchPartition(ctx, f, hidden, q, k, stale)
		if errors.Is(err, errVanished) { // deleted mid-search: catch up and retry once
			if stale, err = v.catchUp(ctx); err == nil {
				ns, err = v.searchPartition(ctx, f, hidden, q, k, stale)
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	sortNeighbors(out)
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

// searchPartition searches the visible or the hidden partition of f's
// account.
func (v *VectorIndex) searchPartition(ctx context.Context, f Filter, hidden bool, q []float32, k int, stale bool) ([]vector.Neighbor, error) {
	part, ok := v.existing(partKey{f.AccountID, hidden})
	if !ok {
		return nil, nil
	}
	var allow func(int64) bool
	if hidden || f.narrows() {
		var err error
		if allow, err = v.attrFilter(ctx, f, hidden); err != nil {
			return nil, err
		}
		if allow == nil {
			seqs, err := v.st.filterSeqs(ctx, f)
			if err != nil {
				return nil, err
			}
			allow = func(seq int64) bool { return seqs[seq] }
		}
	}
	return v.idx.Search(q, part, k, allow, v.exact(ctx, f, stale))
}

// exact returns the callback that fetches the vectors to rescore. stale
// (the index may lag behind): only those of memories that f selects now,
// the others being left out.
func (v *VectorIndex) exact(ctx context.Context, f Filter, stale bool) func(ids []int64) ([][]float32, error) {
	return func(ids []int64) ([][]float32, error) {
		var blobs map[int64][]byte
		var err error
		if stale {
			blobs, err = v.st.matchingVectors(ctx, f, ids)
		} else {
			blobs, err = v.st.Vectors(ctx, ids)
		}
		if err != nil {
			return nil, err
		}
		out := make([][]float32, len(ids))
		for i, id := range ids {
			b, ok := blobs[id]
			if !ok {
				if stale {
					continue // nil: left out
				}
				return nil, errVanished
			}
			if out[i], err = DecodeVector(b); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// matchingVectors returns the vectors of those of seqs whose memories f
// selects for a search.
func (s *Store) matchingVectors(ctx context.Context, f Filter, seqs []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(seqs))
	cond, condArgs, ok, err := s.where(ctx, f, true)
	if err != nil || !ok {
		return out, err
	}
	for len(seqs) > 0 {
		n := min(len(seqs), maxInList)
		in, args := inList(seqs[:n])
		seqs = seqs[n:]
		err := queryEach(ctx, s.db.R, vectorInto(out), `SELECT m.seq, v.embedding FROM memories m JOIN memory_vectors v ON v.seq = m.seq
			WHERE m.seq IN `+in+` AND `+cond, append(args, condArgs...)...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sortNeighbors(ns []vector.Neighbor) {
	slices.SortFunc(ns, func(a, b vector.Neighbor) int {
		if a.Score != b.Score {
			return cmp.Compare(b.Score, a.Score)
		}
		return cmp.Compare(b.ID, a.ID)
	})
}

// errVanished: a candidate's vector was deleted between catching up and
// rescoring. The caller may retry.
var errVanished = errors.New("store: vector deleted during search")

// attrFilter returns an allow function over the in-memory attributes for
// the visible partition when f uses only attributes kept there, and nil
// otherwise (metadata filters, hidden rows, whose kind the attributes do
// not tell apart). The function reads one published attribute table,
// which never changes, and takes no lock.
func (v *VectorIndex) attrFilter(ctx context.Context, f Filter, hidden bool) (allow func(int64) bool, err error) {
	t := v.attrs.Load()
	if hidden || t.partial || len(f.Metadata) > 0 || f.Namespace != nil {
		return nil, nil
	}
	none := func(int64) bool { return false }
	if f.AgentRef != nil {
		id, err := resolveAgent(ctx, v.st.db.R, f.AccountID, *f.AgentRef, false, time.Time{})
		if errors.Is(err, ErrNotFound) {
			return none, nil
		}
		if err != nil {
			return nil, err
		}
		f.AgentRef = &id
	}
	var want rowAttrs
	scope := (*string)(nil)
	if f.Scope != "" && f.Scope != "all" {
		scope = &f.Scope
	}
	for _, c := range []struct {
		s   *string
		dst *uint32
	}{{f.AgentRef, &want.agent}, {f.UserID, &want.user}, {f.SessionID, &want.session}, {f.Project, &want.project}, {f.Tier, &want.tier}, {scope, &want.scope}} {
		if c.s == nil {
			continue
		}
		n, ok := t.intern.lookup(*c.s)
		if !ok {
			return none, nil // no row has that value
		}
		*c.dst = n
	}
	var wantImportance float32
	if f.MinImportance != nil {
		wantImportance = float32(*f.MinImportance)
	}
	match := func(a uint32, w uint32) bool { return w == 0 || a == w }
	return func(seq int64) bool {
		a, ok := t.get(seq)
		return ok && match(a.agent, want.agent) && match(a.user, want.user) && match(a.session, want.session) &&
			match(a.project, want.project) && match(a.tier, want.tier) && match(a.scope, want.scope) &&
			(f.MinImportance == nil || a.importance >= wantImportance)
	}, nil
}

// narrows reports whether f selects fewer memories than its account's
// searchable ones.
func (f Filter) narrows() bool {
	return f.AgentRef != nil || f.UserID != nil || (f.Scope != "" && f.Scope != "all") || f.SessionID != nil || f.Tier != nil ||
		f.MinImportance != nil || f.Project != nil || len(f.Metadata) > 0 || f.Namespace != nil
}

// filterSeqs returns the sequence numbers of the memories f selects for a
// search.
func (s *Store) filterSeqs(ctx context.Context, f Filter) (map[int64]bool, error) {
	seqs := map[int64]bool{}
	cond, args, ok, err := s.where(ctx, f, true)
	if err != nil || !ok {
		return seqs, err
	}
	err = queryEach(ctx, s.db.R, func(r rowScanner) error {
		seq, err := scanValue[int64](r)
		if err == nil {
			seqs[seq] = true
		}
		return err
	}, "SELECT m.seq FROM memories m WHERE "+cond, args...)
	if err != nil {
		return nil, err
	}
	return seqs, nil
}
