package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/memoryrelay/memoryrelay/internal/outbound"
)

// Defaults for [DispatcherOptions].
const (
	DefaultTimeout      = 10 * time.Second
	DefaultConcurrency  = 32
	DefaultPerTarget    = 4
	DefaultPollInterval = time.Second
	DefaultMinBackoff   = 5 * time.Second
	DefaultMaxBackoff   = 15 * time.Minute
	// DefaultRetryFor is how long a failing delivery is retried, from its
	// first attempt (API.md §10.3: at least an hour).
	DefaultRetryFor = 2 * time.Hour
	// MaxResponseBytes is the most of a receiver's answer that is read
	// (and discarded) so that its connection can be reused.
	MaxResponseBytes = 64 << 10
)

// DispatcherOptions configures a [Dispatcher]. Outbox is required; the
// zero value of every other field is its default.
type DispatcherOptions struct {
	// Outbox is the durable queue of deliveries.
	Outbox Outbox
	// Policy is the outbound-call policy, checked on each attempt's URL
	// and, when Client is nil, on every address dialled. Default: the
	// strict policy (https, public addresses only).
	Policy outbound.Policy
	// Client sends the requests; a copy is used whose CheckRedirect
	// follows no redirect. Default: Policy.Client, whose idle connections
	// Close drops. A Client of your own must apply the policy when it
	// dials (outbound.Policy.Transport) if it matters.
	Client *http.Client
	// Timeout bounds each attempt, connection to last byte. Default 10 s.
	Timeout time.Duration
	// Concurrency is the most attempts in flight at once. Default 32.
	Concurrency int
	// PerTarget is the most attempts in flight to one receiver, so that a
	// slow one holds at most this many of the Concurrency slots. Default 4.
	PerTarget int
	// PollInterval is how often the outbox is read when nothing calls
	// Notify. Default 1 s.
	PollInterval time.Duration
	// LeaseFor is how long a claimed delivery stays leased to this
	// dispatcher. Default Timeout + 30 s; at least Timeout + 1 s.
	LeaseFor time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed attempt:
	// MinBackoff·2ⁿ⁻¹ after attempt n, at most MaxBackoff, then jittered
	// to a uniform draw from its upper half. Defaults 5 s and 15 min.
	MinBackoff, MaxBackoff time.Duration
	// RetryFor is how long after its first attempt a failing delivery is
	// retried; the first failure at or past it is final. Default 2 h.
	RetryFor time.Duration
	// MaxAttempts, when positive, makes the failure of that attempt final
	// even within RetryFor. Default 0: RetryFor alone.
	MaxAttempts int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// UserAgent is every request's User-Agent.
	UserAgent string
	// Logger receives failed attempts and outbox errors (never a secret
	// or a body). Default: discard.
	Logger *slog.Logger
}

// Dispatcher delivers an outbox's events to their webhooks: at least once
// (an attempt whose outcome was not recorded is made again once its lease
// ends), each signed, retried with backoff until a 2xx or RetryFor, in
// order per (target, subject), with bounded concurrency per receiver and
// in all, and a timeout on every attempt. It never blocks its callers.
//
// A Dispatcher is safe for concurrent use. Close stops it.
type Dispatcher struct {
	o      DispatcherOptions
	client *http.Client
	own    *http.Client // the client made here, whose connections Close drops

	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu       sync.Mutex
	inFlight map[string]int      // per Target.ID
	sending  map[string]struct{} // delivery ids
}

