package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/pgtest"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/store/postgres"
	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

var t0 = time.Date(2026, 3, 17, 9, 30, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t0.Add(d)
}

func newKeyStore(tb testing.TB, s *postgres.Store, c *clock) *keys.Store {
	tb.Helper()
	ks, err := keys.NewStore(s.Keys(), keys.Options{Now: c.Now, FlushInterval: 24 * time.Hour, CacheTTL: -1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ks.Close(context.Background()) })
	return ks
}

func account(tb testing.TB, s *postgres.Store, name string) string {
	tb.Helper()
	a, err := s.CreateAccount(context.Background(), name, t0)
	if err != nil {
		tb.Fatal(err)
	}
	return a.ID
}

// TestKeys walks the key store over PostgreSQL: create, verify, list,
// rotate with grace, revoke, the last admin key, another account's key,
// and last use.
func TestKeys(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t))
	c := &clock{now: t0}
	ks := newKeyStore(t, s, c)
	ctx := context.Background()
	acct, other := account(t, s, "a"), account(t, s, "b")
	admin := scopes.NewSet(scopes.Admin)
	read := scopes.NewSet(scopes.Read)

	k1, tok1, err := ks.Create(ctx, acct, keys.CreateParams{Name: "admin", Scopes: admin, Metadata: []byte(`{"team":"x"}`), RateLimit: 50})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ks.Verify(ctx, tok1.Reveal())
	if err != nil || got.ID != k1.ID || got.Name != "admin" || !got.Scopes.Has(scopes.Admin) || string(got.Metadata) != `{"team":"x"}` || got.RateLimit != 50 || !got.CreatedAt.Equal(t0) {
		t.Fatalf("Verify: %+v, %v", got, err)
	}
	var readTok []keys.Token
	for i := range 3 {
		c.Set(time.Duration(i+1) * time.Second)
		_, tok, err := ks.Create(ctx, acct, keys.CreateParams{Name: fmt.Sprint("r", i), Scopes: read})
		if err != nil {
			t.Fatal(err)
		}
		readTok = append(readTok, tok)
	}
	page, total, err := ks.List(ctx, acct, 2, 1)
	if err != nil || total != 4 || len(page) != 2 || page[0].Name != "r1" || page[1].Name != "r0" {
		t.Fatalf("List(2, 1): %d keys of %d, %v; want r1, r0 of 4", len(page), total, err)
	}
	if _, err := ks.Get(ctx, other, k1.ID); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("Get from another account: %v; want ErrNotFound", err)
	}
	if _, err := ks.Revoke(ctx, other, k1.ID); !errors.Is(err, keys.ErrNotFound) {
		t.Errorf("Revoke from another account: %v; want ErrNotFound", err)
	}
	if _, err := ks.Revoke(ctx, acct, k1.ID); !errors.Is(err, keys.ErrLastAdmin) {
		t.Errorf("Revoke of the last admin key: %v; want ErrLastAdmin", err)
	}

	// Rotation with a minute's grace: both secrets work, then only the new.
	c.Set(10 * time.Second)
	_, fresh, err := ks.Rotate(ctx, acct, k1.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []keys.Token{tok1, fresh} {
		if _, err := ks.Verify(ctx, tok.Reveal()); err != nil {
			t.Fatalf("Verify during grace: %v", err)
		}
	}
	c.Set(10*time.Second + time.Minute)
	if _, err := ks.Verify(ctx, tok1.Reveal()); !errors.Is(err, keys.ErrRevoked) {
		t.Errorf("old secret after grace: %v; want ErrRevoked", err)
	}
	if _, err := ks.Verify(ctx, fresh.Reveal()); err != nil {
		t.Errorf("new secret after grace: %v", err)
	}

	// Revoke a read key; it reads as revoked, not unknown.
	page, _, _ = ks.List(ctx, acct, 1, 0)
	rk, err := ks.Revoke(ctx, acct, page[0].ID)
	if err != nil || rk.RevokedAt == nil {
		t.Fatalf("Revoke: %+v, %v", rk, err)
	}
	if _, err := ks.Verify(ctx, readTok[2].Reveal()); !errors.Is(err, keys.ErrRevoked) {
		t.Errorf("revoked key: %v; want ErrRevoked", err)
	}

	// Last use is written by Flush and never lowered.
	if err := ks.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	used := func() *time.Time {
		k, err := s.Keys().KeyByID(ctx, acct, k1.ID)
		if err != nil {
			t.Fatal(err)
		}
		return k.LastUsedAt
	}
	if lu := used(); lu == nil || !lu.Equal(t0.Add(10*time.Second+time.Minute)) {
		t.Fatalf("last_used_at %v; want the last Verify's instant", lu)
	}
	if err := s.Keys().TouchKeys(ctx, map[string]time.Time{k1.ID: t0}); err != nil {
		t.Fatal(err)
	}
	if lu := used(); !lu.Equal(t0.Add(10*time.Second + time.Minute)) {
		t.Errorf("last_used_at lowered to %v by an older touch", lu)
	}
	if n, err := s.CountKeys(ctx, acct); err != nil || n != 4 {
		t.Errorf("CountKeys: %d, %v; want 4", n, err)
	}
}

