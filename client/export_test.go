package client

import "testing"

// BaseURL exposes the configured base URL to tests.
func BaseURL(t testing.TB, c *Client) string { return c.base.String() }
