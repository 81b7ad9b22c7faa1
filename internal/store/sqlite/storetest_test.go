package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store/storetest"
)

var (
	_ storetest.Store         = (*Store)(nil)
	_ storetest.VectorEncoder = (*Store)(nil)
)

// TestConformance runs package store's conformance suite against the
// SQLite store, in both vector encodings.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return testStore(t) })
}

func TestConformanceFloat32(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		st, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "store.db"), VectorEncoding: VectorFloat32})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
