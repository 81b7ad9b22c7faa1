package keys_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/scopes"
)

func usd(v float64) *float64 { return &v }

// TestStoreSpendLimits: limits are stored with the key, checked at create
// and update at the limit and one past it, changed or removed by Update,
// and the key's other fields stay.
func TestStoreSpendLimits(t *testing.T) {
	ctx := context.Background()
	db := stOpenDB(t)
	s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
	read := scopes.NewSet(scopes.Read)
	k, _ := stCreate(t, s, db.acct, keys.CreateParams{Name: "metered", Scopes: read, DailySpendLimit: usd(1.25), MonthlySpendLimit: usd(0)})
	got := stGet(t, s, db.acct, k.ID)
	if got.DailySpendLimit == nil || *got.DailySpendLimit != 1.25 || got.MonthlySpendLimit == nil || *got.MonthlySpendLimit != 0 {
		t.Fatalf("limits %v %v", got.DailySpendLimit, got.MonthlySpendLimit)
	}
	for _, c := range []struct {
		v  float64
		ok bool
	}{{0, true}, {keys.MaxSpendLimit, true}, {-0.01, false}, {keys.MaxSpendLimit + 1, false}, {math.NaN(), false}, {math.Inf(1), false}} {
		_, _, err := s.Create(ctx, db.acct, keys.CreateParams{Name: "k", Scopes: read, DailySpendLimit: usd(c.v)})
		var ie *keys.InvalidError
		if c.ok != (err == nil) || (!c.ok && (!errors.As(err, &ie) || ie.Field != "DailySpendLimit")) {
			t.Errorf("create with daily limit %v: %v", c.v, err)
		}
		_, err = s.Update(ctx, db.acct, k.ID, keys.UpdateParams{MonthlySpendLimit: keys.LimitChange{Set: true, USD: usd(c.v)}})
		if c.ok != (err == nil) || (!c.ok && (!errors.As(err, &ie) || ie.Field != "MonthlySpendLimit")) {
			t.Errorf("update with monthly limit %v: %v", c.v, err)
		}
	}
	name := "renamed"
	u, err := s.Update(ctx, db.acct, k.ID, keys.UpdateParams{Name: &name, Metadata: []byte(`{ "team" : "ops" }`),
		DailySpendLimit: keys.LimitChange{Set: true}})
	if err != nil || u.Name != "renamed" || string(u.Metadata) != `{"team":"ops"}` || u.DailySpendLimit != nil || u.Scopes != read || u.Prefix != k.Prefix {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	if g := stGet(t, s, db.acct, k.ID); g.Name != "renamed" || g.DailySpendLimit != nil || g.MonthlySpendLimit == nil {
		t.Fatalf("stored after Update: %+v", g)
	}
	for _, p := range []keys.UpdateParams{{Name: usdName("")}, {Name: usdName("\xff")}, {Metadata: []byte(`[1]`)}} {
		if _, err := s.Update(ctx, db.acct, k.ID, p); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("Update(%+v): %v", p, err)
		}
	}
	if _, err := s.Update(ctx, "another-account", k.ID, keys.UpdateParams{Name: &name}); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("Update of another account's key: %v", err)
	}
}

func usdName(s string) *string { return &s }

