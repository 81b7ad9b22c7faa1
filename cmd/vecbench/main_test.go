package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestRun runs the whole program on tiny data sets, so that it keeps
// compiling and working.
func TestRun(t *testing.T) {
	tests := []struct {
		name string
		args []string
		rows []string // methods expected in the table
	}{
		{
			name: "clustered, all methods, rescored from SQLite",
			args: []string{"-n", "3000", "-dim", "32", "-queries", "10", "-clusters", "5", "-keepfloats", "-rescore", "sqlite"},
			rows: []string{"| index (1-bit", "| index, KeepFloats", "| exact float32 scan in Go", "| sqlite-vec vec0"},
		},
		{
			name: "uniform, filtered",
			args: []string{"-n", "2000", "-dim", "24", "-queries", "5", "-shape", "uniform", "-filter", "0.1", "-vec0-queries", "2"},
			rows: []string{"| index (1-bit", "| exact float32 scan in Go", "| sqlite-vec vec0 float32 KNN (first 2 queries)"},
		},
		{
			name: "index only",
			args: []string{"-n", "500", "-dim", "8", "-k", "3", "-queries", "3", "-vec0=false", "-exact=false"},
			rows: []string{"| index (1-bit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(append(tt.args, "-dir", t.TempDir()), &out); err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			s := out.String()
			for _, row := range tt.rows {
				if !strings.Contains(s, row) {
					t.Errorf("no row %q in\n%s", row, s)
				}
			}
			// Exact search finds the ground truth.
			for line := range strings.Lines(s) {
				if strings.HasPrefix(line, "| exact") && !strings.Contains(line, "| 1.0000 |") {
					t.Errorf("exact scan without full recall: %s", line)
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"-bogus"}},
		{"bad shape", []string{"-shape", "spiral"}},
		{"bad filter", []string{"-filter", "0"}},
		{"bad n", []string{"-n", "0"}},
		{"bad rescore", []string{"-rescore", "disk"}},
		{"extra argument", []string{"now"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(tt.args, &out); err == nil {
				t.Fatalf("run(%q) succeeded", tt.args)
			}
		})
	}
	var out bytes.Buffer
	if err := run([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-shape") {
		t.Errorf("-h: %v, usage %q", err, out.String())
	}
}
