package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/httpapi"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// smallFS mounts a tmpfs of the given size for the test, or skips the
// test where mounting is not allowed (it needs root, as in CI).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small file system here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// faultEnv is a relay at path behind a handler, with one read+write key.
type faultEnv struct {
	relay *memoryrelay.Relay
	h     http.Handler
	key   string
	acct  string
}

func newFaultEnv(t *testing.T, opts memoryrelay.Options) *faultEnv {
	t.Helper()
	ctx := context.Background()
	r, err := memoryrelay.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	acct, err := r.CreateAccount(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := r.Account(acct.ID).Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(scopes.Read, scopes.Write)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(r, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &faultEnv{relay: r, h: h, key: tok.Reveal(), acct: acct.ID}
}

func (f *faultEnv) serve(method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("X-API-Key", f.key)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func check503(t *testing.T, rec *httptest.ResponseRecorder, reason string) {
	t.Helper()
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"type":"api_error"`) || !strings.Contains(rec.Body.String(), reason) {
		t.Fatalf("want 503 with Retry-After and %q, got %d %q %s", reason, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}

func TestDiskFull(t *testing.T) {
	dir := smallFS(t, "3m")
	f := newFaultEnv(t, memoryrelay.Options{Path: filepath.Join(dir, "full.db")})
	var stored []string
	big := strings.Repeat("lorem ipsum dolor sit amet ", 1800) // ~48 KiB of text per memory
	var last *httptest.ResponseRecorder
	for i := 0; i < 200; i++ {
		last = f.serve("POST", "/v1/memories", `{"content":"`+big+` number `+string(rune('a'+i%26))+`"}`)
		if last.Code != 201 {
			break
		}
		stored = append(stored, last.Body.String())
	}
	if len(stored) == 0 || len(stored) == 200 {
		t.Fatalf("stored %d memories before the disk filled", len(stored))
	}
	check503(t, last, "The storage is full")
	// Nothing already stored is lost, and reads still work.
	rec := f.serve("GET", "/v1/memories?limit=100", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"total":`+strconv.Itoa(len(stored))) {
		t.Fatalf("after disk full: %d %s", rec.Code, rec.Body.String()[:200])
	}
	// Health says degraded (still 200), not healthy.
	rec = f.serve("GET", "/v1/health", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"degraded"`) {
		t.Fatalf("health on a full disk: %d %s", rec.Code, rec.Body)
	}
}

func TestReadOnlyStorageAtOpen(t *testing.T) {
	dir := smallFS(t, "8m")
	path := filepath.Join(dir, "ro.db")
	r, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v %s", err, out)
	}
	_, err = memoryrelay.Open(context.Background(), memoryrelay.Options{Path: path})
	if err == nil {
		t.Fatal("Open on a read-only file system succeeded")
	}
	if !errors.Is(err, memoryrelay.ErrUnavailable) && memoryrelay.Unavailable(err) == nil {
		t.Fatalf("Open error is not a clear storage error: %v", err)
	}
}

func TestLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	f := newFaultEnv(t, memoryrelay.Options{Path: path, BusyTimeout: 100 * time.Millisecond})
	if rec := f.serve("POST", "/v1/memories", `{"content":"before the lock"}`); rec.Code != 201 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// Another connection (as another process would) takes the write lock.
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	check503(t, f.serve("POST", "/v1/memories", `{"content":"during the lock"}`), "The database is busy")
	// Reads go on (WAL), and nothing was half-written.
	rec := f.serve("GET", "/v1/memories", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"total":1`) {
		t.Fatalf("read during lock: %d %s", rec.Code, rec.Body)
	}
	conn.ExecContext(context.Background(), "ROLLBACK")
	conn.Close()
	if rec := f.serve("POST", "/v1/memories", `{"content":"after the lock"}`); rec.Code != 201 {
		t.Fatalf("after the lock: %d %s", rec.Code, rec.Body)
	}
}

// damagedCopy writes 300 memories to a new database in dir, closes it,
// and returns the path of a copy with 8 KiB of garbage over the two pages
// in the middle of the file (leaves of memories and memory_vectors), and
// the key of the account.
func damagedCopy(t *testing.T, dir string) (bad, key string) {
	t.Helper()
	path := filepath.Join(dir, "c.db")
	f := newFaultEnv(t, memoryrelay.Options{Path: path, RateLimit: 100000})
	for i := 0; i < 300; i++ {
		if rec := f.serve("POST", "/v1/memories", `{"content":"memory `+strconv.Itoa(i)+` with some text to fill pages `+strings.Repeat("x", 300)+`"}`); rec.Code != 201 {
			t.Fatal(rec.Body)
		}
	}
	f.relay.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	at := len(data) / 2 / page * page
	for i := at; i < at+8<<10; i++ {
		data[i] = byte(i * 7)
	}
	bad = filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return bad, f.key
}

// A database with 8 KiB overwritten mid-file: Open's quick_check finds it,
// and Open fails with ErrDamaged, naming the file.
func TestCorruptFile(t *testing.T) {
	bad, _ := damagedCopy(t, t.TempDir())
	_, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: bad})
	if !errors.Is(err, memoryrelay.ErrDamaged) || !strings.Contains(err.Error(), "open "+bad+": the database file is damaged") {
		t.Fatalf("Open of a damaged file: %v", err)
	}
	if errors.Is(err, memoryrelay.ErrNotDatabase) || errors.Is(err, memoryrelay.ErrReadOnly) {
		t.Errorf("Open error matches another class: %v", err)
	}
}

