package spend_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/spend"
)

func amt(usd float64) *spend.Amount {
	a, ok := spend.FromUSD(usd)
	if !ok {
		panic(usd)
	}
	return &a
}

func TestCost(t *testing.T) {
	for _, c := range []struct {
		price  spend.Price
		tokens int
		want   spend.Amount
	}{
		{0, 1_000_000, 0},
		{0.02, 0, 0},
		{0.02, 1_000_000, 20_000_000}, // $0.02
		{0.02, 1, 20},                 // 20 nano-USD
		{0.13, 3, 390},
		{0.00001, 1, 1}, // 0.01 nano-USD rounds up: nothing metered is free
		{1, 1_000_000_000, 1_000 * spend.NanoPerUSD},
	} {
		if got := c.price.Cost(c.tokens); got != c.want {
			t.Errorf("Price(%v).Cost(%d) = %d, want %d", c.price, c.tokens, got, c.want)
		}
	}
}

func TestFromUSD(t *testing.T) {
	for _, c := range []struct {
		usd  float64
		want spend.Amount
		ok   bool
	}{
		{0, 0, true}, {1.5, 1_500_000_000, true}, {0.000000001, 1, true}, {spend.MaxUSD, spend.MaxUSD * spend.NanoPerUSD, true},
		{-0.01, 0, false}, {spend.MaxUSD + 1, 0, false}, {math.NaN(), 0, false}, {math.Inf(1), 0, false},
	} {
		got, ok := spend.FromUSD(c.usd)
		if got != c.want || ok != c.ok {
			t.Errorf("FromUSD(%v) = %d, %v", c.usd, got, ok)
		}
	}
	if s := spend.Amount(1_500_000_000).String(); s != "$1.5" {
		t.Errorf("String = %q", s)
	}
}

func TestPeriods(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 59, 59, 0, time.FixedZone("X", 3*3600)) // 20:59:59 UTC
	if got := spend.DayStart(at); !got.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("DayStart %v", got)
	}
	if got := spend.NextDay(at); !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("NextDay %v", got)
	}
	if got := spend.NextMonth(time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("NextMonth %v", got)
	}
	if got := spend.MonthStart(time.Date(2024, 2, 29, 1, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("MonthStart %v", got)
	}
}

func TestCheck(t *testing.T) {
	now := time.Date(2026, 3, 17, 22, 0, 0, 0, time.UTC) // 2 h to midnight, 14 days 2 h to April
	cent := *amt(0.01)
	cases := []struct {
		name   string
		u      spend.Usage
		l      spend.Limits
		cost   spend.Amount
		period string // "" : allowed
		wait   time.Duration
	}{
		{"unlimited", spend.Usage{Today: *amt(1e6)}, spend.Limits{}, cent, "", 0},
		{"free request past the limit", spend.Usage{Today: *amt(5)}, spend.Limits{Daily: amt(1)}, 0, "", 0},
		{"reaches the daily limit exactly", spend.Usage{Today: *amt(0.99)}, spend.Limits{Daily: amt(1)}, cent, "", 0},
		{"one nano past the daily limit", spend.Usage{Today: *amt(0.99)}, spend.Limits{Daily: amt(1)}, cent + 1, spend.Daily, 2 * time.Hour},
		{"daily limit 0", spend.Usage{}, spend.Limits{Daily: amt(0)}, 1, spend.Daily, 2 * time.Hour},
		{"monthly", spend.Usage{Today: 0, Month: *amt(10)}, spend.Limits{Daily: amt(1), Monthly: amt(10)}, cent, spend.Monthly, 14*24*time.Hour + 2*time.Hour},
		{"both: monthly wins", spend.Usage{Today: *amt(1), Month: *amt(10)}, spend.Limits{Daily: amt(1), Monthly: amt(10)}, cent, spend.Monthly, 14*24*time.Hour + 2*time.Hour},
		{"within both", spend.Usage{Today: *amt(0.5), Month: *amt(5)}, spend.Limits{Daily: amt(1), Monthly: amt(10)}, cent, "", 0},
	}
	for _, c := range cases {
		err := spend.Check(c.u, c.l, c.cost, now)
		if c.period == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var e *spend.ExceededError
		if !errors.Is(err, spend.ErrExceeded) || !errors.As(err, &e) || e.Period != c.period || e.RetryAfter != c.wait {
			t.Errorf("%s: %v (%+v), want %s after %v", c.name, err, e, c.period, c.wait)
		}
	}
	e := &spend.ExceededError{RetryAfter: 1500 * time.Millisecond}
	if e.RetryAfterSeconds() != 2 || (&spend.ExceededError{}).RetryAfterSeconds() != 1 {
		t.Error("RetryAfterSeconds rounds up, at least 1")
	}
}

func TestInfoOf(t *testing.T) {
	in := spend.InfoOf(spend.Usage{Today: *amt(0.25), Month: *amt(3)}, spend.Limits{Monthly: amt(50)})
	if in.TodayUSD != 0.25 || in.MonthUSD != 3 || in.DailyLimitUSD != nil || in.MonthlyLimitUSD == nil || *in.MonthlyLimitUSD != 50 {
		t.Fatalf("InfoOf = %+v", in)
	}
}
