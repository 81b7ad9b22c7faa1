package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the command line args through run, as main does, with the
// environment env (nothing else of the process's), and returns what it
// printed and its exit status.
func cli(t testing.TB, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errs syncBuffer
	sys := &system{getenv: func(k string) string { return env[k] }, stdout: &out, stderr: &errs}
	code = exitCode(run(context.Background(), args, sys), sys.stderr)
	return out.String(), errs.String(), code
}

// mustCLI is cli for a command that must succeed.
func mustCLI(t testing.TB, env map[string]string, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := cli(t, env, args...)
	if code != 0 {
		t.Fatalf("memoryrelay %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout, stderr
}

// TestUsage: every command and subcommand answers -h with its usage and
// exit status 0; mistakes in the command line are exit status 2 with a
// message naming the mistake; a missing database is 1, and no database is
// created for it.
func TestUsage(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	env := map[string]string{"MEMORYRELAY_DB": missing}
	for _, c := range []struct {
		args   []string
		code   int
		stdout string // a substring of standard output
		stderr string // a substring of standard error
	}{
		{args: nil, code: 2, stderr: "no command given"},
		{args: []string{"-h"}, code: 0, stdout: "Commands:\n  serve"},
		{args: []string{"help"}, code: 0, stdout: "doctor"},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"serve", "-h"}, code: 0, stderr: "Usage: memoryrelay serve [flags]"},
		{args: []string{"serve", "-h"}, code: 0, stderr: "-metrics-addr"},
		{args: []string{"serve", "extra"}, code: 2, stderr: "serve takes no arguments"},
		{args: []string{"serve", "-log-level", "loud"}, code: 2, stderr: "-log-level must be debug, info, warn or error"},
		{args: []string{"serve", "-log-format", "xml"}, code: 2, stderr: "-log-format must be text or json"},
		{args: []string{"serve", "-embedder", "hash:x"}, code: 2, stderr: "positive dimension"},
		{args: []string{"keys"}, code: 2, stderr: "keys needs a subcommand"},
		{args: []string{"keys", "-h"}, code: 0, stderr: "keys create -name NAME"},
		{args: []string{"keys", "mint"}, code: 2, stderr: `unknown keys subcommand "mint"`},
		{args: []string{"keys", "create", "-h"}, code: 0, stderr: "Usage: memoryrelay keys create"},
		{args: []string{"keys", "create", "-bogus"}, code: 2, stderr: "flag provided but not defined: -bogus"},
		{args: []string{"keys", "create", "-scopes", "read"}, code: 2, stderr: "keys create needs -name"},
		{args: []string{"keys", "create", "-name", "x", "-scopes", "fly"}, code: 2, stderr: "-scopes must be a comma-separated list"},
		{args: []string{"keys", "create", "-name", "x", "-scopes", "read", "-expires", "-1h"}, code: 2, stderr: "-expires must be in the future"},
		{args: []string{"keys", "create", "-name", "x", "-scopes", "read", "-expires", "tuesday"}, code: 2, stderr: "-expires must be a duration"},
		{args: []string{"keys", "create", "-name", "x", "-scopes", "read"}, code: 1, stderr: "no database at " + missing},
		{args: []string{"keys", "list", "-h"}, code: 0, stderr: "Usage: memoryrelay keys list"},
		{args: []string{"keys", "list"}, code: 1, stderr: "no database at"},
		{args: []string{"keys", "revoke", "-h"}, code: 0, stderr: "Usage: memoryrelay keys revoke"},
		{args: []string{"keys", "revoke"}, code: 2, stderr: "keys revoke takes one key id"},
		{args: []string{"keys", "rotate", "-h"}, code: 0, stderr: "-grace"},
		{args: []string{"keys", "rotate", "a", "b"}, code: 2, stderr: "keys rotate takes one key id"},
		{args: []string{"accounts"}, code: 2, stderr: "accounts needs a subcommand"},
		{args: []string{"accounts", "create", "-h"}, code: 0, stderr: "Usage: memoryrelay accounts create"},
		{args: []string{"accounts", "create"}, code: 2, stderr: "accounts create takes one name"},
		{args: []string{"backup", "-h"}, code: 0, stderr: "To restore, stop the server"},
		{args: []string{"backup"}, code: 2, stderr: "backup takes one PATH"},
		{args: []string{"backup", filepath.Join(dir, "b.db")}, code: 1, stderr: "no database at"},
		{args: []string{"reembed", "-h"}, code: 0, stderr: "Resumable"},
		{args: []string{"reembed"}, code: 2, stderr: "reembed needs -to"},
		{args: []string{"reembed", "-to", "hash:64", "-batch", "0"}, code: 2, stderr: "-batch must be positive"},
		{args: []string{"reembed", "-to", "hash:64"}, code: 1, stderr: "no database at"},
		{args: []string{"reembed", "-to", "word2vec"}, code: 2, stderr: "the embedder must be builtin, hash:<dim>, model2vec:<dir> or openai"},
		{args: []string{"doctor", "-h"}, code: 0, stderr: "integrity_check"},
		{args: []string{"export", "-h"}, code: 0, stderr: "byte for byte"},
		{args: []string{"export", "file.jsonl"}, code: 2, stderr: "export takes no arguments"},
		{args: []string{"export"}, code: 1, stderr: "no database at"},
		{args: []string{"import", "-h"}, code: 0, stderr: "All or nothing"},
		{args: []string{"import"}, code: 2, stderr: "import takes one FILE"},
		{args: []string{"import", filepath.Join(dir, "none.jsonl")}, code: 1, stderr: "no such file"},
		{args: []string{"accounts", "list", "-h"}, code: 0, stderr: "Usage: memoryrelay accounts list"},
		{args: []string{"accounts", "list"}, code: 1, stderr: "no database at"},
		{args: []string{"doctor"}, code: 1, stdout: "FAIL  file"},
		{args: []string{"version", "-h"}, code: 0, stderr: "Usage: memoryrelay version"},
		{args: []string{"version", "now"}, code: 2, stderr: "version takes no arguments"},
	} {
		stdout, stderr, code := cli(t, env, c.args...)
		if code != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
			t.Errorf("memoryrelay %s: exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)",
				strings.Join(c.args, " "), code, c.code, stdout, c.stdout, stderr, c.stderr)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*")); len(matches) != 0 {
		t.Fatalf("usage errors left files behind: %v", matches)
	}
}

