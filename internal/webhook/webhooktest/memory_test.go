package webhooktest_test

import (
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/webhook/webhooktest"
)

func TestMemoryOutbox(t *testing.T) {
	webhooktest.TestOutbox(t, func(*testing.T) webhooktest.Harness { return webhooktest.NewMemory() })
}
