package index

import (
	"slices"
	"sync"
)

// maxAttrID bounds the attribute table (28 bytes a row): memories with a
// larger row id are not filtered in memory.
const maxAttrID = 1 << 26

// rowAttrs are a memory's filterable attributes, interned; 0 means NULL,
// and agent 0 (never NULL in a row) means no row.
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

// agentChunk is the agent column of an attrChunk, kept apart for the
// commonest filter (one agent's memories), which the vector index asks of
// tens of thousands of scattered rows a search and the lexical index of
// thousands: 16 rows a cache line instead of 2, and 4 MiB at 1M memories
// instead of 28. Beside it, when the chunk holds at most maxChunkAgents
// agents, a bitmap of each one's rows (128 bytes), so that a search
// filtered on an agent reads 128 KiB of bitmaps at 1M memories, which stay
// in the CPU's caches, rather than the column (see agentFilter). Reading
// the column in the postings' order cost about 80 ns a row at 1M (a
// cache miss each), a third of a filtered keyword search.
type agentChunk struct {
	col    [attrChunkRows]uint32
	agents []uint32   // the chunk's distinct agents, when few; else nil
	sets   []agentSet // sets[i]: the rows of agents[i]
}

// agentSet is a set of rows of one chunk, bit j standing for row j.
type agentSet [attrChunkRows / 64]uint64

// maxChunkAgents bounds the bitmaps of a chunk (2 KiB, half its column).
const maxChunkAgents = 16

// attrTable holds, per indexed memory (by row id, which the SQLite store
// assigns densely), the attributes that searches filter on, so that common
// filters need no read of the store per query. Strings are interned to
// small numbers to keep it compact. A table does not change once
// published: a catch-up copies the chunks it changes and publishes a new
// table (sharing the others and the intern table); a rebuild makes a new
// one with a new intern table.
type attrTable struct {
	chunks []*attrChunk  // nil: no row in that chunk
	agents []*agentChunk // agents[i].col[j] == chunks[i][j].agent; nil where chunks[i] is
	// partial is set once a row fell outside the table: filters then read
	// the store.
	partial bool
	intern  *internTable
}

// ref returns the attributes of the row id in place, and nil if there is
// none.
func (t *attrTable) ref(id int64) *rowAttrs {
	ci := id >> attrChunkShift
	if id < 0 || ci >= int64(len(t.chunks)) || t.chunks[ci] == nil {
		return nil
	}
	a := &t.chunks[ci][id&(attrChunkRows-1)]
	if a.agent == 0 {
		return nil
	}
	return a
}

// agentOf returns the interned agent of the row id, 0 if there is none.
func (t *attrTable) agentOf(id int64) uint32 {
	ci := id >> attrChunkShift
	if id < 0 || ci >= int64(len(t.agents)) || t.agents[ci] == nil {
		return 0
	}
	return t.agents[ci].col[id&(attrChunkRows-1)]
}

// agentFilter returns whether a row is agent a's, as agentOf(id) == a
// for an agent a (never for 0), from the chunks' bitmaps where they have
// them. Making it reads a pointer a chunk (about 1,000 at 1M memories).
func (t *attrTable) agentFilter(a uint32) func(id int64) bool {
	if a == 0 {
		return func(int64) bool { return false }
	}
	sets := make([]*agentSet, len(t.agents)) // nil: read the column
	none := new(agentSet)
	for ci, ac := range t.agents {
		sets[ci] = ac.setOf(a, none)
	}
	return func(id int64) bool {
		ci := id >> attrChunkShift
		if id < 0 || ci >= int64(len(sets)) {
			return false
		}
		j := id & (attrChunkRows - 1)
		if s := sets[ci]; s != nil {
			return s[j>>6]>>(j&63)&1 != 0
		}
		return t.agents[ci].col[j] == a
	}
}

// setOf returns the rows of agent a in the chunk (none, an empty set,
// when it has none, c nil included), or nil when the chunk keeps no
// bitmaps.
func (c *agentChunk) setOf(a uint32, none *agentSet) *agentSet {
	if c == nil {
		return none
	}
	if c.agents == nil {
		return nil
	}
	for i, b := range c.agents {
		if b == a {
			return &c.sets[i]
		}
	}
	return none
}

// agentColumn returns the agent column of c, with its bitmaps.
func agentColumn(c *attrChunk) *agentChunk {
	ac := &agentChunk{agents: []uint32{}}
	for i := range c {
		a := c[i].agent
		ac.col[i] = a
		if a == 0 || ac.agents == nil {
			continue
		}
		k := slices.Index(ac.agents, a)
		if k < 0 {
			if len(ac.agents) == maxChunkAgents {
				ac.agents, ac.sets = nil, nil // too many: the column only
				continue
			}
			k = len(ac.agents)
			ac.agents = append(ac.agents, a)
			ac.sets = append(ac.sets, agentSet{})
		}
		ac.sets[k][i>>6] |= 1 << (i & 63)
	}
	return ac
}

// internTable numbers strings from 1, for the attribute tables. It only
// grows. The owner alone adds to it, so its own lookups need no lock
// (readers do not race with readers); adding and everyone else's lookups
// take mu.
type internTable struct {
	mu sync.RWMutex
	m  map[string]uint32
}

// add returns the number standing for s (0 for nil, a NULL), assigning
// the next one to a new string. Only the owner calls it.
func (it *internTable) add(s *string) uint32 {
	if s == nil {
		return 0
	}
	if n, ok := it.m[*s]; ok {
		return n
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	n := uint32(len(it.m) + 1)
	it.m[*s] = n
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
	// changed are the chunks set wrote to, whose agent columns done
	// makes again.
	changed map[int]bool
}

func newAttrEditor(base *attrTable) *attrEditor {
	if base == nil {
		return &attrEditor{t: &attrTable{intern: &internTable{m: map[string]uint32{}}}, changed: map[int]bool{}}
	}
	return &attrEditor{
		t:       &attrTable{chunks: slices.Clone(base.chunks), agents: slices.Clone(base.agents), partial: base.partial, intern: base.intern},
		owned:   map[int]bool{},
		changed: map[int]bool{},
	}
}

// done returns the new table, its agent columns made again where set
// changed their chunks (a few microseconds a chunk). The editor is not
// used after.
func (e *attrEditor) done() *attrTable {
	for ci := range e.changed {
		e.t.agents[ci] = agentColumn(e.t.chunks[ci])
	}
	return e.t
}

// attrsOf interns a row's attributes.
func (e *attrEditor) attrsOf(a *Attrs) rowAttrs {
	it := e.t.intern
	return rowAttrs{
		agent: it.add(a.Agent), user: it.add(a.User), session: it.add(a.Session),
		project: it.add(a.Project), tier: it.add(a.Tier), scope: it.add(a.Scope),
		importance: float32(a.Importance),
	}
}

// set records the attributes of row id; the zero rowAttrs removes it.
func (e *attrEditor) set(id int64, a rowAttrs) {
	none := a == rowAttrs{}
	if id < 0 || id > maxAttrID {
		if !none {
			e.t.partial = true // filters read the store from now on
		}
		return
	}
	ci := int(id >> attrChunkShift)
	if ci >= len(e.t.chunks) {
		if none {
			return
		}
		e.t.chunks = append(e.t.chunks, make([]*attrChunk, ci+1-len(e.t.chunks))...)
		e.t.agents = append(e.t.agents, make([]*agentChunk, ci+1-len(e.t.agents))...)
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
	c[id&(attrChunkRows-1)] = a
	e.changed[ci] = true
}
