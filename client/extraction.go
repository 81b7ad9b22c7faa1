package client

import (
	"context"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
)

// extraction implements memory.Extraction: /v1/extraction (API.md §10.7),
// admin scope.
type extraction struct{ c *Client }

type extractionKeyJSON struct {
	ID              string   `json:"id"`
	Provider        string   `json:"provider"`
	Label           *string  `json:"label"`
	Model           string   `json:"model"`
	BaseURL         *string  `json:"base_url"`
	IsActive        bool     `json:"is_active"`
	MaskedKey       string   `json:"masked_key"`
	LastValidatedAt *isoTime `json:"last_validated_at"`
	LastUsedAt      *isoTime `json:"last_used_at"`
	CreatedAt       isoTime  `json:"created_at"`
	UpdatedAt       isoTime  `json:"updated_at"`
}

func toExtractionKey(w extractionKeyJSON) memory.ExtractionKey {
	return memory.ExtractionKey{ID: w.ID, Provider: w.Provider, Label: w.Label, Model: w.Model, BaseURL: w.BaseURL, Active: w.IsActive,
		MaskedKey: w.MaskedKey, LastValidatedAt: isoPtr(w.LastValidatedAt), LastUsedAt: isoPtr(w.LastUsedAt), CreatedAt: w.CreatedAt.t, UpdatedAt: w.UpdatedAt.t}
}

func (s extraction) Settings(ctx context.Context) (memory.ExtractionSettings, error) {
	var w struct {
		Tier                string              `json:"tier"`
		Extractor           string              `json:"extractor"`
		BYOKEnabledGlobally bool                `json:"byok_enabled_globally"`
		BYOKConfigured      bool                `json:"byok_configured"`
		BYOKActive          bool                `json:"byok_active"`
		MaskedAPIKey        *string             `json:"masked_api_key"`
		PreferredModel      *string             `json:"preferred_model"`
		BaseURL             *string             `json:"base_url"`
		LastValidatedAt     *isoTime            `json:"last_validated_at"`
		Keys                []extractionKeyJSON `json:"keys"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/extraction/settings", kind: "extraction key"}, &w); err != nil {
		return memory.ExtractionSettings{}, err
	}
	return memory.ExtractionSettings{Tier: w.Tier, Extractor: w.Extractor, BYOKEnabledGlobally: w.BYOKEnabledGlobally,
		BYOKConfigured: w.BYOKConfigured, BYOKActive: w.BYOKActive, MaskedAPIKey: w.MaskedAPIKey, PreferredModel: w.PreferredModel,
		BaseURL: w.BaseURL, LastValidatedAt: isoPtr(w.LastValidatedAt), Keys: convert(w.Keys, toExtractionKey)}, nil
}

func (s extraction) one(ctx context.Context, r request) (memory.ExtractionKey, error) {
	r.kind = "extraction key"
	var w extractionKeyJSON
	if _, err := s.c.call(ctx, r, &w); err != nil {
		return memory.ExtractionKey{}, err
	}
	return toExtractionKey(w), nil
}

func (s extraction) CreateKey(ctx context.Context, in memory.NewExtractionKey) (memory.ExtractionKey, error) {
	body := struct {
		Provider string  `json:"provider"`
		APIKey   string  `json:"api_key"`
		Model    string  `json:"model"`
		Label    *string `json:"label,omitempty"`
		BaseURL  *string `json:"base_url,omitempty"`
	}{in.Provider, in.APIKey.Reveal(), in.Model, in.Label, in.BaseURL}
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/extraction/keys", body: body})
}

func (s extraction) ActivateKey(ctx context.Context, id string) (memory.ExtractionKey, error) {
	return s.one(ctx, request{method: http.MethodPost, path: "/v1/extraction/keys/" + pathEscape(id) + "/activate"})
}

func (s extraction) DeactivateKeys(ctx context.Context) (int, error) {
	var w struct {
		DeactivatedCount int `json:"deactivated_count"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodPost, path: "/v1/extraction/keys/deactivate-all", kind: "extraction key"}, &w); err != nil {
		return 0, err
	}
	return w.DeactivatedCount, nil
}

func (s extraction) DeleteKey(ctx context.Context, id string) error {
	_, err := s.c.call(ctx, request{method: http.MethodDelete, path: "/v1/extraction/keys/" + pathEscape(id), kind: "extraction key"}, nil)
	return err
}
