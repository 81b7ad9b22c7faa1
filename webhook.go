package memoryrelay

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/webhook"
)

// Defaults for [WebhookOptions].
const (
	DefaultWebhookTimeout     = 10 * time.Second
	DefaultWebhookMaxAttempts = 5
	DefaultWebhookConcurrency = 4
	// WebhookQueue is how many finished jobs may wait for a delivery
	// goroutine; beyond it deliveries are dropped (and logged), never
	// blocking the job workers.
	WebhookQueue = 1024
)

// WebhookSignatureHeader carries "sha256=" and the lowercase hex
// HMAC-SHA256 of the request body under [WebhookOptions.Secret].
const WebhookSignatureHeader = "X-MemoryRelay-Signature"

// WebhookOptions configures the POST of a v2 job's final status to the
// webhook_url given with it (API contract §5.3). Webhooks are off by
// default; when on, only hosts listed in AllowedHosts are ever called, and
// redirects are never followed.
//
// The body is the v2 status object: {"id", "job_id", "status",
// "created_at", "updated_at", "error"} (epoch ms). A delivery is retried
// after a network error, a timeout, a 408, a 429 or a 5xx, with backoff
// 1s, 2s, 4s, … (at most 1 min), up to MaxAttempts in all; other answers
// end it. Deliveries are best effort: they run in their own goroutines,
// never delay the job workers, and are abandoned by [Relay.Close]; the
// job's status itself is durable.
type WebhookOptions struct {
	// Enabled turns webhook calls on. Default false: webhook_url is
	// accepted and ignored.
	Enabled bool
	// AllowedHosts lists the hosts that may be called, compared with the
	// URL's host[:port] exactly (case-insensitively): "example.com" does
	// not allow "example.com:8443". Empty allows none.
	AllowedHosts []string
	// Secret, when set, signs each body in the X-MemoryRelay-Signature
	// header.
	Secret []byte
	// Timeout bounds each attempt. Default 10s.
	Timeout time.Duration
	// MaxAttempts is the number of tries per delivery. Default 5.
	MaxAttempts int
	// Concurrency is the number of deliveries in flight at once.
	// Default 4.
	Concurrency int
	// HTTPClient sends the requests (a copy of it is used, whose
	// CheckRedirect follows no redirect). Default: a client of its own,
	// with no proxy, whose idle connections Close drops.
	HTTPClient *http.Client
	// Sleep waits d before a retry, returning early with ctx's error when
	// ctx is done. Default: a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// newWebhookSender starts the webhook senders (package webhook) of o, with
// its defaults filled in; nil when webhooks are off.
func newWebhookSender(o WebhookOptions, logger *slog.Logger) (*webhook.Sender, error) {
	if !o.Enabled {
		return nil, nil
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultWebhookTimeout
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultWebhookMaxAttempts
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultWebhookConcurrency
	}
	return webhook.New(webhook.Options{
		AllowedHosts: o.AllowedHosts,
		Secret:       o.Secret,
		Timeout:      o.Timeout,
		MaxAttempts:  o.MaxAttempts,
		Concurrency:  o.Concurrency,
		Queue:        WebhookQueue,
		HTTPClient:   o.HTTPClient,
		Sleep:        o.Sleep,
		UserAgent:    "memoryrelay/" + Version,
		Logger:       logger,
	})
}

// SignWebhook returns the X-MemoryRelay-Signature value of a webhook body:
// "sha256=" and the hex HMAC-SHA256 of body under secret. Receivers
// compare it with hmac.Equal.
func SignWebhook(secret, body []byte) string { return webhook.Sign(secret, body) }
