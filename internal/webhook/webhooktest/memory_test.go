package webhooktest_test

import (
	"context"
	"testing"

	"github.com/memoryrelay/memoryrelay/internal/webhook"

	"github.com/memoryrelay/memoryrelay/internal/webhook/webhooktest"
)

func TestMemoryOutbox(t *testing.T) {
	webhooktest.TestOutbox(t, func(*testing.T) webhooktest.Harness { return memoryHarness{webhooktest.NewMemory()} })
}

// memoryHarness publishes to every enabled target, as a Harness does.
type memoryHarness struct{ *webhooktest.Memory }

func (h memoryHarness) Publish(ctx context.Context, e webhook.Event, subject string) ([]string, error) {
	return h.Memory.Publish(ctx, e, subject)
}
