package index

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/memoryrelay/memoryrelay/search"
	"github.com/memoryrelay/memoryrelay/search/lexical"
	"github.com/memoryrelay/memoryrelay/search/vector"
)

// Index keeps an in-process [vector.Index] and a [lexical.Index] in step
// with the committed vectors and texts of a store, including writes by
// other connections and other processes: before each search it reads the feed's [Feed.Version] (which
// changes whenever anyone commits), and when it has changed, applies the
// changes of the feed it has not seen. A gap in the feed (pruned past what
// this index saw) makes it rebuild from scratch, aside: searches meanwhile
// answer at once from the index as it was (see [Index.Search]).
//
// It is safe for concurrent use.
type Index struct {
	// Catching up and rebuilding.
	//
	// One goroutine at a time catches up: the owner, which set busy under
	// syncMu. Only the owner uses the feed, reads or writes version and last,
	// writes to the index (Upsert, Delete, Build), adds to an intern table and
	// publishes attribute tables. A search waits for the owner to finish
	// (while its context allows) and then checks for itself, so it sees every
	// change committed before it began; except while the owner rebuilds
	// (rebuilding): then searches do not wait, but answer from the index as it
	// is, and rescore only candidates that their filter still selects in the
	// store, so that an index that lags behind may miss a memory but never
	// returns one the filter excludes. A rebuild reads the store and builds
	// the new index and attribute table aside, holding no lock that searches
	// take, and then swaps them in: the index's content under its write lock
	// for an instant ([vector.Index.BuildFrom]), the attribute table by
	// storing a pointer.
	//
	// Locks.
	//
	// There are four: syncMu, partMu, the intern table's mu and the
	// vector.Index's own. Each is taken alone: no goroutine acquires one while
	// it holds another, or reads the store while it holds one, so there is no
	// order to get wrong. Being the owner is not a lock in this sense: the
	// owner takes any of the four (one at a time), and a goroutine waiting for
	// the owner holds none. The attributes that filters read live in an
	// immutable attrTable behind an atomic pointer, so the allow function that
	// a search hands to vector.Index.Search (which calls it under the index's
	// read lock) reads memory that nothing changes and takes no lock.

	feed Feed
	st   Store
	idx  *vector.Index
	dim  int

	syncMu     sync.Mutex
	busy       bool          // a goroutine, the owner, is catching up
	rebuilding bool          // the owner is rebuilding the whole index
	changed    chan struct{} // closed (and replaced) when busy or rebuilding change

	// The owner's.
	version int64 // the feed's Version when last caught up
	last    int64 // the position of the last change applied

	attrs atomic.Pointer[attrTable]

	// lex is the lexical index of the memories' texts, in the same
	// partitions as the vectors. The owner writes to it (it has its own
	// lock); a rebuild makes a new one aside and swaps it in.
	lex atomic.Pointer[lexical.Index]

	partMu sync.RWMutex
	parts  map[partKey]uint32

	// rebuildHook, when not nil (in tests), is called by a rebuild after
	// it has read its first row, with nothing locked.
	rebuildHook func()

	snapPath  string        // Options.SnapshotPath
	snapFeed  SnapshotFeed  // feed's, when it has one and snapPath is set
	snapStats SnapshotStats // under syncMu
	savedAt   int64         // the owner's: the feed position of the snapshot file, −1 if none
	closeOnce sync.Once
	closeErr  error
}

// Options configure [OpenWith].
type Options struct {
	// Vector are the options of the vector index.
	Vector vector.IndexOptions
	// SnapshotPath, when set (and the feed is a [SnapshotFeed]), is the
	// file that Open loads the index from, when the snapshot there is
	// usable, instead of reading every row of the store, and that Close
	// writes the index to (see the package's snapshot notes in
	// snapshot.go).
	SnapshotPath string
}

// partKey names a partition: the visible memories of an account, or its
// hidden ones (confidential or archived), which searches skip by default.
type partKey struct {
	account string
	hidden  bool
}

// maxLogRows is how many changes are kept behind the newest one in the
// feed; older ones are pruned by whichever index catches up past them.
const maxLogRows = 100_000

