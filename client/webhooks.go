package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/secret"
)

// webhooks implements memory.Webhooks: /v1/webhooks (API.md §10.3),
// admin scope.
type webhooks struct{ c *Client }

func webhookPath(id string) string { return "/v1/webhooks/" + pathEscape(id) }

type webhookJSON struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types"`
	Enabled     bool     `json:"enabled"`
	Description *string  `json:"description"`
	HasSecret   bool     `json:"has_secret"`
	CreatedAt   isoTime  `json:"created_at"`
	UpdatedAt   isoTime  `json:"updated_at"`
}

func toWebhook(w webhookJSON) memory.Webhook {
	return memory.Webhook{ID: w.ID, URL: w.URL, EventTypes: stringList(w.EventTypes), Enabled: w.Enabled, Description: w.Description,
		HasSecret: w.HasSecret, CreatedAt: w.CreatedAt.t, UpdatedAt: w.UpdatedAt.t}
}

func (s webhooks) one(ctx context.Context, r request) (memory.Webhook, error) {
	r.kind = "webhook"
	var w webhookJSON
	if _, err := s.c.call(ctx, r, &w); err != nil {
		return memory.Webhook{}, err
	}
	return toWebhook(w), nil
}

func reveal(t *secret.Text) *string {
	if t == nil {
		return nil
	}
	v := t.Reveal()
	return &v
}

func (s webhooks) Create(ctx context.Context, in memory.NewWebhook) (memory.Webhook, error) {
	body := struct {
		URL         string   `json:"url"`
		EventTypes  []string `json:"event_types,omitempty"`
		Secret      *string  `json:"secret,omitempty"`
		Description *string  `json:"description,omitempty"`
	}{URL: in.URL, EventTypes: in.EventTypes, Description: in.Description}
	if !in.Secret.IsZero() {
		body.Secret = reveal(&in.Secret)
	}
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/webhooks", body: body})
}

func (s webhooks) List(ctx context.Context, p memory.PageParams) (memory.Page[memory.Webhook], error) {
	var w listJSON[webhookJSON]
	q := query{}.page(p.Limit, p.Offset, p.Cursor)
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/webhooks", query: q.values(), kind: "webhook"}, &w); err != nil {
		return memory.Page[memory.Webhook]{}, err
	}
	return toPage(w, toWebhook), nil
}

func (s webhooks) Get(ctx context.Context, id string) (memory.Webhook, error) {
	return s.one(ctx, request{method: http.MethodGet, path: webhookPath(id)})
}

func (s webhooks) Update(ctx context.Context, id string, p memory.WebhookPatch) (memory.Webhook, error) {
	body := struct {
		URL         *string   `json:"url,omitempty"`
		EventTypes  *[]string `json:"event_types,omitempty"`
		Enabled     *bool     `json:"enabled,omitempty"`
		Secret      *string   `json:"secret,omitempty"`
		Description *string   `json:"description,omitempty"`
	}{p.URL, p.EventTypes, p.Enabled, reveal(p.Secret), p.Description}
	if body.EventTypes != nil && *body.EventTypes == nil {
		empty := []string{}
		body.EventTypes = &empty
	}
	return s.one(ctx, request{method: http.MethodPatch, path: webhookPath(id), body: body})
}

func (s webhooks) Delete(ctx context.Context, id string) error {
	_, err := s.c.call(ctx, request{method: http.MethodDelete, path: webhookPath(id), kind: "webhook"}, nil)
	return err
}

type deliveryJSON struct {
	ID            string   `json:"id"`
	EventID       string   `json:"event_id"`
	EventType     string   `json:"event_type"`
	Attempt       int      `json:"attempt"`
	StatusCode    *int     `json:"status_code"`
	Error         *string  `json:"error"`
	Outcome       string   `json:"outcome"`
	StartedAt     isoTime  `json:"started_at"`
	FinishedAt    isoTime  `json:"finished_at"`
	NextAttemptAt *isoTime `json:"next_attempt_at"`
}

func (s webhooks) Deliveries(ctx context.Context, id string, limit int) ([]memory.WebhookDelivery, error) {
	var w dataJSON[deliveryJSON]
	r := request{method: http.MethodGet, path: webhookPath(id) + "/deliveries", kind: "webhook"}
	if limit != 0 {
		r.query = map[string][]string{"limit": {strconv.Itoa(limit)}}
	}
	if _, err := s.c.call(ctx, r, &w); err != nil {
		return nil, err
	}
	out := make([]memory.WebhookDelivery, len(w.Data))
	for i, d := range w.Data {
		out[i] = memory.WebhookDelivery{DeliveryID: d.ID, EventID: d.EventID, EventType: d.EventType, Attempt: d.Attempt,
			Error: d.Error, Outcome: d.Outcome, StartedAt: d.StartedAt.t, FinishedAt: d.FinishedAt.t, NextAttemptAt: isoPtr(d.NextAttemptAt)}
		if d.StatusCode != nil {
			out[i].StatusCode = *d.StatusCode
		}
	}
	return out, nil
}
