package memory

import (
	"context"
	"time"

	"github.com/memoryrelay/memoryrelay/secret"
)

// Limits of webhooks (API.md §10.3).
const (
	// MaxWebhookSecret bounds NewWebhook.Secret.
	MaxWebhookSecret = 256 // characters
	// MaxWebhookDescription bounds NewWebhook.Description.
	MaxWebhookDescription = 255 // characters
	// MaxWebhooks is the most webhooks one account may have by default
	// (ours; the server's operator may set another).
	MaxWebhooks = 20
	// MaxWebhookDeliveries is the most attempts Webhooks.Deliveries
	// returns, newest first.
	MaxWebhookDeliveries = 100
)

// Event types of webhooks (API.md §10.3).
const (
	EventMemoryCreated      = "memory.created"
	EventMemoryUpdated      = "memory.updated"
	EventMemoryDeleted      = "memory.deleted"
	EventEmbeddingCompleted = "embedding.completed"
)

// EventTypes lists the event types.
var EventTypes = []string{EventMemoryCreated, EventMemoryUpdated, EventMemoryDeleted, EventEmbeddingCompleted}

// Webhook is a registered receiver of an account's events. Its secret is
// never returned: HasSecret says whether deliveries are signed.
type Webhook struct {
	ID  string
	URL string
	// EventTypes are the events it receives: every type when it was
	// created with none.
	EventTypes  []string
	Enabled     bool
	Description *string
	HasSecret   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewWebhook is the input of [Webhooks.Create].
type NewWebhook struct {
	// URL is where events are POSTed: an absolute https URL of at most
	// MaxWebhookURL bytes (plain http only to hosts the operator allows),
	// whose host the server's outbound-call policy allows.
	URL string
	// EventTypes is a subset of EventTypes; empty: every type.
	EventTypes []string
	// Secret, when not empty (≤ MaxWebhookSecret characters), signs each
	// delivery (X-MemoryRelay-Signature). It is stored and never returned.
	Secret secret.Text
	// Description is free text, ≤ MaxWebhookDescription characters.
	Description *string
}

// WebhookPatch is the input of [Webhooks.Update]: nil fields are left as
// they are. A Secret set to the empty secret removes it; EventTypes set to
// an empty list means every type.
type WebhookPatch struct {
	URL         *string
	EventTypes  *[]string
	Enabled     *bool
	Secret      *secret.Text
	Description *string
}

// Outcomes of a delivery attempt.
const (
	DeliveryDelivered = "delivered"
	DeliveryRetrying  = "retrying"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one attempt to deliver an event to a webhook.
type WebhookDelivery struct {
	DeliveryID string // the delivery (one event for one webhook) the attempt is of
	EventID    string // X-MemoryRelay-Delivery
	EventType  string
	Attempt    int // 1-based
	// StatusCode is the receiver's HTTP status; 0 when none came.
	StatusCode int
	// Error says why the attempt failed; nil when delivered.
	Error      *string
	Outcome    string // DeliveryDelivered, DeliveryRetrying or DeliveryFailed
	StartedAt  time.Time
	FinishedAt time.Time
	// NextAttemptAt is when a retrying delivery is tried again.
	NextAttemptAt *time.Time
}

// Webhooks manages the webhooks of an account (API.md §10.3).
type Webhooks interface {
	Create(ctx context.Context, in NewWebhook) (Webhook, error)
	// List lists the account's webhooks, newest first; its cursor carries
	// the next page's offset.
	List(ctx context.Context, p PageParams) (Page[Webhook], error)
	Get(ctx context.Context, id string) (Webhook, error)
	Update(ctx context.Context, id string, p WebhookPatch) (Webhook, error)
	// Delete deletes a webhook with its queued deliveries and its log.
	Delete(ctx context.Context, id string) error
	// Deliveries lists the latest attempts to deliver to the webhook,
	// newest first, at most limit (1–MaxWebhookDeliveries; 0: 20).
	Deliveries(ctx context.Context, id string, limit int) ([]WebhookDelivery, error)
}
