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
	"time"

	"github.com/memoryrelay/memoryrelay/internal/sqlitedb"
	"github.com/memoryrelay/memoryrelay/search"
)

// VectorIndex keeps an in-process search.Index in step with the committed
// vectors of the database, including writes by other connections and other
// processes: before each search it reads PRAGMA data_version on a
// connection of its own (the number changes whenever another connection
// commits), and when it has changed, applies the rows of vector_changes
// (filled by triggers, in commit order) that it has not seen. A gap in that
// log (pruned past what this process saw) makes it rebuild from scratch.
//
// It is safe for concurrent use.
type VectorIndex struct {
	st   *Store
	idx  *search.Index
	dim  int
	conn *sql.Conn // held for data_version, which is per connection

	mu      sync.Mutex // serialises catching up
	version int64
	last    int64 // highest vector_changes.id applied

	partMu sync.RWMutex
	parts  map[partKey]uint32

	// attrs holds, per indexed memory, the attributes searches filter on,
	// so that common filters need no SQL per query. Strings are interned
	// to small numbers to keep it compact (about 30 bytes a row).
	attrMu sync.RWMutex
	attrs  []rowAttrs // by memories.seq, which SQLite assigns densely; agent 0: no row
	// attrsPartial is set once a row fell outside attrs: filters then
	// use SQL.
	attrsPartial bool
	intern       map[string]uint32
}

// maxAttrSeq bounds the attribute slice (28 bytes a row): memories with a
// larger seq are not filtered in memory.
const maxAttrSeq = 1 << 26

// rowAttrs are a memory's filterable attributes; 0 means NULL.
type rowAttrs struct {
	agent, user, session, project, tier, scope uint32
	importance                                 float32
}

// internLocked returns the number standing for s (0 for a NULL string).
// attrMu must be held for writing.
func (v *VectorIndex) internLocked(s sql.NullString) uint32 {
	if !s.Valid {
		return 0
	}
	n, ok := v.intern[s.String]
	if !ok {
		n = uint32(len(v.intern) + 1)
		v.intern[s.String] = n
	}
	return n
}