// The same damage where Open does not check (QuickCheckBytes -1, as for a
// file larger than the bound): the first statement that meets it marks the
// database damaged; then health is unhealthy (503, database down), writes
// answer 503 without touching the file, and no request answers 500.
func TestCorruptFileAtRunTime(t *testing.T) {
	bad, key := damagedCopy(t, t.TempDir())
	ctx := context.Background()
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: bad, RateLimit: 100000, QuickCheckBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h, _ := httpapi.New(r, httpapi.Options{})
	serve := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-API-Key", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// The background build of the search index reads every vector: it
	// meets the damaged pages.
	if err := r.WaitSearchIndex(ctx); !errors.Is(err, memoryrelay.ErrDamaged) {
		t.Fatalf("index build on a damaged file: %v", err)
	}
	for _, c := range [][3]string{
		{"GET", "/v1/memories?limit=100", ""},
		{"POST", "/v1/memories/search", `{"query":"memory with some text"}`},
	} {
		if rec := serve(c[0], c[1], c[2]); rec.Code == 500 {
			t.Errorf("%s %s on a damaged file: 500 %s", c[0], c[1], rec.Body)
		}
	}
	rec := serve("GET", "/v1/health", "")
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"status":"unhealthy"`) || !strings.Contains(rec.Body.String(), `"database":"down"`) {
		t.Fatalf("health of a damaged database: %d %s", rec.Code, rec.Body)
	}
	hs := r.Health(ctx)
	if len(hs.Problems) == 0 || !strings.Contains(hs.Problems[0], bad+" is damaged") {
		t.Errorf("health problems: %q", hs.Problems)
	}

	before, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	wal := func() int64 {
		st, err := os.Stat(bad + "-wal")
		if err != nil {
			return -1
		}
		return st.Size()
	}
	walBefore := wal()
	for _, c := range [][3]string{
		{"POST", "/v1/memories/batch", `{"memories":[{"content":"one"},{"content":"two"}]}`},
		{"POST", "/v1/memories", `{"content":"three"}`},
		{"POST", "/v1/agents", `{"name":"new agent"}`},
	} {
		rec := serve(c[0], c[1], c[2])
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"type":"api_error"`) || !strings.Contains(rec.Body.String(), "The database is damaged") {
			t.Errorf("%s %s on a damaged database: %d %s", c[0], c[1], rec.Code, rec.Body)
		}
		if ra := rec.Header().Get("Retry-After"); ra != "" {
			t.Errorf("%s %s: Retry-After %q for a damaged database", c[0], c[1], ra)
		}
	}
	a, err := r.Authorize(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	k := a.Key
	if _, err := r.AccountFor(k).Memories().Create(ctx, memory.NewMemory{Content: "four"}); !errors.Is(err, memoryrelay.ErrDamaged) {
		t.Errorf("CreateMemory on a damaged database: %v", err)
	}
	after, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) || wal() != walBefore {
		t.Errorf("writes refused, yet the file changed (wal %d → %d bytes)", walBefore, wal())
	}
}

