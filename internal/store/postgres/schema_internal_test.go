package postgres

import (
	"strconv"
	"strings"
	"testing"
)

func TestFeedLockLiteral(t *testing.T) {
	if got := strconv.FormatInt(feedLock, 10); got != feedLockSQL {
		t.Fatalf("feedLockSQL %s; want %s", feedLockSQL, got)
	}
	if !strings.Contains(migrations[0], "pg_advisory_xact_lock("+feedLockSQL+")") {
		t.Fatal("the feed trigger does not take the feed lock")
	}
}
