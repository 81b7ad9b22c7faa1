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
	if err := run(context.Background(), []string{"-n", "2000", "-queries", "5", "-db", filepath.Join(t.TempDir(), "o.db")}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| index (default) | semantic |") || !strings.Contains(out.String(), "ExactSearch") {
		t.Fatalf("report:\n%s", out.String())
	}
}
