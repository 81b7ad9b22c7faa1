package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestShortRun is the short variant CI runs: a few clients for a moment,
// no 5xx and no "database is locked".
func TestShortRun(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-clients", "8", "-duration", "1s", "-seed", "100", "-sync", "NORMAL",
		"-mix", "search=40,create=20,list=15,get=25"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "|search") || !strings.Contains(out.String(), "bare net/http") {
		t.Fatalf("report:\n%s", out.String())
	}
}
