package postgres_test

import (
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/store/postgres"
	"github.com/memoryrelay/memoryrelay/internal/store/storetest"
)

var _ storetest.Store = (*postgres.Store)(nil)

// TestConformance runs package store's conformance suite against the
// PostgreSQL store, a fresh database per test.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, pgtest.NewDatabase(t)) })
}
