package spend

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Amount is money in nano-USD (1e-9 USD).
type Amount int64

// NanoPerUSD is the number of Amount units in one USD.
const NanoPerUSD = 1_000_000_000

// MaxUSD is the largest limit or price accepted, in USD: far above any
// real spend, far below Amount's range.
const MaxUSD = 1_000_000_000

// FromUSD converts USD to an Amount, rounding to the nearest nano-USD.
// ok is false for NaN, infinities, negatives and values above MaxUSD.
func FromUSD(usd float64) (a Amount, ok bool) {
	if math.IsNaN(usd) || usd < 0 || usd > MaxUSD {
		return 0, false
	}
	return Amount(math.Round(usd * NanoPerUSD)), true
}

// USD is a in USD.
func (a Amount) USD() float64 { return float64(a) / NanoPerUSD }

func (a Amount) String() string { return "$" + strconv.FormatFloat(a.USD(), 'f', -1, 64) }

// Price is what an embedder charges, in USD per million tokens; 0 is
// free (the built-in embedder).
type Price float64

// Cost is the price of tokens, rounded up to the next nano-USD: tokens ×
// price / 1e6 USD = tokens × price × 1e3 nano-USD.
func (p Price) Cost(tokens int) Amount {
	if p <= 0 || tokens <= 0 {
		return 0
	}
	return Amount(math.Ceil(float64(tokens) * float64(p) * 1e3))
}

// Limits are a key's spend limits; nil is unlimited.
type Limits struct {
	Daily   *Amount
	Monthly *Amount
}

// Usage is what a key spent in the current day and month.
type Usage struct {
	Today Amount
	Month Amount
}

// Periods of a limit.
const (
	Daily   = "daily"
	Monthly = "monthly"
)

// ErrExceeded is matched by every *ExceededError.
var ErrExceeded = errors.New("spend: limit exceeded")

// ExceededError says a cost would pass a limit.
type ExceededError struct {
	Period string // Daily or Monthly
	Limit  Amount
	// RetryAfter is the time until the period resets: the next UTC
	// midnight, or the first of the next month.
	RetryAfter time.Duration
}

func (e *ExceededError) Error() string {
	return fmt.Sprintf("spend: %s limit of %v exceeded", e.Period, e.Limit)
}

func (e *ExceededError) Is(target error) bool { return target == ErrExceeded }

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, at least 1.
func (e *ExceededError) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// DayStart and MonthStart are the UTC starts of t's day and month.
func DayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// NextDay and NextMonth are the UTC starts of the day and month after t's.
func NextDay(t time.Time) time.Time   { return DayStart(t).AddDate(0, 0, 1) }
func NextMonth(t time.Time) time.Time { return MonthStart(t).AddDate(0, 1, 0) }

// Check reports whether cost, added to u at instant now, stays within l:
// nil, or an *ExceededError for the period that would be passed (the
// monthly one when both would: it resets later). A zero cost always
// passes, so free requests are never refused; reaching a limit exactly is
// allowed.
func Check(u Usage, l Limits, cost Amount, now time.Time) error {
	if cost <= 0 {
		return nil
	}
	if l.Monthly != nil && u.Month+cost > *l.Monthly {
		return &ExceededError{Period: Monthly, Limit: *l.Monthly, RetryAfter: NextMonth(now).Sub(now)}
	}
	if l.Daily != nil && u.Today+cost > *l.Daily {
		return &ExceededError{Period: Daily, Limit: *l.Daily, RetryAfter: NextDay(now).Sub(now)}
	}
	return nil
}

// Info is the spend_info object of a key (API.md §10.2), in USD.
type Info struct {
	TodayUSD        float64
	MonthUSD        float64
	DailyLimitUSD   *float64
	MonthlyLimitUSD *float64
}

// InfoOf returns the spend_info of usage and limits.
func InfoOf(u Usage, l Limits) Info {
	in := Info{TodayUSD: u.Today.USD(), MonthUSD: u.Month.USD()}
	if l.Daily != nil {
		v := l.Daily.USD()
		in.DailyLimitUSD = &v
	}
	if l.Monthly != nil {
		v := l.Monthly.USD()
		in.MonthlyLimitUSD = &v
	}
	return in
}
