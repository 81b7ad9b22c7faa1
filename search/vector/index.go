package vector

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Defaults for [IndexOptions], tuned with cmd/vecbench on clustered data of
// dimension 384 (mixtures of Gaussians, the hard case: no structure within
// a cluster) from 20k to 1M rows, with and without filters.
//
// The 1-bit estimates are noisy, and the more rows compete with the true
// neighbours, the more candidates it takes to keep them: measured, about
// √n for a partition of n rows. A filter thins the competition, so the
// counts follow the rows the filter lets through, n·f, where f is the
// fraction of rows allow accepted during the scan.
const (
	// DefaultCandidatesSqrt is the number of Hamming candidates per √(n·f).
	DefaultCandidatesSqrt = 6
	// DefaultCandidatesPerK is the least number of Hamming candidates per
	// requested neighbour.
	DefaultCandidatesPerK = 40

	// DefaultShortlistSqrt is the length of the shortlist per √(n·f).
	DefaultShortlistSqrt = 3
	// DefaultShortlistPerK is the least length of the shortlist per
	// requested neighbour.
	DefaultShortlistPerK = 20

	// DefaultRerank is the least number of rows, best by int8 score, whose
	// exact vectors a search compares with the query. int8 scores are
	// within about 0.001 of the exact cosine, so few are needed; each
	// costs a read of the store of record, unless its int8 code is its
	// stored vector (see Index.Search).
	DefaultRerank = 32
	// DefaultRerankPerK is that number per requested neighbour.
	DefaultRerankPerK = 3
)

const (
	// A block holds blockRows rows: the unit of allocation, so growing a
	// large partition never copies it.
	blockShift = 14
	blockRows  = 1 << blockShift
	blockMask  = blockRows - 1
	// A chunk of chunkRows rows is the unit of work of a parallel scan.
	chunkShift      = 12
	chunkRows       = 1 << chunkShift
	chunksPerBlock  = 1 << (blockShift - chunkShift)
	chunkBlockShift = blockShift - chunkShift
	// autoCentreMax is the largest Len at which Upsert recomputes the
	// centre by itself.
	autoCentreMax = 1 << 16
	// minPerWorker and minPerWorkerInt8 are the least numbers of
	// candidates worth a goroutine of their own in steps 2 and 3.
	minPerWorker     = 512
	minPerWorkerInt8 = 64
)

// ErrNeedExact is returned by [Index.Search] when the index keeps no float32
// vectors (IndexOptions.KeepFloats is false) and the exact callback is nil.
var ErrNeedExact = errors.New("vector: Index.Search needs an exact callback when KeepFloats is false")

// IndexOptions configures [NewIndex]. Only Dim is required; the zero value
// of every other field selects its default. The three counts trade speed
// for recall; each is raised to at least the next one (Candidates ≥
// Shortlist ≥ Rerank ≥ k).
type IndexOptions struct {
	// Dim is the dimension of every vector. Required.
	Dim int

	// Candidates is how many rows of the partition, nearest to the query
	// by the Hamming distance of their 1-bit codes, a search keeps from
	// its scan. Default: the larger of 6·√(n·f) and 40·k, for a partition
	// of n rows of which the filter lets a fraction f through: 1897 for
	// 100k rows and 6000 for a million, without filter, and k = 10. Each
	// costs about 0.1 µs.
	Candidates int

	// Shortlist is how many candidates, best by the asymmetric estimate
	// (the query's 4-bit code against each row's 1-bit code, corrected by
	// two per-row factors), are re-ranked by the int8 dot product of
	// their codes. Default: the larger of 3·√(n·f) and 20·k: 949 for 100k
	// rows and 3000 for a million. Each costs about 0.3 µs.
	Shortlist int

	// Rerank is how many shortlisted rows, best by int8 score, are
	// rescored with exact float32 vectors, fetched through the exact
	// callback of Search unless KeepFloats or their int8 codes are exact
	// (see Search). Default: the larger of 32
	// (DefaultRerank) and 3·k.
	Rerank int

	// Exact makes Search scan float32 vectors instead of codes: results
	// are exact and search time grows with 4·Dim bytes per row instead of
	// Dim/8. It implies KeepFloats. For baselines and small indexes.
	Exact bool

	// KeepFloats keeps each row's normalised float32 vector in memory
	// (4·Dim bytes per row), so that Search rescores from memory and needs
	// no exact callback.
	KeepFloats bool

	// Workers is the number of goroutines one Search, Build or Rebuild
	// runs on. Default runtime.GOMAXPROCS(0), read at each call.
	// Goroutines are started per call and have all returned when the call
	// returns.
	Workers int
}

// Neighbor is a search result.
type Neighbor struct {
	ID    int64   // the id given to Upsert or Build
	Score float32 // cosine similarity with the query, computed from the stored vectors (float32, or their exact int8 codes)
}

// Index is an in-memory vector index over int64 ids, each in one uint32
// partition (an account, say), for k-nearest-neighbour search by cosine
// similarity within a partition. It is an accelerator: the store of record
// stays elsewhere (sqlite-vec), the index keeps compact codes, and the
// final ranking is computed from float32 vectors that Search fetches by id.
//
// # How a search works
//
// Each row holds a 1-bit code (the signs of its normalised vector minus the
// centre of the data: Dim/8 bytes), two float32 factors of that code, and
// an int8 code (its normalised vector scaled so its largest element is
// ±127, with a float32 scale: Dim+4 bytes). A search
//
//  1. scans the 1-bit codes of the partition, on Workers goroutines in
//     parallel over chunks of rows, and keeps the Candidates rows of least
//     Hamming distance to the query's code among those that allow
//     accepts (six popcounts per row of dimension 384);
//  2. ranks the candidates by an asymmetric estimate of the similarity,
//     the query quantised to 4 bits against each candidate's 1-bit code
//     (the estimator of RaBitQ, Gao and Long, SIGMOD 2024), and keeps the
//     best Shortlist;
//  3. re-ranks those by the int8 dot product of the codes and keeps the
//     best Rerank;
//  4. computes their exact cosine similarity from float32 vectors (kept
//     in memory with KeepFloats, otherwise fetched through the exact
//     callback; or from the int8 code itself when it is exactly the
//     vector the row was given, see Search) and returns the best k.
//
// Each partition's rows are stored apart, in blocks of 16,384 rows whose
// codes are contiguous, so a search reads its partition's codes linearly
// and nothing of other partitions. Memory: Dim·9/8 + 20 bytes per row plus
// an id map (about 40 bytes per row): 0.5 GB for a million rows of
// dimension 384. KeepFloats adds 4·Dim bytes per row.
//
// Measured with cmd/vecbench on two shared (busy) cores, dimension 384,
// k = 10, clustered data, exact vectors regenerated by the callback: p50
// 1.4 to 1.9 ms per search with recall@10 of 1.0 at 100k rows (1.2 ms with
// a filter keeping 10%), 13 to 17 ms with recall@10 of 0.99 at 1M rows,
// against 65 to 90 ms and 430 to 700 ms for sqlite-vec's vec0 scan.
// On amd64 CPUs with AVX2 the scan of sign codes is an assembly kernel
// (a third of the time per row of the Go one at dimension 384, in cache;
// at a million rows it runs at the memory's pace), whatever
// GOAMD64 is; elsewhere, programs built with GOAMD64=v2 or higher scan
// faster: below v2 every popcount first tests whether the CPU has the
// instruction.
//
// # Centring
//
// Sign codes describe directions well only around the centre of the data:
// embeddings share a common component, and without centring most bits
// would be the same in every row. The centre is the mean of the normalised
// vectors when it is computed: by [Index.Build] (of the vectors yielded),
// by [Index.Rebuild], and by [Index.Upsert] while the index is small (each
// time Len doubles, up to 65,536 rows). It then stays fixed: if later rows
// come from a different distribution, recall can drift down until Rebuild
// re-centres.
//
// # Concurrency
//
// An Index is safe for concurrent use: searches run in parallel with each
// other, writes (Upsert, Delete, Rebuild) exclusively. Build builds its new
// content without the lock and holds the write lock only to swap it in,
// so searches are not kept waiting while it reads its items. The allow
// callback of Search runs under the read lock, possibly on several
// goroutines at once, so it must not write to the index (that deadlocks)
// nor wait for anything that may wait for a write to the index; best, it
// reads only memory that nothing changes under it. The items of Build and
// the exact callback of Search run with no lock of the index held. An
// Index starts no goroutine that outlives a call, so it needs no Close.
type Index struct {
	opts IndexOptions // as given, validated, with Exact ⇒ KeepFloats
	// noStartBound turns startBound off, for tests that compare searches
	// with and without it.
	noStartBound bool
	dim          int
	nw           int // uint64 words of a 1-bit code

	scratch sync.Pool // *scanScratch

	mu sync.RWMutex
	d  indexData
}

