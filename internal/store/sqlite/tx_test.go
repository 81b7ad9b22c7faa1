package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/sqlite/sqlitedb"
	"github.com/memoryrelay/memoryrelay/search"
)

// counts returns the number of rows of each table.
func counts(t *testing.T, st *Store, tables ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range tables {
		n, err := queryValue[int](context.Background(), st.db.R, "SELECT count(*) FROM "+tbl)
		if err != nil {
			t.Fatal(err)
		}
		out[tbl] = n
	}
	return out
}

var allTables = []string{"accounts", "api_keys", "api_key_secrets", "agents", "memories", "memory_vectors", "memory_fts",
	"projects", "project_relationships", "sessions", "entities", "entity_links", "decisions", "patterns", "pattern_adoptions",
	"jobs", "key_usage", "vector_changes", "meta"}

// unchanged fails unless every table has the rows it had in before.
func unchanged(t *testing.T, st *Store, before map[string]int) {
	t.Helper()
	after := counts(t, st, allTables...)
	for tbl, n := range before {
		if after[tbl] != n {
			t.Errorf("%s: %d rows, had %d", tbl, after[tbl], n)
		}
	}
}

// TestFailedWriteLeavesNothing: a write that fails part-way rolls back
// everything it did before, the agents, projects and index rows it
// created on the way included.
func TestFailedWriteLeavesNothing(t *testing.T) {
	ctx := context.Background()
	st, a, _ := twoTenants(t)
	A := a.account.ID
	now := t0.Add(time.Hour)
	newMemory := func(acct, id, agent string) *store.Memory {
		return &store.Memory{ID: id, AccountID: acct, AgentRef: agent, Content: "c", Visibility: "private", Importance: 0.5,
			Tier: "warm", Scope: "long-term", Project: ptr("brand-new"), CreatedAt: now, UpdatedAt: now}
	}
	errApply := errors.New("apply refuses")
	cases := []struct {
		name  string
		write func() error
		want  error // matched with errors.Is; nil: any error
	}{
		{"memory of an unknown account", func() error {
			// The agent and the project are created first, then the
			// memory's foreign key fails.
			return st.InsertMemory(ctx, newMemory("no-such-account", "m1", "new-agent"), store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "c"})
		}, nil},
		{"memory with a taken id", func() error {
			return st.InsertMemory(ctx, newMemory(A, a.memory.ID, "new-agent"), store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "c"})
		}, nil},
		{"batch with a bad item", func() error {
			_, err := st.InsertMemories(ctx, []store.BatchItem{
				{Memory: newMemory(A, "m-ok", "new-agent"), Index: store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "c"}},
				{Memory: newMemory(A, a.memory.ID, "other-agent"), Index: store.Indexed{Vector: vecOf(1, 0, 0, 0), Terms: "c"}},
			})
			return err
		}, nil},
		{"update refused by apply", func() error {
			_, err := st.UpdateMemory(ctx, A, a.memory.ID, func(m *store.Memory) error { m.Content = "changed"; return errApply },
				&store.Indexed{Vector: vecOf(0, 1, 0, 0), Terms: "changed"})
			return err
		}, errApply},
		{"agent update refused by apply", func() error {
			_, err := st.UpdateAgent(ctx, A, a.agent.ID, func(x *store.Agent) error { x.Name = "changed"; return errApply })
			return err
		}, errApply},
		{"agent name taken", func() error {
			_, _, err := st.CreateAgent(ctx, A, "fresh-id", "bot", nil, nil, now)
			return err
		}, store.ErrNameTaken},
		{"project slug taken", func() error {
			return st.InsertProject(ctx, &store.Project{ID: "p-dup", AccountID: A, Slug: "web", Name: "dup", CreatedAt: now, UpdatedAt: now})
		}, store.ErrSlugTaken},
		{"supersede refused by prepare", func() error {
			d := store.Decision{ID: "d-new", AccountID: A, Title: "t", Rationale: "r", Status: "active", ProjectSlug: ptr("brand-new"), CreatedAt: now, UpdatedAt: now}
			return st.SupersedeDecision(ctx, A, a.decision.ID, &d, nil, func(store.Decision, *store.Decision) error { return errApply })
		}, errApply},
		{"decision in an unknown session", func() error {
			d := store.Decision{ID: "d-new", AccountID: A, AgentRef: ptr("new-agent"), SessionID: ptr("nope"), Title: "t", Rationale: "r",
				Status: "active", CreatedAt: now, UpdatedAt: now}
			return st.InsertDecision(ctx, &d, nil)
		}, store.ErrSessionNotFound},
		{"adopt by an invalid slug", func() error {
			_, err := st.AdoptPattern(ctx, A, a.pattern.ID, "Not A Slug", now)
			return err
		}, nil},
		{"relationship to an invalid slug", func() error {
			_, err := st.InsertProjectRelationship(ctx, &store.ProjectRelationship{AccountID: A, Source: "web", Target: "Not A Slug", Type: "t", CreatedAt: now})
			return err
		}, nil},
		{"fn's error", func() error {
			return st.db.Write(ctx, func(tx *sql.Tx) error {
				if _, err := tx.Exec("INSERT INTO meta(key, value) VALUES ('k', 'v')"); err != nil {
					return err
				}
				return errApply
			})
		}, errApply},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := counts(t, st, allTables...)
			err := c.write()
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			unchanged(t, st, before)
		})
	}
	// And the rows it would have changed read as before.
	if m, err := st.GetMemory(ctx, A, a.memory.ID); err != nil || m.Content != a.memory.Content {
		t.Fatalf("%+v %v", m, err)
	}
	if sc, err := st.NearestVectors(ctx, search.Filter{AccountID: A}, []float32{1, 0, 0, 0}, 1); err != nil || len(sc) != 1 || sc[0].Distance > 1e-6 {
		t.Fatalf("vector: %+v %v", sc, err)
	}
	if d, err := st.GetDecision(ctx, A, a.decision.ID); err != nil || d.Status != "active" {
		t.Fatalf("%+v %v", d, err)
	}
}

