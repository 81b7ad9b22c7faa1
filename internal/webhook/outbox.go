package webhook

import (
	"context"
	"encoding/json"
	"time"

	"github.com/memoryrelay/memoryrelay/secret"
)

// Event types (API.md §10.3).
const (
	EventMemoryCreated      = "memory.created"
	EventMemoryUpdated      = "memory.updated"
	EventMemoryDeleted      = "memory.deleted"
	EventEmbeddingCompleted = "embedding.completed"
)

// EventTypes lists every event type, in the order of the contract.
var EventTypes = []string{EventMemoryCreated, EventMemoryUpdated, EventMemoryDeleted, EventEmbeddingCompleted}

// Mask is a set of event types, one bit per type of EventTypes; the zero
// Mask is every type (a webhook created without event_types).
type Mask uint

// MaskOf returns the set of types; ok is false when one is not an event
// type.
func MaskOf(types []string) (m Mask, ok bool) {
	for _, t := range types {
		b := Bit(t)
		if b == 0 {
			return 0, false
		}
		m |= b
	}
	return m, true
}

// Bit is the Mask bit of an event type; 0 for an unknown one.
func Bit(eventType string) Mask {
	for i, t := range EventTypes {
		if t == eventType {
			return 1 << i
		}
	}
	return 0
}

// Has reports whether the set holds the event type (every type, for the
// zero Mask).
func (m Mask) Has(eventType string) bool { return m == 0 || m&Bit(eventType) != 0 }

// Types lists the set's types in the order of EventTypes; nil for the
// zero Mask (every type).
func (m Mask) Types() []string {
	var out []string
	for i, t := range EventTypes {
		if m&(1<<i) != 0 {
			out = append(out, t)
		}
	}
	return out
}

// Event is a change an account's webhooks are told of. The storage writes
// it in the same transaction as the change it describes, so a crash
// between the commit and the delivery loses nothing.
type Event struct {
	// ID is unique (a UUID). It is the DeliveryHeader and the body's "id",
	// the same on every retry and for every webhook.
	ID string
	// Type is one of the Event… constants.
	Type string
	// CreatedAt is when the change happened.
	CreatedAt time.Time
	// Data is the event's "data": the Memory for created and updated,
	// {"id"} for deleted, the v2 job status for embedding.completed.
	Data json.RawMessage
}

// Target is where a delivery goes, read from the webhook when the
// delivery is claimed, so an edited URL or secret applies to later
// attempts.
type Target struct {
	// ID identifies the receiver: the webhook's id (or, for a v2
	// webhook_url, any stable string). Concurrency is bounded per ID.
	ID string
	// URL is the receiver; the outbound-call policy is checked on it at
	// every attempt.
	URL string
	// Secret signs the body (SignatureHeader) when not empty.
	Secret secret.Text
}

// Delivery is one event for one target, as the [Outbox] holds it.
type Delivery struct {
	// ID is the outbox's id of the (event, target) pair.
	ID     string
	Event  Event
	Target Target
	// Subject orders deliveries: of one target, those with the same
	// non-empty subject (a memory's id) are delivered in the order they
	// were written, each only once the one before it ended.
	Subject string
	// Attempts is the number of attempts recorded so far.
	Attempts int
	// FirstAttemptAt is when attempt 1 started; zero before it. Retries
	// stop RetryFor after it.
	FirstAttemptAt time.Time
}

// Claim is a request to an [Outbox] for due deliveries.
type Claim struct {
	// Now is the dispatcher's clock.
	Now time.Time
	// LeaseUntil is when a claimed delivery that was never recorded (its
	// dispatcher stopped or crashed) becomes claimable again.
	LeaseUntil time.Time
	// Limit is the most deliveries to return, at least 1.
	Limit int
	// PerTarget is the most deliveries of one Target.ID the dispatcher
	// may have at once, counting InFlight.
	PerTarget int
	// InFlight counts, per Target.ID, the deliveries the dispatcher is
	// still sending.
	InFlight map[string]int
}

// Outcome is how an attempt ended.
type Outcome int

const (
	// Delivered: the receiver answered 2xx; the delivery is done.
	Delivered Outcome = iota + 1
	// Retry: the attempt failed; try again at Attempt.NextAt.
	Retry
	// Failed: the attempt failed and the retries are used up; the
	// delivery is done, undelivered.
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retrying"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Attempt is the record of one try of a delivery: what the deliveries
// listing of a webhook shows.
type Attempt struct {
	DeliveryID string
	TargetID   string
	EventID    string
	EventType  string
	// N is the attempt's number, from 1.
	N          int
	StartedAt  time.Time
	FinishedAt time.Time
	// StatusCode is the receiver's HTTP status; 0 when none came (a
	// network error, a timeout, a URL the policy refused).
	StatusCode int
	// Error says why the attempt failed; "" when delivered. It never
	// holds the secret or the body.
	Error   string
	Outcome Outcome
	// NextAt is when to try again, for Retry.
	NextAt time.Time
}

// Outbox is the durable queue a [Dispatcher] works from, implemented by
// the storage. Its rules:
//
//   - Claim returns deliveries that are pending (not Delivered or Failed),
//     due (their next attempt at or before c.Now; a new one is due at
//     once), not leased (no lease, or one that ended at or before c.Now),
//     and whose target is enabled;
//   - of one Target.ID and non-empty Subject, only the delivery written
//     first among the pending ones (the head) is returned, so later ones
//     wait for it to end;
//   - oldest first, at most c.Limit in all and at most c.PerTarget −
//     c.InFlight[id] of each target;
//   - each returned delivery is leased until c.LeaseUntil in the same
//     atomic step: no other Claim returns it before then unless it was
//     Recorded as Retry and is due again.
//
// Record stores a (the attempt, in the target's delivery log) and updates
// the delivery: Delivered and Failed end it, Retry makes it due at
// a.NextAt; each clears the lease, counts the attempt, and attempt 1 sets
// FirstAttemptAt. Recording for a delivery that is gone (its webhook was
// deleted) is not an error.
//
// Release ends the lease of a claimed delivery whose attempt was cut
// short (the dispatcher is closing): it is due again at once, and no
// attempt is counted. Releasing a delivery that is gone, or not leased, is
// not an error.
//
// An Outbox must be safe for concurrent use; several dispatchers (in one
// process or many) may share one.
type Outbox interface {
	Claim(ctx context.Context, c Claim) ([]Delivery, error)
	Record(ctx context.Context, a Attempt) error
	Release(ctx context.Context, deliveryID string) error
}