// indexData is the mutable content of an Index.
type indexData struct {
	parts     map[uint32]*segment
	where     map[int64]loc
	n         int
	mean      []float32 // centre subtracted before taking signs
	centredAt int       // n when mean was last computed
}

// loc is where a row lives: its partition and its slot in the partition's
// segment. Pointer-free, so the garbage collector skips the id map.
type loc struct {
	part uint32
	slot int32
}

// segment holds the rows of one partition in blocks of blockRows rows,
// densely: slots 0..n-1, row slot&blockMask of block slot>>blockShift.
type segment struct {
	blocks []*block
	n      int
}

// block stores up to blockRows rows in parallel slices, each row's data
// contiguous, so scans read memory linearly. With Exact only ids and
// floats are used; without KeepFloats floats is nil.
type block struct {
	ids    []int64
	bits   []uint64  // nw words per row: signs of the row minus the centre
	fac    []float32 // per row: ‖r‖²/Σ|r[i]| for r = row − centre
	rc     []float32 // per row: ⟨r, centre⟩
	q8     []int8    // dim per row
	scale  []float32 // per row
	exact  []bool    // per row: the int8 code is the row's vector (see int8Exact)
	floats []float32 // dim per row, normalised
}

// NewIndex returns an empty index. It returns an error if opts.Dim is not
// positive or a count is negative.
func NewIndex(opts IndexOptions) (*Index, error) {
	switch {
	case opts.Dim <= 0:
		return nil, fmt.Errorf("vector: IndexOptions.Dim must be positive, not %d", opts.Dim)
	case opts.Candidates < 0, opts.Shortlist < 0, opts.Rerank < 0, opts.Workers < 0:
		return nil, errors.New("vector: negative IndexOptions count")
	}
	if opts.Exact {
		opts.KeepFloats = true
	}
	x := &Index{opts: opts, dim: opts.Dim, nw: codeWords(opts.Dim)}
	x.d = x.newData()
	return x, nil
}

func (x *Index) newData() indexData {
	return indexData{
		parts: make(map[uint32]*segment),
		where: make(map[int64]loc),
		mean:  make([]float32, x.dim),
	}
}

