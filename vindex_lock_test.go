package memoryrelay_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

// pruneAll deletes every change-log row but the newest, as another
// process's prune would once far enough ahead: the next catch-up of an
// index that had not seen them all finds a gap and rebuilds.
func pruneAll(db *sql.DB) error {
	_, err := db.Exec("DELETE FROM vector_changes WHERE id < (SELECT max(id) FROM vector_changes)")
	return err
}

// TestVectorIndexRebuildUnderFilteredSearches: two Relays on one file; the
// change log is pruned past them over and over, so that their catch-ups
// take the rebuild path, while eight goroutines run filtered semantic
// searches (by tier and by agent, which the index filters in memory).
// Every search must keep answering: a rebuild that takes the attribute
// lock inside the index's write lock, while a search holds the attribute
// lock and waits for the index's read lock, hangs them all.
func TestVectorIndexRebuildUnderFilteredSearches(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "relay.db")
	a, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := memoryrelay.Open(ctx, memoryrelay.Options{Path: path, Synchronous: "OFF"})
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	stuck := false
	t.Cleanup(func() {
		if !stuck { // a hung search would hang Close too; leave them
			a.Close()
			b.Close()
		}
	})
	for _, r := range []*memoryrelay.Relay{a, b} {
		if err := r.WaitSearchIndex(ctx); err != nil {
			t.Fatal(err)
		}
	}
	acct := account(t, a)
	words := []string{"harbour", "lantern", "orchard", "granite", "meadow", "falcon", "copper", "willow"}
	text := func(i int) string {
		return fmt.Sprintf("%s %s %s note %d", words[i%8], words[(i/8)%8], words[(i/3)%8], i)
	}
	var ids []string
	for i := range 200 {
		imp := float64(i%10) / 10
		m, err := a.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: text(i), AgentID: fmt.Sprintf("agent-%d", i%4), Importance: &imp})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Memory.ID)
	}
	raw, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)

	var (
		searches, rounds atomic.Int64
		stop             = make(chan struct{})
		wg               sync.WaitGroup
		errs             = make(chan error, 16)
	)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for g := range 8 {
		wg.Go(func() {
			r := []*memoryrelay.Relay{a, b}[g%2]
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := memory.SearchParams{Query: text(i*8 + g), Mode: "semantic", Limit: 5}
				if g%4 < 2 {
					tier := "hot"
					p.Tier = &tier
				} else {
					agent := fmt.Sprintf("agent-%d", i%4)
					p.AgentID = &agent
				}
				hits, err := r.Account(acct).Memories().Search(ctx, p)
				if err != nil {
					report(fmt.Errorf("search: %w", err))
					return
				}
				for _, h := range hits {
					if (p.Tier != nil && h.Memory.Tier != *p.Tier) || (p.AgentID != nil && h.Memory.AgentID != *p.AgentID) {
						report(fmt.Errorf("filter ignored: %+v for %+v", h.Memory, p))
						return
					}
				}
				searches.Add(1)
			}
		})
	}
	wg.Go(func() { // the other process: writes, then prunes past both
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			w := []*memoryrelay.Relay{a, b}[i%2]
			imp := float64(i%10) / 10
			if _, err := w.Account(acct).Memories().Create(ctx, memory.NewMemory{Content: text(1000 + i), AgentID: fmt.Sprintf("agent-%d", i%4), Importance: &imp}); err != nil {
				report(fmt.Errorf("create: %w", err))
				return
			}
			content := text(2000 + i)
			if _, err := w.Account(acct).Memories().Update(ctx, ids[i%len(ids)], memory.MemoryPatch{Content: &content}); err != nil {
				report(fmt.Errorf("update: %w", err))
				return
			}
			if err := pruneAll(raw); err != nil {
				report(fmt.Errorf("prune: %w", err))
				return
			}
			rounds.Add(1)
			time.Sleep(5 * time.Millisecond) // let the searches catch up in between
		}
	})

	// Run for a few seconds, and at least 20 rounds and 200 searches (a
	// busy machine is slow), failing (not hanging) if searches stop making
	// progress for 10 s.
	const runFor, stall = 4 * time.Second, 10 * time.Second
	start := time.Now()
	lastN, lastT := int64(-1), time.Now()
	for time.Since(start) < runFor || ((rounds.Load() < 20 || searches.Load() < 200) && time.Since(start) < 60*time.Second) {
		select {
		case err := <-errs:
			close(stop)
			t.Fatal(err)
		case <-time.After(50 * time.Millisecond):
		}
		if n := searches.Load(); n != lastN {
			lastN, lastT = n, time.Now()
		} else if time.Since(lastT) > stall {
			break
		}
	}
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stall):
		stuck = true
		buf := make([]byte, 1<<20)
		t.Fatalf("searches hung after %d searches and %d prune rounds; goroutines:\n%s",
			searches.Load(), rounds.Load(), buf[:runtime.Stack(buf, true)])
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if rounds.Load() < 20 || searches.Load() < 200 {
		t.Fatalf("only %d prune rounds and %d searches", rounds.Load(), searches.Load())
	}
	t.Logf("%d searches, %d prune rounds", searches.Load(), rounds.Load())
}

// TestReadersOne: every documented Readers value works, the smallest
// included. The vector index keeps a connection for its lifetime; taken
// from the read pool, it left a pool of one with none for anyone else.
func TestReadersOne(t *testing.T) {
	for _, readers := range []int{1, 2, 0} {
		t.Run(fmt.Sprintf("Readers=%d", readers), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, _ := open(t, memoryrelay.Options{Readers: readers})
			if err := r.WaitSearchIndex(ctx); err != nil {
				t.Fatal(err)
			}
			acct, err := r.CreateAccount(ctx, "acct")
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.Account(acct.ID).Memories().Create(ctx, memory.NewMemory{Content: "the ferry leaves the island at noon", AgentID: "ferry"})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := r.Account(acct.ID).Memories().Get(ctx, m.Memory.ID); err != nil || got.ID != m.Memory.ID {
				t.Fatalf("get: %v, %v", got.ID, err)
			}
			if page, err := r.Account(acct.ID).Memories().List(ctx, memory.ListParams{}); err != nil || len(page.Data) != 1 {
				t.Fatalf("list: %d, %v", len(page.Data), err)
			}
			// Searches and lists at once, with filters that resolve the
			// agent and build allow-lists in SQL, on a pool of one.
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 4 {
				wg.Go(func() {
					for i := range 10 {
						agent, user := "ferry", "nobody"
						p := memory.SearchParams{Query: "ferry island noon", Mode: []string{"semantic", "hybrid", "keyword"}[(g+i)%3]}
						switch i % 3 {
						case 1:
							p.AgentID = &agent
						case 2:
							p.UserID = &user // not kept in memory: an SQL allow-list
						}
						hits, err := r.Account(acct.ID).Memories().Search(ctx, p)
						if err != nil {
							errs <- fmt.Errorf("search %+v: %w", p, err)
							return
						}
						if want := 1 - i%3/2; len(hits) != want {
							errs <- fmt.Errorf("search %+v: %d hits, want %d", p, len(hits), want)
							return
						}
						if _, err := r.Account(acct.ID).Memories().List(ctx, memory.ListParams{AgentID: &agent}); err != nil {
							errs <- fmt.Errorf("list: %w", err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
