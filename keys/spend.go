package keys

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/spend"
)

// MaxSpendLimit is the largest spend limit, in USD.
const MaxSpendLimit = spend.MaxUSD

// ErrSpendLimit is matched by every *SpendLimitError.
var ErrSpendLimit = errors.New("keys: spend limit exceeded")

// SpendLimitError says a request's cost would pass one of the key's spend
// limits (API.md §10.2: 429 "Spend limit exceeded"). It matches
// ErrSpendLimit.
type SpendLimitError struct {
	Period string  // "daily" or "monthly"
	Limit  float64 // USD
	// RetryAfter is the time until the period resets: the next UTC
	// midnight, or the first of the next month.
	RetryAfter time.Duration
}

func (e *SpendLimitError) Error() string {
	return fmt.Sprintf("keys: %s spend limit of $%v exceeded", e.Period, e.Limit)
}

func (e *SpendLimitError) Is(target error) bool { return target == ErrSpendLimit }

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, at least 1.
func (e *SpendLimitError) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// nano converts a limit in USD to nano-USD.
func nano(usd *float64) *spend.Amount {
	if usd == nil {
		return nil
	}
	a, _ := spend.FromUSD(*usd)
	return &a
}

// checkSpend refuses cost when it would pass one of k's limits.
func checkSpend(k Key, day, month, cost int64, now time.Time) error {
	err := spend.Check(spend.Usage{Today: spend.Amount(day), Month: spend.Amount(month)},
		spend.Limits{Daily: nano(k.DailySpendLimit), Monthly: nano(k.MonthlySpendLimit)}, spend.Amount(cost), now)
	var e *spend.ExceededError
	if errors.As(err, &e) {
		return &SpendLimitError{Period: e.Period, Limit: e.Limit.USD(), RetryAfter: e.RetryAfter}
	}
	return err
}

// checkLimit checks a spend limit of CreateParams or UpdateParams.
func checkLimit(field string, usd *float64) error {
	if usd == nil {
		return nil
	}
	if _, ok := spend.FromUSD(*usd); !ok {
		return invalid(field, "%s must be a number from 0 to %d", field, MaxSpendLimit)
	}
	return nil
}

// check checks the fields of an update.
func (p UpdateParams) check() error {
	if p.Name != nil {
		if err := checkName(*p.Name); err != nil {
			return err
		}
		if *p.Name == "" {
			return invalid("Name", "Name must be 1-%d characters", MaxName)
		}
	}
	if p.DailySpendLimit.Set {
		if err := checkLimit("DailySpendLimit", p.DailySpendLimit.USD); err != nil {
			return err
		}
	}
	if p.MonthlySpendLimit.Set {
		if err := checkLimit("MonthlySpendLimit", p.MonthlySpendLimit.USD); err != nil {
			return err
		}
	}
	return nil
}
