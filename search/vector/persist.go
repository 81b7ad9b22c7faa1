package vector

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/memoryrelay/memoryrelay/internal/countio"
)

// The binary form of an Index ([Index.WriteTo], [Index.ReadFrom]) is,
// little-endian throughout:
//
//	magic "MRVX", format version (uint32), dim (uint32), flags (uint8:
//	1 quantised, 2 floats kept), rows (uint64), centredAt (uint64),
//	mean (dim float32), partitions (uint32), then per partition its
//	number (uint32) and rows (uint64), and per block of up to 16,384 of
//	them the block's arrays as they are in memory: ids (int64), and when
//	quantised the 1-bit codes (uint64 words), the two factors and the
//	int8 codes with their scales and one byte a row saying whether the
//	code is exactly the row's vector (0 or 1); when floats are kept, the
//	floats.
//
// It holds what a search reads, so an index read back answers every
// search as the one written did. It carries no checksum: the caller
// that stores it (package search/index) adds one.
const (
	persistMagic   = "MRVX"
	persistVersion = 2 // 2: the int8 codes' exactness flags
)

// ErrFormat is returned by [Index.ReadFrom] for input that is not an
// index this version wrote with the same options: another format version,
// another dimension or options, truncated or inconsistent data.
var ErrFormat = errors.New("vector: not a serialized index of these options")

// littleEndian reports whether the machine stores integers little-endian,
// as the format does: then arrays are written and read as their bytes.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// rawBytes returns the memory of s as bytes (s's elements are fixed-size
// numbers).
func rawBytes[T int8 | int64 | uint64 | float32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

func writeArray[T int8 | int64 | uint64 | float32](w io.Writer, s []T) error {
	if littleEndian {
		_, err := w.Write(rawBytes(s))
		return err
	}
	return binary.Write(w, binary.LittleEndian, s)
}

func readArray[T int8 | int64 | uint64 | float32](r io.Reader, s []T) error {
	if littleEndian {
		_, err := io.ReadFull(r, rawBytes(s))
		return err
	}
	return binary.Read(r, binary.LittleEndian, s)
}

func (x *Index) flags() uint8 {
	var f uint8
	if x.quantised() {
		f |= 1
	}
	if x.opts.KeepFloats {
		f |= 2
	}
	return f
}

// WriteTo writes the index's content to w in its binary form, under the
// read lock: searches go on meanwhile, writes wait. It implements
// [io.WriterTo].
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

func (x *Index) writeLocked(w *bufio.Writer) error {
	d := &x.d
	var hdr []byte
	hdr = append(hdr, persistMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, persistVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(x.dim))
	hdr = append(hdr, x.flags())
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(d.n))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(d.centredAt))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	if err := writeArray(w, d.mean); err != nil {
		return err
	}
	hdr = binary.LittleEndian.AppendUint32(hdr[:0], uint32(len(d.parts)))
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	for part, seg := range d.parts {
		hdr = binary.LittleEndian.AppendUint32(hdr[:0], part)
		hdr = binary.LittleEndian.AppendUint64(hdr, uint64(seg.n))
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		for _, b := range seg.blocks {
			if err := x.writeBlock(w, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *Index) writeBlock(w io.Writer, b *block) error {
	if err := writeArray(w, b.ids); err != nil {
		return err
	}
	if x.quantised() {
		for _, err := range []func() error{
			func() error { return writeArray(w, b.bits) },
			func() error { return writeArray(w, b.fac) },
			func() error { return writeArray(w, b.rc) },
			func() error { return writeArray(w, b.q8) },
			func() error { return writeArray(w, b.scale) },
			func() error { return writeFlags(w, b.exact) },
		} {
			if err := err(); err != nil {
				return err
			}
		}
	}
	if x.opts.KeepFloats {
		return writeArray(w, b.floats)
	}
	return nil
}

// ReadFrom replaces the index's content with what [Index.WriteTo] wrote
// to r, by an index of the same dimension and options (Exact and
// KeepFloats; the counts and Workers may differ). It reads the whole
// content aside and swaps it in under the write lock; on error (matching
// [ErrFormat] for bad input) the index keeps its content. Memory
// allocated while reading grows with the input read, one block of rows at
// a time, so a corrupt length cannot make it allocate much more than the
// input holds. It implements [io.ReaderFrom].
func (x *Index) ReadFrom(r io.Reader) (int64, error) {
	cr := &countio.Reader{R: r}
	br := bufio.NewReaderSize(cr, 1<<16)
	d, err := x.read(br)
	// What was read: the bytes taken from r, less those left buffered.
	n := cr.N - int64(br.Buffered())
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: truncated", ErrFormat)
		}
		return n, err
	}
	x.mu.Lock()
	x.d = d
	x.mu.Unlock()
	return n, nil
}