func (x *Index) workers() int {
	if x.opts.Workers > 0 {
		return x.opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// quantised reports whether rows carry codes (that is, not Exact).
func (x *Index) quantised() bool { return !x.opts.Exact }

// Len returns the number of rows in the index, over all partitions.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.d.n
}

// encoded is one row's data, computed before it is stored.
type encoded struct {
	q8     []int8
	scale  float32
	exact  bool      // q8·scale is the vector given, up to rounding (see int8Exact)
	floats []float32 // normalised
	bits   []uint64  // the 1-bit code if already computed, else nil
	fac    float32   // its factors
	rc     float32
}

// Upsert stores v under id in partition, replacing any row with the same
// id (in any partition). v need not be normalised: the index stores its
// direction. It returns an error matching [ErrDimensionMismatch] or
// [ErrInvalid] if [Check] rejects v, and then changes nothing.
func (x *Index) Upsert(id int64, partition uint32, v []float32) error {
	if err := Check(v, x.dim); err != nil {
		return err
	}
	var e encoded
	if x.quantised() {
		e.q8 = make([]int8, x.dim)
		e.scale, _ = quantizeInt8(e.q8, v)
		e.exact = int8Exact(e.q8, v)
	}
	if x.opts.KeepFloats {
		e.floats = slices.Clone(v)
		Normalize(e.floats)
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	x.put(&x.d, id, partition, e, true)
	if x.d.n <= autoCentreMax && x.d.n >= 2*x.d.centredAt {
		x.recentre(&x.d, nil)
	}
	return nil
}

// Delete removes the row with the given id, if any.
func (x *Index) Delete(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if l, ok := x.d.where[id]; ok {
		x.remove(&x.d, id, l)
	}
}

// put writes a row into d, replacing any row with the same id. It computes
// the row's 1-bit code from d.mean when withCode.
func (x *Index) put(d *indexData, id int64, part uint32, e encoded, withCode bool) {
	if l, ok := d.where[id]; ok {
		if l.part == part {
			x.writeRow(d, d.parts[part], int(l.slot), id, e, withCode)
			return
		}
		x.remove(d, id, l)
	}
	seg := d.parts[part]
	if seg == nil {
		seg = &segment{}
		d.parts[part] = seg
	}
	slot := seg.n
	bi := slot >> blockShift
	if bi == len(seg.blocks) {
		// A first block grows with append, so small partitions stay
		// small; later blocks are allocated whole.
		capRows := 0
		if bi > 0 {
			capRows = blockRows
		}
		seg.blocks = append(seg.blocks, x.newBlock(capRows))
	}
	b := seg.blocks[bi]
	b.ids = append(b.ids, id)
	if x.quantised() {
		b.bits = growBy(b.bits, x.nw)
		b.fac = append(b.fac, 0)
		b.rc = append(b.rc, 0)
		b.q8 = growBy(b.q8, x.dim)
		b.scale = append(b.scale, 0)
		b.exact = append(b.exact, false)
	}
	if x.opts.KeepFloats {
		b.floats = growBy(b.floats, x.dim)
	}
	seg.n++
	d.n++
	d.where[id] = loc{part: part, slot: int32(slot)}
	x.writeRow(d, seg, slot, id, e, withCode)
}

func (x *Index) newBlock(capRows int) *block {
	b := &block{ids: make([]int64, 0, capRows)}
	if x.quantised() {
		b.bits = make([]uint64, 0, capRows*x.nw)
		b.fac = make([]float32, 0, capRows)
		b.rc = make([]float32, 0, capRows)
		b.q8 = make([]int8, 0, capRows*x.dim)
		b.scale = make([]float32, 0, capRows)
		b.exact = make([]bool, 0, capRows)
	}
	if x.opts.KeepFloats {
		b.floats = make([]float32, 0, capRows*x.dim)
	}
	return b
}

// growBy extends s by n elements, reusing its capacity when it can.
func growBy[T any](s []T, n int) []T {
	return slices.Grow(s, n)[:len(s)+n]
}

func (x *Index) writeRow(d *indexData, seg *segment, slot int, id int64, e encoded, withCode bool) {
	b, r := seg.blocks[slot>>blockShift], slot&blockMask
	b.ids[r] = id
	if x.quantised() {
		copy(b.q8[r*x.dim:(r+1)*x.dim], e.q8)
		b.scale[r] = e.scale
		b.exact[r] = e.exact
	}
	if x.opts.KeepFloats {
		copy(b.floats[r*x.dim:(r+1)*x.dim], e.floats)
	}
	switch {
	case !x.quantised():
	case e.bits != nil:
		copy(b.bits[r*x.nw:(r+1)*x.nw], e.bits)
		b.fac[r], b.rc[r] = e.fac, e.rc
	case withCode:
		x.code(b, r, d.mean)
	}
}

// code computes the 1-bit code and its factors of row r of b around mean.
func (x *Index) code(b *block, r int, mean []float32) {
	var floats []float32
	if x.opts.KeepFloats {
		floats = b.floats[r*x.dim : (r+1)*x.dim]
	}
	b.fac[r], b.rc[r] = x.codeOf(b.bits[r*x.nw:(r+1)*x.nw], b.q8[r*x.dim:(r+1)*x.dim], b.scale[r], floats, mean)
}

// codeOf writes to bits the 1-bit code of a row around mean and returns
// its factors: from the float32 vector if kept (it is exact), else from
// the int8 code.
func (x *Index) codeOf(bits []uint64, q8 []int8, scale float32, floats, mean []float32) (fac, rc float32) {
	if floats != nil {
		return residualCode(bits, floats, mean)
	}
	return residualCodeInt8(bits, q8, scale, mean)
}

// remove deletes the row of id at l by moving the partition's last row
// into its slot.
func (x *Index) remove(d *indexData, id int64, l loc) {
	seg := d.parts[l.part]
	last := seg.n - 1
	lb := seg.blocks[last>>blockShift]
	lr := last & blockMask
	if slot := int(l.slot); slot != last {
		b, r := seg.blocks[slot>>blockShift], slot&blockMask
		moved := lb.ids[lr]
		b.ids[r] = moved
		if x.quantised() {
			copy(b.bits[r*x.nw:(r+1)*x.nw], lb.bits[lr*x.nw:(lr+1)*x.nw])
			b.fac[r], b.rc[r] = lb.fac[lr], lb.rc[lr]
			copy(b.q8[r*x.dim:(r+1)*x.dim], lb.q8[lr*x.dim:(lr+1)*x.dim])
			b.scale[r] = lb.scale[lr]
			b.exact[r] = lb.exact[lr]
		}
		if x.opts.KeepFloats {
			copy(b.floats[r*x.dim:(r+1)*x.dim], lb.floats[lr*x.dim:(lr+1)*x.dim])
		}
		d.where[moved] = loc{part: l.part, slot: int32(slot)}
	}
	lb.ids = lb.ids[:lr]
	if x.quantised() {
		lb.bits = lb.bits[:lr*x.nw]
		lb.fac = lb.fac[:lr]
		lb.rc = lb.rc[:lr]
		lb.q8 = lb.q8[:lr*x.dim]
		lb.scale = lb.scale[:lr]
		lb.exact = lb.exact[:lr]
	}
	if x.opts.KeepFloats {
		lb.floats = lb.floats[:lr*x.dim]
	}
	if lr == 0 {
		seg.blocks[len(seg.blocks)-1] = nil
		seg.blocks = seg.blocks[:len(seg.blocks)-1]
	}
	seg.n--
	d.n--
	delete(d.where, id)
	if seg.n == 0 {
		delete(d.parts, l.part)
	}
}

// buildBatch is how many items Build encodes at a time.
const buildBatch = 4096

// buildSample is how many items Build reads before it fixes a provisional
// centre and computes 1-bit codes as it goes.
const buildSample = 4 * buildBatch

// buildBuffer is a batch of items for Build.
type buildBuffer struct {
	ids   []int64
	parts []uint32
	vecs  []float32
}

// buildScratch is the encoder's memory for one batch.
type buildScratch struct {
	q8      []int8
	scales  []float32
	exact   []bool
	errs    []error
	bits    []uint64
	fac, rc []float32
	sums    [][]float64 // Σ normalised vectors, per encoding goroutine
	encoded int         // items encoded so far
	workers int
	centre  []float32 // provisional centre, once buildSample items are in
}

// Build replaces the whole content of the index with the rows that items
// yields (a later row replaces an earlier one with the same id), centred
// on the mean of the vectors yielded. Items are encoded in batches on
// other goroutines while items yields the next ones, so Build takes little
// more than items itself: on two shared cores, 2 to 5 s for a million rows
// of dimension 384 yielded from memory. items may reuse v between calls.
//
// To spare a second pass over the codes, Build codes rows as they come
// around the mean of the first 16,384 vectors, and recodes them around the
// mean of all only if the two differ by more than 5% of the typical
// distance of a vector to the mean (as when items yields rows grouped by
// topic or in time order and the topics drift).
//
// Build is atomic: if a vector fails [Check] it returns that error,
// wrapped with the row's id, and the index keeps its previous content. It
// builds the new content aside, without the index's lock, so searches go
// on answering from the previous content while items yields (reading a
// database, say, for seconds), and takes the write lock only to swap the
// new content in. items may therefore call the index's read methods
// (Search, Len); writes (Upsert, Delete) made while Build runs are
// replaced by what it builds, as if they had come before it.
func (x *Index) Build(items func(yield func(id int64, partition uint32, v []float32) bool)) error {
	return x.BuildFrom(func(yield func(id int64, partition uint32, v []float32) bool) error {
		items(yield)
		return nil
	})
}

// BuildFrom is [Index.Build] for items that can fail, such as a read of a
// database: if items returns an error, BuildFrom returns it and the index
// keeps its previous content, rather than what was yielded before the
// failure.
func (x *Index) BuildFrom(items func(yield func(id int64, partition uint32, v []float32) bool) error) error {
	d := x.newData()
	workers := x.workers()

	// Two buffers: items fills one while the encoder drains the other.
	free := make(chan *buildBuffer, 2)
	full := make(chan *buildBuffer, 2)
	for range 2 {
		free <- &buildBuffer{
			ids:   make([]int64, 0, buildBatch),
			parts: make([]uint32, 0, buildBatch),
			vecs:  make([]float32, 0, buildBatch*x.dim),
		}
	}
	sc := &buildScratch{
		scales:  make([]float32, buildBatch),
		exact:   make([]bool, buildBatch),
		errs:    make([]error, buildBatch),
		sums:    make([][]float64, workers),
		workers: workers,
	}
	for w := range sc.sums {
		sc.sums[w] = make([]float64, x.dim)
	}
	if x.quantised() {
		sc.q8 = make([]int8, buildBatch*x.dim)
		sc.bits = make([]uint64, buildBatch*x.nw)
		sc.fac = make([]float32, buildBatch)
		sc.rc = make([]float32, buildBatch)
	}
	var (
		encErr error // written by the encoder, read after done
		failed atomic.Bool
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for buf := range full {
			if encErr == nil {
				encErr = x.encodeBatch(&d, buf, sc)
				if encErr != nil {
					failed.Store(true)
				}
			}
			buf.ids, buf.parts, buf.vecs = buf.ids[:0], buf.parts[:0], buf.vecs[:0]
			free <- buf
		}
	}()
	closed := false
	finish := func() {
		if !closed {
			closed = true
			close(full)
			<-done
		}
	}
	defer finish() // if items panics, the encoder still stops

	var err error
	cur := <-free
	itemsErr := items(func(id int64, partition uint32, v []float32) bool {
		if len(v) != x.dim {
			err = fmt.Errorf("vector: Build: id %d: %w", id, &DimensionError{Got: len(v), Want: x.dim})
			return false
		}
		cur.ids = append(cur.ids, id)
		cur.parts = append(cur.parts, partition)
		cur.vecs = append(cur.vecs, v...)
		if len(cur.ids) == buildBatch {
			full <- cur
			cur = <-free
		}
		return !failed.Load()
	})
	if err == nil {
		err = itemsErr
	}
	if err == nil && len(cur.ids) > 0 {
		full <- cur
	}
	finish()
	if err == nil {
		err = encErr
	}
	if err != nil {
		return err
	}
	mean := sc.mean()
	switch {
	case sc.centre == nil || mean == nil:
		x.recentre(&d, mean)
	case drift(mean, sc.centre) > 0.05:
		x.recentre(&d, mean)
	default:
		d.mean = sc.centre
		d.centredAt = d.n
	}
	x.mu.Lock()
	x.d = d
	x.mu.Unlock()
	return nil
}

// mean returns the mean of the vectors encoded so far, or nil if none.
func (sc *buildScratch) mean() []float32 {
	if sc.encoded == 0 {
		return nil
	}
	dim := len(sc.sums[0])
	mean := make([]float32, dim)
	for j := range mean {
		var s float64
		for _, sum := range sc.sums {
			s += sum[j]
		}
		mean[j] = float32(s / float64(sc.encoded))
	}
	return mean
}

// drift returns ‖mean − centre‖ relative to the root mean square distance
// of unit vectors to their mean, √(1 − ‖mean‖²).
func drift(mean, centre []float32) float64 {
	var dd, mm float64
	for j, m := range mean {
		e := float64(m - centre[j])
		dd += e * e
		mm += float64(m) * float64(m)
	}
	spread := math.Sqrt(max(1-mm, 1e-12))
	return math.Sqrt(dd) / spread
}

// encodeBatch checks, quantises and stores the items of buf into d, adding
// each normalised vector to sc.sums. Once sc holds a provisional centre it
// computes the 1-bit codes too; the batch that completes the sample fixes
// that centre and codes the rows stored so far.
func (x *Index) encodeBatch(d *indexData, buf *buildBuffer, sc *buildScratch) error {
	n := len(buf.ids)
	centre := sc.centre
	var next atomic.Int64
	const step = 64
	parallel(min(sc.workers, (n+step-1)/step), func(w int) {
		sum32 := make([]float32, x.dim) // this batch's share, in float32
		for {
			lo := int(next.Add(step)) - step
			if lo >= n {
				break
			}
			for i := lo; i < min(lo+step, n); i++ {
				v := buf.vecs[i*x.dim : (i+1)*x.dim]
				sc.errs[i] = nil
				var inv float32
				if x.quantised() {
					// quantizeInt8 checks v on the way.
					sc.scales[i], inv = quantizeInt8(sc.q8[i*x.dim:(i+1)*x.dim], v)
					if sc.scales[i] == 0 {
						sc.errs[i] = Check(v, x.dim)
						continue
					}
					sc.exact[i] = int8Exact(sc.q8[i*x.dim:(i+1)*x.dim], v)
				} else if !finiteNonZero(v) {
					sc.errs[i] = Check(v, x.dim)
					continue
				}
				var floats []float32
				if x.opts.KeepFloats {
					Normalize(v)
					inv, floats = 1, v
				}
				sum32 = sum32[:len(v)]
				for j, f := range v {
					sum32[j] += f * inv
				}
				if centre != nil {
					sc.fac[i], sc.rc[i] = x.codeOf(sc.bits[i*x.nw:(i+1)*x.nw], sc.q8[i*x.dim:(i+1)*x.dim], sc.scales[i], floats, centre)
				}
			}
		}
		sum := sc.sums[w]
		for j, f := range sum32 {
			sum[j] += float64(f)
		}
	})
	for i := range n {
		if sc.errs[i] != nil {
			return fmt.Errorf("vector: Build: id %d: %w", buf.ids[i], sc.errs[i])
		}
		e := encoded{scale: sc.scales[i], exact: sc.exact[i]}
		if x.quantised() {
			e.q8 = sc.q8[i*x.dim : (i+1)*x.dim]
			if centre != nil {
				e.bits, e.fac, e.rc = sc.bits[i*x.nw:(i+1)*x.nw], sc.fac[i], sc.rc[i]
			}
		}
		if x.opts.KeepFloats {
			e.floats = buf.vecs[i*x.dim : (i+1)*x.dim]
		}
		x.put(d, buf.ids[i], buf.parts[i], e, false)
	}
	sc.encoded += n
	if sc.centre == nil && x.quantised() && sc.encoded >= buildSample {
		sc.centre = sc.mean()
		x.recentre(d, sc.centre)
	}
	return nil
}

// Rebuild recomputes the centre from the rows present and re-derives every
// 1-bit code from it (from the int8 codes, or the float32 vectors with
// KeepFloats): call it when the data has drifted since [Index.Build]. It
// takes about half a second per million rows of dimension 384 on two
// cores and holds the write lock meanwhile.
func (x *Index) Rebuild() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.recentre(&x.d, nil)
}

// recentre sets d.mean to mean, or to the mean of d's rows if mean is nil,
// and recomputes every row's 1-bit code.
func (x *Index) recentre(d *indexData, mean []float32) {
	d.centredAt = d.n
	if !x.quantised() {
		return
	}
	var blocks []*block
	for _, seg := range d.parts {
		blocks = append(blocks, seg.blocks...)
	}
	nwork := min(x.workers(), len(blocks))
	var next atomic.Int64
	if mean == nil {
		sums := make([][]float64, max(nwork, 1))
		parallel(nwork, func(w int) {
			sum := make([]float64, x.dim)
			row := make([]float32, x.dim)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(blocks) {
					break
				}
				b := blocks[i]
				for r := range b.ids {
					for j, f := range x.rowVector(b, r, row) {
						sum[j] += float64(f)
					}
				}
			}
			sums[w] = sum
		})
		mean = make([]float32, x.dim)
		if d.n > 0 {
			for j := range mean {
				var s float64
				for _, sum := range sums {
					s += sum[j]
				}
				mean[j] = float32(s / float64(d.n))
			}
		}
		next.Store(0)
	}
	d.mean = mean
	parallel(nwork, func(int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(blocks) {
				return
			}
			b := blocks[i]
			for r := range b.ids {
				x.code(b, r, mean)
			}
		}
	})
}

