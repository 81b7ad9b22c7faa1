package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestSmallRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-n", "2000", "-queries", "5", "-vocab", "worst", "-db", filepath.Join(t.TempDir(), "o.db")}, &out); err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"| index (default) | keyword | none |", "| index (default) | semantic | agent (10%) |", "| index (default) | hybrid |", "ExactSearch"} {
		if !strings.Contains(out.String(), row) {
			t.Fatalf("no %q in the report:\n%s", row, out.String())
		}
	}
}
