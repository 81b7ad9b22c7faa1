package memoryrelay_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// BenchmarkExportImport: an export of an account of 5,000 memories (with
// their 384-dimension vectors) to memory, and its import into a new
// database, side by side; records/s counts every record (5,001).
func BenchmarkExportImport(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	src := filepath.Join(dir, "src.db")
	r, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: src, Synchronous: "NORMAL", Workers: -1, ExactSearch: true})
	if err != nil {
		b.Fatal(err)
	}
	acct, _ := r.CreateAccount(ctx, "bench")
	const n = 5000
	for i := 0; i < n; i += 1000 {
		items := make([]memory.NewMemory, 1000)
		for j := range items {
			items[j] = memory.NewMemory{Content: fmt.Sprintf("benchmark memory %d about exports, imports and the formats they use", i+j)}
		}
		if _, err := r.Account(acct.ID).Memories().CreateBatch(ctx, memory.BatchParams{Memories: items}); err != nil {
			b.Fatal(err)
		}
	}
	r.Close()
	var data bytes.Buffer
	if _, err := memoryrelay.Export(ctx, memoryrelay.Options{Path: src}, &data, memoryrelay.ExportParams{}); err != nil {
		b.Fatal(err)
	}
	records := float64(n + 1)
	b.Run("export", func(b *testing.B) {
		var out bytes.Buffer
		for b.Loop() {
			out.Reset()
			if _, err := memoryrelay.Export(ctx, memoryrelay.Options{Path: src}, &out, memoryrelay.ExportParams{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(records*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(out.Len()), "bytes")
	})
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
			dst := filepath.Join(b.TempDir(), "dst.db")
			if _, err := memoryrelay.Import(ctx, memoryrelay.Options{Path: dst}, bytes.NewReader(data.Bytes()), memoryrelay.ImportParams{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(records*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
