package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun runs the whole program on tiny corpora, so that it keeps
// compiling and working.
func TestRun(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "2000", "-queries", "10", "-vocab", "worst", "-filter", "0.1"},
		{"-n", "500", "-queries", "5", "-vocab", "worst", "-sqlite=false", "-exhaustive=false"},
	} {
		var out bytes.Buffer
		if err := run(append(args, "-dir", t.TempDir()), &out); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
		for _, row := range []string{"| index (block-max MaxScore), RankScore |", "| index (block-max MaxScore), RankBM25 |"} {
			if !strings.Contains(out.String(), row) {
				t.Errorf("%v: no row %q in\n%s", args, row, out.String())
			}
		}
		if args[len(args)-1] != "-exhaustive=false" && !strings.Contains(out.String(), "| SQLite FTS4 matchinfo") {
			t.Errorf("%v: no FTS4 row in\n%s", args, out.String())
		}
	}
	if err := run([]string{"-vocab", "latin"}, &bytes.Buffer{}); err == nil {
		t.Error("-vocab latin accepted")
	}
}
