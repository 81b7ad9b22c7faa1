// Package webhook delivers events to webhooks: signed, at least once,
// retried with backoff, in order per subject, with bounded concurrency
// per receiver, through the outbound-call policy.
//
// # Dispatcher (API.md §10.3)
//
// A [Dispatcher] works from an [Outbox], the durable queue the storage
// implements: the storage writes an [Event]'s deliveries (one per
// subscribed, enabled webhook) in the same transaction as the change the
// event describes, and calls [Dispatcher.Notify] after the commit. The
// dispatcher claims due deliveries under a lease, POSTs each as
//
//	{"id": <event id>, "type": "memory.created", "created_at": <ISO-8601>, "data": {…}}
//
// with the headers X-MemoryRelay-Event (the type), X-MemoryRelay-Delivery
// (the event id: the receiver's key for dropping duplicates) and, when the
// webhook has a secret, X-MemoryRelay-Signature ([SignAt], checked by
// [Verify]):
//
//	t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the secret>
//
// and records every attempt ([Attempt]: the deliveries listing). A 2xx
// ends a delivery; anything else (another status, a redirect, which is
// never followed, a timeout, a refused address) is retried after
// MinBackoff·2ⁿ⁻¹ (at most MaxBackoff, jittered) until RetryFor after the
// first attempt. Retries are scheduled in the outbox, not in memory, so a
// new dispatcher over the same outbox picks them up; an attempt whose
// outcome was never recorded (a crash, Close mid-attempt) is made again
// when its lease ends. Hence at least once, never exactly once.
//
// Of one webhook, deliveries with the same subject (a memory's id) go out
// one at a time in the order written: a memory's create before its
// update. Each webhook holds at most PerTarget of the Concurrency slots,
// and each attempt at most Timeout, so a slow or failing receiver delays
// only itself; nothing ever waits for a delivery but the dispatcher.
//
// [webhooktest.TestOutbox] is the conformance test of the Outbox rules.
//
// A v2 create's webhook_url is one more receiver of the job's
// embedding.completed event: the same dispatcher sends it.
package webhook
