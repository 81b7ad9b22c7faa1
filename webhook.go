package memoryrelay

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/jobs"
	"github.com/memoryrelay/memoryrelay/internal/memories"
	"github.com/memoryrelay/memoryrelay/internal/outbound"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/internal/wire"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/secret"
)

// Defaults for [WebhookOptions].
const (
	DefaultWebhookTimeout     = webhook.DefaultTimeout
	DefaultWebhookConcurrency = 16
	DefaultWebhookPerReceiver = webhook.DefaultPerTarget
	DefaultWebhookRetryFor    = webhook.DefaultRetryFor
	// MaxWebhookURL is the longest webhook URL accepted, in bytes.
	MaxWebhookURL = memory.MaxWebhookURL
)

// WebhookSignatureHeader carries the signature of a delivery (API.md
// §10.3): "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">"
// under the webhook's secret.
const WebhookSignatureHeader = webhook.SignatureHeader

// WebhookOptions configures the delivery of events (API.md §10.3): to the
// webhooks accounts register (/v1/webhooks, always on) and to the
// webhook_url of a v2 create (opt-in: Enabled).
//
// Events are written in the transaction of the change they describe (a
// durable outbox) and delivered by a dispatcher that POSTs each as
// {"id","type","created_at","data"}, signed when the webhook has a secret
// (WebhookSignatureHeader, VerifyWebhook), at least once: a delivery not
// answered 2xx is retried after 5 s, 10 s, 20 s, … (at most 15 min,
// jittered) for RetryFor after its first attempt; a crash or a restart
// resumes it. Of one webhook, a memory's events go out in order. Each
// receiver holds at most PerReceiver of the Concurrency attempts in flight
// and each attempt at most Timeout, so a slow or failing receiver delays
// no other and no API request. Redirects are never followed, and every URL
// goes through the outbound-call policy (Options.Outbound).
type WebhookOptions struct {
	// Enabled turns on the delivery of a v2 job's embedding.completed
	// event to the webhook_url given with it (hosts in AllowedHosts only).
	// Default false: webhook_url is accepted and ignored.
	Enabled bool
	// AllowedHosts lists the hosts a v2 webhook_url may name, compared
	// with the URL's host[:port] exactly (case-insensitively):
	// "example.com" does not allow "example.com:8443". An entry that is an
	// IP address (with a port or not) is also allowed by the outbound-call
	// policy, over http too: listing it is the operator's leave.
	AllowedHosts []string
	// Secret signs v2 webhook_url deliveries (registered webhooks sign
	// with their own secret).
	Secret []byte
	// Timeout bounds each attempt. Default 10 s.
	Timeout time.Duration
	// MaxAttempts, when positive, ends a delivery's retries after that
	// many attempts, even within RetryFor. Default 0: RetryFor alone.
	MaxAttempts int
	// Concurrency is the most attempts in flight at once. Default 16.
	Concurrency int
	// PerReceiver is the most attempts in flight to one receiver.
	// Default 4.
	PerReceiver int
	// RetryFor is how long after its first attempt a failing delivery is
	// retried. Default 2 h (API.md §10.3: at least an hour).
	RetryFor time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts
	// (MinBackoff·2ⁿ⁻¹, at most MaxBackoff, jittered). Defaults 5 s and
	// 15 min.
	MinBackoff, MaxBackoff time.Duration
	// PollInterval is how often the outbox is read besides the wake-up of
	// each write. Default 1 s.
	PollInterval time.Duration
	// MaxPerAccount is the most webhooks one account may register.
	// Default memory.MaxWebhooks (20).
	MaxPerAccount int
	// HTTPClient sends the requests (a copy, whose CheckRedirect follows no
	// redirect). Default: a client of its own that applies the outbound
	// policy when it dials (a client of yours must, if it matters).
	HTTPClient *http.Client
}

// OutboundPolicy is the server's outbound-call policy (API.md §10.3): the
// URLs it may call on a user's behalf (webhooks, LLM endpoints). By
// default only https URLs of public addresses: no loopback, private,
// link-local (cloud metadata included), CGNAT, multicast or reserved
// address, checked again on the address each connection dials (so a name
// that resolves elsewhere later is refused then). The zero value is that
// default.
type OutboundPolicy struct {
	// AllowNetworks lists address ranges that may be called although the
	// default refuses them, e.g. 10.0.0.0/8 for internal receivers, or
	// 127.0.0.0/8 for local testing.
	AllowNetworks []netip.Prefix
	// AllowHTTP lists the hosts that may be called over plain http: a
	// name or address (any port) or host:port (that port only).
	AllowHTTP []string
}

// policy is p with the literal addresses of the v2 allow-list added.
func (p OutboundPolicy) policy(allowedHosts []string) outbound.Policy {
	out := outbound.Policy{Allow: append([]netip.Prefix(nil), p.AllowNetworks...), AllowHTTP: append([]string(nil), p.AllowHTTP...)}
	for _, h := range allowedHosts {
		host := h
		if hh, _, err := splitHostPort(h); err == nil {
			host = hh
		}
		if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			out.Allow = append(out.Allow, netip.PrefixFrom(ip, ip.BitLen()))
			out.AllowHTTP = append(out.AllowHTTP, h)
		}
	}
	return out
}

func splitHostPort(h string) (string, string, error) {
	u, err := url.Parse("//" + h)
	if err != nil || u.Port() == "" {
		return "", "", errors.New("no port")
	}
	return u.Hostname(), u.Port(), nil
}

// VerifyWebhook checks a delivery as a receiver should: the
// X-MemoryRelay-Signature header's HMAC over "<t>.<raw body>" under
// secret, compared in constant time, and its timestamp within tolerance
// of now (0: 5 minutes), which bounds replays.
func VerifyWebhook(secret []byte, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	return webhook.Verify(secret, signature, body, now, tolerance)
}

