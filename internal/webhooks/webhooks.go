package webhooks

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memoryrelay/memoryrelay/internal/guard"
	"github.com/memoryrelay/memoryrelay/internal/outbound"
	"github.com/memoryrelay/memoryrelay/internal/page"
	"github.com/memoryrelay/memoryrelay/internal/store"
	"github.com/memoryrelay/memoryrelay/internal/uuid"
	"github.com/memoryrelay/memoryrelay/internal/valid"
	"github.com/memoryrelay/memoryrelay/internal/webhook"
	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/secret"
)

// Store is the storage of webhooks.
type Store interface {
	CreateWebhook(ctx context.Context, w store.Webhook, max int) error
	Webhook(ctx context.Context, accountID, id string) (store.Webhook, error)
	Webhooks(ctx context.Context, accountID string, limit, offset int) ([]store.Webhook, int, error)
	UpdateWebhook(ctx context.Context, accountID, id string, apply func(*store.Webhook) error) (store.Webhook, error)
	DeleteWebhook(ctx context.Context, accountID, id string) error
	WebhookAttempts(ctx context.Context, accountID, id string, limit int) ([]webhook.Attempt, error)
}

// Kind is the memory.NotFoundError kind of a webhook.
const Kind = "webhook"

// Config is what a Service needs.
type Config struct {
	Store  Store
	Gate   guard.Gate
	Now    func() time.Time // in the stored precision (UTC milliseconds)
	Policy outbound.Policy  // which URLs may be registered
	Max    int              // webhooks per account; 0: memory.MaxWebhooks
}

// Service serves the webhooks of every account; For gives one account's.
// It is safe for concurrent use.
type Service struct{ c Config }

// New returns the webhooks of c.Store.
func New(c Config) *Service {
	if c.Max <= 0 {
		c.Max = memory.MaxWebhooks
	}
	return &Service{c: c}
}

// For returns the webhook API of the account.
func (s *Service) For(accountID string) memory.Webhooks { return account{s, accountID} }

type account struct {
	s  *Service
	id string
}

var _ memory.Webhooks = account{}

func (a account) Create(ctx context.Context, in memory.NewWebhook) (memory.Webhook, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Webhook, error) { return a.s.create(ctx, a.id, in) })
}

func (a account) List(ctx context.Context, p memory.PageParams) (memory.Page[memory.Webhook], error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Page[memory.Webhook], error) { return a.s.list(ctx, a.id, p) })
}

func (a account) Get(ctx context.Context, id string) (memory.Webhook, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Webhook, error) {
		id, ok := uuid.Canonical(id)
		if !ok {
			return memory.Webhook{}, notFound()
		}
		w, err := a.s.c.Store.Webhook(ctx, a.id, id)
		return Of(w), fromStore(err)
	})
}

func (a account) Update(ctx context.Context, id string, p memory.WebhookPatch) (memory.Webhook, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() (memory.Webhook, error) { return a.s.update(ctx, a.id, id, p) })
}

func (a account) Delete(ctx context.Context, id string) error {
	return guard.Call0(ctx, a.s.c.Gate, a.id, func() error {
		id, ok := uuid.Canonical(id)
		if !ok {
			return notFound()
		}
		return fromStore(a.s.c.Store.DeleteWebhook(ctx, a.id, id))
	})
}

func (a account) Deliveries(ctx context.Context, id string, limit int) ([]memory.WebhookDelivery, error) {
	return guard.Call(ctx, a.s.c.Gate, a.id, func() ([]memory.WebhookDelivery, error) { return a.s.deliveries(ctx, a.id, id, limit) })
}

func notFound() error { return &memory.NotFoundError{Kind: Kind} }

func fromStore(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &memory.NotFoundError{Kind: Kind, Err: err}
	}
	return err
}

