package progress_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/progress"
)

// clock is a fake time source that tests advance by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func ptr[T any](v T) *T { return &v }

func TestTerminalBar(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var out bytes.Buffer
	m := progress.New(&out, "export", 1000, progress.Options{Terminal: ptr(true), Unit: "memories", Width: 10, Now: c.now})
	c.advance(time.Second)
	m.Set(250)
	got := out.String()
	want := "\rexport [==>       ]  25% 250/1,000 memories 250/s ETA 3s"
	if got != want {
		t.Fatalf("first draw\n got %q\nwant %q", got, want)
	}
	// Within the redraw interval nothing is drawn.
	out.Reset()
	c.advance(10 * time.Millisecond)
	m.Add(1)
	if out.Len() != 0 {
		t.Fatalf("drew within the redraw interval: %q", out.String())
	}
	// The final draw fills the bar, pads over the longer previous line and
	// ends it.
	out.Reset()
	c.advance(990 * time.Millisecond)
	m.Set(1000)
	out.Reset()
	c.advance(time.Second)
	m.Done()
	got = out.String()
	if !strings.HasPrefix(got, "\rexport [==========] 100% 1,000/1,000 memories 333/s in 3s") || !strings.HasSuffix(got, "\n") {
		t.Fatalf("final draw %q", got)
	}
	out.Reset()
	m.Done()
	m.Add(5)
	if out.Len() != 0 {
		t.Fatalf("drew after Done: %q", out.String())
	}
}

func TestPlainLines(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var out bytes.Buffer
	m := progress.New(&out, "backup", 4<<20, progress.Options{Terminal: ptr(false), Unit: "bytes", Every: 5 * time.Second, Now: c.now})
	m.Set(1 << 20) // at once: no line yet
	if out.Len() != 0 {
		t.Fatalf("a plain line before the first interval: %q", out.String())
	}
	c.advance(5 * time.Second)
	m.Set(2 << 20)
	c.advance(time.Second)
	m.Set(3 << 20) // within the interval: no line
	c.advance(4 * time.Second)
	m.Set(4 << 20)
	m.Done()
	want := "backup: 50%, 2.0 MiB/4.0 MiB, 409.6 KiB/s, ETA 5s\n" +
		"backup: 100%, 4.0 MiB/4.0 MiB, 409.6 KiB/s, 10s\n" +
		"backup: 100%, 4.0 MiB/4.0 MiB, 409.6 KiB/s, in 10s\n"
	if out.String() != want {
		t.Fatalf("plain lines\n got %q\nwant %q", out.String(), want)
	}
	if strings.Contains(out.String(), "\r") {
		t.Fatal("a plain line has a carriage return")
	}
}

func TestUnknownTotal(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	var out bytes.Buffer
	m := progress.New(&out, "reembed", 0, progress.Options{Terminal: ptr(true), Now: c.now})
	c.advance(2 * time.Second)
	m.Set(5000)
	if got, want := out.String(), "\rreembed 5,000 2,500/s 2s"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	m.SetLabel("reembed patterns")
	m.SetTotal(10_000)
	c.advance(2 * time.Second)
	m.Set(6000)
	if !strings.Contains(out.String(), "\rreembed patterns [") || !strings.Contains(out.String(), "ETA 3s") {
		t.Fatalf("after SetTotal: %q", out.String())
	}
}

func TestCountAndBytes(t *testing.T) {
	for _, tc := range []struct {
		n           int64
		count, size string
	}{
		{0, "0", "0 B"},
		{999, "999", "999 B"},
		{1000, "1,000", "1000 B"},
		{1024, "1,024", "1.0 KiB"},
		{1536, "1,536", "1.5 KiB"},
		{1234567, "1,234,567", "1.2 MiB"},
		{5 << 30, "5,368,709,120", "5.0 GiB"},
		{3 << 40, "3,298,534,883,328", "3.0 TiB"},
		{-1234, "-1,234", "-1234 B"},
	} {
		if got := progress.Count(tc.n); got != tc.count {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.count)
		}
		if got := progress.Bytes(tc.n); got != tc.size {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.size)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if progress.IsTerminal(f) || progress.IsTerminal(w) || progress.IsTerminal(&bytes.Buffer{}) {
		t.Fatal("a regular file, a pipe or a buffer taken for a terminal")
	}
	// /dev/null is a character device too: drawing a bar there is harmless.
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		defer null.Close()
		if !progress.IsTerminal(null) {
			t.Fatal("a character device not taken for a terminal")
		}
	}
	// Without Terminal set, the writer decides: plain lines to a file.
	m := progress.New(f, "x", 10, progress.Options{})
	m.Set(10)
	m.Done()
	b, _ := os.ReadFile(f.Name())
	if strings.Contains(string(b), "\r") || !strings.HasPrefix(string(b), "x: 100%") {
		t.Fatalf("to a file: %q", b)
	}
}