// rowVector returns row r of b as a normalised float32 vector: its stored
// float32 vector, or its int8 code decoded into buf.
func (x *Index) rowVector(b *block, r int, buf []float32) []float32 {
	if x.opts.KeepFloats {
		return b.floats[r*x.dim : (r+1)*x.dim]
	}
	s := b.scale[r]
	for j, c := range b.q8[r*x.dim : (r+1)*x.dim] {
		buf[j] = float32(c) * s
	}
	return buf
}

// Search returns up to k rows of partition nearest to q by cosine
// similarity, best first (ties by ascending id), among the rows for which
// allow returns true; allow may be nil to keep all rows. It returns fewer
// than k only when the partition has fewer allowed rows (or exact reports
// some as gone). The index assumes the stored vectors of the store of
// record are L2-normalised, as an embedder returns them; q need not be.
//
// allow is consulted before a row becomes a candidate, so a selective
// filter still yields k results. It may run concurrently on several
// goroutines, under the index's read lock, and is called for a fraction of
// the rows: those nearer by Hamming distance than the candidates kept so
// far and than a bound derived from the distances of all rows and the
// fraction allow passes (about 3·candidates/fraction rows in all; all rows
// of a small partition or under a very selective filter). A row may be
// asked twice in a search: where the bound may have left out a candidate
// (a filter correlated with the vectors), a goroutine's share of the rows
// is scanned again without it.
//
// Unless the index keeps float32 vectors (KeepFloats), exact must return
// the float32 vectors of the given ids, in order, for the final rescoring
// (up to Rerank ids per call; in production a read of the store of
// record). Rows whose int8 code is exactly the vector they were given (a
// vector decoded from an int8 code, as a store of record keeping int8
// codes returns them: every element a multiple of max|v|/127, to within
// 1/1024 of a step) are rescored from the code in memory and not passed
// to exact, which is not called when no row needs it. A
// nil vector means the id is gone; it is left out of the results. exact
// runs on the calling goroutine without the index's lock held; its error
// is returned wrapped. With KeepFloats, exact may be nil and is not
// called.
//
// Search returns an error matching [ErrDimensionMismatch] or
// [ErrInvalid] if [Check] rejects q or a vector from exact, and
// [ErrNeedExact] if exact is needed and nil. k <= 0 returns no results.
func (x *Index) Search(q []float32, partition uint32, k int, allow func(id int64) bool, exact func(ids []int64) ([][]float32, error)) ([]Neighbor, error) {
	return x.search(q, partition, k, allow, exact, false)
}