// Open's errors name the file and the class of the problem, and match the
// class with errors.Is.
func TestOpenErrorClasses(t *testing.T) {
	root := os.Geteuid() == 0
	for _, c := range []struct {
		name  string
		class error
		text  string
		setup func(t *testing.T) string // returns the path to open
	}{
		{"junk bytes", memoryrelay.ErrNotDatabase, "the file is not a SQLite database", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "junk.db")
			os.WriteFile(p, []byte(strings.Repeat("junk", 2000)), 0o600)
			return p
		}},
		{"a directory", memoryrelay.ErrNotDatabase, "it is a directory", func(t *testing.T) string {
			return t.TempDir()
		}},
		{"damaged", memoryrelay.ErrDamaged, "the database file is damaged: quick_check: ", func(t *testing.T) string {
			bad, _ := damagedCopy(t, t.TempDir())
			return bad
		}},
		{"missing directory", memoryrelay.ErrNoDirectory, "its directory does not exist", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")
		}},
		{"read-only file system", memoryrelay.ErrReadOnly, "read-only", func(t *testing.T) string {
			dir := smallFS(t, "8m")
			p := filepath.Join(dir, "ro.db")
			r, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: p})
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
				t.Skipf("cannot remount read-only: %v %s", err, out)
			}
			return p
		}},
		{"new file on a read-only file system", memoryrelay.ErrReadOnly, "read-only", func(t *testing.T) string {
			dir := smallFS(t, "1m")
			if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
				t.Skipf("cannot remount read-only: %v %s", err, out)
			}
			return filepath.Join(dir, "new.db")
		}},
		{"read-only directory", memoryrelay.ErrReadOnly, "cannot create files (the WAL) in", func(t *testing.T) string {
			if root {
				t.Skip("root writes into a read-only directory; the read-only file system cases cover root")
			}
			dir := t.TempDir()
			os.Chmod(dir, 0o555)
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			return filepath.Join(dir, "x.db")
		}},
		{"unreadable file", memoryrelay.ErrPermission, "permission denied: cannot read the file", func(t *testing.T) string {
			if root {
				t.Skip("root reads any file")
			}
			p := filepath.Join(t.TempDir(), "x.db")
			r, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: p})
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			os.Chmod(p, 0)
			return p
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := c.setup(t)
			_, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: p})
			if !errors.Is(err, c.class) {
				t.Fatalf("got %v, want %v", err, c.class)
			}
			want := "memoryrelay: open " + p + ": " + c.class.Error()
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("message %q, want it to start with %q and contain %q", err, want, c.text)
			}
			for _, other := range []error{memoryrelay.ErrDamaged, memoryrelay.ErrNotDatabase, memoryrelay.ErrReadOnly, memoryrelay.ErrPermission, memoryrelay.ErrNoDirectory, memoryrelay.ErrStorageFull} {
				if other != c.class && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
		})
	}
}

// The header of the file is garbage: Open fails clearly.
func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(path, []byte(strings.Repeat("junk", 2000)), 0o600)
	_, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: path})
	if err == nil || memoryrelay.Unavailable(err) == nil {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "damaged") {
		t.Errorf("error does not say the file is damaged: %v", err)
	}
}
