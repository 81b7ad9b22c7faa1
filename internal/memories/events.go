package memories

import (
	"context"

	"github.com/memoryrelay/memoryrelay/internal/convert"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/wire"
	"github.com/memoryrelay/memoryrelay/memory"
)

// Events is where the writes of memories announce themselves to the
// account's webhooks (API.md §10.3).
type Events interface {
	// Publish writes an event of the account, about the subject (a
	// memory's id), in the transaction ctx carries: it commits with the
	// change it describes, or not at all.
	Publish(ctx context.Context, accountID, eventType, subject string, data any) error
	// Notify is called after such a transaction committed.
	Notify()
}

// deleted is the data of a memory.deleted event.
type deleted struct {
	ID string `json:"id"`
}

// inTx runs fn, and the events it publishes, in one transaction when
// there are events to publish; fn alone otherwise. Notify follows a
// commit.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, publish func(typ string, m store.Memory) error) error) error {
	return s.inTxAlways(ctx, false, fn)
}

// inTxAlways is inTx, in one transaction also when always is set (the
// write links extracted entities) and there are no events.
func (s *Service) inTxAlways(ctx context.Context, always bool, fn func(ctx context.Context, publish func(typ string, m store.Memory) error) error) error {
	if s.c.Events == nil && always {
		return s.c.Store.InTx(ctx, func(ctx context.Context) error {
			return fn(ctx, func(string, store.Memory) error { return nil })
		})
	}
	if s.c.Events == nil {
		return fn(ctx, func(string, store.Memory) error { return nil })
	}
	err := s.c.Store.InTx(ctx, func(ctx context.Context) error {
		return fn(ctx, func(typ string, m store.Memory) error {
			var data any = deleted{ID: m.ID}
			if typ != memory.EventMemoryDeleted {
				data = wire.MemoryOf(convert.Memory(m))
			}
			return s.c.Events.Publish(ctx, m.AccountID, typ, m.ID, data)
		})
	})
	if err == nil {
		s.c.Events.Notify()
	}
	return err
}