// SignWebhook returns the X-MemoryRelay-Signature value of a delivery
// body sent at t: what the server sends, for a receiver's tests.
func SignWebhook(secret []byte, t time.Time, body []byte) string {
	return webhook.SignAt(secret, t, body)
}

// eventStore is the storage of events (webhooks.go of package
// internal/store/sqlite and of internal/store/postgres).
type eventStore interface {
	PublishWebhookEvent(ctx context.Context, accountID string, e store.WebhookEvent) (int, error)
	WebhookOutbox() webhook.Outbox
}

// events publishes the events of writes (memories.Events) and wakes the
// dispatcher after their commit.
type events struct{ r *Relay }

var _ memories.Events = events{}

func (e events) Publish(ctx context.Context, accountID, typ, subject string, data any) error {
	return e.r.publish(ctx, accountID, typ, subject, data, nil)
}

func (e events) Notify() {
	if d := e.r.dispatcher; d != nil {
		d.Notify()
	}
}

// publish writes an event in ctx's transaction; hookURL, when not nil, is
// a v2 webhook_url that is sent it too (if Options.Webhooks allows it).
func (r *Relay) publish(ctx context.Context, accountID, typ, subject string, data any, hookURL *string) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("memoryrelay: event data: %w", err)
	}
	e := store.WebhookEvent{ID: uuid.New(), Type: typ, Bit: uint(webhook.Bit(typ)), Subject: subject, CreatedAt: r.now(), Data: b}
	if hookURL != nil {
		if host, ok := r.v2Host(*hookURL); ok {
			e.URL, e.Receiver = *hookURL, "url:"+host
		}
	}
	_, err = r.store.PublishWebhookEvent(ctx, accountID, e)
	return err
}

// v2Host is the host[:port] of a v2 webhook_url the options allow.
func (r *Relay) v2Host(raw string) (string, bool) {
	if !r.opts.Webhooks.Enabled {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return "", false
	}
	host := strings.ToLower(u.Host)
	for _, h := range r.opts.Webhooks.AllowedHosts {
		if strings.ToLower(h) == host {
			return host, true
		}
	}
	r.opts.Logger.Debug("memoryrelay: webhook_url host not allowed; not called", "host", host)
	return "", false
}

// v2Outbox gives v2 webhook_url deliveries the options' secret.
type v2Outbox struct {
	webhook.Outbox
	secret secret.Text
}

func (o v2Outbox) Claim(ctx context.Context, c webhook.Claim) ([]webhook.Delivery, error) {
	ds, err := o.Outbox.Claim(ctx, c)
	for i := range ds {
		if strings.HasPrefix(ds[i].Target.ID, "url:") {
			ds[i].Target.Secret = o.secret
		}
	}
	return ds, err
}

// startDispatcher starts the delivery of events. Called by Open.
func (r *Relay) startDispatcher() error {
	w := r.opts.Webhooks
	d, err := webhook.NewDispatcher(webhook.DispatcherOptions{
		Outbox:       v2Outbox{r.store.WebhookOutbox(), secret.New(string(w.Secret))},
		Policy:       r.policy,
		Client:       w.HTTPClient,
		Timeout:      w.Timeout,
		Concurrency:  cmp.Or(w.Concurrency, DefaultWebhookConcurrency),
		PerTarget:    w.PerReceiver,
		PollInterval: w.PollInterval,
		MinBackoff:   w.MinBackoff,
		MaxBackoff:   w.MaxBackoff,
		RetryFor:     w.RetryFor,
		MaxAttempts:  w.MaxAttempts,
		Now:          r.opts.Now,
		UserAgent:    "memoryrelay/" + Version,
		Logger:       r.opts.Logger,
	})
	if err != nil {
		return fmt.Errorf("memoryrelay: webhooks: %w", err)
	}
	r.dispatcher = d
	return nil
}

// eventQueue is the v2 job queue whose finishing writes publish the
// job's events in the same transaction: embedding.completed (to the
// webhooks and the job's webhook_url), and memory.deleted when finishing
// deleted the memory (a duplicate).
type eventQueue struct {
	jobs.Queue[store.BatchItem]
	r *Relay
}

func (q eventQueue) Complete(ctx context.Context, l jobs.Lease, item store.BatchItem, now time.Time) (jobs.Job, error) {
	return q.finish(ctx, func(ctx context.Context) (jobs.Job, error) { return q.Queue.Complete(ctx, l, item, now) })
}

func (q eventQueue) Fail(ctx context.Context, l jobs.Lease, message string, now time.Time) (jobs.Job, error) {
	return q.finish(ctx, func(ctx context.Context) (jobs.Job, error) { return q.Queue.Fail(ctx, l, message, now) })
}

func (q eventQueue) finish(ctx context.Context, fn func(ctx context.Context) (jobs.Job, error)) (jobs.Job, error) {
	var j jobs.Job
	err := q.r.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if j, err = fn(ctx); err != nil {
			return err
		}
		if j.Status == jobs.Failed {
			if _, err := q.r.store.GetMemory(ctx, j.AccountID, j.MemoryID); errors.Is(err, store.ErrNotFound) {
				if err := q.r.publish(ctx, j.AccountID, memory.EventMemoryDeleted, j.MemoryID, map[string]string{"id": j.MemoryID}, nil); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
		}
		return q.r.publish(ctx, j.AccountID, memory.EventEmbeddingCompleted, j.MemoryID, wire.JobStatusOf(memories.JobOf(j)), j.WebhookURL)
	})
	if err == nil && q.r.dispatcher != nil {
		q.r.dispatcher.Notify()
	}
	return j, err
}