// Of is a stored webhook as the API returns it: without its secret.
func Of(w store.Webhook) memory.Webhook {
	types := webhook.Mask(w.EventTypes).Types()
	if types == nil {
		types = slices.Clone(memory.EventTypes)
	}
	return memory.Webhook{ID: w.ID, URL: w.URL, EventTypes: types, Enabled: w.Enabled, Description: w.Description,
		HasSecret: len(w.Secret) > 0, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// checkURL records the problems of a webhook URL.
func (s *Service) checkURL(p *valid.Problems, u string) {
	if len(u) > memory.MaxWebhookURL || !utf8.ValidString(u) {
		p.Add("URL", "URL must be an absolute https address of at most %d bytes", memory.MaxWebhookURL)
		return
	}
	if _, err := s.c.Policy.CheckURL(u); err != nil {
		var b *outbound.BlockedError
		reason := "it is not allowed"
		if errors.As(err, &b) {
			reason = b.Reason + " is not allowed"
		}
		p.Add("URL", "URL must be an absolute https address the server may call (%s)", reason)
	}
}

func checkTypes(p *valid.Problems, types []string) uint {
	m, ok := webhook.MaskOf(types)
	if !ok {
		p.Add("EventTypes", "EventTypes must be a subset of %s", strings.Join(memory.EventTypes, ", "))
	}
	return uint(m)
}

func checkSecret(p *valid.Problems, t secret.Text) {
	if !utf8.ValidString(t.Reveal()) || utf8.RuneCountInString(t.Reveal()) > memory.MaxWebhookSecret {
		p.Add("Secret", "Secret must be at most %d characters of valid UTF-8", memory.MaxWebhookSecret)
	}
}

func secretBytes(t secret.Text) []byte {
	if t.IsZero() {
		return nil
	}
	return []byte(t.Reveal())
}

func (s *Service) create(ctx context.Context, accountID string, in memory.NewWebhook) (memory.Webhook, error) {
	var p valid.Problems
	s.checkURL(&p, in.URL)
	mask := checkTypes(&p, in.EventTypes)
	checkSecret(&p, in.Secret)
	p.OptText("Description", in.Description, memory.MaxWebhookDescription)
	if err := p.Err(); err != nil {
		return memory.Webhook{}, err
	}
	now := s.c.Now()
	w := store.Webhook{ID: uuid.New(), AccountID: accountID, URL: in.URL, EventTypes: mask, Secret: secretBytes(in.Secret),
		Description: in.Description, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.c.Store.CreateWebhook(ctx, w, s.c.Max); err != nil {
		if errors.Is(err, store.ErrTooMany) {
			return memory.Webhook{}, valid.Invalid("URL", "URL cannot be registered: the account has the most webhooks it may have (%d); delete one first", s.c.Max)
		}
		return memory.Webhook{}, err
	}
	return Of(w), nil
}

func (s *Service) list(ctx context.Context, accountID string, p memory.PageParams) (memory.Page[memory.Webhook], error) {
	var v valid.Problems
	q := page.Offset(&v, page.Webhooks, p.Limit, p.Offset, p.Cursor)
	if err := v.Err(); err != nil {
		return memory.Page[memory.Webhook]{}, err
	}
	ws, total, err := s.c.Store.Webhooks(ctx, accountID, q.Limit, q.Offset)
	if err != nil {
		return memory.Page[memory.Webhook]{}, err
	}
	return page.OffsetPage(page.Webhooks, ws, Of, total, q), nil
}

func (s *Service) update(ctx context.Context, accountID, id string, in memory.WebhookPatch) (memory.Webhook, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return memory.Webhook{}, notFound()
	}
	var p valid.Problems
	if in.URL != nil {
		s.checkURL(&p, *in.URL)
	}
	var mask uint
	if in.EventTypes != nil {
		mask = checkTypes(&p, *in.EventTypes)
	}
	if in.Secret != nil {
		checkSecret(&p, *in.Secret)
	}
	p.OptText("Description", in.Description, memory.MaxWebhookDescription)
	if err := p.Err(); err != nil {
		return memory.Webhook{}, err
	}
	w, err := s.c.Store.UpdateWebhook(ctx, accountID, id, func(w *store.Webhook) error {
		if in.URL != nil {
			w.URL = *in.URL
		}
		if in.EventTypes != nil {
			w.EventTypes = mask
		}
		if in.Enabled != nil {
			w.Enabled = *in.Enabled
		}
		if in.Secret != nil {
			w.Secret = secretBytes(*in.Secret)
		}
		if in.Description != nil {
			w.Description = in.Description
		}
		now := s.c.Now()
		if !now.After(w.UpdatedAt) {
			now = w.UpdatedAt.Add(time.Millisecond)
		}
		w.UpdatedAt = now
		return nil
	})
	return Of(w), fromStore(err)
}

func (s *Service) deliveries(ctx context.Context, accountID, id string, limit int) ([]memory.WebhookDelivery, error) {
	id, ok := uuid.Canonical(id)
	if !ok {
		return nil, notFound()
	}
	var p valid.Problems
	limit = p.Limit(limit, memory.DefaultPageLimit, memory.MaxWebhookDeliveries)
	if err := p.Err(); err != nil {
		return nil, err
	}
	as, err := s.c.Store.WebhookAttempts(ctx, accountID, id, limit)
	if err != nil {
		return nil, fromStore(err)
	}
	out := make([]memory.WebhookDelivery, len(as))
	for i, a := range as {
		d := memory.WebhookDelivery{DeliveryID: a.DeliveryID, EventID: a.EventID, EventType: a.EventType, Attempt: a.N,
			StatusCode: a.StatusCode, Outcome: outcome(a.Outcome), StartedAt: a.StartedAt, FinishedAt: a.FinishedAt}
		if a.Error != "" {
			e := a.Error
			d.Error = &e
		}
		if a.Outcome == webhook.Retry && !a.NextAt.IsZero() {
			n := a.NextAt
			d.NextAttemptAt = &n
		}
		out[i] = d
	}
	return out, nil
}

func outcome(o webhook.Outcome) string {
	switch o {
	case webhook.Delivered:
		return memory.DeliveryDelivered
	case webhook.Failed:
		return memory.DeliveryFailed
	}
	return memory.DeliveryRetrying
}
