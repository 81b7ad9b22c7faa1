// Package pgtest starts a real PostgreSQL 15 server for tests: Debian's
// binaries (/usr/lib/postgresql/15/bin), a data folder in a temporary
// directory, a free port on loopback, trust authentication for the user
// "postgres", and fsync and full_page_writes off for speed: a committed
// transaction survives the server's crash (its WAL is written at commit),
// not the machine's. PostgreSQL refuses to run as root, so when
// the tests run as root the server runs as the user "nobody".
//
// A test binary shares one server, started on first use and stopped when
// the tests end, and gives each test a fresh database:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.NewDatabase(t) // dropped when t ends
//		pool, err := pgxpool.New(t.Context(), url)
//		...
//	}
//
// A test that must stop or restart PostgreSQL starts a server of its own
// with [Start].
//
// Tests that need PostgreSQL are skipped when its binaries are not
// installed, unless the CI environment variable is set, in which case they
// fail: CI must run them (.ci/run installs Debian's postgresql-15 when
// missing).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir is where the PostgreSQL 15 binaries are looked for.
const BinDir = "/usr/lib/postgresql/15/bin"

// StartTimeout bounds how long starting a server (initdb included) and
// waiting for it to accept connections may take.
const StartTimeout = 60 * time.Second

// errMissing is why no server can start: the binaries are not installed.
var errMissing = errors.New("PostgreSQL 15 not found in " + BinDir + " (Debian: apt-get install postgresql-15)")

// skipOrFail skips tb for err when it is errMissing and CI is unset, and
// fails it otherwise.
func skipOrFail(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, errMissing) && os.Getenv("CI") == "" {
		tb.Skip(err.Error() + "; skipping (set CI to make this a failure)")
	}
	if errors.Is(err, errMissing) {
		tb.Fatal(err.Error() + "; CI is set, so the test must run")
	}
	tb.Fatalf("pgtest: %v", err)
}

// Server is one PostgreSQL server (a postmaster and its backends). Its
// methods are safe for concurrent use.
type Server struct {
	dir  string // owns data/, the socket and the log
	port int
	cred *syscall.Credential // nil: run as ourselves

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts a server of tb's own and stops it (and removes its files)
// when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := start()
	if err != nil {
		skipOrFail(tb, err)
	}
	tb.Cleanup(func() { s.close() })
	return s
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// URL returns a connection URL for database db as the superuser
// "postgres", over TCP on loopback, without TLS.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Kill stops the server at once with SIGKILL to the postmaster and every
// backend, as a crash would; committed transactions survive (their WAL was
// written at commit; only a crash of the machine could lose it, fsync
// being off). Killing a stopped server does nothing.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(syscall.SIGKILL)
}

// Stop shuts the server down cleanly (SIGINT: fast shutdown, which
// disconnects clients).
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(syscall.SIGINT)
}

// Restart starts a stopped or killed server again on the same port and
// data; a running one is stopped first.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked(syscall.SIGINT)
	if err := s.runLocked(); err != nil {
		tb.Fatalf("pgtest: restart: %v", err)
	}
}

func (s *Server) stopLocked(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	if sig == syscall.SIGKILL {
		crash(s.cmd.Process.Pid)
	} else {
		_ = s.cmd.Process.Signal(sig)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		crash(s.cmd.Process.Pid)
		<-s.exited
	}
	s.cmd = nil
}

// crash kills the postmaster pid and its children (each backend is a
// session leader of its own, so a process group does not hold them) with
// SIGKILL, and waits until none of the children is running: a backend that
// outlived its postmaster would keep the shared memory attached, and a
// new postmaster refuses to start until it goes. The postmaster is
// stopped first so that it forks no child meanwhile.
func crash(pid int) {
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	kids := children(pid)
	for _, k := range kids {
		_ = syscall.Kill(k, syscall.SIGKILL)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for _, k := range kids {
		for running(k) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// children returns the pids of the processes whose parent is pid, from
// /proc.
func children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		k, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(k); ok && ppid == pid {
			out = append(out, k)
		}
	}
	return out
}

// running reports whether pid is a process that has not exited (a zombie
// has: it holds no memory).
func running(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// procStat reads the parent and state of pid from /proc/pid/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid …; comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+4 >= len(b) {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

func (s *Server) close() {
	s.mu.Lock()
	s.stopLocked(syscall.SIGINT)
	s.mu.Unlock()
	_ = os.RemoveAll(s.dir)
}

// start makes a data folder with initdb and starts a server on it.
func start() (*Server, error) {
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(BinDir, b)); err != nil {
			return nil, errMissing
		}
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		if s.cred, err = nobody(); err != nil {
			return fail(err)
		}
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fail(fmt.Errorf("chown %s: %w", dir, err))
		}
	}
	initdb := exec.Command(filepath.Join(BinDir, "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	s.prepare(initdb)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w: %s", err, out))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range 3 { // a free port can be taken between picking and binding
		if s.port, err = freePort(); err != nil {
			return fail(err)
		}
		if err = s.runLocked(); err == nil {
			return s, nil
		}
	}
	return fail(err)
}

// nobody returns the credentials of the user "nobody".
func nobody() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user nobody: uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// prepare sets cmd to run in s.dir as the server's user, killed if this
// process dies (its backends then exit on noticing their postmaster gone).
func (s *Server) prepare(cmd *exec.Cmd) {
	cmd.Dir = s.dir
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin", "HOME=" + s.dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
}

// runLocked starts the postmaster on s.port and waits until it accepts
// connections. s.mu must be held.
func (s *Server) runLocked() error {
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(BinDir, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=300",
		"-c", "shared_buffers=32MB",
	)
	s.prepare(cmd)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(StartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			err = c.Ping(ctx)
			c.Close(ctx)
		}
		cancel()
		if err == nil {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres on port %d exited at start; log: %s", s.port, tail(logPath))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			crash(cmd.Process.Pid)
			<-exited
			return fmt.Errorf("postgres on port %d not accepting connections within %v: %v; log: %s", s.port, StartTimeout, err, tail(logPath))
		}
	}
}

// shared is the server of the test binary, started by the first
// NewDatabase after Main.
var shared struct {
	once   sync.Once
	inMain atomic.Bool
	srv    *Server
	err    error
	dbs    atomic.Int64
}

// Main runs the tests of m with one shared server for [NewDatabase] and
// stops the server when they end. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	shared.inMain.Store(true)
	code := m.Run()
	if shared.srv != nil {
		shared.srv.close()
	}
	return code
}

// NewDatabase creates an empty database on the test binary's shared
// server (started on first use) and returns its connection URL. The
// database is dropped when tb ends, closing any connection left to it.
// The test binary's TestMain must call [Main].
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	if !shared.inMain.Load() {
		tb.Fatal("pgtest: NewDatabase needs TestMain to call pgtest.Main(m)")
	}
	shared.once.Do(func() { shared.srv, shared.err = start() })
	if shared.err != nil {
		skipOrFail(tb, shared.err)
	}
	name := fmt.Sprintf("test_%d", shared.dbs.Add(1))
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, shared.srv.URL("postgres"))
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return shared.srv.URL(name)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of the file at path, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return strings.TrimSpace(string(b))
}