// NewDispatcher checks o, fills in the defaults and starts the dispatcher.
func NewDispatcher(o DispatcherOptions) (*Dispatcher, error) {
	if o.Outbox == nil {
		return nil, errors.New("webhook: nil Outbox")
	}
	if o.Timeout < 0 || o.Concurrency < 0 || o.PerTarget < 0 || o.PollInterval < 0 || o.LeaseFor < 0 ||
		o.MinBackoff < 0 || o.MaxBackoff < 0 || o.RetryFor < 0 || o.MaxAttempts < 0 {
		return nil, errors.New("webhook: negative option")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Timeout, DefaultTimeout)
	def(&o.PollInterval, DefaultPollInterval)
	def(&o.LeaseFor, o.Timeout+30*time.Second)
	def(&o.MinBackoff, DefaultMinBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	def(&o.RetryFor, DefaultRetryFor)
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerTarget == 0 {
		o.PerTarget = DefaultPerTarget
	}
	o.PerTarget = min(o.PerTarget, o.Concurrency)
	if o.LeaseFor <= o.Timeout {
		return nil, errors.New("webhook: LeaseFor must be longer than Timeout")
	}
	if o.MaxBackoff < o.MinBackoff {
		return nil, errors.New("webhook: MaxBackoff below MinBackoff")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{o: o, kick: make(chan struct{}, 1), inFlight: map[string]int{}, sending: map[string]struct{}{}}
	if o.Client != nil {
		c := *o.Client
		d.client = &c
	} else {
		d.own = o.Policy.Client(0)
		d.client = d.own
	}
	d.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Add(1)
	go d.loop()
	return d, nil
}

// Notify tells the dispatcher that the outbox has new deliveries, so it
// reads it now rather than at the next poll. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Close stops the dispatcher: no new attempts, in-flight ones cancelled
// (their deliveries are made again, by the next dispatcher, when their
// lease ends), and every goroutine it started returned. It is idempotent.
func (d *Dispatcher) Close() {
	d.once.Do(d.cancel)
	d.wg.Wait()
	if d.own != nil {
		d.own.CloseIdleConnections()
	}
}

func (d *Dispatcher) loop() {
	defer d.wg.Done()
	t := time.NewTicker(d.o.PollInterval)
	defer t.Stop()
	for {
		d.claim()
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
		}
	}
}

// claim reads what the free slots allow from the outbox and starts a
// sender for each delivery.
func (d *Dispatcher) claim() {
	d.mu.Lock()
	free := d.o.Concurrency - len(d.sending)
	busy := make(map[string]int, len(d.inFlight))
	for id, n := range d.inFlight {
		busy[id] = n
	}
	d.mu.Unlock()
	if free <= 0 || d.ctx.Err() != nil {
		return
	}
	now := d.o.Now()
	ds, err := d.o.Outbox.Claim(d.ctx, Claim{Now: now, LeaseUntil: now.Add(d.o.LeaseFor), Limit: free,
		PerTarget: d.o.PerTarget, InFlight: busy})
	if err != nil {
		if d.ctx.Err() == nil {
			d.o.Logger.Warn("webhook: reading the outbox failed", "err", err)
		}
		return
	}
	for _, del := range ds {
		d.mu.Lock()
		_, dup := d.sending[del.ID]
		if dup || len(d.sending) >= d.o.Concurrency || d.inFlight[del.Target.ID] >= d.o.PerTarget {
			// An outbox that broke its rules; the lease brings it back.
			d.mu.Unlock()
			continue
		}
		d.sending[del.ID] = struct{}{}
		d.inFlight[del.Target.ID]++
		d.mu.Unlock()
		d.wg.Add(1)
		go d.send(del)
	}
}

func (d *Dispatcher) send(del Delivery) {
	defer d.wg.Done()
	defer func() {
		d.mu.Lock()
		delete(d.sending, del.ID)
		if d.inFlight[del.Target.ID]--; d.inFlight[del.Target.ID] <= 0 {
			delete(d.inFlight, del.Target.ID)
		}
		d.mu.Unlock()
		d.Notify() // a slot is free, and the next of its subject may be due
	}()
	a := Attempt{DeliveryID: del.ID, TargetID: del.Target.ID, EventID: del.Event.ID, EventType: del.Event.Type,
		N: del.Attempts + 1, StartedAt: d.o.Now()}
	first := del.FirstAttemptAt
	if del.Attempts == 0 || first.IsZero() {
		first = a.StartedAt
	}
	a.StatusCode, a.Error = d.attempt(del)
	if d.ctx.Err() != nil {
		// Closed mid-attempt: unrecorded, and handed back so that the
		// next dispatcher makes it at once (if the release fails too, it
		// is made again when the lease ends).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), 2*time.Second)
		defer cancel()
		if err := d.o.Outbox.Release(ctx, del.ID); err != nil {
			d.o.Logger.Warn("webhook: releasing a delivery failed", "webhook_id", del.Target.ID, "event_id", del.Event.ID, "err", err)
		}
		return
	}
	a.FinishedAt = d.o.Now()
	switch {
	case a.Error == "":
		a.Outcome = Delivered
	case a.FinishedAt.Sub(first) >= d.o.RetryFor, d.o.MaxAttempts > 0 && a.N >= d.o.MaxAttempts:
		a.Outcome = Failed
	default:
		a.Outcome = Retry
		a.NextAt = a.FinishedAt.Add(d.backoff(a.N))
	}
	if a.Outcome != Delivered {
		d.o.Logger.Warn("webhook: delivery attempt failed", "webhook_id", del.Target.ID, "event_id", del.Event.ID,
			"attempt", a.N, "outcome", a.Outcome.String(), "err", a.Error)
	}
	// Recorded even while Close runs, within a bound: an attempt that was
	// made should not be made again for want of its record.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), 5*time.Second)
	defer cancel()
	if err := d.o.Outbox.Record(ctx, a); err != nil {
		d.o.Logger.Warn("webhook: recording a delivery attempt failed", "webhook_id", del.Target.ID, "event_id", del.Event.ID, "err", err)
	}
}

// backoff is the wait after failed attempt n (see DispatcherOptions).
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.o.MaxBackoff
	if n-1 < 40 {
		b = min(d.o.MinBackoff<<(n-1), d.o.MaxBackoff)
		if b <= 0 { // overflow
			b = d.o.MaxBackoff
		}
	}
	half := b / 2
	if half <= 0 {
		return b
	}
	return half + rand.N(b-half+1)
}