func (x *Index) read(r io.Reader) (indexData, error) {
	bad := func(format string, args ...any) (indexData, error) {
		return indexData{}, fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
	}
	var hdr [4 + 4 + 4 + 1 + 8 + 8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return indexData{}, err
	}
	if string(hdr[:4]) != persistMagic {
		return bad("magic %q", hdr[:4])
	}
	if v := binary.LittleEndian.Uint32(hdr[4:]); v != persistVersion {
		return bad("format version %d, want %d", v, persistVersion)
	}
	if dim := binary.LittleEndian.Uint32(hdr[8:]); dim != uint32(x.dim) {
		return bad("dimension %d, want %d", dim, x.dim)
	}
	if f := hdr[12]; f != x.flags() {
		return bad("flags %d, want %d", f, x.flags())
	}
	total := binary.LittleEndian.Uint64(hdr[13:])
	centredAt := binary.LittleEndian.Uint64(hdr[21:])
	if total > math.MaxInt32 || centredAt > total*2+1 {
		return bad("%d rows, centred at %d", total, centredAt)
	}
	d := indexData{parts: map[uint32]*segment{}, mean: make([]float32, x.dim), centredAt: int(centredAt)}
	if err := readArray(r, d.mean); err != nil {
		return indexData{}, err
	}
	var b4 [4]byte
	if _, err := io.ReadFull(r, b4[:]); err != nil {
		return indexData{}, err
	}
	nparts := binary.LittleEndian.Uint32(b4[:])
	if uint64(nparts) > total {
		return bad("%d partitions for %d rows", nparts, total)
	}
	// The id map is sized to the rows the header announces up to two
	// million (about 50 MB): past that it grows with the rows read, so a
	// corrupt header cannot make it allocate more.
	d.where = make(map[int64]loc, min(total, 1<<21))
	var seen uint64
	for range nparts {
		var ph [12]byte
		if _, err := io.ReadFull(r, ph[:]); err != nil {
			return indexData{}, err
		}
		part := binary.LittleEndian.Uint32(ph[:])
		rows := binary.LittleEndian.Uint64(ph[4:])
		if rows == 0 || rows > total-seen {
			return bad("partition %d: %d rows", part, rows)
		}
		if _, dup := d.parts[part]; dup {
			return bad("partition %d twice", part)
		}
		seen += rows
		seg := &segment{n: int(rows)}
		for lo := uint64(0); lo < rows; lo += blockRows {
			n := int(min(rows-lo, blockRows))
			b := x.newBlock(n)
			b.ids = b.ids[:n]
			if x.quantised() {
				b.bits, b.fac, b.rc = b.bits[:n*x.nw], b.fac[:n], b.rc[:n]
				b.q8, b.scale, b.exact = b.q8[:n*x.dim], b.scale[:n], b.exact[:n]
			}
			if x.opts.KeepFloats {
				b.floats = b.floats[:n*x.dim]
			}
			if err := x.readBlock(r, b); err != nil {
				return indexData{}, err
			}
			for i, id := range b.ids {
				d.where[id] = loc{part: part, slot: int32(int(lo) + i)}
			}
			if uint64(len(d.where)) != seen-rows+lo+uint64(n) {
				return bad("a row twice")
			}
			seg.blocks = append(seg.blocks, b)
		}
		d.parts[part] = seg
	}
	if seen != total {
		return bad("%d rows in partitions, %d in the header", seen, total)
	}
	d.n = int(total)
	return d, nil
}

func (x *Index) readBlock(r io.Reader, b *block) error {
	if err := readArray(r, b.ids); err != nil {
		return err
	}
	if x.quantised() {
		for _, err := range []func() error{
			func() error { return readArray(r, b.bits) },
			func() error { return readArray(r, b.fac) },
			func() error { return readArray(r, b.rc) },
			func() error { return readArray(r, b.q8) },
			func() error { return readArray(r, b.scale) },
			func() error { return readFlags(r, b.exact) },
		} {
			if err := err(); err != nil {
				return err
			}
		}
	}
	if x.opts.KeepFloats {
		return readArray(r, b.floats)
	}
	return nil
}

// writeFlags writes one byte a flag: 1 for true, 0 for false.
func writeFlags(w io.Writer, flags []bool) error {
	buf := make([]byte, len(flags))
	for i, f := range flags {
		if f {
			buf[i] = 1
		}
	}
	_, err := w.Write(buf)
	return err
}

// readFlags reads what writeFlags wrote into flags; a byte other than 0
// or 1 is ErrFormat.
func readFlags(r io.Reader, flags []bool) error {
	buf := make([]byte, len(flags))
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	for i, c := range buf {
		if c > 1 {
			return fmt.Errorf("%w: exactness flag %d", ErrFormat, c)
		}
		flags[i] = c == 1
	}
	return nil
}
