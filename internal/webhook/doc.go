// Package webhook delivers the final status of v2 jobs to the webhook URL
// given with each: only to allow-listed hosts, never following a
// redirect, with each body signed, retried with backoff, by a bounded pool
// of sender goroutines that never blocks the caller.
//
// A [Sender] is made by [New] and stopped by [Sender.Close], which
// abandons queued and in-flight deliveries; the job's status itself is
// durable elsewhere, so deliveries are best effort.
package webhook
