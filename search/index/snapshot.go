package index

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/memoryrelay/memoryrelay/internal/countio"
	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// Snapshots.
//
// A snapshot is the index as it was at one position of the feed: its
// partitions, attribute table, lexical index and vector index, in a file
// of its own beside the database (Options.SnapshotPath). Open loads it
// instead of reading every row of the store, and then catches up with the
// feed from that position as it does between searches, so a snapshot is
// only a starting point: whatever was committed since (by this process or
// another, a Reembed, an import) is applied from the feed. It is used only
// when all of these hold, and otherwise Open rebuilds from the store as
// it does without one:
//
//   - the file is whole: its format version, section lengths and CRC-32C
//     check out;
//   - it was written for this dimension and these vector options;
//   - its token equals the one the store keeps ([SnapshotFeed]): each
//     snapshot writes a fresh random token to the file and to the store,
//     so a file left beside another database, or beside a backup restored
//     from before the snapshot, or a snapshot older than the last one any
//     process wrote, does not match;
//   - the feed still holds every change after the snapshot's position
//     (nothing after it was pruned), and has not gone below it.
//
// The file is written by Close (after catching up), to a temporary file
// in the same directory that is synced and renamed over the old one, so a
// reader sees the old snapshot or the new one, whole; a crash in between
// leaves a token mismatch at worst, that is, a rebuild.
//
// Layout: "MRIS", the format version (uint32 LE); the sections: meta
// (token, dimension, feed position, partitions, attribute table), the
// lexical index ([lexical.Index.WriteTo]) and the vector index
// ([vector.Index.WriteTo]); then a footer of the three sections' lengths
// (uint64 LE), the CRC-32C (Castagnoli) of each (uint32 LE), and "MRIE".
// The lexical and vector sections are read in parallel.

// SnapshotFeed is what a [Feed] offers for snapshots: a token kept in the
// store, naming the last snapshot written of its index.
type SnapshotFeed interface {
	// SnapshotToken returns the token last set, "" if none.
	SnapshotToken(ctx context.Context) (string, error)
	// SetSnapshotToken records token in the store.
	SetSnapshotToken(ctx context.Context, token string) error
}

const (
	snapMagic      = "MRIS"
	snapEndMagic   = "MRIE"
	snapVersion    = 1
	snapFooterSize = 3*8 + 3*4 + 4
)

// errSnapshot is wrapped by every reason not to use a snapshot file.
var errSnapshot = errors.New("index: snapshot not usable")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SnapshotStats say how Open started and what the last snapshot written
// was.
type SnapshotStats struct {
	// Loaded reports that Open started from the snapshot file rather than
	// from a read of every row of the store.
	Loaded bool
	// Position is the feed position the loaded snapshot was at.
	Position int64
	// CaughtUp is how many changes Open applied after loading it.
	CaughtUp int64
	// Rejected is why the snapshot file was not used (nil when it was,
	// when there was none, or without Options.SnapshotPath).
	Rejected error
	// Written is the size in bytes of the snapshot the index wrote last (0
	// if none).
	Written int64
}

// Snapshot returns how Open started and the last snapshot written.
func (v *Index) Snapshot() SnapshotStats {
	v.syncMu.Lock()
	defer v.syncMu.Unlock()
	return v.snapStats
}

