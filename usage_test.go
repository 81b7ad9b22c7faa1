package memoryrelay_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay"
	"github.com/memoryrelay/memoryrelay/limiter"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
)

// TestQuotaCounting checks that every authenticated request counts, per
// key and UTC day, without a database write per request, and that Close
// keeps the counts.
func TestQuotaCounting(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 3, 17, 23, 59, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	path := filepath.Join(t.TempDir(), "quota.db")
	r, _ := open(t, memoryrelay.Options{Path: path, RateLimit: 3, Now: clock})
	acct := account(t, r)
	k, tok, err := r.Account(acct).Keys().Create(ctx, memory.NewKey{Name: "k", Scopes: scopes.NewSet(scopes.Read)})
	if err != nil {
		t.Fatal(err)
	}
	raw := tok.Reveal()

	// 2 allowed, 1 refused for scope, 2 refused for rate: all 5 count.
	for i, want := range []error{nil, &scopes.MissingError{}, nil, &limiter.LimitedError{}, &limiter.LimitedError{}} {
		required := []scopes.Scope{scopes.Read}
		if i == 1 {
			required = []scopes.Scope{scopes.Write}
		}
		_, err := r.Authorize(ctx, raw, required...)
		switch want.(type) {
		case nil:
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		case *scopes.MissingError:
			var m *scopes.MissingError
			if !errors.As(err, &m) {
				t.Fatalf("request %d: %v", i, err)
			}
		case *limiter.LimitedError:
			var l *limiter.LimitedError
			if !errors.As(err, &l) {
				t.Fatalf("request %d: %v", i, err)
			}
		}
	}
	// A bad key counts for nobody.
	if _, err := r.Authorize(ctx, "mem_live_nope"); err == nil {
		t.Fatal("bad key authorized")
	}
	q, err := r.AccountFor(k).Usage().Quota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := memory.Quota{Used: 5, Limit: 3 * 1440, Remaining: 3*1440 - 5, ResetAt: time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC)}
	if q != want {
		t.Errorf("quota %+v, want %+v", q, want)
	}
	db := rawDB(t, path)
	if n := count(t, db, "SELECT count(*) FROM key_usage"); n != 0 {
		t.Errorf("%d key_usage rows before a flush: requests must not write", n)
	}

	// Past midnight the count starts again; the old day is kept apart.
	set(time.Date(2026, 3, 18, 0, 0, 1, 0, time.UTC))
	r.Authorize(ctx, raw, scopes.Read)
	if q, _ := r.AccountFor(k).Usage().Quota(ctx); q.Used != 1 || !q.ResetAt.Equal(time.Date(2026, 3, 19, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("next day: %+v", q)
	}

	// Close writes the counts; a reopened relay reads them.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT coalesce(sum(count), 0) FROM key_usage"); n != 6 {
		t.Errorf("stored %d requests, want 6", n)
	}
	r2, _ := open(t, memoryrelay.Options{Path: path, RateLimit: 3, Now: clock})
	r2.Authorize(ctx, raw, scopes.Read)
	if q, err := r2.AccountFor(k).Usage().Quota(ctx); err != nil || q.Used != 2 {
		t.Errorf("after reopen: %+v %v", q, err)
	}
	set(time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC)) // back to the first day
	if q, _ := r2.AccountFor(k).Usage().Quota(ctx); q.Used != 5 {
		t.Errorf("first day after reopen: %+v", q)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT count(*) FROM key_usage"); n != 2 {
		t.Errorf("%d key_usage rows, want one per day", n)
	}
}
