package store

import "time"

// Webhook is a stored webhook (API.md §10.3).
type Webhook struct {
	ID        string
	AccountID string
	URL       string
	// EventTypes is a webhook.Mask: the types it receives; 0: every type.
	EventTypes uint
	// Secret signs its deliveries; nil: none. Stored as given.
	Secret      []byte
	Description *string
	Enabled     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// WebhookEvent is an event to deliver to the webhooks of an account that
// receive its type, written in the transaction of the change it describes
// (API.md §10.3).
type WebhookEvent struct {
	ID        string
	Type      string
	Bit       uint   // the type's webhook.Mask bit
	Subject   string // orders deliveries: a memory's id; "" orders nothing
	CreatedAt time.Time
	Data      []byte // JSON
	// URL, when set, is also sent the event, as the v2 webhook_url of a
	// job; Receiver names it for the per-receiver bounds.
	URL      string
	Receiver string
}
