package postgres

import (
	"context"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
)

// TestFeedSeesOwnWrites: a write committed through this Store changes
// the feed's Version at once, before (or without) its notification: the
// listener is stopped here and reported healthy, so only the write
// counter can tell.
func TestFeedSeesOwnWrites(t *testing.T) {
	s := openForTest(t)
	f, err := s.OpenFeed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.Close() // no notifications from now on
	f.healthy.Store(true)
	ctx := context.Background()
	v0, err := f.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.exec(ctx, "INSERT INTO accounts VALUES ('a', 'a', 0)"); err != nil {
		t.Fatal(err)
	}
	if err := s.exec(ctx, "INSERT INTO agents (id, account_id, public_id, name, created_at, updated_at) VALUES ('g', 'a', 'g', 'g', 0, 0)"); err != nil {
		t.Fatal(err)
	}
	if err := s.exec(ctx, "WITH m AS (INSERT INTO memories (id, account_id, agent_id, agent_ref, content, created_at, updated_at) VALUES ('m', 'a', 'g', 'g', 'c', 0, 0) RETURNING seq) INSERT INTO memory_vectors SELECT seq, '\\x0000803f' FROM m"); err != nil {
		t.Fatal(err)
	}
	v1, err := f.Version(ctx)
	if err != nil || v1 == v0 {
		t.Fatalf("Version after this Store's write: %d, %v; was %d", v1, err, v0)
	}
}

func openForTest(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), Options{URL: pgtest.NewDatabase(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