// TestStoreCharge: charges add up per UTC day and month, a charge that
// would pass a limit is refused with the wait until the period resets,
// reaching a limit exactly is allowed, a new day starts from 0, and a
// refund never goes below 0.
func TestStoreCharge(t *testing.T) {
	ctx := context.Background()
	db := stOpenDB(t)
	clock := stNewClock() // 2030-01-02 03:04:05 UTC
	s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now})
	k, _ := stCreate(t, s, db.acct, keys.CreateParams{Name: "m", Scopes: scopes.NewSet(scopes.Read), DailySpendLimit: usd(0.001), MonthlySpendLimit: usd(0.0025)})
	const micro = 1000 // nano-USD in a micro-USD
	for range 10 {
		if err := s.Charge(ctx, k.ID, 100*micro); err != nil {
			t.Fatal(err)
		}
	}
	// $0.001 spent today: the limit is reached, exactly.
	err := s.Charge(ctx, k.ID, 1)
	var se *keys.SpendLimitError
	if !errors.Is(err, keys.ErrSpendLimit) || !errors.As(err, &se) || se.Period != "daily" || se.Limit != 0.001 ||
		se.RetryAfter != 20*time.Hour+55*time.Minute+55*time.Second {
		t.Fatalf("past the daily limit: %v (%+v)", err, se)
	}
	g := stGet(t, s, db.acct, k.ID)
	if day, month := g.Spend.At(clock.Now()); day != 1000*micro || month != 1000*micro {
		t.Fatalf("spend %d %d", day, month)
	}
	clock.Set(24 * time.Hour) // the next day
	if err := s.Charge(ctx, k.ID, 1000*micro); err != nil {
		t.Fatalf("a new day: %v", err)
	}
	if day, month := stGet(t, s, db.acct, k.ID).Spend.At(clock.Now()); day != 1000*micro || month != 2000*micro {
		t.Fatalf("after a new day: %d %d", day, month)
	}
	clock.Set(48 * time.Hour)
	err = s.Charge(ctx, k.ID, 501*micro) // month 2.501 > 2.5 mUSD
	if !errors.As(err, &se) || se.Period != "monthly" || se.RetryAfter != time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC).Sub(clock.Now()) {
		t.Fatalf("past the monthly limit: %v", err)
	}
	if err := s.Charge(ctx, k.ID, -5000*micro); err != nil {
		t.Fatal(err)
	}
	if day, month := stGet(t, s, db.acct, k.ID).Spend.At(clock.Now()); day != 0 || month != 0 {
		t.Fatalf("after a refund: %d %d, want 0 0", day, month)
	}
	if err := s.Charge(ctx, "no-such-key", 1); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
}

// TestStoreChargeConcurrent: of many concurrent charges racing for a
// limit, exactly as many pass as fit.
func TestStoreChargeConcurrent(t *testing.T) {
	ctx := context.Background()
	db := stOpenDB(t)
	s := stNewStore(t, db.st.Keys(), keys.Options{Now: stNewClock().Now})
	k, _ := stCreate(t, s, db.acct, keys.CreateParams{Name: "m", Scopes: scopes.NewSet(scopes.Read), DailySpendLimit: usd(0.000007)})
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Charge(ctx, k.ID, 1000) // 1 µUSD
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, keys.ErrSpendLimit):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 7 || refused.Load() != 13 {
		t.Fatalf("%d passed, %d refused; want 7 and 13", ok.Load(), refused.Load())
	}
}

// TestStoreRotationTime: DeprecatedAt is stored with the rotation.
func TestStoreRotationTime(t *testing.T) {
	ctx := context.Background()
	db := stOpenDB(t)
	clock := stNewClock()
	s := stNewStore(t, db.st.Keys(), keys.Options{Now: clock.Now})
	k, _ := stCreate(t, s, db.acct, keys.CreateParams{Name: "r", Scopes: scopes.NewSet(scopes.Read)})
	if k.DeprecatedAt != nil {
		t.Fatal("a new key is deprecated")
	}
	clock.Set(time.Minute)
	if _, _, err := s.Rotate(ctx, db.acct, k.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	g := stGet(t, s, db.acct, k.ID)
	if g.DeprecatedAt == nil || !g.DeprecatedAt.Equal(stT0.Add(time.Minute)) || g.GraceUntil == nil || !g.GraceUntil.Equal(stT0.Add(time.Hour+time.Minute)) {
		t.Fatalf("DeprecatedAt %v, GraceUntil %v", g.DeprecatedAt, g.GraceUntil)
	}
}
