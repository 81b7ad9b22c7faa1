package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/postgres"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(tb testing.TB, url string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), postgres.Options{URL: url})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// pool is a connection pool of the test's own, for SQL the store has no
// method for (yet).
func pool(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	p, err := pgxpool.New(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

func exec(tb testing.TB, p *pgxpool.Pool, sql string, args ...any) {
	tb.Helper()
	if _, err := p.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

func value[T any](tb testing.TB, p *pgxpool.Pool, sql string, args ...any) T {
	tb.Helper()
	var v T
	if err := p.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return v
}

var tables = []string{
	"accounts", "agents", "api_key_secrets", "api_keys", "corpus_stats", "decisions", "entities", "entity_links", "extraction_keys",
	"feed_state", "jobs", "key_usage", "memories", "memory_changes", "memory_terms", "memory_vectors", "meta",
	"pattern_adoptions", "patterns", "project_relationships", "projects", "schema_version", "sessions", "term_stats",
	"webhook_attempts", "webhook_deliveries", "webhook_events", "webhooks",
}

func TestOpenMigrates(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := pool(t, url)
	if v := value[int](t, p, "SELECT version FROM schema_version"); v != postgres.SchemaVersion() {
		t.Errorf("schema_version %d; want %d", v, postgres.SchemaVersion())
	}
	rows, err := p.Query(context.Background(), "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != strings.Join(tables, " ") {
		t.Errorf("tables:\n%v\nwant\n%v", got, tables)
	}
	// Opening again changes nothing.
	s.Close()
	open(t, url)
	if v := value[int](t, p, "SELECT version FROM schema_version"); v != postgres.SchemaVersion() {
		t.Errorf("after a second Open: schema_version %d", v)
	}
}

// TestConcurrentOpen: nodes starting at once on an empty database migrate
// it once, and all open.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const nodes = 3
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), postgres.Options{URL: url})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: Open: %v", i, err)
		}
	}
	if v := value[int](t, pool(t, url), "SELECT version FROM schema_version"); v != postgres.SchemaVersion() {
		t.Errorf("schema_version %d; want %d", v, postgres.SchemaVersion())
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	url := pgtest.NewDatabase(t)
	open(t, url).Close()
	exec(t, pool(t, url), "UPDATE schema_version SET version = version + 1")
	_, err := postgres.Open(context.Background(), postgres.Options{URL: url})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Open of a newer schema: %v; want refused", err)
	}
}

func TestOpenOptions(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		opts postgres.Options
		want string
	}{
		{"no URL", postgres.Options{}, "URL is required"},
		{"bad URL", postgres.Options{URL: "postgres://a b:%zz@/"}, "Options.URL"},
		{"negative pool", postgres.Options{URL: "postgres://x/y", MaxConns: -1}, "negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := postgres.Open(ctx, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v; want an error containing %q", err, tt.want)
			}
			if _, ok := postgres.Unavailable(err); ok {
				t.Errorf("a bad option reported as unavailable: %v", err)
			}
		})
	}
}

// TestErrorClasses provokes each failure of a running server and checks
// its class.
func TestErrorClasses(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	ctx := context.Background()
	p := pool(t, url)

	// The store has no public write yet: its statements are run through
	// the same classification by the tests of its methods later. Here the
	// classes are checked through Ping and a raw connection's errors.
	t.Run("foreign key", func(t *testing.T) {
		_, err := p.Exec(ctx, "INSERT INTO agents (id, account_id, public_id, name, created_at, updated_at) VALUES ('a', 'no such account', 'a', 'a', 0, 0)")
		if err := postgres.Classify(ctx, err); !errors.Is(err, postgres.ErrForeignKey) {
			t.Fatalf("%v; want ErrForeignKey", err)
		}
	})
	t.Run("unique violation is the caller's", func(t *testing.T) {
		exec(t, p, "INSERT INTO meta VALUES ('k', 'v')")
		_, err := p.Exec(ctx, "INSERT INTO meta VALUES ('k', 'v')")
		err = postgres.Classify(ctx, err)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			t.Fatalf("%v; want the driver's unique violation", err)
		}
		if _, ok := postgres.Unavailable(err); ok {
			t.Error("a unique violation reported as unavailable")
		}
	})
	t.Run("statement timeout", func(t *testing.T) {
		tx, err := p.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = '20ms'"); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(ctx, "SELECT pg_sleep(5)")
		err = postgres.Classify(ctx, err)
		if !errors.Is(err, store.ErrStatementTimeout) {
			t.Fatalf("%v; want ErrStatementTimeout", err)
		}
		if reason, ok := postgres.Unavailable(err); !ok || reason != "The storage took too long to answer" {
			t.Errorf("Unavailable: %q, %v", reason, ok)
		}
	})
	t.Run("caller's context ends", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		_, err := p.Exec(cctx, "SELECT pg_sleep(5)")
		err = postgres.Classify(cctx, err)
		if _, ok := postgres.Unavailable(err); ok || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v; want the context's error, not unavailable", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		s2 := open(t, url)
		s2.Close()
		if err := s2.Ping(ctx); !errors.Is(err, postgres.ErrClosed) {
			t.Fatalf("Ping after Close: %v; want ErrClosed", err)
		}
		if err := s2.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestServerDown kills the server under an open store: calls fail as
// unreachable (never a bare driver error), and succeed again once the
// server is back, without reopening the store. Open with the server down
// fails the same way.
func TestServerDown(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	s := open(t, srv.URL("postgres"))
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Kill(t)
	for i := range 3 { // the pooled connection, then new ones
		err := s.Ping(ctx)
		if !errors.Is(err, postgres.ErrUnreachable) {
			t.Fatalf("Ping %d with the server down: %v; want ErrUnreachable", i, err)
		}
		if reason, ok := postgres.Unavailable(err); !ok || reason != "The database cannot be reached" {
			t.Fatalf("Unavailable(%v) = %q, %v", err, reason, ok)
		}
	}
	_, err := postgres.Open(ctx, postgres.Options{URL: srv.URL("postgres"), ConnectTimeout: time.Second})
	if !errors.Is(err, postgres.ErrUnreachable) {
		t.Fatalf("Open with the server down: %v; want ErrUnreachable", err)
	}
	srv.Restart(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after the server restarted: %v; want recovery without reopening", err)
	}
}

// seed makes an account and an agent for memories.
func seed(tb testing.TB, p *pgxpool.Pool) {
	tb.Helper()
	exec(tb, p, "INSERT INTO accounts VALUES ('acct', 'a', 0)")
	exec(tb, p, "INSERT INTO agents (id, account_id, public_id, name, created_at, updated_at) VALUES ('agent', 'acct', 'agent', 'agent', 0, 0)")
}

// insertMemory inserts memory id with a vector in tx and returns its seq.
func insertMemory(ctx context.Context, tx pgx.Tx, id string) (int64, error) {
	var seq int64
	err := tx.QueryRow(ctx, `INSERT INTO memories (id, account_id, agent_id, agent_ref, content, created_at, updated_at)
		VALUES ($1, 'acct', 'agent', 'agent', 'c', 0, 0) RETURNING seq`, id).Scan(&seq)
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, "INSERT INTO memory_vectors VALUES ($1, '\\x0000803f')", seq)
	return seq, err
}

