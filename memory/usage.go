package memory

import (
	"context"
	"time"
)

// Quota is a key's usage in the current UTC day (API contract §5.10).
type Quota struct {
	Used      int64     // authenticated requests made with the key today, failed ones included
	Limit     int64     // the daily allowance: the key's per-minute limit × 1,440
	Remaining int64     // Limit − Used, never negative
	ResetAt   time.Time // the next UTC midnight
}

// Usage reports what the key an Account acts for has used.
type Usage interface {
	// Quota is the usage of the key the Account acts for. An Account that
	// acts for no key (memoryrelay.Relay.Account) has none: ErrInvalid.
	Quota(ctx context.Context) (Quota, error)
}