func TestVersion(t *testing.T) {
	stdout, _ := mustCLI(t, nil, "version")
	if !strings.HasPrefix(stdout, "memoryrelay 0.") || !strings.Contains(stdout, "\ngo go1.") {
		t.Fatalf("%q", stdout)
	}
}

// binDir holds the binary the tests build, removed when they end.
var binDir string

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func mkdirTemp() (string, error) {
	d, err := os.MkdirTemp("", "memoryrelay-bin")
	binDir = d
	return d, err
}

// binary builds the memoryrelay command once for the tests that run it as
// a process.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := mkdirTemp()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "memoryrelay")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{err, out}
	}
	return bin, nil
})

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

func buildBinary(t testing.TB) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

// TestBinary builds the command and runs it as an operator would: the
// exit status and output of a real process.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "bin.db")
	runBin := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"MEMORYRELAY_DB=" + db}
		var out, errs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errs
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errs.String(), code
	}
	if out, _, code := runBin("version"); code != 0 || !strings.Contains(out, "module github.com/memoryrelay/memoryrelay") {
		t.Fatalf("version: %d %q", code, out)
	}
	if _, errs, code := runBin("nonsense"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	id, _, code := runBin("accounts", "create", "ops")
	if code != 0 {
		t.Fatalf("accounts create: %d", code)
	}
	key, errs, code := runBin("keys", "create", "-account", strings.TrimSpace(id), "-name", "ci", "-scopes", "read")
	if code != 0 || !keyRE.MatchString(key) || strings.Contains(errs, strings.TrimSpace(key)) {
		t.Fatalf("keys create: %d %q %q", code, key, errs)
	}
	out, _, code := runBin("keys", "list", "-account", "ops")
	if code != 0 || !strings.Contains(out, strings.TrimSpace(key)[:12]+"…") || strings.Contains(out, strings.TrimSpace(key)) {
		t.Fatalf("keys list: %d %q", code, out)
	}
	if out, _, code := runBin("doctor"); code != 0 || !strings.Contains(out, "ok    integrity") {
		t.Fatalf("doctor: %d %q", code, out)
	}
}

// waitFor polls cond every 10ms until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}