// lookup returns the number standing for s, or false when no row has it.
func (v *VectorIndex) lookup(s string) (uint32, bool) {
	n, ok := v.intern[s]
	return n, ok
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

// OpenVectorIndex builds the index from the database's vectors.
func (s *Store) OpenVectorIndex(ctx context.Context, opts search.IndexOptions) (*VectorIndex, error) {
	idx, err := search.NewIndex(opts)
	if err != nil {
		return nil, err
	}
	conn, err := s.db.R.Conn(ctx)
	if err != nil {
		return nil, err
	}
	v := &VectorIndex{st: s, idx: idx, dim: opts.Dim, conn: conn, parts: map[partKey]uint32{},
		intern: map[string]uint32{}}
	if err := v.rebuild(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return v, nil
}

// Close releases the index's connection.
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

// setAttrs records a row's attributes. attrMu must be held for writing.
func (v *VectorIndex) setAttrsLocked(seq int64, c *attrCols) {
	if seq < 0 || seq > maxAttrSeq {
		v.attrsPartial = true // filters fall back to SQL from now on
		return
	}
	if int(seq) >= len(v.attrs) {
		v.attrs = append(v.attrs, make([]rowAttrs, int(seq)+1-len(v.attrs)+len(v.attrs)/4)...)
	}
	v.attrs[seq] = rowAttrs{
		agent: v.internLocked(c.agent), user: v.internLocked(c.user), session: v.internLocked(c.session),
		project: v.internLocked(c.project), tier: v.internLocked(c.tier), scope: v.internLocked(c.scope),
		importance: float32(c.importance),
	}
}

func (v *VectorIndex) dataVersion(ctx context.Context) (int64, error) {
	var n int64
	err := v.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&n)
	return n, err
}

// rebuild loads every vector. It reads the change log's position first, so
// that changes committed while it loads are applied again afterwards
// (applying a change twice is harmless).
func (v *VectorIndex) rebuild(ctx context.Context) error {
	ver, err := v.dataVersion(ctx)
	if err != nil {
		return err
	}
	var last sql.NullInt64
	if err := v.conn.QueryRowContext(ctx, "SELECT max(id) FROM vector_changes").Scan(&last); err != nil {
		return err
	}
	// Loading every vector is long by nature (seconds at a million) and
	// must not be cut off by the statement timeout.
	rows, err := v.conn.QueryContext(sqlitedb.WithoutStatementTimeout(ctx), vectorRows)
	if err != nil {
		return err
	}
	defer rows.Close()
	var scanErr error
	err = v.idx.Build(func(yield func(id int64, partition uint32, vec []float32) bool) {
		// Build copies each vector, so one buffer serves every row, and
		// raw column bytes spare a copy per row (a million rows at Open).
		var (
			buf      []float32
			lastAcct []byte
			lastHid  bool
			lastPart uint32
			cols     attrCols
		)
		v.attrMu.Lock()
		defer v.attrMu.Unlock()
		v.attrs = v.attrs[:0]
		for rows.Next() {
			var seq int64
			var acct, blob sql.RawBytes
			var hidden bool
			if scanErr = rows.Scan(append([]any{&seq, &acct, &hidden, &blob}, cols.dest()...)...); scanErr != nil {
				return
			}
			v.setAttrsLocked(seq, &cols)
			vec, err := search.DecodeVectorInto(buf, blob)
			if err != nil || len(vec) != v.dim {
				continue // a vector of another model: Reembed's business, not ours
			}
			buf = vec
			if lastAcct == nil || hidden != lastHid || !bytes.Equal(acct, lastAcct) {
				lastAcct, lastHid = append(lastAcct[:0], acct...), hidden
				lastPart = v.partition(partKey{string(acct), hidden})
			}
			if !yield(seq, lastPart, vec) {
				return
			}
		}
		scanErr = rows.Err()
	})
	if err == nil {
		err = scanErr
	}
	if err != nil {
		return fmt.Errorf("store: build vector index: %w", err)
	}
	v.version, v.last = ver, last.Int64
	return nil
}

// catchUp applies committed changes the index has not seen.
func (v *VectorIndex) catchUp(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	ver, err := v.dataVersion(ctx)
	if err != nil {
		return err
	}
	if ver == v.version {
		return nil
	}
	var first sql.NullInt64
	if err := v.conn.QueryRowContext(ctx, "SELECT min(id) FROM vector_changes").Scan(&first); err != nil {
		return err
	}
	if first.Valid && first.Int64 > v.last+1 {
		return v.rebuild(ctx) // pruned past us
	}
	for {
		rows, err := v.conn.QueryContext(ctx, "SELECT id, seq FROM vector_changes WHERE id > ? ORDER BY id LIMIT 1000", v.last)
		if err != nil {
			return err
		}
		seen := map[int64]bool{}
		var seqs []int64
		last := v.last
		for rows.Next() {
			var id, seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return err
			}
			last = id
			if !seen[seq] {
				seen[seq] = true
				seqs = append(seqs, seq)
			}
		}
		if err := rows.Close(); err != nil {
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

// apply makes the index hold exactly the committed vectors of seqs.
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
		vec, err := search.DecodeVector(blob)
		if err != nil || len(vec) != v.dim {
			continue
		}
		v.attrMu.Lock()
		v.setAttrsLocked(seq, &cols)
		v.attrMu.Unlock()
		if err := v.idx.Upsert(seq, v.partition(partKey{acct, hidden}), vec); err != nil {
			return err
		}
		present[seq] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range seqs {
		if !present[s] {
			v.idx.Delete(s)
			v.attrMu.Lock()
			if s >= 0 && s < int64(len(v.attrs)) {
				v.attrs[s] = rowAttrs{}
			}
			v.attrMu.Unlock()
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
func (v *VectorIndex) Search(ctx context.Context, f Filter, q []float32, k int) ([]search.Neighbor, error) {
	if err := v.catchUp(ctx); err != nil {
		return nil, fmt.Errorf("store: vector index: %w", err)
	}
	var out []search.Neighbor
	for _, hidden := range []bool{false, true} {
		if hidden && !f.IncludeConfidential && !f.IncludeArchived {
			break
		}
		part, ok := v.existing(partKey{f.AccountID, hidden})
		if !ok {
			continue
		}
		var allow func(int64) bool
		inMemory := false
		if hidden || f.narrows() {
			var err error
			if allow, inMemory, err = v.attrFilter(ctx, f, hidden); err != nil {
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
		run := func() ([]search.Neighbor, error) {
			if inMemory { // the attributes must not change under allow
				v.attrMu.RLock()
				defer v.attrMu.RUnlock()
			}
			return v.idx.Search(q, part, k, allow, v.exact(ctx))
		}
		ns, err := run()
		if errors.Is(err, errVanished) { // deleted mid-search: catch up and retry once
			if err = v.catchUp(ctx); err == nil {
				ns, err = run()
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

func (v *VectorIndex) exact(ctx context.Context) func(ids []int64) ([][]float32, error) {
	return func(ids []int64) ([][]float32, error) {
		blobs, err := v.st.Vectors(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([][]float32, len(ids))
		for i, id := range ids {
			b, ok := blobs[id]
			if !ok {
				return nil, errVanished
			}
			if out[i], err = search.DecodeVector(b); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

func sortNeighbors(ns []search.Neighbor) {
	slices.SortFunc(ns, func(a, b search.Neighbor) int {
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
// not tell apart). inMemory says the caller must hold attrMu for reading
// while the function is in use.
func (v *VectorIndex) attrFilter(ctx context.Context, f Filter, hidden bool) (allow func(int64) bool, inMemory bool, err error) {
	v.attrMu.RLock()
	partial := v.attrsPartial
	v.attrMu.RUnlock()
	if hidden || partial || len(f.Metadata) > 0 || f.Namespace != nil {
		return nil, false, nil
	}
	var want rowAttrs
	var wantImportance float32
	none := func(int64) bool { return false }
	if f.AgentRef != nil {
		id, err := resolveAgent(ctx, v.st.db.R, f.AccountID, *f.AgentRef, false, time.Time{})
		if errors.Is(err, ErrNotFound) {
			return none, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		f.AgentRef = &id
	}
	v.attrMu.RLock()
	for _, c := range []struct {
		s   *string
		dst *uint32
	}{{f.AgentRef, &want.agent}, {f.UserID, &want.user}, {f.SessionID, &want.session}, {f.Project, &want.project}, {f.Tier, &want.tier}} {
		if c.s == nil {
			continue
		}
		n, ok := v.lookup(*c.s)
		if !ok {
			v.attrMu.RUnlock()
			return none, false, nil // no row has that value
		}
		*c.dst = n
	}
	if f.Scope != "" && f.Scope != "all" {
		n, ok := v.lookup(f.Scope)
		if !ok {
			v.attrMu.RUnlock()
			return none, false, nil
		}
		want.scope = n
	}
	v.attrMu.RUnlock()
	if f.MinImportance != nil {
		wantImportance = float32(*f.MinImportance)
	}
	match := func(a uint32, w uint32) bool { return w == 0 || a == w }
	return func(seq int64) bool {
		if seq < 0 || seq >= int64(len(v.attrs)) {
			return false
		}
		a := v.attrs[seq]
		return a.agent != 0 && match(a.agent, want.agent) && match(a.user, want.user) && match(a.session, want.session) &&
			match(a.project, want.project) && match(a.tier, want.tier) && match(a.scope, want.scope) &&
			(f.MinImportance == nil || a.importance >= wantImportance)
	}, true, nil
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
	rows, err := s.db.R.QueryContext(ctx, "SELECT m.seq FROM memories m WHERE "+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		seqs[seq] = true
	}
	return seqs, rows.Err()
}