// changeBatch is how many changes a catch-up reads and applies at a time.
const changeBatch = 1000

// Open builds an index of the vectors that feed and st read, with opts,
// and keeps it in step with feed until Close. It takes feed over: Close
// closes it, and so does Open when it fails.
func Open(ctx context.Context, feed Feed, st Store, opts vector.IndexOptions) (*Index, error) {
	return OpenWith(ctx, feed, st, Options{Vector: opts})
}

// OpenWith is [Open] with a snapshot: when opts.SnapshotPath holds a
// usable snapshot it loads it and catches up with the feed from its
// position, else it builds from the store. Either way the index returned
// holds every change committed before OpenWith began.
func OpenWith(ctx context.Context, feed Feed, st Store, opts Options) (*Index, error) {
	idx, err := vector.NewIndex(opts.Vector)
	if err != nil {
		feed.Close()
		return nil, fmt.Errorf("index: %w", err)
	}
	v := &Index{feed: feed, st: st, idx: idx, dim: opts.Vector.Dim, parts: map[partKey]uint32{}, changed: make(chan struct{}), savedAt: -1}
	if sf, ok := feed.(SnapshotFeed); ok && opts.SnapshotPath != "" && snapshotUsable {
		v.snapPath, v.snapFeed = opts.SnapshotPath, sf
	}
	if v.snapFeed != nil {
		err := v.loadSnapshot(ctx, v.snapFeed)
		switch {
		case err == nil:
			v.snapStats = SnapshotStats{Loaded: true, Position: v.last}
			v.savedAt = v.last
			if err := v.catchUpOwned(ctx); err != nil {
				feed.Close()
				return nil, fmt.Errorf("index: catch up after the snapshot: %w", err)
			}
			v.snapStats.CaughtUp = v.last - v.snapStats.Position
			return v, nil
		case errors.Is(err, os.ErrNotExist):
		case ctx.Err() != nil:
			feed.Close()
			return nil, ctx.Err()
		default:
			v.snapStats.Rejected = err
			// Anything the failed load set is replaced by the rebuild.
			v.parts, v.last = map[partKey]uint32{}, 0
		}
	}
	if err := v.rebuild(ctx); err != nil {
		feed.Close()
		return nil, err
	}
	return v, nil
}

// Close writes a snapshot, with Options.SnapshotPath (after catching up,
// and unless the snapshot Open loaded is still current), and closes the
// feed, after any catch-up in progress has finished reading it. Writing
// the snapshot takes the time of writing the index to a file (about a
// second a million memories); searches meanwhile answer from the index as
// it is. A failed snapshot is reported, and the feed closed all the same:
// the next Open rebuilds.
func (v *Index) Close() error {
	v.closeOnce.Do(func() {
		var snapErr error
		{
			snapErr = v.SaveSnapshot(context.Background())
		}
		v.closeErr = errors.Join(snapErr, v.feed.Close())
	})
	return v.closeErr
}

// SaveSnapshot catches up and writes the snapshot to
// Options.SnapshotPath (nothing without one), unless the file holds this
// index already. Searches meanwhile answer from the index as it is (as
// during a rebuild); writes to the store go on, and are applied after.
// Close calls it.
func (v *Index) SaveSnapshot(ctx context.Context) error {
	if v.snapFeed == nil {
		return nil
	}
	v.syncMu.Lock()
	for v.busy {
		changed := v.changed
		v.syncMu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
		v.syncMu.Lock()
	}
	v.busy = true
	v.syncMu.Unlock()
	if err := v.catchUpOwned(ctx); err != nil {
		v.setState(false, false)
		return fmt.Errorf("index: snapshot: %w", err)
	}
	if _, err := os.Stat(v.snapPath); err == nil && v.savedAt == v.last {
		v.setState(false, false)
		return nil // the file holds this index already
	}
	v.setState(true, true) // searches answer from the index as it is meanwhile
	n, err := v.writeSnapshot(ctx, v.snapFeed)
	v.setState(false, false)
	if err != nil {
		return fmt.Errorf("index: snapshot: %w", err)
	}
	v.savedAt = v.last
	v.syncMu.Lock()
	v.snapStats.Written = n
	v.syncMu.Unlock()
	return nil
}