// TestBatchItemsStandAlone: in a batch, an item whose session does not
// exist is refused alone, having created nothing; the others are stored.
func TestBatchItemsStandAlone(t *testing.T) {
	ctx := context.Background()
	st, a, _ := twoTenants(t)
	A := a.account.ID
	item := func(id, agent string, session *string) store.BatchItem {
		return store.BatchItem{Memory: &store.Memory{ID: id, AccountID: A, AgentRef: agent, Content: id, Visibility: "private", Tier: "warm", Scope: "long-term",
			SessionID: session, Project: ptr("proj-" + id), CreatedAt: t0, UpdatedAt: t0}, Index: store.Indexed{Vector: vecOf(0, 1, 0, 0), Terms: id}}
	}
	out, err := st.InsertMemories(ctx, []store.BatchItem{item("one", "bot", nil), item("two", "ghost", ptr("no-session")), item("three", "bot", &a.session.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Err != nil || !errors.Is(out[1].Err, store.ErrSessionNotFound) || out[2].Err != nil {
		t.Fatalf("%+v", out)
	}
	for id, want := range map[string]bool{"one": true, "two": false, "three": true} {
		if _, err := st.GetMemory(ctx, A, id); (err == nil) != want {
			t.Errorf("%s: %v", id, err)
		}
	}
	if _, err := st.ResolveAgent(ctx, A, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused item's agent was created: %v", err)
	}
	if _, err := st.GetProject(ctx, A, "proj-two"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused item's project was created: %v", err)
	}
}

// TestConcurrentWritersSerialise: read-modify-write transactions from
// two stores on one file (as two processes would run them) and from
// several goroutines each all succeed, with none lost: every write
// transaction begins IMMEDIATE, taking the write lock before it reads, so
// no two can both read and then fail to upgrade ("database is locked").
func TestConcurrentWritersSerialise(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	open := func() *Store {
		st, err := Open(ctx, Options{Path: path, Synchronous: sqlitedb.SyncNormal, BusyTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st1 := open()
	x := seedTenant(t, st1, "a")
	st2 := open()

	const goroutines, rounds = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines*rounds)
	for _, st := range []*Store{st1, st2} {
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					_, err := st.UpdateMemory(ctx, x.account.ID, x.memory.ID, func(m *store.Memory) error {
						var meta struct{ N int }
						if m.Metadata != nil {
							if err := json.Unmarshal(m.Metadata, &meta); err != nil {
								return err
							}
						}
						meta.N++
						m.Metadata = fmt.Appendf(nil, `{"N":%d}`, meta.N)
						return nil
					}, nil)
					if err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	m, err := st2.GetMemory(ctx, x.account.ID, x.memory.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"N":%d}`, 2*goroutines*rounds); string(m.Metadata) != want {
		t.Fatalf("metadata %s, want %s: updates were lost", m.Metadata, want)
	}
}
