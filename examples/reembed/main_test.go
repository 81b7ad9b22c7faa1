package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

func TestReembedProgram(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "r.db")
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	acct, _ := r.CreateAccount(ctx, "a")
	for _, s := range []string{"one memory", "another memory"} {
		if _, err := r.Account(acct.ID).Memories().Create(ctx, memory.NewMemory{Content: s}); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	var out bytes.Buffer
	if err := run(ctx, []string{"-db", db, "-to", "hash:96"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "now uses memoryrelay-hash-v") {
		t.Fatalf("output: %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"-db", db, "-to", "hash:96"}, &out); err != nil || !strings.Contains(out.String(), "already uses") {
		t.Fatalf("second run: %v %q", err, out.String())
	}
	if err := run(ctx, []string{"-db", db, "-to", "bogus"}, &out); err == nil {
		t.Fatal("bogus -to accepted")
	}
}