// SearchFetchAll is [Index.Search] passing every row it rescores to exact,
// also those whose int8 codes are exact, and rescoring all of them from
// what exact returns: for a caller that must check each candidate against
// the store of record (an index that may lag behind it).
func (x *Index) SearchFetchAll(q []float32, partition uint32, k int, allow func(id int64) bool, exact func(ids []int64) ([][]float32, error)) ([]Neighbor, error) {
	return x.search(q, partition, k, allow, exact, true)
}

func (x *Index) search(q []float32, partition uint32, k int, allow func(id int64) bool, exact func(ids []int64) ([][]float32, error), fetchAll bool) ([]Neighbor, error) {
	if err := Check(q, x.dim); err != nil {
		return nil, err
	}
	if !x.opts.KeepFloats && exact == nil {
		return nil, ErrNeedExact
	}
	if k <= 0 {
		return nil, nil
	}
	qn := slices.Clone(q)
	Normalize(qn)
	if x.opts.Exact {
		return x.searchExact(qn, partition, k, allow), nil
	}

	var ids []int64
	var out []Neighbor
	func() {
		x.mu.RLock()
		defer x.mu.RUnlock()
		seg := x.d.parts[partition]
		if seg == nil {
			return
		}
		keys := x.searchCodes(seg, qn, k, allow)
		out = make([]Neighbor, 0, len(keys))
		var buf []float32
		for _, key := range keys {
			slot := int(keySlot(key))
			b, r := seg.blocks[slot>>blockShift], slot&blockMask
			switch {
			case x.opts.KeepFloats:
				out = append(out, Neighbor{ID: b.ids[r], Score: Dot(qn, b.floats[r*x.dim:(r+1)*x.dim])})
			case b.exact[r] && !fetchAll:
				// The code is the stored vector: its cosine is exact.
				if buf == nil {
					buf = make([]float32, x.dim)
				}
				out = append(out, Neighbor{ID: b.ids[r], Score: Cosine(qn, x.rowVector(b, r, buf))})
			default:
				ids = append(ids, b.ids[r])
			}
		}
	}()
	if len(ids) > 0 {
		vecs, err := exact(ids)
		if err != nil {
			return nil, fmt.Errorf("vector: fetching vectors to rescore: %w", err)
		}
		if len(vecs) != len(ids) {
			return nil, fmt.Errorf("vector: exact callback returned %d vectors for %d ids", len(vecs), len(ids))
		}
		for i, v := range vecs {
			if v == nil {
				continue
			}
			if err := Check(v, x.dim); err != nil {
				return nil, fmt.Errorf("vector: exact vector of id %d: %w", ids[i], err)
			}
			out = append(out, Neighbor{ID: ids[i], Score: Cosine(qn, v)})
		}
	}
	sortNeighbors(out)
	if len(out) > k {
		out = out[:k:k]
	}
	return out, nil
}

