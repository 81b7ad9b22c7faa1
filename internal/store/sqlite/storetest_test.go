package sqlite

import (
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/store/storetest"
)

var _ storetest.Store = (*Store)(nil)

// TestConformance runs package store's conformance suite against the
// SQLite store.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return testStore(t) })
}