// loadSnapshot loads the snapshot file into v, which nothing else uses
// yet, or returns why it cannot (wrapping errSnapshot, or a read error).
// On error v's content is to be rebuilt.
func (v *Index) loadSnapshot(ctx context.Context, sf SnapshotFeed) error {
	f, err := os.Open(v.snapPath)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errSnapshot}, args...)...)
	}
	if size < 8+snapFooterSize {
		return bad("%d bytes", size)
	}
	var head [8]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return err
	}
	if string(head[:4]) != snapMagic || binary.LittleEndian.Uint32(head[4:]) != snapVersion {
		return bad("header %q, format version %d", head[:4], binary.LittleEndian.Uint32(head[4:]))
	}
	var foot [snapFooterSize]byte
	if _, err := f.ReadAt(foot[:], size-snapFooterSize); err != nil {
		return err
	}
	if string(foot[36:]) != snapEndMagic {
		return bad("no footer (truncated?)")
	}
	lens := [3]int64{}
	sum := uint64(0)
	for i := range lens {
		l := binary.LittleEndian.Uint64(foot[8*i:])
		if l > uint64(size) {
			return bad("section %d of %d bytes", i, l)
		}
		lens[i], sum = int64(l), sum+l
	}
	if sum != uint64(size-8-snapFooterSize) {
		return bad("sections of %d bytes in a file of %d", sum, size)
	}
	offs := [3]int64{8, 8 + lens[0], 8 + lens[0] + lens[1]}
	// section returns a reader of section i that sums what it reads, and
	// check the error if the section was not read whole or its sum is
	// not the footer's.
	section := func(i int) (*bufio.Reader, func() error) {
		crc := crc32.New(castagnoli)
		r := bufio.NewReaderSize(io.TeeReader(io.NewSectionReader(f, offs[i], lens[i]), crc), 1<<16)
		return r, func() error {
			if err := drain(r); err != nil {
				return err
			}
			if got, want := crc.Sum32(), binary.LittleEndian.Uint32(foot[24+4*i:]); got != want {
				return bad("section %d: checksum %08x, want %08x", i, got, want)
			}
			return nil
		}
	}
	// The meta section first: a token or feed mismatch spares reading
	// the rest.
	meta, checkMeta := section(0)
	token, last, parts, attrs, err := v.readMeta(meta)
	if err != nil {
		return err
	}
	if err := checkMeta(); err != nil {
		return err
	}
	want, err := sf.SnapshotToken(ctx)
	if err != nil {
		return err
	}
	if want == "" || token != want {
		return bad("token %q, the store's %q", token, want)
	}
	oldest, newest, err := v.feed.Bounds(ctx)
	if err != nil {
		return err
	}
	if newest < last || (oldest > 0 && oldest > last+1) || (oldest == 0 && newest > last) {
		return bad("at feed position %d, the feed holds %d to %d", last, oldest, newest)
	}
	// The two indexes, each on a goroutine of its own.
	lx := lexical.NewIndex()
	var lexErr error
	lexDone := make(chan struct{})
	go func() {
		defer close(lexDone)
		lr, check := section(1)
		if _, err := lx.ReadFrom(lr); err != nil {
			lexErr = fmt.Errorf("%w: %w", errSnapshot, err)
			return
		}
		lexErr = check()
	}()
	vr, checkVec := section(2)
	_, vecErr := v.idx.ReadFrom(vr)
	if vecErr != nil {
		vecErr = fmt.Errorf("%w: %w", errSnapshot, vecErr)
	} else {
		vecErr = checkVec()
	}
	<-lexDone
	if err := errors.Join(lexErr, vecErr); err != nil {
		return err
	}
	v.partMu.Lock()
	v.parts = parts
	v.partMu.Unlock()
	v.attrs.Store(attrs)
	v.lex.Store(lx)
	v.last = last
	v.version = math.MinInt64 // unknown: the first catch-up reads the feed
	return nil
}

// drain reads what is left of a section, so that the checksum covers it
// whole; a section with bytes left over is not one this version wrote.
func drain(r *bufio.Reader) error {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: %d bytes past a section's end", errSnapshot, n)
	}
	return nil
}

// maxSnapString bounds a string of the meta section.
const maxSnapString = 1 << 16

func (v *Index) readMeta(r *bufio.Reader) (token string, last int64, parts map[partKey]uint32, attrs *attrTable, err error) {
	bad := func(what string) error { return fmt.Errorf("%w: meta: %s", errSnapshot, what) }
	str := func() (string, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return "", err
		}
		if n > maxSnapString {
			return "", bad("string length")
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err
	}
	fail := func(e error) (string, int64, map[partKey]uint32, *attrTable, error) {
		if errors.Is(e, io.EOF) || errors.Is(e, io.ErrUnexpectedEOF) {
			e = bad("truncated")
		}
		return "", 0, nil, nil, e
	}
	if token, err = str(); err != nil {
		return fail(err)
	}
	var fixed [8 + 8 + 1]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return fail(err)
	}
	if d := binary.LittleEndian.Uint64(fixed[:]); d != uint64(v.dim) {
		return fail(bad(fmt.Sprintf("dimension %d, want %d", d, v.dim)))
	}
	last = int64(binary.LittleEndian.Uint64(fixed[8:]))
	if last < 0 {
		return fail(bad("feed position"))
	}
	partial := fixed[16] != 0
	np, err := binary.ReadUvarint(r)
	if err != nil {
		return fail(err)
	}
	if np > math.MaxUint32 {
		return fail(bad("partitions"))
	}
	parts = map[partKey]uint32{}
	seenNum := map[uint32]bool{}
	for range np {
		acct, err := str()
		if err != nil {
			return fail(err)
		}
		h, err := r.ReadByte()
		if err != nil {
			return fail(err)
		}
		num, err := binary.ReadUvarint(r)
		if err != nil {
			return fail(err)
		}
		k := partKey{account: acct, hidden: h != 0}
		if _, dup := parts[k]; dup || num == 0 || num > np || seenNum[uint32(num)] {
			return fail(bad("partition numbers"))
		}
		parts[k], seenNum[uint32(num)] = uint32(num), true
	}
	ni, err := binary.ReadUvarint(r)
	if err != nil {
		return fail(err)
	}
	if ni > math.MaxUint32 {
		return fail(bad("interned strings"))
	}
	it := &internTable{m: map[string]uint32{}}
	for i := range ni {
		s, err := str()
		if err != nil {
			return fail(err)
		}
		if _, dup := it.m[s]; dup {
			return fail(bad("interned string twice"))
		}
		it.m[s] = uint32(i + 1)
	}
	nchunks, err := binary.ReadUvarint(r)
	if err != nil {
		return fail(err)
	}
	if nchunks > maxAttrID>>attrChunkShift+1 {
		return fail(bad("attribute chunks"))
	}
	t := &attrTable{chunks: make([]*attrChunk, nchunks), agents: make([]*agentChunk, nchunks), partial: partial, intern: it}
	nfull, err := binary.ReadUvarint(r)
	if err != nil {
		return fail(err)
	}
	if nfull > nchunks {
		return fail(bad("attribute chunks"))
	}
	prev := -1
	for range nfull {
		ci, err := binary.ReadUvarint(r)
		if err != nil {
			return fail(err)
		}
		if ci >= nchunks || int(ci) <= prev {
			return fail(bad("attribute chunk number"))
		}
		prev = int(ci)
		c := new(attrChunk)
		if _, err := io.ReadFull(r, chunkBytes(c)); err != nil {
			return fail(err)
		}
		for i := range c {
			a := &c[i]
			for _, n := range []uint32{a.agent, a.user, a.session, a.project, a.tier, a.scope} {
				if uint64(n) > ni {
					return fail(bad("attribute out of the intern table"))
				}
			}
		}
		t.chunks[ci], t.agents[ci] = c, agentColumn(c)
	}
	return token, last, parts, t, nil
}

