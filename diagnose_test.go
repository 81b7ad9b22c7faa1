package memoryrelay_test

import (
	"context"
	"testing"

	"github.com/memoryrelay/memoryrelay"
)

// TestDiagnose: a database in use is diagnosed healthy, with its counts;
// a memory whose full-text row is gone (deleted below the API) is found.
func TestDiagnose(t *testing.T) {
	ctx := context.Background()
	r, path := open(t, memoryrelay.Options{})
	populate(t, r, "acme")
	d, err := memoryrelay.Diagnose(ctx, memoryrelay.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if p := d.Problems(); p != nil || d.Memories != 3 || d.Vectors != 3 || d.FullText != 3 || d.Embedder != "memoryrelay-hash-v1-384/384" || d.FeedNewest == 0 {
		t.Fatalf("healthy: %+v %v", d, p)
	}
	writeDB(t, path, "DELETE FROM memory_fts WHERE docid = (SELECT min(seq) FROM memories)")
	d, err = memoryrelay.Diagnose(ctx, memoryrelay.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if p := d.Problems(); len(p) != 1 || p[0] != "1 memories have no full-text row (keyword search misses them)" {
		t.Fatalf("a full-text row deleted: %+v %v", d, p)
	}
}
