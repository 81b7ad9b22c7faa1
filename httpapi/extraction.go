package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
	"github.com/memoryrelay/memoryrelay/scopes"
	"github.com/memoryrelay/memoryrelay/secret"
)

// Extraction settings and bring-your-own keys (API.md §10.7), admin
// scope. A key's api_key is taken on create and never returned: masked_key
// shows its ends. Without the server's secret the key routes answer 503.
// ICM (/v2/icm/…) is not served: its capabilities probe answers 404, as
// the SDK that asks expects of a server without it.

func (h *handler) extractionRoutes() []route {
	return []route{
		{http.MethodGet, "/v1/extraction/settings", true, scopes.Admin, h.extractionSettings},
		{http.MethodPost, "/v1/extraction/keys", true, scopes.Admin, h.createExtractionKey},
		{http.MethodPost, "/v1/extraction/keys/deactivate-all", true, scopes.Admin, h.deactivateExtractionKeys},
		{http.MethodPost, "/v1/extraction/keys/{id}/activate", true, scopes.Admin, h.activateExtractionKey},
		{http.MethodDelete, "/v1/extraction/keys/{id}", true, scopes.Admin, h.deleteExtractionKey},
	}
}

type extractionKeyJSON struct {
	ID              string  `json:"id"`
	Object          string  `json:"object"`
	Provider        string  `json:"provider"`
	Label           *string `json:"label"`
	Model           string  `json:"model"`
	BaseURL         *string `json:"base_url"`
	IsActive        bool    `json:"is_active"`
	MaskedKey       string  `json:"masked_key"`
	LastValidatedAt *string `json:"last_validated_at"`
	LastUsedAt      *string `json:"last_used_at"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
}

func toExtractionKey(k memory.ExtractionKey) extractionKeyJSON {
	return extractionKeyJSON{ID: k.ID, Object: "extraction_key", Provider: k.Provider, Label: k.Label, Model: k.Model, BaseURL: k.BaseURL,
		IsActive: k.Active, MaskedKey: k.MaskedKey, LastValidatedAt: isoPtr(k.LastValidatedAt), LastUsedAt: isoPtr(k.LastUsedAt),
		CreatedAt: isoTime(k.CreatedAt), UpdatedAt: isoTime(k.UpdatedAt)}
}

type extractionSettingsJSON struct {
	Tier                string              `json:"tier"`
	Extractor           string              `json:"extractor"`
	BYOKEnabledGlobally bool                `json:"byok_enabled_globally"`
	BYOKConfigured      bool                `json:"byok_configured"`
	BYOKActive          bool                `json:"byok_active"`
	MaskedAPIKey        *string             `json:"masked_api_key"`
	PreferredModel      *string             `json:"preferred_model"`
	BaseURL             *string             `json:"base_url"`
	LastValidatedAt     *string             `json:"last_validated_at"`
	PlanLimits          json.RawMessage     `json:"plan_limits"`
	Keys                []extractionKeyJSON `json:"keys"`
}

func (h *handler) extractionSettings(w http.ResponseWriter, r *http.Request) {
	s, err := h.account(r).Extraction().Settings(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := extractionSettingsJSON{Tier: s.Tier, Extractor: s.Extractor, BYOKEnabledGlobally: s.BYOKEnabledGlobally,
		BYOKConfigured: s.BYOKConfigured, BYOKActive: s.BYOKActive, MaskedAPIKey: s.MaskedAPIKey, PreferredModel: s.PreferredModel,
		BaseURL: s.BaseURL, LastValidatedAt: isoPtr(s.LastValidatedAt), PlanLimits: json.RawMessage("{}"), Keys: make([]extractionKeyJSON, len(s.Keys))}
	for i, k := range s.Keys {
		out.Keys[i] = toExtractionKey(k)
	}
	writeJSON(w, http.StatusOK, out)
}

type extractionKeyReq struct {
	Provider *string `json:"provider"`
	APIKey   *string `json:"api_key"`
	Model    *string `json:"model"`
	Label    *string `json:"label"`
	BaseURL  *string `json:"base_url"`
}

func (h *handler) createExtractionKey(w http.ResponseWriter, r *http.Request) {
	var req extractionKeyReq
	if err := decodeBody(r, &req); err != nil {
		h.writeError(w, r, err)
		return
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"provider", req.Provider}, {"model", req.Model}} {
		if f.v == nil {
			h.writeError(w, r, badField(f.name, f.name+" is required"))
			return
		}
	}
	in := memory.NewExtractionKey{Provider: *req.Provider, Model: *req.Model, Label: req.Label, BaseURL: req.BaseURL}
	if req.APIKey != nil {
		in.APIKey = secret.New(*req.APIKey)
	}
	k, err := h.account(r).Extraction().CreateKey(r.Context(), in)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toExtractionKey(k))
}

func (h *handler) activateExtractionKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.account(r).Extraction().ActivateKey(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toExtractionKey(k))
}

type deactivatedJSON struct {
	Status           string `json:"status"`
	Message          string `json:"message"`
	DeactivatedCount int    `json:"deactivated_count"`
}

func (h *handler) deactivateExtractionKeys(w http.ResponseWriter, r *http.Request) {
	n, err := h.account(r).Extraction().DeactivateKeys(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deactivatedJSON{Status: "ok", Message: "Every extraction key is inactive: the built-in extractor runs", DeactivatedCount: n})
}

func (h *handler) deleteExtractionKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.account(r).Extraction().DeleteKey(r.Context(), id); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ackJSON{Success: true, Deleted: true, ID: id})
}