// Len is the number of vectors in the index.
func (v *Index) Len() int { return v.idx.Len() }

// Lag is how many changes the feed holds past the last one the index
// applied: writes committed since it last caught up. The index catches
// up before each search, so between searches Lag counts the writes since
// the last one; it is not a fault by itself, but a lag that keeps growing
// while searches run, or nears what the feed keeps (100,000 changes),
// means searches pay for catching up or for a rebuild. Lag waits for a
// catch-up or rebuild in progress (while ctx allows) and reads the feed's
// bounds; it applies nothing.
func (v *Index) Lag(ctx context.Context) (int64, error) {
	v.syncMu.Lock()
	for v.busy {
		changed := v.changed
		v.syncMu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		v.syncMu.Lock()
	}
	v.busy = true
	v.syncMu.Unlock()
	defer v.setState(false, false)
	_, newest, err := v.feed.Bounds(ctx)
	if err != nil {
		return 0, fmt.Errorf("index: lag: %w", err)
	}
	return max(newest-v.last, 0), nil
}

func (v *Index) partition(k partKey) uint32 {
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

func (v *Index) existing(k partKey) (uint32, bool) {
	v.partMu.RLock()
	defer v.partMu.RUnlock()
	p, ok := v.parts[k]
	return p, ok
}

// errStop, returned by a Scan callback, ends the scan early.
var errStop = errors.New("index: stop")

// rebuild loads every vector into a new index content and attribute table,
// built aside while searches go on with the current ones, and swaps them
// in. It reads the feed's position first, so that changes committed while
// it loads are applied again afterwards (applying a change twice is
// harmless). Only the owner (or Open) calls it.
func (v *Index) rebuild(ctx context.Context) error {
	ver, err := v.feed.Version(ctx)
	if err != nil {
		return err
	}
	_, last, err := v.feed.Bounds(ctx)
	if err != nil {
		return err
	}
	ed := newAttrEditor(nil)
	// The texts are indexed on another goroutine, in batches, while this
	// one feeds the vector build.
	lx := lexical.NewIndex()
	type textRow struct {
		id   int64
		part uint32
		text string
	}
	batches := make(chan []textRow, 4)
	lexDone := make(chan struct{})
	go func() {
		defer close(lexDone)
		for b := range batches {
			for _, r := range b {
				lx.Upsert(r.id, r.part, r.text)
			}
		}
	}()
	var batch []textRow
	err = v.idx.BuildFrom(func(yield func(id int64, partition uint32, vec []float32) bool) error {
		// Build copies each vector, so the feed may reuse its buffers.
		var (
			lastAcct []byte
			lastHid  bool
			lastPart uint32
			n        int
		)
		err := v.feed.Scan(ctx, func(r *Row) error {
			ed.set(r.ID, ed.attrsOf(&r.Attrs))
			if lastAcct == nil || r.Hidden != lastHid || !bytes.Equal(r.Account, lastAcct) {
				lastAcct, lastHid = append(lastAcct[:0], r.Account...), r.Hidden
				lastPart = v.partition(partKey{string(r.Account), r.Hidden})
			}
			if batch = append(batch, textRow{r.ID, lastPart, r.Text}); len(batch) == changeBatch {
				batches <- batch
				batch = nil
			}
			if len(r.Vector) != v.dim {
				return nil // a vector of another model: Reembed's business, not ours
			}
			if !yield(r.ID, lastPart, r.Vector) {
				return errStop
			}
			if n++; n == 1 && v.rebuildHook != nil {
				v.rebuildHook()
			}
			return nil
		})
		if errors.Is(err, errStop) {
			return nil
		}
		return err // a cancelled context, say: the index stays as it was
	})
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	<-lexDone
	if err != nil {
		return fmt.Errorf("index: build: %w", err)
	}
	v.attrs.Store(ed.done())
	v.lex.Store(lx)
	v.version, v.last = ver, last
	return nil
}

// catchUp applies committed changes the index has not seen, after waiting
// for the goroutine catching up, if any. stale reports that a rebuild is
// in progress instead: the caller searches the index as it is, which may
// lag behind the store.
func (v *Index) catchUp(ctx context.Context) (stale bool, err error) {
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
func (v *Index) setState(busy, rebuilding bool) {
	v.syncMu.Lock()
	defer v.syncMu.Unlock()
	v.busy, v.rebuilding = busy, rebuilding
	close(v.changed)
	v.changed = make(chan struct{})
}

// catchUpOwned is catchUp's work, done by the owner.
func (v *Index) catchUpOwned(ctx context.Context) error {
	ver, err := v.feed.Version(ctx)
	if err != nil {
		return err
	}
	if ver == v.version {
		return nil
	}
	// A gap: the oldest change left is past the next one needed, or the
	// feed is empty although positions past ours were handed out.
	oldest, newest, err := v.feed.Bounds(ctx)
	if err != nil {
		return err
	}
	if (oldest > 0 && oldest > v.last+1) || (oldest == 0 && newest > v.last) {
		v.setState(true, true) // searches go on meanwhile, with the index as it is
		return v.rebuild(ctx)
	}
	for {
		changes, err := v.feed.Changes(ctx, v.last, changeBatch)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			break
		}
		seen := make(map[int64]bool, len(changes))
		var ids []int64
		for _, c := range changes {
			if !seen[c.ID] {
				seen[c.ID] = true
				ids = append(ids, c.ID)
			}
		}
		if err := v.apply(ctx, ids); err != nil {
			return err
		}
		v.last = changes[len(changes)-1].Pos
	}
	v.version = ver
	v.prune(ctx)
	return nil
}

// apply makes the index hold exactly the committed vectors and texts of
// ids. The new attribute table is published before the indexes change, so
// that a row enters them with its attributes known.
func (v *Index) apply(ctx context.Context, ids []int64) error {
	type row struct {
		id   int64
		part uint32
		vec  []float32 // nil: none of this index's dimension
		text string
	}
	var got []row
	ed := newAttrEditor(v.attrs.Load())
	present := map[int64]bool{}
	err := v.feed.Rows(ctx, ids, func(r *Row) error {
		ed.set(r.ID, ed.attrsOf(&r.Attrs))
		var vec []float32
		if len(r.Vector) == v.dim {
			vec = slices.Clone(r.Vector)
		}
		got = append(got, row{r.ID, v.partition(partKey{string(r.Account), r.Hidden}), vec, r.Text})
		present[r.ID] = true
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !present[id] {
			ed.set(id, rowAttrs{})
		}
	}
	v.attrs.Store(ed.done())
	lx := v.lex.Load()
	for _, r := range got {
		lx.Upsert(r.id, r.part, r.text)
		if r.vec == nil {
			v.idx.Delete(r.id)
			continue
		}
		if err := v.idx.Upsert(r.id, r.part, r.vec); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if !present[id] {
			v.idx.Delete(id)
			lx.Delete(id)
		}
	}
	return nil
}

// prune drops changes far behind the newest. Best effort: a busy writer
// just means the feed is pruned next time.
func (v *Index) prune(ctx context.Context) {
	if v.last <= maxLogRows {
		return
	}
	v.feed.Prune(ctx, v.last-maxLogRows)
}

// Search returns the k memories that f selects nearest to q by cosine,
// after catching up with committed writes, with each one's cosine
// similarity, best first. Scores are exact: the final candidates are
// rescored from the stored vectors, those stored as int8 codes from the
// index's copy of the code (the same vector, in memory), the others read
// with [Store.Vectors]. Searches of
// an account's visible memories filtered on agent, user, session,
// project, tier, scope and importance (the common cases) read nothing
// from the store but those vectors; other filters first read an
// allow-list of the memories they select ([Store.FilterIDs]).
//
// While the index is being rebuilt (after it fell so far behind other
// writers that the feed was pruned past it), Search answers at once from
// the index as it was, which may miss memories written since, rather than
// wait seconds for the rebuild; what it returns still matches f.
//
// Search implements [search.Index].
func (v *Index) Search(ctx context.Context, f search.Filter, q []float32, k int) ([]vector.Neighbor, error) {
	stale, err := v.catchUp(ctx)
	if err != nil {
		return nil, fmt.Errorf("index: catch up: %w", err)
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
func (v *Index) searchPartition(ctx context.Context, f search.Filter, hidden bool, q []float32, k int, stale bool) ([]vector.Neighbor, error) {
	part, ok := v.existing(partKey{f.AccountID, hidden})
	if !ok {
		return nil, nil
	}
	allow, err := v.allow(ctx, f, hidden)
	if err != nil {
		return nil, err
	}
	if stale { // every candidate checked against the store
		return v.idx.SearchFetchAll(q, part, k, allow, v.exact(ctx, f, stale))
	}
	return v.idx.Search(q, part, k, allow, v.exact(ctx, f, stale))
}

// exact returns the callback that fetches the vectors to rescore. stale
// (the index may lag behind): only those of memories that f selects now,
// the others being left out.
func (v *Index) exact(ctx context.Context, f search.Filter, stale bool) func(ids []int64) ([][]float32, error) {
	return func(ids []int64) ([][]float32, error) {
		var stored map[int64][]float32
		var err error
		if stale {
			stored, err = v.st.FilterVectors(ctx, f, ids)
		} else {
			stored, err = v.st.Vectors(ctx, ids)
		}
		if err != nil {
			return nil, err
		}
		out := make([][]float32, len(ids))
		for i, id := range ids {
			vec, ok := stored[id]
			if !ok {
				if stale {
					continue // nil: left out
				}
				return nil, errVanished
			}
			if vec == nil {
				return nil, fmt.Errorf("index: row %d: %w", id, vector.ErrInvalid)
			}
			out[i] = vec
		}
		return out, nil
	}
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
var errVanished = errors.New("index: vector deleted during search")

// narrows reports whether f selects fewer memories than its account's
// searchable ones.
func narrows(f search.Filter) bool {
	return f.AgentID != nil || f.UserID != nil || (f.Scope != "" && f.Scope != "all") || f.SessionID != nil || f.Tier != nil ||
		f.MinImportance != nil || f.Project != nil || len(f.Metadata) > 0 || f.Namespace != nil
}

// attrFilter returns an allow function over the in-memory attributes for
// the visible partition when f uses only attributes kept there, and nil
// otherwise (metadata filters, hidden rows, whose kind the attributes do
// not tell apart). The function reads one published attribute table,
// which never changes, and takes no lock.
func (v *Index) attrFilter(ctx context.Context, f search.Filter, hidden bool) (allow func(int64) bool, err error) {
	t := v.attrs.Load()
	if hidden || t.partial || len(f.Metadata) > 0 || f.Namespace != nil {
		return nil, nil
	}
	none := func(int64) bool { return false }
	var agent *string
	if f.AgentID != nil {
		key, ok, err := v.st.AgentKey(ctx, f.AccountID, *f.AgentID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return none, nil
		}
		agent = &key
	}
	var want rowAttrs
	scope := (*string)(nil)
	if f.Scope != "" && f.Scope != "all" {
		scope = &f.Scope
	}
	for _, c := range []struct {
		s   *string
		dst *uint32
	}{{agent, &want.agent}, {f.UserID, &want.user}, {f.SessionID, &want.session}, {f.Project, &want.project}, {f.Tier, &want.tier}, {scope, &want.scope}} {
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
	if want.agent != 0 && want == (rowAttrs{agent: want.agent}) && f.MinImportance == nil {
		// The commonest filter, an agent's memories, alone: the vector
		// index asks this of tens of thousands of scattered rows a search,
		// so it reads the agent's bitmaps only (see agentChunk).
		return t.agentFilter(want.agent), nil
	}
	match := func(a uint32, w uint32) bool { return w == 0 || a == w }
	return func(id int64) bool {
		a := t.ref(id)
		return a != nil && match(a.agent, want.agent) && match(a.user, want.user) && match(a.session, want.session) &&
			match(a.project, want.project) && match(a.tier, want.tier) && match(a.scope, want.scope) &&
			(f.MinImportance == nil || a.importance >= wantImportance)
	}, nil
}
