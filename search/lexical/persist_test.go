package lexical_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/lexical"
)

// persistCorpus returns an index of random texts in three partitions,
// with updates, moves, deletes (enough to compact the arena and to free
// term numbers) and ids far from the dense range.
func persistCorpus(seed uint64) (*lexical.Index, *model, *corpusGen) {
	g := newCorpusGen(seed, 300)
	x, m := lexical.NewIndex(), newModel()
	put := func(id int64, part uint32, text string) { x.Upsert(id, part, text); m.upsert(id, part, text) }
	for id := range int64(3000) {
		put(id, uint32(id%3), g.text(0, 30))
	}
	for id := int64(0); id < 3000; id += 5 {
		x.Delete(id)
		m.delete(id)
	}
	for id := int64(1); id < 3000; id += 13 {
		put(id, uint32(id%2), g.text(1, 12))
	}
	put(1<<40, 1, "far away wax")
	put(-3, 2, "negative wbx wbx")
	put(5000, 7, "unique zzterm") // a partition of one
	x.Delete(5000)                // and gone: its term number freed
	m.delete(5000)
	return x, m, g
}

func roundTrip(t *testing.T, x *lexical.Index) *lexical.Index {
	t.Helper()
	var buf bytes.Buffer
	n, err := x.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d", n, err, buf.Len())
	}
	y := lexical.NewIndex()
	y.Upsert(99, 0, "replaced by ReadFrom")
	if m, err := y.ReadFrom(bytes.NewReader(buf.Bytes())); err != nil || m != n {
		t.Fatalf("ReadFrom = %d, %v; want %d", m, err, n)
	}
	return y
}

// TestIndexPersistRoundTrip: an index read back answers every search and
// score as the one written, and both change alike under the same writes
// (and still match the brute-force reference).
func TestIndexPersistRoundTrip(t *testing.T) {
	x, m, g := persistCorpus(1)
	y := roundTrip(t, x)
	if x.Len() != y.Len() || x.Stats() != y.Stats() {
		t.Fatalf("read back: %d docs %+v, want %d %+v", y.Len(), y.Stats(), x.Len(), x.Stats())
	}
	queries := make([][]string, 60)
	for i := range queries {
		queries[i] = g.query()
	}
	same := func(label string) {
		t.Helper()
		for _, part := range []uint32{0, 1, 2, 7} {
			if x.PartitionStats(part) != y.PartitionStats(part) {
				t.Fatalf("%s: partition %d stats differ", label, part)
			}
			for _, terms := range queries {
				for _, rank := range []lexical.Ranking{lexical.RankScore, lexical.RankBM25} {
					q := lexical.Query{Terms: terms, K: 10, Rank: rank}
					a, b := x.Search(part, q), y.Search(part, q)
					if !slices.Equal(a, b) {
						t.Fatalf("%s: partition %d %q: %v, read back %v", label, part, terms, a, b)
					}
					checkSame(t, label, b, m.topK(part, q), rank == lexical.RankScore, nil)
					ids := []int64{1, 2, 3, 1 << 40, -3, 44}
					if !slices.Equal(x.Score(part, q, ids), y.Score(part, q, ids)) {
						t.Fatalf("%s: Score differs", label)
					}
				}
			}
		}
	}
	same("read back")
	for id := int64(2); id < 3000; id += 17 {
		text := g.text(0, 20)
		for _, z := range []*lexical.Index{x, y} {
			z.Upsert(id, uint32(id%4), text)
			z.Delete(id + 1)
		}
		m.upsert(id, uint32(id%4), text)
		m.delete(id + 1)
	}
	for _, z := range []*lexical.Index{x, y} {
		z.Upsert(5001, 7, "unique zzterm again")
	}
	m.upsert(5001, 7, "unique zzterm again")
	same("after writes")
	if z := roundTrip(t, lexical.NewIndex()); z.Len() != 0 {
		t.Fatalf("empty index read back: %d docs", z.Len())
	}
}

func TestIndexReadFromErrors(t *testing.T) {
	x, _, _ := persistCorpus(2)
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for _, cut := range []int{0, 2, 5, 100, len(good) / 3, len(good) - 1} {
		y := lexical.NewIndex()
		y.Upsert(1, 0, "kept")
		if _, err := y.ReadFrom(bytes.NewReader(good[:cut])); !errors.Is(err, lexical.ErrFormat) {
			t.Errorf("cut at %d: ReadFrom = %v, want ErrFormat", cut, err)
		}
		if y.Len() != 1 {
			t.Errorf("cut at %d: a failed ReadFrom changed the index", cut)
		}
	}
	bad := slices.Clone(good)
	bad[4] = 2 // the version
	if _, err := lexical.NewIndex().ReadFrom(bytes.NewReader(bad)); !errors.Is(err, lexical.ErrFormat) {
		t.Errorf("version 2: ReadFrom = %v, want ErrFormat", err)
	}
}

// FuzzIndexReadFrom: any input makes ReadFrom fail or give an index that
// searches, scores and takes writes without panicking.
func FuzzIndexReadFrom(f *testing.F) {
	x := lexical.NewIndex()
	x.Upsert(1, 0, "wax wbx wbx")
	x.Upsert(2, 0, "wbx wcx")
	x.Upsert(3, 1, "wax")
	x.Upsert(1<<40, 1, "far wax")
	x.Delete(2)
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("MRLX\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		y := lexical.NewIndex()
		if _, err := y.ReadFrom(bytes.NewReader(data)); err != nil {
			return
		}
		for _, part := range []uint32{0, 1} {
			q := lexical.Query{Terms: []string{"wax", "wbx", "wcx", "far"}, K: 3}
			y.Search(part, q)
			y.SearchExhaustive(part, q)
			y.Score(part, q, []int64{1, 2, 3, 1 << 40})
		}
		for _, id := range []int64{1, 2, 3, 1 << 40} {
			y.Upsert(id, 0, "wax wdx")
			y.Delete(id)
		}
	})
}
