package memoryrelay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// rawContains reports whether the database file or its WAL holds needle.
func rawContains(t *testing.T, path string, needle string) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(needle)) {
			return true
		}
	}
	return false
}

func TestErasure(t *testing.T) {
	ctx := context.Background()
	r, path := open(t, memoryrelay.Options{})
	acct := account(t, r)
	user := "erasable-user"
	keep := "keeper"
	// The marker words are what must vanish; the other memories stay.
	for i, c := range []struct {
		agent, user, text string
	}{
		{"doomed-agent", keep, "zqxjvagentmarker one"},
		{"doomed-agent", keep, "zqxjvagentmarker two"},
		{"survivor", user, "wqpzuserlmarker three"},
		{"survivor", keep, "this memory survives everything"},
	} {
		u := c.user
		m, err := r.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: c.text, AgentID: c.agent, UserID: &u, Metadata: json.RawMessage(`{"n":` + string(rune('0'+i)) + `}`)})
		if err != nil {
			t.Fatal(err)
		}
		e, err := r.Account(acct).Entities().Create(ctx, memory.NewEntity{Name: fmt.Sprintf("entity %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Account(acct).Entities().Link(ctx, memory.NewEntityLink{EntityID: e.ID, MemoryID: m.Memory.ID}); err != nil {
			t.Fatal(err)
		}
	}
	// A v2 job carries content in its payload.
	job, err := r.Account(acct).Memories().CreateAsync(ctx, memory.NewMemory{Content: "zqxjvagentmarker async", AgentID: "doomed-agent"}, memory.AsyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for st := job; st.Status != memory.JobReady; {
		if st.Status == memory.JobFailed {
			t.Fatalf("job failed: %v", *st.Error)
		}
		if st, err = r.Account(acct).Memories().Job(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
	}

	if _, err := r.Account(acct).Agents().Delete(ctx, "doomed-agent"); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Account(acct).Memories().DeleteUser(ctx, user); err != nil || n != 1 {
		t.Fatalf("DeleteUserMemories: %d %v", n, err)
	}
	if err := r.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{"zqxjvagentmarker", "wqpzuserlmarker"} {
		if rawContains(t, path, marker) {
			t.Errorf("%q is still in the database file after erasure and Compact", marker)
		}
	}
	if !rawContains(t, path, "this memory survives everything") {
		t.Fatal("the scan finds nothing at all: it proves nothing")
	}
	db := rawDB(t, path)
	for q, want := range map[string]int{
		"SELECT count(*) FROM memories":       1,
		"SELECT count(*) FROM memory_vectors": 1,
		"SELECT count(*) FROM memory_fts":     1,
		"SELECT count(*) FROM entity_links":   1,
		"SELECT count(*) FROM jobs":           0,
	} {
		if got := count(t, db, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
}
