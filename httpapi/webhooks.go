package httpapi

import (
	"net/http"
	"strconv"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/secret"
)

// Webhooks (API.md §10.3), admin scope. A webhook's secret is taken on
// create and update and never returned: has_secret says whether there is
// one.

func (h *handler) webhookRoutes() []route {
	return []route{
		{http.MethodPost, "/v1/webhooks", true, scopes.Admin, h.createWebhook},
		{http.MethodGet, "/v1/webhooks", true, scopes.Admin, h.listWebhooks},
		{http.MethodGet, "/v1/webhooks/{id}", true, scopes.Admin, h.getWebhook},
		{http.MethodPatch, "/v1/webhooks/{id}", true, scopes.Admin, h.updateWebhook},
		{http.MethodDelete, "/v1/webhooks/{id}", true, scopes.Admin, h.deleteWebhook},
		{http.MethodGet, "/v1/webhooks/{id}/deliveries", true, scopes.Admin, h.webhookDeliveries},
	}
}

// webhookJSON is the Webhook object: ISO times.
type webhookJSON struct {
	ID          string   `json:"id"`
	Object      string   `json:"object"`
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types"`
	Enabled     bool     `json:"enabled"`
	Description *string  `json:"description"`
	HasSecret   bool     `json:"has_secret"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

func toWebhook(w memory.Webhook) webhookJSON {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	return webhookJSON{ID: w.ID, Object: "webhook", URL: w.URL, EventTypes: types, Enabled: w.Enabled, Description: w.Description,
		HasSecret: w.HasSecret, CreatedAt: isoTime(w.CreatedAt), UpdatedAt: isoTime(w.UpdatedAt)}
}

type webhookReq struct {
	URL         *string   `json:"url"`
	EventTypes  *[]string `json:"event_types"`
	Enabled     *bool     `json:"enabled"`
	Secret      *string   `json:"secret"`
	Description *string   `json:"description"`
}

func (h *handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	var req webhookReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.URL == nil {
		h.writeError(w, r, badField("url", "url is required"))
		return
	}
	in := memory.NewWebhook{URL: *req.URL, Description: req.Description}
	if req.EventTypes != nil {
		in.EventTypes = *req.EventTypes
	}
	if req.Secret != nil {
		in.Secret = secret.New(*req.Secret)
	}
	hook, err := h.account(r).Webhooks().Create(r.Context(), in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toWebhook(hook))
}

func (h *handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	var p memory.PageParams
	if err := pageParams(r, memory.MaxPageLimit, &p.Limit, &p.Offset, &p.Cursor); err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.account(r).Webhooks().List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toList(page, toWebhook))
}

func (h *handler) getWebhook(w http.ResponseWriter, r *http.Request) {
	hook, err := h.account(r).Webhooks().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhook(hook))
}

func (h *handler) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var req webhookReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	p := memory.WebhookPatch{URL: req.URL, EventTypes: req.EventTypes, Enabled: req.Enabled, Description: req.Description}
	if req.Secret != nil {
		s := secret.New(*req.Secret) // "" removes it
		p.Secret = &s
	}
	hook, err := h.account(r).Webhooks().Update(r.Context(), r.PathValue("id"), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhook(hook))
}

func (h *handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.account(r).Webhooks().Delete(r.Context(), id); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ackJSON{Success: true, Deleted: true, ID: id})
}

// deliveryJSON is one attempt of a delivery: ISO times.
type deliveryJSON struct {
	ID            string  `json:"id"`
	Object        string  `json:"object"`
	EventID       string  `json:"event_id"`
	EventType     string  `json:"event_type"`
	Attempt       int     `json:"attempt"`
	StatusCode    *int    `json:"status_code"` // null: no answer
	Error         *string `json:"error"`
	Outcome       string  `json:"outcome"` // delivered, retrying or failed
	StartedAt     string  `json:"started_at"`
	FinishedAt    string  `json:"finished_at"`
	NextAttemptAt *string `json:"next_attempt_at"`
}

func (h *handler) webhookDeliveries(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			h.writeError(w, r, badField("limit", "limit must be an integer of at least 1"))
			return
		}
		limit = min(n, memory.MaxWebhookDeliveries)
	}
	ds, err := h.account(r).Webhooks().Deliveries(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryJSON{ID: d.DeliveryID, Object: "webhook_delivery", EventID: d.EventID, EventType: d.EventType, Attempt: d.Attempt,
			Error: d.Error, Outcome: d.Outcome, StartedAt: isoTime(d.StartedAt), FinishedAt: isoTime(d.FinishedAt), NextAttemptAt: isoPtr(d.NextAttemptAt)}
		if d.StatusCode != 0 {
			c := d.StatusCode
			out[i].StatusCode = &c
		}
	}
	writeJSON(w, http.StatusOK, listJSON[deliveryJSON]{Object: "list", Data: out, Total: len(out), TotalCount: len(out), Limit: max(limit, len(out))})
}
