package client

import (
	"context"
	"net/http"

	"github.com/memoryrelay/memoryrelay/memory"
)

// usage implements memory.Usage: GET /v1/quota (API contract §5.10).
type usage struct{ c *Client }

// Quota is the usage of the client's key.
func (s usage) Quota(ctx context.Context) (memory.Quota, error) {
	var w struct {
		Used      int64   `json:"used"`
		Limit     int64   `json:"limit"`
		Remaining int64   `json:"remaining"`
		ResetAt   isoTime `json:"resetAt"`
	}
	if _, err := s.c.call(ctx, request{method: http.MethodGet, path: "/v1/quota"}, &w); err != nil {
		return memory.Quota{}, err
	}
	return memory.Quota{Used: w.Used, Limit: w.Limit, Remaining: w.Remaining, ResetAt: w.ResetAt.t}, nil
}