// chunkBytes is the memory of an attribute chunk (uint32 and float32
// fields only, little-endian as the snapshot is: see snapshotUsable).
func chunkBytes(c *attrChunk) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(c)), unsafe.Sizeof(*c))
}

// snapshotUsable reports whether this machine can read and write the
// attribute table as its bytes: little-endian, with rowAttrs unpadded.
var snapshotUsable = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1 && unsafe.Sizeof(rowAttrs{}) == 28
}()

// writeSnapshot writes the snapshot of v (as the owner, caught up) and
// records its token in the store.
func (v *Index) writeSnapshot(ctx context.Context, sf SnapshotFeed) (int64, error) {
	dir, base := filepath.Split(v.snapPath)
	tmp, err := os.CreateTemp(dir, base+".tmp*")
	if err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var tok [16]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])

	bw := bufio.NewWriterSize(tmp, 1<<20)
	if _, err := bw.WriteString(snapMagic); err != nil {
		return 0, err
	}
	if err := binary.Write(bw, binary.LittleEndian, uint32(snapVersion)); err != nil {
		return 0, err
	}
	var (
		lens [3]int64
		sums [3]uint32
	)
	for i, write := range []func(io.Writer) (int64, error){
		func(w io.Writer) (int64, error) { return v.writeMeta(w, token) },
		v.lex.Load().WriteTo,
		v.idx.WriteTo,
	} {
		crc := crc32.New(castagnoli)
		if lens[i], err = write(io.MultiWriter(bw, crc)); err != nil {
			return 0, err
		}
		sums[i] = crc.Sum32()
	}
	var foot []byte
	for _, l := range lens {
		foot = binary.LittleEndian.AppendUint64(foot, uint64(l))
	}
	for _, c := range sums {
		foot = binary.LittleEndian.AppendUint32(foot, c)
	}
	foot = append(foot, snapEndMagic...)
	if _, err := bw.Write(foot); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	// The store's token first: a crash before the rename leaves the old
	// file, whose token no longer matches (a rebuild, never a stale load).
	if err := sf.SetSnapshotToken(ctx, token); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), v.snapPath); err != nil {
		return 0, err
	}
	done = true
	if d, err := os.Open(dir2(dir)); err == nil {
		d.Sync() // the rename's directory entry; best effort
		d.Close()
	}
	return 8 + lens[0] + lens[1] + lens[2] + snapFooterSize, nil
}

func dir2(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

func (v *Index) writeMeta(w io.Writer, token string) (int64, error) {
	cw := &countio.Writer{W: w}
	var b []byte
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	str(token)
	b = binary.LittleEndian.AppendUint64(b, uint64(v.dim))
	b = binary.LittleEndian.AppendUint64(b, uint64(v.last))
	t := v.attrs.Load()
	if t.partial {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	v.partMu.RLock()
	b = binary.AppendUvarint(b, uint64(len(v.parts)))
	for k, num := range v.parts {
		str(k.account)
		if k.hidden {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = binary.AppendUvarint(b, uint64(num))
	}
	v.partMu.RUnlock()
	t.intern.mu.RLock()
	names := make([]string, len(t.intern.m))
	for s, n := range t.intern.m {
		names[n-1] = s
	}
	t.intern.mu.RUnlock()
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, s := range names {
		str(s)
	}
	b = binary.AppendUvarint(b, uint64(len(t.chunks)))
	full := 0
	for _, c := range t.chunks {
		if c != nil {
			full++
		}
	}
	b = binary.AppendUvarint(b, uint64(full))
	if _, err := cw.Write(b); err != nil {
		return cw.N, err
	}
	for ci, c := range t.chunks {
		if c == nil {
			continue
		}
		if _, err := cw.Write(binary.AppendUvarint(b[:0], uint64(ci))); err != nil {
			return cw.N, err
		}
		if _, err := cw.Write(chunkBytes(c)); err != nil {
			return cw.N, err
		}
	}
	return cw.N, nil
}
