package memorytest

import (
	"testing"
	"time"

	"github.com/memoryrelay/memoryrelay/memory"
)

func testUsage(t *testing.T, open Opener) {
	t.Run("Quota", func(t *testing.T) { usageQuota(t, open(t)) })
}

func usageQuota(t *testing.T, e Env) {
	ctx := t.Context()
	if e.KeyID == "" {
		_, err := e.Account.Usage().Quota(ctx)
		wantInvalid(t, "Quota of an account that acts for no key", err)
		return
	}
	k := try(e.Account.Keys().Get(ctx, e.KeyID)).must(t)
	q := try(e.Account.Usage().Quota(ctx)).must(t)
	now := time.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	// The test may straddle midnight: either side's is right.
	if !q.ResetAt.Equal(midnight) && !q.ResetAt.Equal(midnight.Add(-24*time.Hour)) {
		t.Errorf("ResetAt = %v, want the next UTC midnight %v", q.ResetAt, midnight)
	}
	if q.ResetAt.Location() != time.UTC {
		t.Errorf("ResetAt = %v is not in UTC", q.ResetAt)
	}
	if q.Limit <= 0 || q.Limit%1440 != 0 {
		t.Errorf("Limit = %d, want a per-minute limit × 1,440", q.Limit)
	}
	if k.RateLimit > 0 && q.Limit != int64(k.RateLimit)*1440 {
		t.Errorf("Limit = %d, want the key's %d a minute × 1,440", q.Limit, k.RateLimit)
	}
	if q.Used < 0 || q.Remaining != max(q.Limit-q.Used, 0) {
		t.Errorf("Used %d, Remaining %d, Limit %d: want Remaining = Limit − Used, never negative", q.Used, q.Remaining, q.Limit)
	}
	// Usage only grows within a day.
	create(t, e.Account, memory.NewMemory{Content: "a request that may count"})
	q2 := try(e.Account.Usage().Quota(ctx)).must(t)
	if q2.ResetAt.Equal(q.ResetAt) && q2.Used < q.Used {
		t.Errorf("Used fell from %d to %d within a day", q.Used, q2.Used)
	}
	if q2.Limit != q.Limit {
		t.Errorf("Limit changed from %d to %d", q.Limit, q2.Limit)
	}
}
