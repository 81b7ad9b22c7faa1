// Package webhooks holds the rules of an account's webhooks and
// implements memory.Webhooks over the storage interface [Store] it
// defines: the URL checked against the server's outbound-call policy, the
// event types, the secret (stored, never returned) and description
// limits, at most memory.MaxWebhooks per account, and the delivery log
// (API.md §10.3).
//
// Deliveries themselves are package internal/webhook's (the Dispatcher
// over the storage's outbox); the HTTP handler is httpapi/webhooks.go;
// the rows are internal/store's webhooks.go, the SQL
// internal/store/sqlite's webhooks.go.
package webhooks
