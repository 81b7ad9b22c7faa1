package httpapi_test

import (
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
	"github.com/memoryrelay/memoryrelay/keys"
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
	_, tok, err := r.Keys().Create(ctx, acct.ID, keys.CreateParams{Name: "k", Scopes: scopes.NewSet(scopes.Read, scopes.Write)})
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

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.db")
	f := newFaultEnv(t, memoryrelay.Options{Path: path, RateLimit: 100000})
	for i := 0; i < 300; i++ {
		if rec := f.serve("POST", "/v1/memories", `{"content":"memory `+strconv.Itoa(i)+` with some text to fill pages `+strings.Repeat("x", 300)+`"}`); rec.Code != 201 {
			t.Fatal(rec.Body)
		}
	}
	f.relay.Close()

	// A copy with garbage over its middle pages: Open may succeed (the
	// header is intact), but no request may answer 500 or panic.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) / 3; i < 2*len(data)/3; i++ {
		data[i] = byte(i * 7)
	}
	bad := filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := memoryrelay.Open(context.Background(), memoryrelay.Options{Path: bad, RateLimit: 100000})
	if err != nil {
		if memoryrelay.Unavailable(err) == nil {
			t.Fatalf("Open of a corrupt file: unclear error %v", err)
		}
		return
	}
	defer r.Close()
	h, _ := httpapi.New(r, httpapi.Options{})
	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/v1/memories?limit=100", nil),
		httptest.NewRequest("POST", "/v1/memories/search", strings.NewReader(`{"query":"memory with some text"}`)),
		httptest.NewRequest("GET", "/v1/health", nil),
	} {
		req.Header.Set("X-API-Key", f.key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 500 {
			t.Errorf("%s %s on a corrupt file: 500 %s", req.Method, req.URL, rec.Body)
		}
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
