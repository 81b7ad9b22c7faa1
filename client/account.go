package client

import (
	"net/url"
	"strconv"

	"github.com/memoryrelay/memoryrelay/memory"
)

// Account returns the API of the key's account, over HTTP. It holds no
// state of its own: any number of calls return equivalent values.
func (c *Client) Account() memory.Account { return (*account)(c) }

// account implements memory.Account; each group is a value over the
// Client.
type account Client

var _ memory.Account = (*account)(nil)

func (a *account) client() *Client { return (*Client)(a) }

func (a *account) Memories() memory.Memories   { return memories{a.client()} }
func (a *account) Agents() memory.Agents       { return agents{a.client()} }
func (a *account) Entities() memory.Entities   { return entities{a.client()} }
func (a *account) Sessions() memory.Sessions   { return sessions{a.client()} }
func (a *account) Decisions() memory.Decisions { return decisions{a.client()} }
func (a *account) Patterns() memory.Patterns   { return patterns{a.client()} }
func (a *account) Projects() memory.Projects   { return projects{a.client()} }
func (a *account) Contexts() memory.Contexts   { return contexts{a.client()} }
func (a *account) Keys() memory.Keys           { return keyGroup{a.client()} }
func (a *account) Usage() memory.Usage         { return usage{a.client()} }
func (a *account) Webhooks() memory.Webhooks   { return webhooks{a.client()} }
func (a *account) Extraction() memory.Extraction {
	return extraction{a.client()}
}

// query builds a query string; zero values are left out, as the server
// reads an absent parameter as its default.
type query url.Values

func (q query) int(name string, v int) query {
	if v != 0 {
		url.Values(q).Set(name, strconv.Itoa(v))
	}
	return q
}

func (q query) str(name, v string) query {
	if v != "" {
		url.Values(q).Set(name, v)
	}
	return q
}

func (q query) ptr(name string, v *string) query {
	if v != nil {
		q.str(name, *v)
	}
	return q
}

func (q query) float(name string, v *float64) query {
	if v != nil {
		url.Values(q).Set(name, strconv.FormatFloat(*v, 'g', -1, 64))
	}
	return q
}

func (q query) bool(name string, v bool) query {
	if v {
		url.Values(q).Set(name, "true")
	}
	return q
}

// page adds limit, offset and cursor.
func (q query) page(limit, offset int, cursor string) query {
	return q.int("limit", limit).int("offset", offset).str("cursor", cursor)
}

func (q query) values() url.Values { return url.Values(q) }
