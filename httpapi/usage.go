package httpapi

import (
	"net/http"

	"github.com/memoryrelay/memoryrelay/scopes"
)

// Quota and embed: see the API contract §5.10.

func (h *handler) usageRoutes() []route {
	return []route{
		{http.MethodGet, "/v1/quota", true, scopes.Read, h.quota},
		{http.MethodPost, "/v1/embed", true, scopes.Read, h.embed},
	}
}

type quotaJSON struct {
	Used      int64  `json:"used"`
	Limit     int64  `json:"limit"`
	Remaining int64  `json:"remaining"`
	ResetAt   string `json:"resetAt"`
}

func (h *handler) quota(w http.ResponseWriter, r *http.Request) {
	k, _ := KeyFromContext(r.Context())
	q, err := h.svc.AccountFor(k).Usage().Quota(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, quotaJSON{Used: q.Used, Limit: q.Limit, Remaining: q.Remaining, ResetAt: isoTime(q.ResetAt)})
}

type embedJSON struct {
	Embedding []float32 `json:"embedding"`
	Dimension int       `json:"dimension"`
	Model     string    `json:"model"`
}

func (h *handler) embed(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text   *string `json:"text"`
		Prefix *string `json:"prefix"`
	}
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.Text == nil {
		h.writeError(w, r, badField("text", "text is required"))
		return
	}
	e, err := h.account(r).Memories().Embed(r.Context(), *req.Text, deref(req.Prefix))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, embedJSON{Embedding: e.Vector, Dimension: e.Dimension, Model: e.Model})
}