// TestRevokeLastAdminsConcurrently: two nodes revoke an account's only two
// admin keys at the same moment, twenty times: each time exactly one
// succeeds and the other is refused with ErrLastAdmin.
func TestRevokeLastAdminsConcurrently(t *testing.T) {
	url := pgtest.NewDatabase(t)
	nodeA, nodeB := open(t, url), open(t, url)
	c := &clock{now: t0}
	ksA, ksB := newKeyStore(t, nodeA, c), newKeyStore(t, nodeB, c)
	ctx := context.Background()
	for round := range 20 {
		acct := account(t, nodeA, fmt.Sprint("acct", round))
		var ids [2]string
		for i := range ids {
			k, _, err := ksA.Create(ctx, acct, keys.CreateParams{Name: fmt.Sprint("admin", i), Scopes: scopes.NewSet(scopes.Admin)})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = k.ID
		}
		var wg sync.WaitGroup
		var errs [2]error
		start := make(chan struct{})
		for i, ks := range []*keys.Store{ksA, ksB} {
			wg.Go(func() {
				<-start
				_, errs[i] = ks.Revoke(ctx, acct, ids[i])
			})
		}
		close(start)
		wg.Wait()
		ok, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, keys.ErrLastAdmin):
				refused++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d revoked, %d refused; want 1 and 1 (the account kept no admin key)", round, ok, refused)
		}
	}
}

func TestAccountsAndMeta(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	ctx := context.Background()
	a, err := s.CreateAccount(ctx, "acme", t0.Add(1500*time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	if !a.CreatedAt.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("CreatedAt %v; want truncated to the millisecond", a.CreatedAt)
	}
	got, err := s.Account(ctx, a.ID)
	if err != nil || got != a {
		t.Fatalf("Account: %+v, %v; want %+v", got, err, a)
	}
	if got, err := s.AccountByName(ctx, "acme"); err != nil || got.ID != a.ID {
		t.Fatalf("AccountByName: %+v, %v", got, err)
	}
	if _, err := s.Account(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Account(nope): %v; want ErrNotFound", err)
	}
	if _, err := s.CreateAccount(ctx, "x", t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Meta(ctx, "k"); ok || err != nil {
		t.Errorf("Meta of a missing key: %v, %v", ok, err)
	}
	// Three nodes set one meta key at once: one value wins, all see it.
	var wg sync.WaitGroup
	got3 := make([]string, 3)
	for i := range 3 {
		node := open(t, url)
		wg.Go(func() {
			v, err := node.SetMetaIfAbsent(ctx, "embedder", fmt.Sprint("node", i))
			if err != nil {
				t.Error(err)
			}
			got3[i] = v
		})
	}
	wg.Wait()
	if got3[0] == "" || got3[0] != got3[1] || got3[1] != got3[2] {
		t.Fatalf("SetMetaIfAbsent from three nodes returned %v; want one value for all", got3)
	}
	if v, ok, err := s.Meta(ctx, "embedder"); !ok || err != nil || v != got3[0] {
		t.Errorf("Meta: %q, %v, %v", v, ok, err)
	}
}

// TestKeysHosted: the fields of API.md §10.2 over PostgreSQL: spend
// limits stored and updated, the rotation's time, and charges from three
// nodes racing for a daily limit, of which exactly as many pass as fit
// (the key's row is locked per charge).
func TestKeysHosted(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDatabase(t)
	c := &clock{now: t0}
	var nodes []*keys.Store
	for range 3 {
		nodes = append(nodes, newKeyStore(t, open(t, db), c))
	}
	s := open(t, db)
	acct := account(t, s, "a")
	limit := 0.00001 // 10 µUSD
	k, _, err := nodes[0].Create(ctx, acct, keys.CreateParams{Name: "m", Scopes: scopes.NewSet(scopes.Read), DailySpendLimit: &limit})
	if err != nil {
		t.Fatal(err)
	}
	name := "renamed"
	u, err := nodes[1].Update(ctx, acct, k.ID, keys.UpdateParams{Name: &name, MonthlySpendLimit: keys.LimitChange{Set: true, USD: &limit}})
	if err != nil || u.Name != "renamed" || u.DailySpendLimit == nil || *u.DailySpendLimit != limit || u.MonthlySpendLimit == nil {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	var passed sync.WaitGroup
	var mu sync.Mutex
	ok, no := 0, 0
	for i := range 30 {
		passed.Add(1)
		go func() {
			defer passed.Done()
			err := nodes[i%3].Charge(ctx, k.ID, 1000) // 1 µUSD
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, keys.ErrSpendLimit):
				no++
			default:
				t.Error(err)
			}
		}()
	}
	passed.Wait()
	if ok != 10 || no != 20 {
		t.Fatalf("%d charges passed, %d refused; want 10 and 20", ok, no)
	}
	c.Set(time.Minute)
	if _, _, err := nodes[2].Rotate(ctx, acct, k.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	g, err := nodes[0].Get(ctx, acct, k.ID)
	if err != nil || g.DeprecatedAt == nil || !g.DeprecatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after Rotate: DeprecatedAt %v, %v", g.DeprecatedAt, err)
	}
	if day, _ := g.Spend.At(c.Now()); day != 10_000 {
		t.Fatalf("spent today %d nano-USD, want 10000", day)
	}
}
