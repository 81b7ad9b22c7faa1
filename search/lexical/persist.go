package lexical

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/memoryrelay/memoryrelay/internal/countio"
)

// The binary form of an Index ([Index.WriteTo], [Index.ReadFrom]): the
// magic "MRLX" and then unsigned varints (signed ones for ids) throughout:
// the format version; the partitions, each with its number, documents,
// total length, and per term number its name and its two postings lists
// block by block as they are in memory (first id, ids as deltas, term
// frequencies in the list of repeated terms, the block's bounds), and the
// free term numbers; then the document table: its arena of term numbers
// as it is, and each document's entry. The whole index's statistics are
// recomputed from the partitions. An index read back is the index written,
// block for block, so it answers every search as the one written did. It
// carries no checksum: the caller that stores it (package search/index)
// adds one.
const (
	persistMagic   = "MRLX"
	persistVersion = 1
)

// ErrFormat is returned by [Index.ReadFrom] for input that is not an
// index this version wrote: another format version, truncated or
// inconsistent data.
var ErrFormat = errors.New("lexical: not a serialized index")

// WriteTo writes the index to w in its binary form, under the read lock:
// searches go on meanwhile, writes wait. It implements [io.WriterTo].
func (x *Index) WriteTo(w io.Writer) (int64, error) {
	cw := &countio.Writer{W: w}
	bw := bufio.NewWriterSize(cw, 1<<16)
	x.mu.RLock()
	err := x.writeLocked(bw)
	x.mu.RUnlock()
	if err == nil {
		err = bw.Flush()
	}
	return cw.N, err
}

// encoder appends varints to a buffer that it flushes to w when large.
type encoder struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (e *encoder) u(v uint64) { e.buf = binary.AppendUvarint(e.buf, v); e.flushIfFull() }
func (e *encoder) i(v int64)  { e.buf = binary.AppendVarint(e.buf, v); e.flushIfFull() }
func (e *encoder) bytes(b []byte) {
	e.u(uint64(len(b)))
	e.flush()
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) flushIfFull() {
	if len(e.buf) >= 1<<15 {
		e.flush()
	}
}

func (e *encoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

func (x *Index) writeLocked(w *bufio.Writer) error {
	if _, err := w.WriteString(persistMagic); err != nil {
		return err
	}
	e := &encoder{w: w, buf: make([]byte, 0, 1<<15+64)}
	e.u(persistVersion)
	keys := make([]uint32, 0, len(x.parts))
	for k := range x.parts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		p := x.parts[k]
		e.u(uint64(k))
		e.u(uint64(p.n))
		e.u(uint64(p.totalLen))
		e.u(uint64(len(p.lists)))
		for num := range p.lists {
			e.bytes([]byte(p.names[num]))
			for _, pl := range []*postings{&p.lists[num].once, &p.lists[num].more} {
				e.u(uint64(pl.df))
				e.u(uint64(len(pl.blocks)))
				for bi := range pl.blocks {
					b := &pl.blocks[bi]
					e.i(b.first)
					e.u(uint64(len(b.ids)))
					prev := uint32(0)
					for _, off := range b.ids {
						e.u(uint64(off - prev))
						prev = off
					}
					if !pl.unit {
						for _, tf := range b.tfs {
							e.u(uint64(tf))
						}
					}
					e.u(uint64(b.maxTF))
					e.u(uint64(b.minLen))
				}
			}
		}
		e.u(uint64(len(p.free)))
		for _, num := range p.free {
			e.u(uint64(num))
		}
	}
	t := &x.docs
	e.u(uint64(t.n))
	e.bytes(t.arena)
	e.u(uint64(t.garbage))
	entry := func(en docEntry) {
		e.u(uint64(en.ref))
		e.u(uint64(en.nb))
		e.u(uint64(en.part))
		e.u(uint64(en.length))
	}
	dense := 0
	for _, c := range t.chunks {
		if c != nil {
			for i := range c {
				if c[i].ref != 0 {
					dense++
				}
			}
		}
	}
	e.u(uint64(dense))
	prev := int64(-1)
	for ci, c := range t.chunks {
		if c == nil {
			continue
		}
		for i := range c {
			if c[i].ref == 0 {
				continue
			}
			id := int64(ci)<<docChunkShift | int64(i)
			e.u(uint64(id - prev))
			prev = id
			entry(c[i])
		}
	}
	e.u(uint64(len(t.far)))
	for id, en := range t.far {
		e.i(id)
		entry(en)
	}
	e.flush()
	return e.err
}

