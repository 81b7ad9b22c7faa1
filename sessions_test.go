package memoryrelay_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/memory"
)

func TestGetOrCreateSessionConcurrent(t *testing.T) {
	ctx := context.Background()
	r, _ := open(t, memoryrelay.Options{})
	acct := account(t, r)
	const n = 20
	ids := make([]string, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, c, err := r.Account(acct).Sessions().GetOrCreate(ctx, "ext", memory.NewSession{AgentID: fmt.Sprint("agent-", i)})
			ids[i], created[i], errs[i] = s.ID, c, err
		}()
	}
	wg.Wait()
	wins := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("ids differ: %s, %s", ids[0], ids[i])
		}
		if created[i] {
			wins++
		}
	}
	if wins != 1 {
		t.Fatalf("%d calls created the session", wins)
	}
}

func TestSessionProjectAutoCreate(t *testing.T) {
	ctx := context.Background()
	r, path := open(t, memoryrelay.Options{})
	acct := account(t, r)
	db := rawDB(t, path)
	for _, p := range []string{"web-app", "web-app", "Not A Slug"} {
		p := p
		s, err := r.Account(acct).Sessions().Create(ctx, memory.NewSession{Project: &p})
		if err != nil {
			t.Fatal(err)
		}
		if *s.Project != p {
			t.Errorf("project %q, want %q", *s.Project, p)
		}
	}
	if got := count(t, db, "SELECT count(*) FROM projects WHERE slug = 'web-app' AND name = 'web-app'"); got != 1 {
		t.Errorf("%d web-app projects, want 1", got)
	}
	if got := count(t, db, "SELECT count(*) FROM projects"); got != 1 {
		t.Errorf("%d projects: an invalid slug must create none", got)
	}
	// get-or-create resolves the project only when it creates.
	proj := "later"
	if _, _, err := r.Account(acct).Sessions().GetOrCreate(ctx, "x", memory.NewSession{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Account(acct).Sessions().GetOrCreate(ctx, "x", memory.NewSession{Project: &proj}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, "SELECT count(*) FROM projects WHERE slug = 'later'"); got != 0 {
		t.Errorf("a get-or-create hit created its project")
	}
}

// TestEndSessionUpdatedAt checks that updated_at advances on every change,
// even within one millisecond, and only on a change.
func TestEndSessionUpdatedAt(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)
	r, _ := open(t, memoryrelay.Options{Now: func() time.Time { return now }})
	acct := account(t, r)
	s, err := r.Account(acct).Sessions().Create(ctx, memory.NewSession{})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		summary *string
		advance bool
	}{
		{nil, true}, // active → ended
		{nil, false},
		{summaryOf("one"), true},
		{summaryOf("one"), false},
		{summaryOf("two"), true},
	}
	prev := s.UpdatedAt
	for i, st := range steps {
		got, err := r.Account(acct).Sessions().End(ctx, s.ID, st.summary)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != memory.SessionEnded || got.EndedAt == nil || !got.EndedAt.Equal(now) {
			t.Errorf("step %d: %+v", i, got)
		}
		if advanced := got.UpdatedAt.After(prev); advanced != st.advance {
			t.Errorf("step %d: updated_at %v after %v: %v, want %v", i, got.UpdatedAt, prev, advanced, st.advance)
		}
		if got.UpdatedAt.Before(got.CreatedAt) {
			t.Errorf("step %d: updated_at before created_at", i)
		}
		prev = got.UpdatedAt
	}
	if _, err := r.Account(acct).Sessions().End(ctx, "nope", nil); !errors.Is(err, memoryrelay.ErrNotFound) {
		t.Errorf("non-uuid id: %v", err)
	}
}

func summaryOf(s string) *string { return &s }
