package countio_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/countio"
)

func TestCounts(t *testing.T) {
	var buf bytes.Buffer
	w := &countio.Writer{W: &buf}
	for _, s := range []string{"abc", "", "defgh"} {
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
	}
	if w.N != 8 || buf.Len() != 8 {
		t.Fatalf("Writer counted %d, wrote %d; want 8", w.N, buf.Len())
	}
	r := &countio.Reader{R: strings.NewReader("0123456789")}
	p := make([]byte, 4)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	if r.N != 4 {
		t.Fatalf("Reader counted %d; want 4", r.N)
	}
	if _, err := io.ReadAll(r); err != nil || r.N != 10 {
		t.Fatalf("Reader counted %d after ReadAll (%v); want 10", r.N, err)
	}
}