// ReadFrom replaces the index's content with what [Index.WriteTo] wrote
// to r. It reads the whole content aside and swaps it in under the write
// lock; on error (matching [ErrFormat] for bad input) the index keeps its
// content. Memory allocated while reading grows with the input read, so a
// corrupt count cannot make it allocate much more than the input holds.
// It implements [io.ReaderFrom].
func (x *Index) ReadFrom(r io.Reader) (int64, error) {
	cr := &countio.Reader{R: r}
	d := &decoder{r: cr, buf: make([]byte, 1<<16)}
	y, err := read(d)
	n := cr.N - int64(d.rest())
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: truncated", ErrFormat)
		}
		return n, err
	}
	x.mu.Lock()
	x.parts, x.docs, x.totalLen, x.df = y.parts, y.docs, y.totalLen, y.df
	x.mu.Unlock()
	return n, nil
}

// slab hands out slices of a larger allocation, so that loading makes a
// few large allocations instead of one per block. Each slice is capped at
// its length: an append to it reallocates rather than overwrite the next.
type slab[T any] struct{ free []T }

func (s *slab[T]) take(n int) []T {
	if n > len(s.free) {
		if n > 1<<14 {
			return make([]T, n)
		}
		s.free = make([]T, 1<<16)
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}

// decoder reads varints from its own buffer over r (decoding in place,
// not a byte at a time), recording the first error.
type decoder struct {
	r   io.Reader
	buf []byte
	pos int
	end int
	err error
}

// fill makes at least 10 bytes available past pos (fewer at the end of
// the input).
func (d *decoder) fill() {
	if d.end-d.pos >= binary.MaxVarintLen64 || d.err != nil {
		return
	}
	n := copy(d.buf, d.buf[d.pos:d.end])
	d.pos, d.end = 0, n
	for d.end < binary.MaxVarintLen64 {
		m, err := d.r.Read(d.buf[d.end:])
		d.end += m
		if err != nil {
			if err != io.EOF || d.end == 0 {
				d.err = err
			}
			return
		}
	}
}

func (d *decoder) u() uint64 {
	if d.end-d.pos < binary.MaxVarintLen64 {
		d.fill()
		if d.err != nil {
			return 0
		}
	}
	b := d.buf[d.pos:d.end]
	if len(b) > 0 && b[0] < 0x80 {
		d.pos++
		return uint64(b[0])
	}
	v, n := binary.Uvarint(b)
	if n <= 0 {
		if n == 0 {
			d.err = io.ErrUnexpectedEOF
		} else {
			d.err = fmt.Errorf("%w: varint overflow", ErrFormat)
		}
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) i() int64 {
	ux := d.u()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// n reads a count that must be at most limit.
func (d *decoder) n(limit uint64, what string) int {
	v := d.u()
	if d.err == nil && v > limit {
		d.err = fmt.Errorf("%w: %s %d, at most %d", ErrFormat, what, v, limit)
		return 0
	}
	return int(v)
}

// bytes reads a length-prefixed byte string, reading it in pieces so that
// a corrupt length allocates no more than the input holds.
func (d *decoder) bytes(limit uint64, what string) []byte {
	n := d.n(limit, what)
	if d.err != nil {
		return nil
	}
	out := make([]byte, 0, min(n, 1<<20))
	for len(out) < n && d.err == nil {
		if d.pos == d.end {
			d.fill()
			if d.pos == d.end {
				if d.err == nil {
					d.err = io.ErrUnexpectedEOF
				}
				break
			}
		}
		take := min(n-len(out), d.end-d.pos)
		out = append(out, d.buf[d.pos:d.pos+take]...)
		d.pos += take
	}
	return out
}

// rest is what the decoder read from r past the last byte it decoded.
func (d *decoder) rest() int { return d.end - d.pos }

func read(d *decoder) (*Index, error) {
	bad := func(format string, args ...any) (*Index, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
	}
	var magic [4]byte
	for i := range magic {
		magic[i] = byte(d.n(255, "magic"))
	}
	if d.err != nil {
		return nil, d.err
	}
	if string(magic[:]) != persistMagic {
		return bad("magic %q", magic[:])
	}
	if v := d.u(); d.err == nil && v != persistVersion {
		return bad("format version %d, want %d", v, persistVersion)
	}
	x := NewIndex()
	var (
		ids   slab[uint32]
		tfs   slab[uint16]
		blks  slab[block]
		total int
	)
	nparts := d.n(math.MaxUint32, "partitions")
	for range nparts {
		key := uint32(d.n(math.MaxUint32, "partition number"))
		p := &partition{n: d.n(math.MaxInt32, "documents"), totalLen: int64(d.n(math.MaxInt64, "total length")), numbers: map[string]uint32{}}
		if _, dup := x.parts[key]; dup || d.err != nil {
			if d.err != nil {
				return nil, d.err
			}
			return bad("partition %d twice", key)
		}
		x.parts[key] = p
		nterms := d.n(math.MaxUint32, "terms")
		for num := 0; num < nterms && d.err == nil; num++ {
			name := string(d.bytes(1<<20, "term length"))
			tl := newTermLists()
			for _, pl := range []*postings{&tl.once, &tl.more} {
				pl.df = d.n(math.MaxInt32, "document frequency")
				nb := d.n(uint64(pl.df), "blocks")
				if nb > 0 && nb <= 1<<14 {
					pl.blocks = blks.take(nb)[:0]
				}
				seen, prevLast := 0, int64(math.MinInt64)
				for bi := 0; bi < nb && d.err == nil; bi++ {
					pl.blocks = append(pl.blocks, block{})
					b := &pl.blocks[bi]
					b.first = d.i()
					cnt := d.n(uint64(min(pl.df-seen, 2*blockSize)), "postings")
					if cnt == 0 || b.first <= prevLast {
						return bad("term %q: block %d of %d postings at %d", name, bi, cnt, b.first)
					}
					seen += cnt
					b.ids = ids.take(cnt)
					off := uint64(0)
					for i := range cnt {
						delta := d.u()
						if off += delta; (i > 0 && delta == 0) || off > math.MaxUint32 || b.first+int64(off) < b.first {
							return bad("term %q: posting offset %d", name, off)
						}
						b.ids[i] = uint32(off)
					}
					if !pl.unit {
						b.tfs = tfs.take(cnt)
						for i := range cnt {
							b.tfs[i] = uint16(d.n(maxTF, "term frequency"))
						}
					}
					b.maxTF = uint16(d.n(maxTF, "block term frequency"))
					b.minLen = uint32(d.n(math.MaxUint32, "block length"))
					if d.err == nil {
						prevLast = b.last()
					}
				}
				if d.err == nil && seen != pl.df {
					return bad("term %q: %d postings, document frequency %d", name, seen, pl.df)
				}
			}
			if d.err != nil {
				return nil, d.err
			}
			if tl.df() > 0 {
				if name == "" {
					return bad("an empty term")
				}
				if _, dup := p.numbers[name]; dup {
					return bad("term %q twice", name)
				}
				p.numbers[name] = uint32(num)
				x.df[name] += tl.df()
			}
			p.lists, p.names = append(p.lists, tl), append(p.names, name)
		}
		nfree := d.n(uint64(nterms), "free term numbers")
		for range nfree {
			num := d.n(uint64(max(nterms-1, 0)), "free term number")
			if d.err == nil && (nterms == 0 || p.lists[num].df() != 0 || p.names[num] != "") {
				return bad("free term number %d in use", num)
			}
			p.free = append(p.free, uint32(num))
		}
		if d.err != nil {
			return nil, d.err
		}
		total += p.n
		x.totalLen += p.totalLen
		if p.n == 0 {
			return bad("partition %d without documents", key)
		}
	}
	t := &x.docs
	t.n = d.n(math.MaxInt32, "documents")
	t.arena = d.bytes(math.MaxInt32, "arena length")
	t.garbage = d.n(uint64(len(t.arena)), "garbage")
	if d.err != nil {
		return nil, d.err
	}
	if t.n != total {
		return bad("%d documents, %d in partitions", t.n, total)
	}
	counts := map[uint32]int{}
	lengths := map[uint32]int64{}
	// live marks, per partition, the term numbers in use: a document's
	// terms are checked against it (a bit set small enough to stay in
	// cache, where the lists themselves are not).
	live := make(map[uint32][]uint64, len(x.parts))
	for key, p := range x.parts {
		bits := make([]uint64, (len(p.lists)+63)/64)
		for num := range p.lists {
			if p.lists[num].df() > 0 {
				bits[num/64] |= 1 << (num % 64)
			}
		}
		live[key] = bits
	}
	var (
		lastPart uint32
		lastP    *partition
		lastLive []uint64
	)
	entry := func() (docEntry, error) {
		en := docEntry{ref: int64(d.n(uint64(len(t.arena)), "term offset")), nb: uint32(d.n(math.MaxUint32, "term bytes")),
			part: uint32(d.n(math.MaxUint32, "partition")), length: uint32(d.n(math.MaxUint32, "length"))}
		if d.err != nil {
			return en, d.err
		}
		if lastP == nil || en.part != lastPart {
			lastPart, lastP, lastLive = en.part, x.parts[en.part], live[en.part]
		}
		p, bits := lastP, lastLive
		if en.ref < 1 || en.ref-1+int64(en.nb) > int64(len(t.arena)) || p == nil {
			return en, fmt.Errorf("%w: document entry %+v", ErrFormat, en)
		}
		// Its term numbers must name terms of its partition (a write that
		// replaces it reads them).
		b := t.arena[en.ref-1 : en.ref-1+int64(en.nb)]
		var num uint64
		first := true
		for len(b) > 0 {
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return en, fmt.Errorf("%w: document terms", ErrFormat)
			}
			b = b[n:]
			if num += v; num >= uint64(len(p.lists)) || bits[num/64]&(1<<(num%64)) == 0 || (!first && v == 0) {
				return en, fmt.Errorf("%w: document term %d", ErrFormat, num)
			}
			first = false
		}
		counts[en.part]++
		lengths[en.part] += int64(en.length)
		return en, nil
	}
	dense := d.n(uint64(t.n), "dense documents")
	id := int64(-1)
	for range dense {
		delta := d.n(maxDense, "id delta")
		if id += int64(delta); d.err == nil && (delta == 0 || id >= maxDense) {
			return bad("document id %d", id)
		}
		en, err := entry()
		if err != nil {
			return nil, err
		}
		ci := int(id >> docChunkShift)
		if ci >= len(t.chunks) {
			t.chunks = append(t.chunks, make([]*[docChunkRows]docEntry, ci+1-len(t.chunks))...)
		}
		if t.chunks[ci] == nil {
			t.chunks[ci] = new([docChunkRows]docEntry)
		}
		t.chunks[ci][id&(docChunkRows-1)] = en
	}
	far := d.n(uint64(t.n-dense), "far documents")
	for range far {
		id := d.i()
		en, err := entry()
		if err != nil {
			return nil, err
		}
		if _, dup := t.far[id]; dup || (id >= 0 && id < maxDense) {
			return bad("far document id %d", id)
		}
		if t.far == nil {
			t.far = map[int64]docEntry{}
		}
		t.far[id] = en
	}
	if d.err != nil {
		return nil, d.err
	}
	if dense+far != t.n {
		return bad("%d document entries, %d documents", dense+far, t.n)
	}
	for key, p := range x.parts {
		if counts[key] != p.n || lengths[key] != p.totalLen {
			return bad("partition %d: %d documents of total length %d, the header says %d and %d", key, counts[key], lengths[key], p.n, p.totalLen)
		}
	}
	return x, nil
}