func sortNeighbors(ns []Neighbor) {
	slices.SortFunc(ns, func(a, b Neighbor) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}

// plan returns the counts of a search of k neighbours among about n rows.
func (x *Index) plan(k int, n float64) (cands, short, rerank int) {
	root := math.Sqrt(max(n, 1))
	pick := func(opt int, perRoot float64, perK int) int {
		if opt > 0 {
			return opt
		}
		return max(int(perRoot*root), perK*k)
	}
	rerank = max(k, x.opts.Rerank)
	if x.opts.Rerank == 0 {
		rerank = max(k, DefaultRerank, DefaultRerankPerK*k)
	}
	short = max(rerank, pick(x.opts.Shortlist, DefaultShortlistSqrt, DefaultShortlistPerK))
	cands = max(short, pick(x.opts.Candidates, DefaultCandidatesSqrt, DefaultCandidatesPerK))
	return cands, short, rerank
}

// chunkRange returns the block and row range of chunk c of seg (chunk
// c%chunksPerBlock of block c/chunksPerBlock); lo >= hi when the chunk is
// past the end of a partly filled block.
func chunkRange(seg *segment, c int) (b *block, lo, hi int) {
	b = seg.blocks[c>>chunkBlockShift]
	lo = (c & (chunksPerBlock - 1)) << chunkShift
	hi = min(lo+chunkRows, len(b.ids))
	return b, lo, hi
}

// queryCodes are the codes of a query.
type queryCodes struct {
	bits   []uint64 // 1-bit code of qn − centre
	planes []uint64 // planeBits planes of qn − centre quantised
	lo     float32  // (qn − centre)[i] ≈ lo + delta·n[i]
	delta  float32
	sum    float32 // Σ (qn − centre)[i]
	q8     []int8  // int8 code of qn
}

// scanScratch is the reusable memory of one scanning goroutine.
type scanScratch struct {
	rows, dist    []uint32 // rows of a chunk below the threshold, and their distances
	sel           hammingSelect
	asked, passed int // calls of allow, and how many returned true

	// With a filter (see scanShare): seen counts the rows hammingBelow
	// returned, allowed or not, per distance, out of scanned rows; rows
	// at bound or above are not asked; lowBound is the least bound that
	// left out a row the selection would have taken (noBound if none).
	seen            []int32
	scanned         int
	bound, lowBound uint32
	boundAt         int // s.asked when bound was last set
}

// Tuning of the filter's distance bound (see scanShare).
const (
	// boundMargin is how many times more allowed rows than the search
	// keeps the bound expects below it.
	boundMargin = 3
	// boundMinAsked and boundMinPassed are the least calls of allow and
	// rows passed before the fraction passed is trusted for a bound.
	boundMinAsked  = 512
	boundMinPassed = 16
	// boundEvery is how many calls of allow apart the bound is set again
	// within a chunk (the first chunk, whose 4096 rows are all below the
	// threshold, would otherwise all be asked).
	boundEvery = 256
)

// searchCodes runs steps 1 to 3 of a search (see Index) over seg and
// returns the keys (scoreKey of int8 score and slot) of the best rows, best
// first. The read lock is held.
func (x *Index) searchCodes(seg *segment, qn []float32, k int, allow func(int64) bool) []uint64 {
	cands0, _, _ := x.plan(k, float64(seg.n)) // before the filter is known
	maxDist := x.nw * 64
	qc := queryCodes{bits: make([]uint64, x.nw), planes: make([]uint64, planeBits*x.nw), q8: make([]int8, x.dim)}
	residualCode(qc.bits, qn, x.d.mean)
	qc.lo, qc.delta, qc.sum = queryPlanes(qc.planes, qn, x.d.mean)
	quantizeInt8(qc.q8, qn)
	workers := x.workers()

	// Step 1: scan.
	nwork := max(1, min(workers, (seg.n+chunkRows-1)/chunkRows))
	sels := make([]*scanScratch, nwork)
	// Goroutine w scans chunks w, w+nwork, …: a fixed share, so that which
	// rows tied at a goroutine's threshold it keeps, and where a filter's
	// estimate (and bound) lowers its limit, do not depend on scheduling,
	// and a search repeated on the same content returns the same rows.
	start := noBound(maxDist)
	if allow == nil && !x.noStartBound {
		start = x.startBound(seg, qc.bits, cands0)
	}
	parallel(nwork, func(w int) {
		s, _ := x.scratch.Get().(*scanScratch)
		if s == nil {
			s = &scanScratch{rows: make([]uint32, chunkRows), dist: make([]uint32, chunkRows)}
		}
		sels[w] = s
		x.scanShare(s, seg, qc.bits, w, nwork, cands0, k, allow, allow != nil, start)
	})
	// Plan again for the rows the filter lets through.
	plan := func() (cands, short, rerank int) {
		asked, passed := 0, 0
		for _, s := range sels {
			asked, passed = asked+s.asked, passed+s.passed
		}
		through := float64(seg.n)
		if asked > 0 {
			through *= float64(passed) / float64(asked)
		}
		return x.plan(k, through)
	}
	cands, short, rerank := plan()
	for allow != nil || start < noBound(maxDist) {
		// A share whose bound left out rows at or below the distance of
		// the cands-th row of all shares (or any row, when the shares
		// hold fewer than cands) may have missed candidates: a filter
		// correlated with the vectors (allowed rows farther from the
		// query than rows at large), or fewer allowed rows than wanted.
		// Such a share is scanned again without a bound, from scratch
		// (so that no row enters twice); its rows are asked again. The
		// other shares left out only rows of distance above that row's,
		// which no merge would take; the rescans can only lower it, but
		// they change the estimate of the fraction passed, which a bound
		// biases (rows near the query are the ones asked), and so cands:
		// check again until no share needs a rescan (each is rescanned
		// at most once).
		hist := make([]int32, maxDist+1)
		for _, s := range sels {
			for d, n := range s.sel.hist {
				hist[d] += n
			}
		}
		t, _ := threshold(hist, cands)
		var redo []int
		for w, s := range sels {
			if s.lowBound < noBound(maxDist) && s.lowBound <= t {
				redo = append(redo, w)
			}
		}
		if len(redo) == 0 {
			break
		}
		parallel(len(redo), func(i int) {
			w := redo[i]
			x.scanShare(sels[w], seg, qc.bits, w, nwork, cands0, k, allow, false, noBound(maxDist))
		})
		cands, short, rerank = plan()
	}
	candidates := mergeSelections(sels, cands, maxDist)
	for _, s := range sels {
		x.scratch.Put(s)
	}

	// Step 2, on interleaved shares of the candidates.
	shortlist := bestOf(short, parallelShares(workers, len(candidates), minPerWorker, func(w, nw int) []uint64 {
		h := topN{n: short, keys: make([]uint64, 0, min(short, len(candidates)))}
		for i := w; i < len(candidates); i += nw {
			slot := int(candidates[i])
			b, r := seg.blocks[slot>>blockShift], slot&blockMask
			pc, sn := asymCounts(b.bits[r*x.nw:(r+1)*x.nw], qc.planes)
			est := b.fac[r]*(2*(qc.lo*float32(pc)+qc.delta*float32(sn))-qc.sum) + b.rc[r]
			if key := scoreKey(est, int32(slot)); key < h.worst() {
				h.push(key)
			}
		}
		return h.keys
	}))
	// Step 3, likewise, four rows at a time.
	return bestOf(rerank, parallelShares(workers, len(shortlist), minPerWorkerInt8, func(w, nw int) []uint64 {
		h := topN{n: rerank, keys: make([]uint64, 0, min(rerank, len(shortlist)))}
		var slots [4]int
		var codes [4][]int8
		var scales [4]float32
		m := 0
		flush := func() {
			for j := m; j < 4; j++ { // pad with the first row
				codes[j] = codes[0]
			}
			var dots [4]int32
			dots[0], dots[1], dots[2], dots[3] = dotInt8x4(qc.q8, codes[0], codes[1], codes[2], codes[3])
			for j := range m {
				h.push(scoreKey(float32(dots[j])*scales[j], int32(slots[j])))
			}
			m = 0
		}
		for i := w; i < len(shortlist); i += nw {
			slot := int(keySlot(shortlist[i]))
			b, r := seg.blocks[slot>>blockShift], slot&blockMask
			slots[m], codes[m], scales[m] = slot, b.q8[r*x.dim:(r+1)*x.dim], b.scale[r]
			if m++; m == 4 {
				flush()
			}
		}
		if m > 0 {
			flush()
		}
		return h.keys
	}))
}

// startBound returns the distance below which, judging by the first chunk
// of seg, about boundMargin·cands of its rows lie, for an unfiltered
// search; noBound when seg is too small for a bound to save much.
//
// Without it a share's selection keeps every row until it holds 2·cands,
// and its threshold then falls slowly (to the cands-th distance of the
// rows seen so far): at 1M rows it pushed about 34,000 rows a share, a
// millisecond of CPU a search beside the 3.7 ms of the scan itself. With
// it a share pushes about boundMargin·cands/nwork. The first chunk is a
// sample of 4,096 rows; a bound too tight for a share (its selection's
// rows at or below the merged candidates' worst distance may include
// rows it left out) makes searchCodes rescan that share without a bound,
// as for a filter's bound, so results are those of the scan without one.
// The sample depends only on the content, so a search stays repeatable.
func (x *Index) startBound(seg *segment, qbits []uint64, cands int) uint32 {
	maxDist := x.nw * 64
	if 2*boundMargin*float64(cands) >= float64(seg.n) || len(seg.blocks) == 0 {
		return noBound(maxDist)
	}
	b, lo, hi := chunkRange(seg, 0)
	if hi-lo < chunkRows {
		return noBound(maxDist)
	}
	sc, _ := x.scratch.Get().(*scanScratch) // its row buffers, as a scan's
	if sc == nil {
		sc = &scanScratch{rows: make([]uint32, chunkRows), dist: make([]uint32, chunkRows)}
	}
	defer x.scratch.Put(sc)
	n := hammingBelow(sc.rows, sc.dist, b.bits[lo*x.nw:hi*x.nw], qbits, noBound(maxDist))
	hist := make([]int32, maxDist+1)
	for _, d := range sc.dist[:n] {
		hist[d]++
	}
	// At least 32 rows of the sample, so that the quantile is not a
	// handful of rows' (at 10M rows the margin alone would be 7).
	want := max(32, boundMargin*float64(cands)*float64(hi-lo)/float64(seg.n))
	sum := 0
	for d, c := range hist {
		if sum += int(c); float64(sum) >= want {
			return uint32(d + 1)
		}
	}
	return noBound(maxDist)
}

// noBound is scanScratch.bound when no bound applies: above every
// distance of a partition's codes (maxDist is x.nw·64).
func noBound(maxDist int) uint32 { return uint32(maxDist + 1) }

// scanShare runs step 1 over goroutine w's share of seg's chunks (w,
// w+nwork, …) into s, keeping up to cands rows (fewer as a filter's
// fraction becomes known).
//
// With a filter and bounded, it also bounds the distance of the rows it
// asks allow about. The selection's threshold alone falls only once
// 2·limit allowed rows are kept, and slowly after: with a selective
// filter, most of the share lies below it and is asked (every row of a
// 1M-row partition with a 10% filter on 16 goroutines). But hammingBelow
// returns the distances of all rows below the threshold, allowed or not;
// seen counts them. With a fraction f of the rows asked passing, the
// cands rows the merge keeps lie, in expectation, where the unfiltered
// count of the whole partition reaches cands/f; the share's own count,
// scaled by seg.n/scanned, estimates it. The bound is the distance where
// that estimate reaches boundMargin·cands/f; rows at or above it are not
// asked (nor returned by hammingBelow). About boundMargin·cands/f rows of
// the partition are asked then, once f is known (boundMinAsked calls in
// each share). The bound is set again every boundEvery calls, so that the
// first chunk, whose rows are all below the selection's threshold, is not
// asked in full. Where the estimate is wrong (a filter correlated with
// the vectors, a share unlike the others), searchCodes finds out from
// lowBound and scans the share again with bounded false.
//
// Without a filter the loop is the plain one, with start (see
// startBound) as the bound: rows at start or farther are not pushed, and
// lowBound records that some may have been left out.
func (x *Index) scanShare(s *scanScratch, seg *segment, qbits []uint64, w, nwork, cands, k int, allow func(int64) bool, bounded bool, start uint32) {
	maxDist := x.nw * 64
	nchunks := len(seg.blocks) * chunksPerBlock
	s.sel.reset(cands, maxDist)
	s.asked, s.passed = 0, 0
	s.bound, s.lowBound = noBound(maxDist), noBound(maxDist)
	if allow == nil {
		s.bound = start
	}
	s.scanned, s.boundAt = 0, 0
	if bounded {
		if cap(s.seen) < maxDist+1 {
			s.seen = make([]int32, maxDist+1)
		}
		s.seen = s.seen[:maxDist+1]
		clear(s.seen)
	}
	for c := w; c < nchunks; c += nwork {
		b, lo, hi := chunkRange(seg, c)
		if lo >= hi {
			continue
		}
		base := uint32(c>>chunkBlockShift)<<blockShift | uint32(lo)
		if allow == nil {
			if s.bound < s.sel.thr {
				s.lowBound = s.bound // rows at the bound or above are left out
			}
			n := hammingBelow(s.rows, s.dist, b.bits[lo*x.nw:hi*x.nw], qbits, min(s.sel.thr, s.bound))
			dists := s.dist[:n]
			for i, r := range s.rows[:n] {
				if d := dists[i]; d < s.sel.thr { // else the threshold fell within the chunk
					s.sel.push(d, base+r)
				}
			}
			continue
		}
		thr := min(s.sel.thr, s.bound)
		if s.bound < s.sel.thr {
			// Rows at the bound or above are left out of this chunk.
			s.lowBound = min(s.lowBound, s.bound)
		}
		n := hammingBelow(s.rows, s.dist, b.bits[lo*x.nw:hi*x.nw], qbits, thr)
		ids := b.ids[lo:hi]
		dists := s.dist[:n]
		if bounded {
			for _, d := range dists {
				s.seen[d]++
			}
			s.scanned += hi - lo
			bounded = x.setBound(s, seg.n, k)
		}
		if !bounded && s.bound >= s.sel.thr {
			// No bound to count for or apply (a filter too selective
			// for one, or a rescan): the plain filtered loop.
			for i, r := range s.rows[:n] {
				d := dists[i]
				if d >= s.sel.thr {
					continue // the threshold fell within the chunk
				}
				s.asked++
				if !allow(ids[r]) {
					continue
				}
				s.passed++
				s.sel.push(d, base+r)
			}
		} else {
			for i, r := range s.rows[:n] {
				d := dists[i]
				if d >= s.sel.thr {
					continue // the threshold fell within the chunk
				}
				if d >= s.bound { // the bound fell within the chunk
					s.lowBound = min(s.lowBound, s.bound)
					continue
				}
				s.asked++
				if bounded && s.asked-s.boundAt >= boundEvery {
					bounded = x.setBound(s, seg.n, k)
				}
				if !allow(ids[r]) {
					continue
				}
				s.passed++
				s.sel.push(d, base+r)
			}
		}
		if s.asked >= 1024 {
			// Keep fewer candidates when the filter thins the rows
			// out, with a margin: the fraction is estimated from
			// this goroutine's share only.
			f := min(1, 2*float64(s.passed)/float64(s.asked))
			if c, _, _ := x.plan(k, f*float64(seg.n)); c < s.sel.limit {
				s.sel.limit = c
			}
		}
	}
}

// setBound sets s.bound from the rows seen and the fraction of those
// asked that passed (see scanShare), for a partition of n rows. It
// returns false when no bound can apply or is worth counting for
// (boundMargin·cands/f rows are half the partition or more: a small
// partition, or a filter so selective that most allowed rows may be
// candidates), so that the share stops counting distances (about a
// nanosecond a row, next to a call of allow that a bound saving under
// half the calls hardly repays); the bound is then noBound. A share with
// fewer than boundMinPassed rows passed out of many asked is such a case
// too, and stops at 16·boundMinAsked calls.
func (x *Index) setBound(s *scanScratch, n, k int) bool {
	s.boundAt = s.asked
	if s.asked < boundMinAsked || s.passed < boundMinPassed {
		return s.asked < 16*boundMinAsked
	}
	f := float64(s.passed) / float64(s.asked)
	cands, _, _ := x.plan(k, f*float64(n))
	s.bound = noBound(len(s.seen) - 1)
	if 2*boundMargin*float64(cands) >= f*float64(n) {
		return false
	}
	// The count of the share's scanned rows below the bound.
	want := boundMargin * float64(cands) / f * float64(s.scanned) / float64(n)
	sum := 0
	for d, c := range s.seen {
		if sum += int(c); float64(sum) >= want {
			s.bound = uint32(d + 1)
			break
		}
	}
	return true
}

// parallelShares runs fn(w, nw) for w in [0, nw) on nw goroutines, where
// nw is at most workers and leaves at least minEach of n items to each,
// and returns their results.
func parallelShares(workers, n, minEach int, fn func(w, nw int) []uint64) [][]uint64 {
	nw := max(1, min(workers, n/minEach))
	out := make([][]uint64, nw)
	parallel(nw, func(w int) { out[w] = fn(w, nw) })
	return out
}

// bestOf returns the n smallest keys of the lists, sorted.
func bestOf(n int, lists [][]uint64) []uint64 {
	if len(lists) == 1 {
		slices.Sort(lists[0])
		return lists[0]
	}
	h := topN{n: n, keys: make([]uint64, 0, n)}
	for _, keys := range lists {
		for _, k := range keys {
			h.push(k)
		}
	}
	slices.Sort(h.keys)
	return h.keys
}

// hammingSelect keeps at least the limit rows of least distance pushed
// into it, with amortised O(1) work per push: keys accumulate until there
// are twice the limit, then a histogram of distances gives the threshold
// that keeps the limit, and the rest are dropped.
type hammingSelect struct {
	limit int
	thr   uint32   // a row enters only if its distance is below
	keys  []uint64 // distance<<32 | slot
	hist  []int32  // keys per distance
}

func (s *hammingSelect) reset(limit, maxDist int) {
	s.limit = limit
	s.thr = uint32(maxDist + 1)
	s.keys = s.keys[:0]
	if cap(s.hist) < maxDist+1 {
		s.hist = make([]int32, maxDist+1)
	}
	s.hist = s.hist[:maxDist+1]
	clear(s.hist)
}

func (s *hammingSelect) push(d, slot uint32) {
	s.keys = append(s.keys, uint64(d)<<32|uint64(slot))
	s.hist[d]++
	if len(s.keys) >= 2*s.limit {
		s.compact()
	}
}

// compact keeps the limit keys of least distance (ties at the threshold
// broken by order of arrival) and lowers thr to the largest distance kept:
// later rows at that distance are ties of rows already kept.
func (s *hammingSelect) compact() {
	t, below := threshold(s.hist, s.limit)
	atT := s.limit - below // rows at distance t to keep
	s.keys = keepBelow(s.keys, t, atT)
	if int(t) < len(s.hist) {
		s.hist[t] = int32(atT)
		clear(s.hist[t+1:])
	}
	s.thr = t
}

// keepBelow filters keys in place, keeping those of distance below t and
// the first atT of distance t.
func keepBelow(keys []uint64, t uint32, atT int) []uint64 {
	n := 0
	for _, k := range keys {
		d := uint32(k >> 32)
		keep := d < t
		if d == t && atT > 0 {
			keep = true
			atT--
		}
		keys[n] = k
		if keep {
			n++
		}
	}
	return keys[:n]
}

// threshold returns the least distance t such that hist[0..t] counts at
// least limit rows, and the count below t. If there are fewer rows, t is
// len(hist).
func threshold(hist []int32, limit int) (t uint32, below int) {
	for d, n := range hist {
		if below+int(n) >= limit {
			return uint32(d), below
		}
		below += int(n)
	}
	return uint32(len(hist)), below
}

// mergeSelections returns the slots of the limit rows of least distance
// kept by sels.
func mergeSelections(sels []*scanScratch, limit, maxDist int) []int32 {
	if len(sels) == 1 && len(sels[0].sel.keys) <= limit {
		out := make([]int32, len(sels[0].sel.keys))
		for i, k := range sels[0].sel.keys {
			out[i] = keySlot(k)
		}
		return out
	}
	hist := make([]int32, maxDist+1)
	for _, s := range sels {
		for d, n := range s.sel.hist {
			hist[d] += n
		}
	}
	t, below := threshold(hist, limit)
	atT := limit - below
	out := make([]int32, 0, limit)
	for _, s := range sels {
		for _, k := range s.sel.keys {
			d := uint32(k >> 32)
			if d < t || (d == t && atT > 0) {
				if d == t {
					atT--
				}
				out = append(out, keySlot(k))
			}
		}
	}
	return out
}

// searchExact scans the float32 vectors of a partition.
func (x *Index) searchExact(qn []float32, partition uint32, k int, allow func(int64) bool) []Neighbor {
	x.mu.RLock()
	defer x.mu.RUnlock()
	seg := x.d.parts[partition]
	if seg == nil {
		return nil
	}
	nchunks := len(seg.blocks) * chunksPerBlock
	nwork := max(1, min(x.workers(), (seg.n+chunkRows-1)/chunkRows))
	results := make([][]uint64, nwork)
	parallel(nwork, func(w int) {
		h := topN{n: k, keys: make([]uint64, 0, min(k, seg.n))}
		for c := w; c < nchunks; c += nwork {
			b, lo, hi := chunkRange(seg, c)
			base := int32(c>>chunkBlockShift)<<blockShift | int32(lo)
			for r := lo; r < hi; r++ {
				key := scoreKey(Dot(qn, b.floats[r*x.dim:(r+1)*x.dim]), base+int32(r-lo))
				if key >= h.worst() || (allow != nil && !allow(b.ids[r])) {
					continue
				}
				h.push(key)
			}
		}
		results[w] = h.keys
	})
	all := topN{n: k}
	for _, keys := range results {
		for _, key := range keys {
			all.push(key)
		}
	}
	out := make([]Neighbor, len(all.keys))
	for i, key := range all.keys {
		slot := int(keySlot(key))
		out[i] = Neighbor{ID: seg.blocks[slot>>blockShift].ids[slot&blockMask], Score: keyScore(key)}
	}
	sortNeighbors(out)
	return out
}

// parallel calls fn(0), ..., fn(n-1) concurrently, fn(0) on the calling
// goroutine, and returns when all have returned. If any panicked, it
// panics on the calling goroutine with the first value, after all have
// returned, so that no goroutine outlives the call (and the locks it
// relies on).
func parallel(n int, fn func(w int)) {
	if n <= 1 {
		fn(0)
		return
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		panicked bool
		value    any
	)
	run := func(w int) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				if !panicked {
					panicked, value = true, r
				}
				mu.Unlock()
			}
		}()
		fn(w)
	}
	for w := 1; w < n; w++ {
		wg.Go(func() { run(w) })
	}
	run(0)
	wg.Wait()
	if panicked {
		panic(value)
	}
}
