package vector_test

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/memoryrelay/memoryrelay/search/vector"
)

// TestIndexPersistRoundTrip writes an index with several partitions, a
// block boundary, updates and deletes, reads it into a new index and
// checks that every search answers the same, and that writes go on from
// there as they would have on the original.
func TestIndexPersistRoundTrip(t *testing.T) {
	for _, opts := range []vector.IndexOptions{{Dim: 48}, {Dim: 48, KeepFloats: true}, {Dim: 48, Exact: true}} {
		ds := newDataset(20_000, 48, 20, 20, 7)
		x, err := vector.NewIndex(opts)
		if err != nil {
			t.Fatal(err)
		}
		err = x.Build(func(yield func(int64, uint32, []float32) bool) {
			for i, v := range ds.vecs {
				if !yield(int64(i), uint32(i%3), v) {
					return
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 500; i++ {
			x.Delete(int64(i * 7))
		}
		if err := x.Upsert(1_000_000, 9, ds.queries[0]); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		n, err := x.WriteTo(&buf)
		if err != nil || n != int64(buf.Len()) {
			t.Fatalf("WriteTo = %d, %v; wrote %d", n, err, buf.Len())
		}
		y, _ := vector.NewIndex(opts)
		if m, err := y.ReadFrom(bytes.NewReader(buf.Bytes())); err != nil || m != n {
			t.Fatalf("ReadFrom = %d, %v; want %d", m, err, n)
		}
		if y.Len() != x.Len() {
			t.Fatalf("Len %d, want %d", y.Len(), x.Len())
		}
		same := func(label string) {
			t.Helper()
			for _, part := range []uint32{0, 1, 2, 9} {
				for qi, q := range ds.queries {
					a, err1 := x.Search(q, part, 10, nil, ds.lookupOr(q))
					b, err2 := y.Search(q, part, 10, nil, ds.lookupOr(q))
					if err1 != nil || err2 != nil || !slices.Equal(a, b) {
						t.Fatalf("%s %+v partition %d query %d: %v, %v; read back %v, %v", label, opts, part, qi, a, err1, b, err2)
					}
				}
			}
		}
		same("read back")
		for _, z := range []*vector.Index{x, y} {
			z.Delete(1)
			z.Delete(1_000_000)
			if err := z.Upsert(5, 2, ds.queries[3]); err != nil {
				t.Fatal(err)
			}
		}
		same("after writes")
	}
}

// lookupOr is lookup that also knows the row 1,000,000 (the query q's
// vector) of TestIndexPersistRoundTrip.
func (ds *dataset) lookupOr(q []float32) func([]int64) ([][]float32, error) {
	return func(ids []int64) ([][]float32, error) {
		out := make([][]float32, len(ids))
		for i, id := range ids {
			switch {
			case id == 1_000_000:
				out[i] = ds.queries[0]
			case id == 5:
				out[i] = ds.queries[3]
			default:
				out[i] = ds.vecs[id]
			}
		}
		return out, nil
	}
}

func TestIndexReadFromErrors(t *testing.T) {
	ds := newDataset(300, 16, 4, 1, 3)
	x := ds.index(t, vector.IndexOptions{Dim: 16})
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for name, opts := range map[string]vector.IndexOptions{"dimension": {Dim: 17}, "floats": {Dim: 16, KeepFloats: true}} {
		y, _ := vector.NewIndex(opts)
		if _, err := y.ReadFrom(bytes.NewReader(good)); !errors.Is(err, vector.ErrFormat) {
			t.Errorf("%s: ReadFrom = %v, want ErrFormat", name, err)
		}
	}
	for _, cut := range []int{0, 3, 10, 40, len(good) / 2, len(good) - 1} {
		y := ds.index(t, vector.IndexOptions{Dim: 16})
		if _, err := y.ReadFrom(bytes.NewReader(good[:cut])); !errors.Is(err, vector.ErrFormat) {
			t.Errorf("cut at %d: ReadFrom = %v, want ErrFormat", cut, err)
		}
		if y.Len() != 300 {
			t.Errorf("cut at %d: a failed ReadFrom changed the index (Len %d)", cut, y.Len())
		}
	}
	bad := slices.Clone(good)
	bad[4] = 9 // version
	y, _ := vector.NewIndex(vector.IndexOptions{Dim: 16})
	if _, err := y.ReadFrom(bytes.NewReader(bad)); !errors.Is(err, vector.ErrFormat) {
		t.Errorf("version 9: ReadFrom = %v, want ErrFormat", err)
	}
}

// FuzzIndexReadFrom: any input makes ReadFrom return an error or an index
// that searches without panicking.
func FuzzIndexReadFrom(f *testing.F) {
	ds := newDataset(100, 8, 2, 1, 5)
	x, _ := vector.NewIndex(vector.IndexOptions{Dim: 8})
	_ = x.Build(func(yield func(int64, uint32, []float32) bool) {
		for i, v := range ds.vecs {
			if !yield(int64(i), uint32(i%2), v) {
				return
			}
		}
	})
	var buf bytes.Buffer
	if _, err := x.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("MRVX"))
	f.Fuzz(func(t *testing.T, data []byte) {
		y, _ := vector.NewIndex(vector.IndexOptions{Dim: 8, KeepFloats: false})
		if _, err := y.ReadFrom(bytes.NewReader(data)); err != nil {
			return
		}
		q := ds.queries[0]
		for _, part := range []uint32{0, 1} {
			_, _ = y.Search(q, part, 5, nil, func(ids []int64) ([][]float32, error) {
				out := make([][]float32, len(ids))
				for i := range ids {
					out[i] = q
				}
				return out, nil
			})
		}
		y.Delete(3)
		_ = y.Upsert(3, 1, q)
	})
}

// TestIndexSearchRepeatable: a search repeated on unchanged content
// returns the same rows, whatever the scheduling of its goroutines
// (searches run concurrently here, so that they contend for the cores).
func TestIndexSearchRepeatable(t *testing.T) {
	ds := newDataset(40_000, 48, 20, 8, 11)
	x, err := vector.NewIndex(vector.IndexOptions{Dim: ds.dim, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	err = x.Build(func(yield func(int64, uint32, []float32) bool) {
		for i, v := range ds.vecs {
			if !yield(int64(i), 0, v) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	allow := func(id int64) bool { return id%5 != 0 }
	for qi, q := range ds.queries {
		want, err := x.Search(q, 0, 10, allow, ds.lookupOr(q))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		got := make([][]vector.Neighbor, 8)
		for i := range got {
			wg.Go(func() { got[i], _ = x.Search(q, 0, 10, allow, ds.lookupOr(q)) })
		}
		wg.Wait()
		for i, g := range got {
			if !slices.Equal(g, want) {
				t.Fatalf("query %d, repeat %d: %v, first %v", qi, i, g, want)
			}
		}
	}
}
