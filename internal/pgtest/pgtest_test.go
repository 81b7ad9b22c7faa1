package pgtest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func connect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatalf("connect %s: %v", url, err)
	}
	tb.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// TestDatabasesAreFreshAndSeparate: two tests' databases share a server
// but no table, and each is PostgreSQL 15, not running as root.
func TestDatabasesAreFreshAndSeparate(t *testing.T) {
	ctx := context.Background()
	a, b := connect(t, pgtest.NewDatabase(t)), connect(t, pgtest.NewDatabase(t))
	if _, err := a.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := a.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count: %d, %v", n, err)
	}
	_, err := b.Exec(ctx, "SELECT * FROM t")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" { // undefined_table
		t.Fatalf("the other database sees the table: %v", err)
	}
	var version string
	if err := a.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil || !strings.HasPrefix(version, "15.") {
		t.Errorf("server_version %q, %v; want 15.x", version, err)
	}
	var superuserFile string
	if err := a.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&superuserFile); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(superuserFile); err != nil {
		t.Fatal(err)
	} else if os.Geteuid() == 0 && statUID(fi) == 0 {
		t.Errorf("data directory %s owned by root; the server must not run as root", superuserFile)
	}
}

// TestDatabaseDroppedAtCleanup: a test's database is gone after it ends,
// even with a connection left open.
func TestDatabaseDroppedAtCleanup(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		url = pgtest.NewDatabase(t)
		c, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		_ = c // left open on purpose: DROP ... WITH (FORCE) ends it
	})
	_, err := pgx.Connect(context.Background(), url)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		t.Fatalf("connect to a dropped database: %v; want 3D000", err)
	}
}

// TestKillRestart: a private server survives SIGKILL with its committed
// rows, and refuses connections while down.
func TestKillRestart(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	c := connect(t, srv.URL("postgres"))
	if _, err := c.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	srv.Kill(t)
	if _, err := pgx.Connect(ctx, srv.URL("postgres")); err == nil {
		t.Fatal("connected to a killed server")
	}
	srv.Restart(t)
	var x int
	if err := connect(t, srv.URL("postgres")).QueryRow(ctx, "SELECT x FROM t").Scan(&x); err != nil || x != 42 {
		t.Fatalf("after restart: %d, %v; want the committed 42", x, err)
	}
	srv.Stop(t)
	srv.Restart(t)
	if err := connect(t, srv.URL("postgres")).QueryRow(ctx, "SELECT x FROM t").Scan(&x); err != nil || x != 42 {
		t.Fatalf("after a clean stop and restart: %d, %v", x, err)
	}
}