// TestFeedLogsChanges: inserting a vector, updating a memory and deleting
// it (its vector goes by cascade) each log the memory, once per row
// changed, and each commit notifies memoryrelay_changes; a rolled back
// write logs nothing; an erased memory takes its job along.
func TestFeedLogsChanges(t *testing.T) {
	url := pgtest.NewDatabase(t)
	open(t, url)
	p := pool(t, url)
	seed(t, p)
	ctx := context.Background()
	listener, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN memoryrelay_changes"); err != nil {
		t.Fatal(err)
	}
	notified := func() bool {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := listener.WaitForNotification(wctx)
		return err == nil
	}
	var seq int64
	if err := pgx.BeginFunc(ctx, p, func(tx pgx.Tx) (err error) {
		seq, err = insertMemory(ctx, tx, "m1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !notified() {
		t.Fatal("no notification after a vector was inserted")
	}
	exec(t, p, "UPDATE memories SET tier = 'hot' WHERE seq = $1", seq)
	if !notified() {
		t.Fatal("no notification after an update")
	}
	exec(t, p, "INSERT INTO jobs (id, memory_id, account_id, status, payload, created_at, updated_at) VALUES ('job_1', 'm1', 'acct', 'ready', '{}', 0, 0)")
	exec(t, p, "DELETE FROM memories WHERE seq = $1", seq)
	if !notified() {
		t.Fatal("no notification after a delete")
	}
	_ = pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
		if _, err := insertMemory(ctx, tx, "m2"); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	rows, err := p.Query(ctx, "SELECT seq FROM memory_changes ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	// insert vector, update memory, delete vector (cascade).
	if want := []int64{seq, seq, seq}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes %v; want %v", got, want)
	}
	if n := value[int](t, p, "SELECT count(*) FROM jobs"); n != 0 {
		t.Errorf("%d jobs left after their memory was erased", n)
	}
}

// TestFeedCommitOrder: many writers commit memories while sleeping
// between their writes and their commit (so that the order in which
// their statements ran and the order of their commits differ), and a
// reader follows the feed by position, as a node does: it must see every
// change, none skipped, each position after the previous one.
func TestFeedCommitOrder(t *testing.T) {
	url := pgtest.NewDatabase(t)
	open(t, url)
	p := pool(t, url)
	seed(t, p)
	ctx := context.Background()
	const writers, each = 8, 25
	stop := make(chan struct{})
	var seen []int64 // positions, in the order read
	readerDone := make(chan error, 1)
	go func() {
		var after int64
		for {
			select {
			case <-stop:
				readerDone <- nil
				return
			default:
			}
			rows, err := p.Query(ctx, "SELECT id FROM memory_changes WHERE id > $1 ORDER BY id", after)
			if err != nil {
				readerDone <- err
				return
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				readerDone <- err
				return
			}
			for _, id := range ids {
				seen = append(seen, id)
				after = id
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range each {
				err := pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
					if _, err := insertMemory(ctx, tx, fmt.Sprintf("m%d-%d", w, i)); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, "SELECT pg_sleep($1)", rng.Float64()*0.004)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// One more pass of the reader after the last commit.
	time.Sleep(50 * time.Millisecond)
	close(stop)
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	rows, err := p.Query(ctx, "SELECT id FROM memory_changes ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("%d changes logged; want %d", len(all), writers*each)
	}
	if !sort.SliceIsSorted(seen, func(i, j int) bool { return seen[i] < seen[j] }) || len(seen) != len(all) {
		missed := len(all) - len(seen)
		t.Fatalf("the reader saw %d of %d changes (%d skipped: a position became visible below one already read)", len(seen), len(all), missed)
	}
}
