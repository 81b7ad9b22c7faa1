package postgres_test

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/store/postgres"
	"github.com/memoryrelay/memoryrelay/search/index"
)

func blob(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// addMemory inserts a memory with a vector through p, as another node
// would, and returns its seq.
func addMemory(tb testing.TB, p *pgxpool.Pool, id string, vec ...float32) int64 {
	tb.Helper()
	seq := value[int64](tb, p, `INSERT INTO memories (id, account_id, agent_id, agent_ref, user_id, content, created_at, updated_at)
		VALUES ($1, 'acct', 'agent', 'agent', 'u1', 'c', 0, 0) RETURNING seq`, id)
	exec(tb, p, "INSERT INTO memory_vectors VALUES ($1, $2)", seq, blob(vec...))
	return seq
}

// versionChanges polls f.Version until it differs from before, and
// returns the new version and how long that took.
func versionChanges(tb testing.TB, f *postgres.Feed, before int64, limit time.Duration) (int64, time.Duration) {
	tb.Helper()
	start := time.Now()
	for {
		v, err := f.Version(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		if v != before {
			return v, time.Since(start)
		}
		if time.Since(start) > limit {
			tb.Fatalf("Version still %d after %v", v, limit)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func openFeed(tb testing.TB, s *postgres.Store) *postgres.Feed {
	tb.Helper()
	f, err := s.OpenFeed(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// TestFeed follows writes made by another node: the version changes
// (after the notification), the changes come in order, and the rows say
// what the index keeps; deletion, hiding, pruning and the bounds.
func TestFeed(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	p := pool(t, url)
	seed(t, p)
	f := openFeed(t, s)
	ctx := context.Background()
	v0, err := f.Version(ctx)
	if err != nil || v0 != 0 {
		t.Fatalf("Version of an empty feed: %d, %v", v0, err)
	}
	if o, n, err := f.Bounds(ctx); o != 0 || n != 0 || err != nil {
		t.Fatalf("Bounds of an empty feed: %d, %d, %v", o, n, err)
	}
	var lags []time.Duration
	var seqs []int64
	ver := v0
	for i := range 5 {
		seqs = append(seqs, addMemory(t, p, "m"+string(rune('a'+i)), float32(i), 1))
		var lag time.Duration
		ver, lag = versionChanges(t, f, ver, 2*time.Second)
		lags = append(lags, lag)
	}
	slices.Sort(lags)
	t.Logf("a commit by another node changed Version after %v (median of 5; max %v)", lags[2], lags[4])
	if again, _ := f.Version(ctx); again != ver {
		t.Fatalf("Version moved with no write: %d then %d", ver, again)
	}
	changes, err := f.Changes(ctx, 0, 100)
	if err != nil || len(changes) != 5 {
		t.Fatalf("Changes: %v, %v", changes, err)
	}
	for i, c := range changes {
		if c.ID != seqs[i] || (i > 0 && c.Pos <= changes[i-1].Pos) {
			t.Fatalf("change %d: %+v; want seq %d after position %d", i, c, seqs[i], changes[max(i-1, 0)].Pos)
		}
	}
	if c, _ := f.Changes(ctx, changes[1].Pos, 2); len(c) != 2 || c[0] != changes[2] {
		t.Fatalf("Changes after %d, limit 2: %v", changes[1].Pos, c)
	}

	exec(t, p, "UPDATE memories SET visibility = 'confidential', tier = 'hot' WHERE seq = $1", seqs[0])
	exec(t, p, "DELETE FROM memories WHERE seq = $1", seqs[1])
	var got []index.Row
	collect := func(r *index.Row) error {
		c := *r
		c.Account = slices.Clone(r.Account)
		c.Vector = slices.Clone(r.Vector)
		got = append(got, c)
		return nil
	}
	if err := f.Rows(ctx, []int64{seqs[0], seqs[1], seqs[2]}, collect); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b index.Row) int { return int(a.ID - b.ID) })
	if len(got) != 2 || got[0].ID != seqs[0] || got[1].ID != seqs[2] {
		t.Fatalf("Rows: %+v; want the two that still exist", got)
	}
	r0 := got[0]
	if !r0.Hidden || string(r0.Account) != "acct" || *r0.Attrs.Tier != "hot" || *r0.Attrs.User != "u1" || *r0.Attrs.Agent != "agent" ||
		r0.Attrs.Session != nil || r0.Attrs.Importance != 0.5 || !slices.Equal(r0.Vector, []float32{0, 1}) {
		t.Errorf("row %+v (attrs %+v)", r0, r0.Attrs)
	}
	if got[1].Hidden {
		t.Errorf("a private memory reads hidden")
	}
	got = nil
	if err := f.Scan(ctx, collect); err != nil || len(got) != 4 {
		t.Fatalf("Scan: %d rows, %v; want 4", len(got), err)
	}

	// Update and delete were logged; prune them all: the newest position
	// is still known (feed_state), and a pruning behind it changes nothing.
	_, newest, _ := f.Bounds(ctx)
	if err := f.Prune(ctx, newest); err != nil {
		t.Fatal(err)
	}
	oldest, newest2, err := f.Bounds(ctx)
	if err != nil || oldest != 0 || newest2 != newest {
		t.Fatalf("Bounds after pruning everything: %d, %d, %v; want 0, %d", oldest, newest2, err, newest)
	}
	if err := f.Prune(ctx, newest-2); err != nil {
		t.Fatal(err)
	}
	if _, n, err := f.Bounds(ctx); err != nil || n != newest {
		t.Fatalf("Bounds after pruning less: newest %d, %v; want %d", n, err, newest)
	}
}

// TestFeedListenerLost: the listening connection is terminated and a
// write committed at once: the notification may be lost, but Version
// still changes (the reconnection counts as one, and a lost listener
// makes every Version ask the database).
func TestFeedListenerLost(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	p := pool(t, url)
	seed(t, p)
	f := openFeed(t, s)
	ctx := context.Background()
	for range 3 {
		before, err := f.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Wait for the listener to be connected, then cut it.
		deadline := time.Now().Add(5 * time.Second)
		for value[int](t, p, "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN memoryrelay_changes'") == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no listener after 5 s")
			}
			time.Sleep(time.Millisecond)
		}
		exec(t, p, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN memoryrelay_changes'")
		addMemory(t, p, "m"+time.Now().Format("150405.000000000"), 1, 2)
		versionChanges(t, f, before, 5*time.Second)
	}
}