// envelope is a delivery's JSON body (API.md §10.3).
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// Body returns the JSON body delivered for e: {id, type, created_at
// (ISO-8601 UTC with milliseconds), data}.
func Body(e Event) ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return json.Marshal(envelope{ID: e.ID, Type: e.Type, CreatedAt: e.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), Data: data})
}

// attempt makes one try and returns the status (0 without an answer) and
// "" on a 2xx, or why it failed.
func (d *Dispatcher) attempt(del Delivery) (int, string) {
	if _, err := d.o.Policy.CheckURL(del.Target.URL); err != nil {
		return 0, err.Error()
	}
	body, err := Body(del.Event)
	if err != nil {
		return 0, "event data is not JSON"
	}
	ctx, cancel := context.WithTimeout(d.ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, del.Target.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "bad URL"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.o.UserAgent)
	req.Header.Set(EventHeader, del.Event.Type)
	req.Header.Set(DeliveryHeader, del.Event.ID)
	if !del.Target.Secret.IsZero() {
		req.Header.Set(SignatureHeader, SignAt([]byte(del.Target.Secret.Reveal()), d.o.Now(), body))
	}
	res, err := d.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, outbound.ErrBlocked):
			var b *outbound.BlockedError
			errors.As(err, &b)
			return 0, b.Error()
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
			return 0, fmt.Sprintf("timed out after %v", d.o.Timeout)
		}
		return 0, "request failed: " + transportReason(err)
	}
	// The answer's body is read (up to a bound) only so the connection
	// can be reused; a 2xx status is what counts, even if the body then
	// does not finish in time.
	io.Copy(io.Discard, io.LimitReader(res.Body, MaxResponseBytes))
	res.Body.Close()
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res.StatusCode, ""
	}
	return res.StatusCode, fmt.Sprintf("receiver answered %d", res.StatusCode)
}

// transportReason is a short, secret-free reason for a transport error:
// the innermost error's text (the URL, which may carry a token in its
// query, is left out).
func transportReason(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}
