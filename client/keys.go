package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/memoryrelay/memoryrelay/keys"
	"github.com/memoryrelay/memoryrelay/memory"
)

// keyGroup implements memory.Keys: /v1/keys (API contract §9), admin
// scope.
type keyGroup struct{ c *Client }

func keyPath(id string) string { return "/v1/keys/" + pathEscape(id) }

func (s keyGroup) send(ctx context.Context, r request) (keyJSON, error) {
	r.kind = "key"
	var w keyJSON
	_, err := s.c.call(ctx, r, &w)
	return w, err
}

func (s keyGroup) Create(ctx context.Context, in memory.NewKey) (keys.Key, keys.Token, error) {
	body := struct {
		Name      string          `json:"name,omitempty"` // "": the server's default name
		Scopes    []string        `json:"scopes"`
		ExpiresAt *string         `json:"expires_at,omitempty"`
		RateLimit int             `json:"rate_limit,omitempty"`
		Metadata  json.RawMessage `json:"metadata,omitempty"`
		Daily     *float64        `json:"daily_spend_limit_usd,omitempty"`
		Monthly   *float64        `json:"monthly_spend_limit_usd,omitempty"`
	}{Name: in.Name, Scopes: stringList(in.Scopes.Strings()), RateLimit: in.RateLimit, Metadata: in.Metadata,
		Daily: in.DailySpendLimit, Monthly: in.MonthlySpendLimit}
	if in.ExpiresAt != nil {
		at := in.ExpiresAt.UTC().Format(time.RFC3339Nano)
		body.ExpiresAt = &at
	}
	w, err := s.send(ctx, request{method: http.MethodPost, path: "/v1/keys", body: body})
	if err != nil {
		return keys.Key{}, keys.Token{}, err
	}
	return w.keyAndToken()
}

func (s keyGroup) List(ctx context.Context, p memory.PageParams) (memory.Page[keys.Key], error) {
	var w listJSON[keyJSON]
	q := query{}.page(p.Limit, p.Offset, p.Cursor)
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/keys", query: q.values(), kind: "key"}, &w); err != nil {
		return memory.Page[keys.Key]{}, err
	}
	page := memory.Page[keys.Key]{Data: make([]keys.Key, len(w.Data)), HasMore: w.HasMore, Total: w.Total, Limit: w.Limit, Offset: w.Offset, NextCursor: w.NextCursor}
	for i, kw := range w.Data {
		k, err := kw.key()
		if err != nil {
			return memory.Page[keys.Key]{}, err
		}
		page.Data[i] = k
	}
	return page, nil
}

func (s keyGroup) Get(ctx context.Context, id string) (keys.Key, error) {
	w, err := s.send(ctx, request{method: http.MethodGet, path: keyPath(id)})
	if err != nil {
		return keys.Key{}, err
	}
	return w.key()
}

// Revoke reads the revoked Key that memoryrelay's server adds to the
// delete ack.
func (s keyGroup) Revoke(ctx context.Context, id string) (keys.Key, error) {
	w, err := s.send(ctx, request{method: http.MethodDelete, path: keyPath(id), field: "ID"})
	if err != nil {
		return keys.Key{}, err
	}
	return w.key()
}

func (s keyGroup) Rotate(ctx context.Context, id string, grace time.Duration) (keys.Key, keys.Token, error) {
	body := struct {
		GraceSeconds int64 `json:"grace_seconds"`
	}{graceSeconds(grace)}
	w, err := s.send(ctx, request{method: http.MethodPost, path: keyPath(id) + "/rotate", body: body})
	if err != nil {
		return keys.Key{}, keys.Token{}, err
	}
	return w.keyAndToken()
}

// Update sends PATCH /v1/keys/{id} (API.md §10.2): a limit set to nil is
// sent as null, which removes it.
func (s keyGroup) Update(ctx context.Context, id string, p memory.KeyPatch) (keys.Key, error) {
	body := map[string]any{}
	if p.Name != nil {
		body["name"] = *p.Name
	}
	if p.Metadata != nil {
		body["metadata"] = p.Metadata
	}
	if p.DailySpendLimit.Set {
		body["daily_spend_limit_usd"] = p.DailySpendLimit.USD
	}
	if p.MonthlySpendLimit.Set {
		body["monthly_spend_limit_usd"] = p.MonthlySpendLimit.USD
	}
	w, err := s.send(ctx, request{method: http.MethodPatch, path: keyPath(id), body: body})
	if err != nil {
		return keys.Key{}, err
	}
	return w.key()
}

// graceSeconds is grace in whole seconds, rounded up so that the old
// secret works at least as long as asked; a negative grace stays negative
// (the server refuses it).
func graceSeconds(grace time.Duration) int64 {
	s := int64(grace / time.Second)
	switch {
	case grace > 0 && grace%time.Second != 0:
		s++
	case grace < 0 && s == 0:
		s = -1
	}
	return s
}
